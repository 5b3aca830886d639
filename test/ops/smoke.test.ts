import {
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { CodeCommitClient, CreateCommitCommand, GetBranchCommand } from '@aws-sdk/client-codecommit';
import { ListActionExecutionsCommand, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { stackNames } from '../../lib/config';
import { DEV, PROD } from '../config-fixtures';
import { EXIT, OpsError } from '../../lib/ops/errors';
import { RETRY } from '../../lib/ops/retry';
import { renderSmokeReport } from '../../lib/ops/smoke/report';
import { CLEANUP_STEPS, type SmokeOptions, STEPS, runSmoke } from '../../lib/ops/smoke/run';
import { SMOKE_FILE } from '../../lib/ops/smoke/source';
import { CLUSTER, DIGEST, OLD_DIGEST, SERVICE, URL, mockedClients } from './fixtures';

RETRY.baseDelayMs = 1;

const ACCOUNT = '123456789012';
// A fixed configuration, so that a fork's renames and settings do not change these expectations.
const dev = { ...DEV, account: undefined, region: undefined };
const names = stackNames(dev);
const SEED = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PUSHED = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const DIGEST_OF: Record<string, string> = { [SEED]: OLD_DIGEST, [PUSHED]: DIGEST };
/** How long the fake pipeline takes from a commit to Succeeded, and the fake cdk commands. */
const PIPELINE_SECONDS = 600;
const DEPLOY_SECONDS = 540;
const DESTROY_SECONDS = 660;

interface WorldOptions {
  /** Exit code of `cdk deploy`. */
  readonly deployExit?: number;
  /** Exit code of `cdk destroy`; non-zero leaves the stacks. */
  readonly destroyExit?: number;
  /** The status the pushed commit's pipeline run ends with. */
  readonly pushedRunEnds?: string;
  /** Stacks that exist before the run. */
  readonly existing?: string[];
  /** Templates (JSON) and resources by stack name, for the inventory. */
  readonly templates?: Record<string, { template: object; resources: { id: string; type: string; physical: string }[] }>;
}

/**
 * A fake account: `cdk deploy` creates the three stacks, CodeCommit holds the seed commit, each commit's pipeline run
 * succeeds PIPELINE_SECONDS after it starts and then deploys its tag, UpdateStack changes the tag, ECS runs the
 * current tag's digest, and `cdk destroy` deletes the stacks. Time is a fake clock that the fake sleep advances.
 */
function world(options: WorldOptions = {}) {
  const { mocks, clients: base } = mockedClients();
  const codecommitMock = mockClient(CodeCommitClient);
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
  const clients = {
    ...base,
    // mockClient mocks every instance of a client class; these carry credentials because preflight resolves them.
    sts: new STSClient({ region: 'eu-west-1', maxAttempts: 1, credentials }),
    codecommit: new CodeCommitClient({ region: 'eu-west-1', maxAttempts: 1 }),
  };
  let clock = Date.parse('2026-11-29T10:00:00Z');
  const events: string[] = [];
  const live = new Set<string>(options.existing ?? []);
  let tag = 'no-image';
  let head = SEED;
  const runs: { commit: string; start: number }[] = [];

  const run = jest.fn(async (command: string, args: readonly string[]) => {
    events.push(`${command} ${args.join(' ')}`);
    if (args[1] === 'deploy') {
      clock += DEPLOY_SECONDS * 1000;
      if (options.deployExit) return options.deployExit;
      Object.values(names).forEach((n) => live.add(n));
      runs.push({ commit: SEED, start: clock }); // the pipeline starts on creation
      return 0;
    }
    clock += DESTROY_SECONDS * 1000;
    if (options.destroyExit) return options.destroyExit;
    live.clear();
    return 0;
  });

  const stack = (name: string) => {
    const outputs: Record<string, Record<string, string>> = {
      [names.registry]: {
        SourceCloneUrl: 'codecommit::eu-west-1://fargate-app-dev',
        RepositoryUri: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/images`,
      },
      [names.service]: {
        ClusterName: CLUSTER,
        ServiceName: SERVICE,
        ServiceUrl: URL,
        RepositoryUri: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/images`,
      },
      [names.pipeline]: { PipelineName: 'dev-pipeline' },
    };
    return {
      StackName: name,
      StackStatus: 'UPDATE_COMPLETE',
      CreationTime: new Date(clock),
      Parameters: name === names.service ? [{ ParameterKey: 'ImageTag', ParameterValue: tag }] : [],
      Outputs: Object.entries(outputs[name]).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    };
  };
  mocks.cloudformation.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    if (!live.has(input.StackName))
      throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    return { Stacks: [stack(input.StackName)] };
  });
  mocks.cloudformation
    .on(UpdateStackCommand)
    .callsFake((input: { Parameters: { ParameterKey: string; ParameterValue?: string }[] }) => {
      tag = input.Parameters.find((p) => p.ParameterKey === 'ImageTag')!.ParameterValue!;
      events.push(`UpdateStack ImageTag=${tag}`);
      return { StackId: 'id' };
    });
  mocks.cloudformation.on(GetTemplateCommand).callsFake((input: { StackName: string }) => ({
    TemplateBody: JSON.stringify(options.templates?.[input.StackName]?.template ?? { Resources: {} }),
  }));
  mocks.cloudformation.on(ListStackResourcesCommand).callsFake((input: { StackName: string }) => ({
    StackResourceSummaries: (options.templates?.[input.StackName]?.resources ?? []).map((r) => ({
      LogicalResourceId: r.id,
      ResourceType: r.type,
      PhysicalResourceId: r.physical,
      ResourceStatus: 'CREATE_COMPLETE',
    })),
  }));

  codecommitMock.on(GetBranchCommand).callsFake(() => ({ branch: { branchName: 'main', commitId: head } }));
  codecommitMock.on(CreateCommitCommand).callsFake((input: { parentCommitId: string }) => {
    expect(input.parentCommitId).toBe(head);
    head = PUSHED;
    events.push('CreateCommit');
    runs.push({ commit: PUSHED, start: clock });
    return { commitId: PUSHED };
  });

  mocks.codepipeline.on(ListPipelineExecutionsCommand).callsFake(() => ({
    pipelineExecutionSummaries: [...runs].reverse().map((r, i) => {
      const done = clock >= r.start + PIPELINE_SECONDS * 1000;
      const ends = r.commit === PUSHED ? (options.pushedRunEnds ?? 'Succeeded') : 'Succeeded';
      if (done && ends === 'Succeeded' && tag !== r.commit && !events.includes(`pipeline deployed ${r.commit}`)) {
        tag = r.commit;
        events.push(`pipeline deployed ${r.commit}`);
      }
      return {
        pipelineExecutionId: `run-${runs.length - i}`,
        status: done ? ends : 'InProgress',
        startTime: new Date(r.start),
        lastUpdateTime: new Date(done ? r.start + PIPELINE_SECONDS * 1000 : clock),
        sourceRevisions: [{ actionName: 'Source', revisionId: r.commit }],
      };
    }),
  }));
  mocks.codepipeline.on(ListActionExecutionsCommand).resolves({
    actionExecutionDetails: [{ stageName: 'Build', status: 'Failed', startTime: new Date(clock) }],
  });

  mocks.ecr.on(DescribeImagesCommand).callsFake((input: { imageIds: { imageTag: string }[] }) => ({
    imageDetails: [{ imageDigest: DIGEST_OF[input.imageIds[0].imageTag], imageTags: [input.imageIds[0].imageTag] }],
  }));
  mocks.ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [
      {
        serviceName: SERVICE,
        status: 'ACTIVE',
        runningCount: 1,
        desiredCount: 1,
        pendingCount: 0,
        deployments: [{ status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1, taskDefinition: 'td:1' }],
        events: [],
      },
    ],
  }));
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake(() => ({
    taskDefinition: { containerDefinitions: [{ name: 'app', image: `images:${tag}` }] },
  }));
  mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ['task/1'] });
  mocks.ecs.on(DescribeTasksCommand).callsFake(() => ({
    tasks: [{ taskArn: 'task/1', lastStatus: 'RUNNING', containers: [{ name: 'app', imageDigest: DIGEST_OF[tag] }] }],
  }));

  const sleep = jest.fn(async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw signal.reason;
    clock += ms;
  });
  const fetch = jest.fn(async () => new Response('{"status":"ok"}', { status: tag === 'no-image' ? 503 : 200 }));
  const lines: string[] = [];
  const deps = {
    clients,
    run,
    log: (line: string) => lines.push(line),
    now: () => clock,
    sleep,
    fetch: fetch as unknown as typeof globalThis.fetch,
  };
  const options_: SmokeOptions = { config: dev, confirmAccount: ACCOUNT, pollSeconds: 15, runId: 'test-run' };
  const advance = (ms: number) => (clock += ms);
  return { mocks, codecommitMock, deps, options: options_, events, lines, run, sleep, live, advance };
}

