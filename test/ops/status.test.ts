import * as fs from 'node:fs';
import * as path from 'node:path';
import { CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CodePipelineServiceException,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import {
  AccessDeniedException,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DEV } from '../config-fixtures';
import { checkAccount } from '../../lib/ops/clients';
import { EXIT, OpsError, explain } from '../../lib/ops/errors';
import { RETRY } from '../../lib/ops/retry';
import { gatherStatus, progressLine, renderStatus, rolloutState } from '../../lib/ops/status';
import { CLUSTER, DIGEST, OLD_DIGEST, REPOSITORY_URI, SERVICE, TAG, ecsService, mockedClients, serviceStack } from './fixtures';

RETRY.baseDelayMs = 1;
// A fixed configuration, so that a fork's renames and settings do not change these expectations.
const dev = { ...DEV, account: undefined, region: undefined };
const healthy = (async () => ({ status: 200 })) as unknown as typeof fetch;

function deployedEnvironment(mocks: ReturnType<typeof mockedClients>['mocks'], digests = [DIGEST, DIGEST]) {
  const stack = serviceStack(TAG);
  stack.Outputs.push({
    OutputKey: 'RepositoryUri',
    OutputValue: REPOSITORY_URI,
  });
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-dev-service' })
    .resolves({ Stacks: [stack as any] })
    .on(DescribeStacksCommand, { StackName: 'fargate-app-dev-registry' })
    .resolves({
      Stacks: [
        { StackName: 'fargate-app-dev-registry', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date('2026-11-20T10:00:00Z') },
      ],
    })
    .on(DescribeStacksCommand, { StackName: 'fargate-app-dev-pipeline' })
    .resolves({
      Stacks: [
        {
          StackName: 'fargate-app-dev-pipeline',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date('2026-11-20T10:10:00Z'),
          Outputs: [{ OutputKey: 'PipelineName', OutputValue: 'fargate-app-dev-pipeline-Pipeline' }],
        },
      ],
    });
  mocks.ecr.on(DescribeImagesCommand).resolves({
    imageDetails: [
      {
        imageDigest: DIGEST,
        imageTags: [TAG],
        imagePushedAt: new Date('2026-11-28T08:55:00Z'),
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindingsSummary: { findingSeverityCounts: { MEDIUM: 2, LOW: 5 } },
      },
    ],
  });
  ecsService(mocks, digests);
  mocks.codepipeline.on(ListPipelineExecutionsCommand).resolves({
    pipelineExecutionSummaries: [
      {
        pipelineExecutionId: 'exec-2',
        status: 'Succeeded',
        startTime: new Date('2026-11-28T08:50:00Z'),
        trigger: { triggerType: 'CloudWatchEvent' },
        sourceRevisions: [{ actionName: 'CodeCommit', revisionId: TAG }],
      },
    ],
  });
  mocks.codepipeline.on(ListActionExecutionsCommand).resolves({
    actionExecutionDetails: [
      {
        stageName: 'Build',
        actionName: 'Build',
        status: 'Succeeded',
        startTime: new Date('2026-11-28T08:51:00Z'),
        output: { outputVariables: { IMAGE_TAG: TAG } },
      },
      { stageName: 'Verify', actionName: 'Verify', status: 'Succeeded', startTime: new Date('2026-11-28T09:06:00Z') },
    ],
  });
}

test('renders a full status report', async () => {
  const { mocks, clients } = mockedClients();
  deployedEnvironment(mocks);
  const report = await gatherStatus(clients, dev, { account: '123456789012', region: 'eu-west-1', fetch: healthy });
  // The README shows this same sample (test/readme.test.ts checks it).
  expect(`${renderStatus(report)}\n`).toBe(fs.readFileSync(path.join(__dirname, 'status-sample.txt'), 'utf8'));
});

test('reports JSON-ready data: tag, digest, findings, counts, executions, health', async () => {
  const { mocks, clients } = mockedClients();
  deployedEnvironment(mocks);
  const report = JSON.parse(
    JSON.stringify(await gatherStatus(clients, dev, { account: '123456789012', region: 'eu-west-1', fetch: healthy })),
  );
  expect(report).toMatchObject({
    env: 'dev',
    imageTag: TAG,
    image: { digest: DIGEST, findings: { MEDIUM: 2, LOW: 5 } },
    service: { running: 2, desired: 2, pending: 0, runningDigests: { [DIGEST]: 2 } },
    executions: [{ id: 'exec-2', status: 'Succeeded', stage: 'Verify', imageTag: TAG }],
    health: { status: 200, ok: true },
  });
});

test('reads every page of running tasks', async () => {
  const { mocks, clients } = mockedClients();
  deployedEnvironment(mocks, [DIGEST, DIGEST, DIGEST, OLD_DIGEST]);
  const report = await gatherStatus(clients, dev, { account: '123456789012', region: 'eu-west-1', fetch: healthy });
  expect(report.service?.runningDigests).toEqual({ [DIGEST]: 3, [OLD_DIGEST]: 1 });
});

test('follows a rollout that fails', async () => {
  const { mocks, clients } = mockedClients();
  deployedEnvironment(mocks);
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'svc',
        status: 'ACTIVE',
        runningCount: 2,
        desiredCount: 2,
        pendingCount: 1,
        deployments: [
          {
            status: 'PRIMARY',
            rolloutState: 'FAILED',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            runningCount: 0,
            desiredCount: 2,
            taskDefinition: 'td:8',
          },
          { status: 'ACTIVE', rolloutState: 'COMPLETED', runningCount: 2, desiredCount: 2, taskDefinition: 'td:7' },
        ],
        events: [],
      },
    ],
  });
  const report = await gatherStatus(clients, dev, { account: '123456789012', region: 'eu-west-1', fetch: healthy });
  expect(rolloutState(report)).toBe('FAILED');
  expect(progressLine(report)).toMatch(
    /rollout FAILED {2}2\/2 running, 1 pending, 2 deployment\(s\): ECS deployment circuit breaker/,
  );
});

test('an in-progress rollout is not settled', async () => {
  const { mocks, clients } = mockedClients();
  deployedEnvironment(mocks);
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        status: 'ACTIVE',
        runningCount: 1,
        desiredCount: 2,
        deployments: [
          { status: 'PRIMARY', rolloutState: 'IN_PROGRESS', runningCount: 1, desiredCount: 2, taskDefinition: 'td:8' },
          { status: 'ACTIVE', rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 0, taskDefinition: 'td:7' },
        ],
      },
    ],
  });
  const report = await gatherStatus(clients, dev, { account: '123456789012', region: 'eu-west-1', fetch: healthy });
  expect(rolloutState(report)).toBe('IN_PROGRESS');
});

test('reports a failing health check', async () => {
  const { mocks, clients } = mockedClients();
  deployedEnvironment(mocks);
  const down = (async () => ({ status: 503 })) as unknown as typeof fetch;
  const report = await gatherStatus(clients, dev, { account: '123456789012', region: 'eu-west-1', fetch: down });
  expect(renderStatus(report)).toMatch(/health 503 FAILING$/);
});

describe('errors', () => {
  test('fails with the deploy command when the environment is not deployed', async () => {
    const { mocks, clients } = mockedClients();
    mocks.cloudformation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
    await expect(gatherStatus(clients, dev, { account: '1', region: 'eu-west-1' })).rejects.toEqual(
      new OpsError(
        "'dev' is not deployed (no stack fargate-app-dev-service): run `npx cdk deploy --all -c env=dev`",
        EXIT.NOT_DEPLOYED,
      ),
    );
  });

  test('fails when the credentials are for another account', async () => {
    const { mocks, clients } = mockedClients();
    mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    (clients.sts.config as any).credentials = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    const error = await checkAccount(clients, { ...dev, account: '123456789012' }).catch((e) => e);
    expect(error).toEqual(
      new OpsError(
        "these credentials are for account 999999999999, but 'dev' lives in 123456789012: switch AWS_PROFILE",
        EXIT.WRONG_ACCOUNT,
      ),
    );
  });

  test('fails when the region is not the environment region', async () => {
    const { clients } = mockedClients();
    (clients.sts.config as any).credentials = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    const error = await checkAccount(clients, { ...dev, region: 'us-east-1' }).catch((e) => e);
    expect(error.exitCode).toBe(EXIT.WRONG_ACCOUNT);
    expect(error.message).toBe("region eu-west-1 is not 'dev''s region us-east-1: set AWS_REGION=us-east-1");
  });

  test('explains missing credentials in one line', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(explain(error, 'dev')).toEqual(
      new OpsError(
        'no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry',
        EXIT.NO_CREDENTIALS,
      ),
    );
  });

  test('explains expired credentials', () => {
    expect(
      explain(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredToken' }), 'dev')
        .exitCode,
    ).toBe(EXIT.NO_CREDENTIALS);
  });

  test('retries throttling, then succeeds', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    mocks.ecs.on(DescribeServicesCommand).rejectsOnce(throttled).rejectsOnce(throttled);
    ecsService(mocks, [DIGEST]);
    mocks.ecs
      .on(DescribeServicesCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .resolves({
        services: [{ status: 'ACTIVE', runningCount: 1, desiredCount: 1, deployments: [], events: [] }],
      });
    const report = await gatherStatus(clients, dev, { account: '1', region: 'eu-west-1', fetch: healthy });
    expect(report.service?.running).toBe(1);
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
  });

  test('fails with THROTTLED when reading the Service stack is throttled past the retries', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    mocks.cloudformation
      .on(DescribeStacksCommand, { StackName: 'fargate-app-dev-service' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const error = await gatherStatus(clients, dev, { account: '1', region: 'eu-west-1', fetch: healthy }).catch((e) =>
      explain(e, 'dev'),
    );
    expect((error as OpsError).exitCode).toBe(EXIT.THROTTLED);
    expect(mocks.cloudformation.commandCalls(DescribeStacksCommand, { StackName: 'fargate-app-dev-service' })).toHaveLength(
      RETRY.attempts,
    );
  });

  test('marks the ECS service not readable when its reads stay throttled past the retries', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    mocks.ecs.on(DescribeServicesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const report = await gatherStatus(clients, dev, { account: '1', region: 'eu-west-1', fetch: healthy });
    expect(report.unreadable).toEqual([{ part: 'service', reason: 'ThrottlingException: Rate exceeded' }]);
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(RETRY.attempts);
  });
});

describe('partial reports', () => {
  const options = { account: '123456789012', region: 'eu-west-1', fetch: healthy };
  // How AWS words an implicit deny; the SDK surfaces an error code its model does not list as a <Service>ServiceException
  // named after the code (CodePipeline, ECR and CloudFormation model no AccessDenied error; ECS does).
  const denied = (action: string, resource: string) =>
    `User: arn:aws:sts::123456789012:assumed-role/ReadOnly/me is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
  const PIPELINE_ARN = 'arn:aws:codepipeline:eu-west-1:123456789012:fargate-app-dev-pipeline-Pipeline';

  test('shows everything else when the pipeline runs are denied, and says why they are missing', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    mocks.codepipeline.on(ListPipelineExecutionsCommand).rejects(
      new CodePipelineServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: denied('codepipeline:ListPipelineExecutions', PIPELINE_ARN),
      }),
    );
    const report = await gatherStatus(clients, dev, options);
    const reason = `AccessDeniedException: ${denied('codepipeline:ListPipelineExecutions', PIPELINE_ARN)}`;
    expect(report.unreadable).toEqual([{ part: 'pipeline runs', reason }]);
    expect(report.executions).toBeUndefined();
    const full = fs.readFileSync(path.join(__dirname, 'status-sample.txt'), 'utf8');
    const pipeline = /Pipeline\n {2}STARTED.*\n.*\n/;
    expect(full).toMatch(pipeline);
    // Exactly the full report, but for the pipeline runs.
    expect(`${renderStatus(report)}\n`).toBe(full.replace(pipeline, `Pipeline\n  pipeline runs: not readable: ${reason}\n`));
  });

  test('shows the stacks, the image and the pipeline when the ECS service is denied', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    const message = denied('ecs:DescribeServices', `arn:aws:ecs:eu-west-1:123456789012:service/${CLUSTER}/${SERVICE}`);
    mocks.ecs.on(DescribeServicesCommand).rejects(new AccessDeniedException({ $metadata: { httpStatusCode: 400 }, message }));
    const report = await gatherStatus(clients, dev, options);
    expect(report.unreadable).toEqual([{ part: 'service', reason: `AccessDeniedException: ${message}` }]);
    const text = renderStatus(report);
    expect(text).toContain(`\nService\n  ECS service: not readable: AccessDeniedException: ${message}\n\nPipeline\n  STARTED`);
    expect(text).toContain(`  digest  ${DIGEST}`);
    expect(text).toMatch(/health 200 ok$/);
  });

  test('shows the service without its running digests when the tasks cannot be listed', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    const message = denied('ecs:ListTasks', `arn:aws:ecs:eu-west-1:123456789012:container-instance/${CLUSTER}/*`);
    mocks.ecs.on(ListTasksCommand).rejects(new AccessDeniedException({ $metadata: { httpStatusCode: 400 }, message }));
    const report = await gatherStatus(clients, dev, options);
    expect(report.service?.running).toBe(2);
    expect(report.service?.runningDigests).toBeUndefined();
    expect(report.unreadable).toEqual([{ part: 'running tasks', reason: `AccessDeniedException: ${message}` }]);
    expect(renderStatus(report)).toContain(
      `  PRIMARY     COMPLETED  2/2      ${REPOSITORY_URI}:${TAG}\n  running digests: not readable: AccessDeniedException: ${message}\n  recent events:`,
    );
  });

  test('shows the task definition instead of the image when task definitions cannot be read', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(new AccessDeniedException({ $metadata: { httpStatusCode: 400 }, message: 'denied' }));
    const text = renderStatus(await gatherStatus(clients, dev, options));
    expect(text).toContain(
      '  PRIMARY     COMPLETED  2/2      arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7\n  deployment images: not readable: AccessDeniedException: denied\n',
    );
  });

  test('marks the image details when ECR cannot be reached, with the network error', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    // As @smithy/node-http-handler rejects: Node's own error from the request (see lib/ops/errors.ts).
    mocks.ecr.on(DescribeImagesCommand).rejects(
      Object.assign(new Error('getaddrinfo ENOTFOUND api.ecr.eu-west-1.amazonaws.com'), {
        errno: -3008,
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname: 'api.ecr.eu-west-1.amazonaws.com',
      }),
    );
    const report = await gatherStatus(clients, dev, options);
    expect(renderStatus(report)).toContain(
      `Image\n  tag     ${TAG}\n  digest, scan: not readable: getaddrinfo ENOTFOUND api.ecr.eu-west-1.amazonaws.com\n\nService`.replace(
        'tag     ',
        'tag ',
      ),
    );
  });

  test('marks a stack that cannot be read, and the pipeline runs that depend on it', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    const message = denied(
      'cloudformation:DescribeStacks',
      'arn:aws:cloudformation:eu-west-1:123456789012:stack/fargate-app-dev-pipeline/*',
    );
    mocks.cloudformation.on(DescribeStacksCommand, { StackName: 'fargate-app-dev-pipeline' }).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message,
      }),
    );
    const report = await gatherStatus(clients, dev, options);
    expect(report.unreadable).toEqual([
      { part: 'pipeline stack', reason: `AccessDenied: ${message}` },
      { part: 'pipeline runs', reason: "the pipeline's name comes from stack fargate-app-dev-pipeline, which is not readable" },
    ]);
    expect(mocks.codepipeline.commandCalls(ListPipelineExecutionsCommand)).toHaveLength(0);
    const text = renderStatus(report);
    expect(text).toContain(
      `  fargate-app-dev-pipeline  NOT READABLE     -\n  fargate-app-dev-pipeline: not readable: AccessDenied: ${message}\n`,
    );
    expect(text).toContain(
      "Pipeline\n  pipeline runs: not readable: the pipeline's name comes from stack fargate-app-dev-pipeline, which is not readable\n",
    );
    // --json carries the same marks.
    expect(JSON.parse(JSON.stringify(report)).unreadable).toHaveLength(2);
  });

  test('fails when the Service stack itself cannot be read: nothing essential is left', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    mocks.cloudformation.on(DescribeStacksCommand, { StackName: 'fargate-app-dev-service' }).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'no',
      }),
    );
    const error = await gatherStatus(clients, dev, options).catch((e) => explain(e, 'dev'));
    expect(error).toEqual(
      new OpsError("access denied: no. Use credentials for the account that hosts 'dev'", EXIT.NO_CREDENTIALS),
    );
  });

  test('fails when an essential part cannot be read (--watch needs the ECS service)', async () => {
    const { mocks, clients } = mockedClients();
    deployedEnvironment(mocks);
    mocks.ecs.on(DescribeServicesCommand).rejects(new AccessDeniedException({ $metadata: {}, message: 'denied' }));
    await expect(gatherStatus(clients, dev, { ...options, essential: ['service'] })).rejects.toBeInstanceOf(
      AccessDeniedException,
    );
  });
});