test('runs the first-deploy path in order, cleans up, and reports each step and push-to-live against the model', async () => {
  const w = world();

  const result = await runSmoke(w.deps, w.options);

  expect(result.failure).toBeUndefined();
  expect(w.events).toEqual([
    'npx cdk deploy --all --require-approval never -c env=dev',
    `pipeline deployed ${SEED}`,
    'CreateCommit',
    `pipeline deployed ${PUSHED}`,
    `UpdateStack ImageTag=${SEED}`,
    `UpdateStack ImageTag=${PUSHED}`,
    'npx cdk destroy --all --force -c env=dev',
  ]);
  expect(result.steps.map((s) => [s.name, s.status, s.seconds])).toEqual([
    ['deploy', 'ok', DEPLOY_SECONDS],
    ['first pipeline run', 'ok', PIPELINE_SECONDS],
    ['push', 'ok', 0],
    ['pipeline run of the push', 'ok', PIPELINE_SECONDS],
    ['verify', 'ok', 0],
    ['status', 'ok', 0],
    ['rollback', 'ok', 0],
    ['roll forward', 'ok', 0],
    ['inventory', 'ok', 0],
    ['destroy', 'ok', DESTROY_SECONDS],
    ['check removal', 'ok', 0],
  ]);
  expect(result.steps.map((s) => s.name)).toEqual([...STEPS, ...CLEANUP_STEPS]);
  expect(result.pushToLiveSeconds).toBe(PIPELINE_SECONDS);
  expect(w.live.size).toBe(0);

  // The commit changes a file the release image copies, on top of the seed commit.
  const commit = w.codecommitMock.commandCalls(CreateCommitCommand)[0].args[0].input;
  expect(commit).toMatchObject({ repositoryName: 'fargate-app-dev', branchName: 'main', parentCommitId: SEED });
  expect(commit.putFiles?.map((f) => f.filePath)).toEqual([SMOKE_FILE]);

  const report = renderSmokeReport(result);
  expect(report).toContain(`Smoke test of 'dev' in account ${ACCOUNT} (eu-west-1): passed`);
  expect(report).toMatch(/ {2}deploy +ok +9m 00s\n/);
  expect(report).toMatch(/ {2}destroy +ok +11m 00s\n/);
  expect(report).toMatch(/ {2}total +40m 00s\n/);
  expect(report).toContain(
    'push to live: 10m 00s measured; modelled 8–9 min (npm run model:push-to-live, dev): SLOWER than the model',
  );
  expect(report).toContain('Left behind: nothing found.');
  // Polling is injected: the fake clock advanced, no real time passed.
  expect(w.sleep).toHaveBeenCalledWith(15000, undefined);
});

test('fails when the credentials are for another account than the confirmed one, before anything is created', async () => {
  const w = world();
  const error = await runSmoke(w.deps, { ...w.options, confirmAccount: '210987654321' }).catch((e) => e);
  expect(error).toEqual(
    new OpsError(
      `these credentials are for account ${ACCOUNT}, not 210987654321: pass --confirm-account ${ACCOUNT} to run there, or switch AWS_PROFILE`,
      EXIT.USAGE,
    ),
  );
  expect(w.run).not.toHaveBeenCalled();
  expect(w.codecommitMock.calls()).toHaveLength(0);
});

test('fails when the environment holds production data, before asking AWS anything', async () => {
  const w = world();
  const error = await runSmoke(w.deps, {
    ...w.options,
    config: { ...PROD, account: undefined, region: undefined },
  }).catch((e) => e);
  expect(error).toEqual(
    new OpsError(
      "'prod' holds production data (production: true, removalPolicy 'retain'); the smoke test deploys and destroys its environment: run it with a disposable one such as --env dev",
      EXIT.USAGE,
    ),
  );
  expect(w.mocks.sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  expect(w.run).not.toHaveBeenCalled();
});

test('fails when the environment is deployed already, rather than destroy it', async () => {
  const w = world({ existing: [names.service] });
  const error = await runSmoke(w.deps, w.options).catch((e) => e);
  expect(error.exitCode).toBe(EXIT.USAGE);
  expect(error.message).toBe(
    `${names.service} (UPDATE_COMPLETE) already exist in ${ACCOUNT}; the smoke test would destroy them: ` +
      'run it with an environment that is not deployed, or remove them first with `npx cdk destroy --all -c env=dev`',
  );
  expect(w.run).not.toHaveBeenCalled();
});

test('fails when a middle step fails, and still destroys everything and reports the failure', async () => {
  const w = world({ pushedRunEnds: 'Failed' });

  const result = await runSmoke(w.deps, w.options);

  expect(result.failure).toEqual(
    new OpsError(
      `pipeline dev-pipeline run run-2 for ${PUSHED} ended Failed in Build (Failed): see its log in the console (PipelineConsoleUrl output)`,
      EXIT.FAILED,
    ),
  );
  expect(w.events[w.events.length - 1]).toBe('npx cdk destroy --all --force -c env=dev');
  expect(w.live.size).toBe(0);
  expect(result.steps.map((s) => [s.name, s.status])).toEqual([
    ['deploy', 'ok'],
    ['first pipeline run', 'ok'],
    ['push', 'ok'],
    ['pipeline run of the push', 'failed'],
    ['verify', 'skipped'],
    ['status', 'skipped'],
    ['rollback', 'skipped'],
    ['roll forward', 'skipped'],
    ['inventory', 'ok'],
    ['destroy', 'ok'],
    ['check removal', 'ok'],
  ]);
  expect(w.mocks.cloudformation.commandCalls(UpdateStackCommand)).toHaveLength(0);
  const report = renderSmokeReport(result);
  expect(report).toContain(`Smoke test of 'dev' in account ${ACCOUNT} (eu-west-1): FAILED`);
  expect(report).toContain(`ended Failed in Build (Failed)`);
  expect(report).toContain('push to live: not measured (the run stopped before it)');
});

test('fails when cdk deploy fails, and still destroys what it created', async () => {
  const w = world({ deployExit: 1 });
  const result = await runSmoke(w.deps, w.options);
  expect(result.failure?.message).toBe('`npx cdk deploy` for the first deploy exited with 1');
  expect(w.run).toHaveBeenCalledTimes(2);
  expect(w.events[1]).toBe('npx cdk destroy --all --force -c env=dev');
});

test('fails when the pipeline run does not finish within the timeout', async () => {
  const w = world();
  const result = await runSmoke(w.deps, { ...w.options, pipelineTimeoutSeconds: 300 });
  expect(result.failure?.message).toBe(
    `pipeline dev-pipeline has no successful run for ${SEED} after 300s (last seen: InProgress); raise --pipeline-timeout if it is still running`,
  );
  expect(result.steps.find((s) => s.name === 'first pipeline run')).toMatchObject({ status: 'failed', seconds: 300 });
  expect(w.events[w.events.length - 1]).toBe('npx cdk destroy --all --force -c env=dev');
});

test('on Ctrl-C stops the current step and cleans up', async () => {
  const w = world();
  const interrupt = new AbortController();
  // The user presses Ctrl-C while the pushed commit's run is being waited for.
  w.sleep.mockImplementation(async (ms: number, signal?: AbortSignal) => {
    if (w.events.includes('CreateCommit')) interrupt.abort();
    if (signal?.aborted) throw signal.reason;
    w.advance(ms);
  });
  const result = await runSmoke({ ...w.deps, signal: interrupt.signal }, w.options);
  expect(result.failure).toEqual(new OpsError('interrupted (Ctrl-C)', 130));
  expect(result.steps.find((s) => s.name === 'pipeline run of the push')?.status).toBe('interrupted');
  expect(result.steps.find((s) => s.name === 'destroy')?.status).toBe('ok');
  expect(w.live.size).toBe(0);
});

test('on Ctrl-C before cdk deploy starts, destroys nothing', async () => {
  const w = world();
  const interrupt = new AbortController();
  interrupt.abort();
  const result = await runSmoke({ ...w.deps, signal: interrupt.signal }, w.options);
  expect(result.failure?.message).toBe('interrupted (Ctrl-C)');
  expect(w.run).not.toHaveBeenCalled();
  expect(result.steps.filter((s) => s.status !== 'skipped').map((s) => s.name)).toEqual(['deploy']);
});

test('lists what it could not remove, read from the stacks before destroying them, with the commands to delete it', async () => {
  const w = world({
    destroyExit: 1,
    templates: {
      [names.service]: {
        template: {
          Resources: {
            AccessLogs: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' },
            Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', DeletionPolicy: 'Delete' },
            Handler: { Type: 'AWS::Lambda::Function', Properties: {} },
          },
        },
        resources: [
          { id: 'AccessLogs', type: 'AWS::S3::Bucket', physical: 'dev-service-accesslogs-1' },
          { id: 'Alb', type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', physical: 'arn:alb' },
          { id: 'Handler', type: 'AWS::Lambda::Function', physical: 'dev-service-Handler-1' },
        ],
      },
      [names.pipeline]: {
        template: { Resources: { Key: { Type: 'AWS::KMS::Key', DeletionPolicy: 'Retain' } } },
        resources: [{ id: 'Key', type: 'AWS::KMS::Key', physical: '1234abcd-12ab-34cd-56ef-1234567890ab' }],
      },
    },
  });

  const result = await runSmoke(w.deps, w.options);

  expect(result.failure?.message).toBe('`npx cdk destroy` for the teardown exited with 1');
  expect(result.leftBehind.map((l) => [l.type, l.physicalId])).toEqual([
    ['AWS::CloudFormation::Stack', names.registry],
    ['AWS::CloudFormation::Stack', names.service],
    ['AWS::CloudFormation::Stack', names.pipeline],
    ['AWS::S3::Bucket', 'dev-service-accesslogs-1'],
    ['AWS::Logs::LogGroup', '/aws/lambda/dev-service-Handler-1'],
    ['AWS::KMS::Key', '1234abcd-12ab-34cd-56ef-1234567890ab'],
  ]);
  const report = renderSmokeReport(result);
  expect(report).toContain('Left behind (6): delete these when you no longer need them, in this order:');
  expect(report).toContain(`    aws cloudformation delete-stack --region eu-west-1 --stack-name ${names.service}\n`);
  expect(report).toContain('    aws s3api delete-bucket --region eu-west-1 --bucket dev-service-accesslogs-1\n');
  expect(report).toContain(
    '    aws logs delete-log-group --region eu-west-1 --log-group-name /aws/lambda/dev-service-Handler-1\n',
  );
  // The key goes last: the retained artifacts are encrypted with it.
  expect(report.trimEnd().split('\n').pop()).toBe(
    '    aws kms schedule-key-deletion --region eu-west-1 --key-id 1234abcd-12ab-34cd-56ef-1234567890ab --pending-window-in-days 7',
  );
});
