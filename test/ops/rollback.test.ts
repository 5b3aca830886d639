import { DescribeStackEventsCommand, DescribeStacksCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { ListActionExecutionsCommand, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { PROD } from '../config-fixtures';
import { EXIT, OpsError } from '../../lib/ops/errors';
import { RETRY } from '../../lib/ops/retry';
import { rollback } from '../../lib/ops/rollback';
import { DIGEST, OLD_DIGEST, OLD_TAG, TAG, mockedClients, serviceStack } from './fixtures';

RETRY.baseDelayMs = 1;
// A fixed configuration, so that a fork's renames and settings do not change these expectations.
const prod = { ...PROD, account: undefined, region: undefined };
const fast = { pollSeconds: 1, maxWaitSeconds: 5 };

function prodStack(tag: string, status = 'UPDATE_COMPLETE') {
  const stack = serviceStack(tag, status);
  stack.StackName = 'fargate-app-prod-service';
  stack.Outputs.push({ OutputKey: 'RepositoryUri', OutputValue: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/images' });
  return stack as any;
}

/** Pipeline history, newest first: a failed run of TAG... no: the runs that shipped TAG (current) and OLD_TAG. */
function pipelineHistory(mocks: ReturnType<typeof mockedClients>['mocks']) {
  mocks.cloudformation.on(DescribeStacksCommand, { StackName: 'fargate-app-prod-pipeline' }).resolves({
    Stacks: [
      {
        StackName: 'fargate-app-prod-pipeline',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [{ OutputKey: 'PipelineName', OutputValue: 'prod-pipeline' }],
      },
    ],
  });
  mocks.codepipeline
    .on(ListPipelineExecutionsCommand)
    .resolves({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: 'e3', status: 'Failed' },
        { pipelineExecutionId: 'e2', status: 'Succeeded' },
      ],
      nextToken: 'more',
    })
    .on(ListPipelineExecutionsCommand, { nextToken: 'more' })
    .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e1', status: 'Succeeded' }] });
  const tagOf: Record<string, string> = { e3: 'ffffffffffffffffffffffffffffffffffffffff', e2: TAG, e1: OLD_TAG };
  mocks.codepipeline.on(ListActionExecutionsCommand).callsFake((input: any) => ({
    actionExecutionDetails: [
      {
        stageName: 'Build',
        status: 'Succeeded',
        output: { outputVariables: { IMAGE_TAG: tagOf[input.filter.pipelineExecutionId] } },
      },
    ],
  }));
}

test('rolls back to the previously deployed tag through the ImageTag parameter, and waits', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
    .resolvesOnce({ Stacks: [prodStack(TAG)] })
    .resolvesOnce({ Stacks: [prodStack(OLD_TAG, 'UPDATE_IN_PROGRESS')] })
    .resolves({ Stacks: [prodStack(OLD_TAG, 'UPDATE_COMPLETE')] });
  pipelineHistory(mocks);
  mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: OLD_DIGEST, imageTags: [OLD_TAG] }] });
  mocks.cloudformation.on(UpdateStackCommand).resolves({ StackId: 'id' });
  const lines: string[] = [];

  const result = await rollback(clients, prod, { ...fast, log: (l) => lines.push(l) });

  expect(result).toMatchObject({ from: TAG, to: OLD_TAG, changed: true });
  expect(mocks.cloudformation.commandCalls(UpdateStackCommand)[0].args[0].input).toEqual({
    StackName: 'fargate-app-prod-service',
    UsePreviousTemplate: true,
    Parameters: [
      { ParameterKey: 'ImageTag', ParameterValue: OLD_TAG },
      { ParameterKey: 'BootstrapVersion', UsePreviousValue: true },
    ],
    Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
  });
  expect(lines[0]).toBe(`rollback: fargate-app-prod-service: ${TAG} → ${OLD_TAG} (${OLD_DIGEST})`);
  expect(lines[lines.length - 1]).toMatch(new RegExp(`^rollback: fargate-app-prod-service now runs ${OLD_TAG} \\(\\d+s\\)$`));
});

test('never edits the ECS service directly', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
    .resolves({ Stacks: [prodStack(TAG)] });
  mocks.ecr.on(DescribeImagesCommand).resolves({ imageDigest: DIGEST, imageDetails: [{ imageDigest: OLD_DIGEST }] } as any);
  mocks.cloudformation.on(UpdateStackCommand).resolves({});
  await rollback(clients, prod, { ...fast, to: OLD_TAG });
  expect(mocks.ecs.calls()).toHaveLength(0);
  expect(clients.ecs).toBeInstanceOf(ECSClient);
});

test('rolls back to a given tag', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
    .resolves({ Stacks: [prodStack(TAG)] });
  mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: OLD_DIGEST }] });
  mocks.cloudformation.on(UpdateStackCommand).resolves({});
  const result = await rollback(clients, prod, { ...fast, to: OLD_TAG });
  expect(result.to).toBe(OLD_TAG);
  expect(mocks.codepipeline.calls()).toHaveLength(0);
});

test('fails when the tag is not in ECR, before changing anything', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
    .resolves({ Stacks: [prodStack(TAG)] });
  mocks.ecr
    .on(DescribeImagesCommand)
    .rejects(Object.assign(new Error('The image requested does not exist'), { name: 'ImageNotFoundException' }));
  await expect(rollback(clients, prod, { ...fast, to: 'deadbeef' })).rejects.toEqual(
    new OpsError(
      'image tag deadbeef is not in ECR repository images: list the tags with `aws ecr list-images --repository-name images`',
      EXIT.UNKNOWN_TAG,
    ),
  );
  expect(mocks.cloudformation.commandCalls(UpdateStackCommand)).toHaveLength(0);
});

test('fails when a deploy or rollback is already in progress', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [prodStack(TAG, 'UPDATE_IN_PROGRESS')] });
  const error = await rollback(clients, prod, { ...fast, to: OLD_TAG }).catch((e) => e);
  expect(error.exitCode).toBe(EXIT.ROLLBACK_IN_PROGRESS);
  expect(error.message).toBe(
    'fargate-app-prod-service is UPDATE_IN_PROGRESS: a deploy or rollback is in progress; follow it with `npm run status -- --env prod --watch` and retry when it settles',
  );
});

test('fails with the deploy command when the environment is not deployed', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand)
    .rejects(Object.assign(new Error('Stack with id fargate-app-prod-service does not exist'), { name: 'ValidationError' }));
  const error = await rollback(clients, prod, { ...fast }).catch((e) => e);
  expect(error.exitCode).toBe(EXIT.NOT_DEPLOYED);
  expect(error.message).toBe('stack fargate-app-prod-service is not deployed: run `npx cdk deploy --all -c env=prod`');
});

test('fails when the pipeline never shipped an earlier tag', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
    .resolves({ Stacks: [prodStack(OLD_TAG)] });
  pipelineHistory(mocks);
  mocks.codepipeline
    .on(ListActionExecutionsCommand)
    .resolves({ actionExecutionDetails: [{ stageName: 'Build', output: { outputVariables: { IMAGE_TAG: OLD_TAG } } }] });
  const error = await rollback(clients, prod, { ...fast }).catch((e) => e);
  expect(error).toEqual(
    new OpsError("no earlier image in fargate-app-prod-pipeline's successful runs: pass --to TAG", EXIT.UNKNOWN_TAG),
  );
});

test('does nothing when the service already runs the tag', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [prodStack(TAG)] });
  const result = await rollback(clients, prod, { ...fast, to: TAG });
  expect(result.changed).toBe(false);
  expect(mocks.cloudformation.commandCalls(UpdateStackCommand)).toHaveLength(0);
});

test('fails, naming the cause, when CloudFormation rolls the rollback back', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand)
    .resolvesOnce({ Stacks: [prodStack(TAG)] })
    .resolves({ Stacks: [prodStack(TAG, 'UPDATE_ROLLBACK_COMPLETE')] });
  mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: OLD_DIGEST }] });
  mocks.cloudformation.on(UpdateStackCommand).resolves({});
  mocks.cloudformation.on(DescribeStackEventsCommand).resolves({
    StackEvents: [
      {
        LogicalResourceId: 'WebService',
        ResourceStatus: 'UPDATE_FAILED',
        ResourceStatusReason: 'ECS Deployment Circuit Breaker was triggered',
      } as any,
    ],
  });
  const error = await rollback(clients, prod, { ...fast, to: OLD_TAG }).catch((e) => e);
  expect(error).toEqual(
    new OpsError(
      `the rollback to ${OLD_TAG} failed and ended UPDATE_ROLLBACK_COMPLETE: WebService: ECS Deployment Circuit Breaker was triggered; the service still runs ${TAG}`,
      EXIT.FAILED,
    ),
  );
});

test('asks before changing anything, and stops on no', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [prodStack(TAG)] });
  mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: OLD_DIGEST }] });
  const questions: string[] = [];
  const error = await rollback(clients, prod, { ...fast, to: OLD_TAG, confirm: async (q) => (questions.push(q), false) }).catch(
    (e) => e,
  );
  expect(questions).toEqual([`Roll prod back from ${TAG} to ${OLD_TAG}?`]);
  expect(error.message).toBe('rollback cancelled; nothing changed');
  expect(mocks.cloudformation.commandCalls(UpdateStackCommand)).toHaveLength(0);
});

describe('consecutive rollbacks walk back through the history', () => {
  const V = ['v1', 'v2', 'v3', 'v4'].map((v, i) => `${String(i + 1).repeat(8)}${'0'.repeat(32)}`);
  const [v1, v2, v3, v4] = V;

  /** A prod environment whose pipeline shipped `shipped` (oldest first, all successful), now running `running`. */
  function environment(shipped: string[], running: string) {
    const { mocks, clients } = mockedClients();
    let current = running;
    mocks.cloudformation
      .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
      .callsFake(() => ({ Stacks: [prodStack(current)] }));
    mocks.cloudformation.on(UpdateStackCommand).callsFake((input: any) => {
      current = input.Parameters.find((p: any) => p.ParameterKey === 'ImageTag').ParameterValue;
      return { StackId: 'id' };
    });
    mocks.cloudformation.on(DescribeStacksCommand, { StackName: 'fargate-app-prod-pipeline' }).resolves({
      Stacks: [
        {
          StackName: 'fargate-app-prod-pipeline',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'PipelineName', OutputValue: 'prod-pipeline' }],
        },
      ],
    });
    const newestFirst = [...shipped].reverse();
    mocks.codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: newestFirst.map((tag) => ({ pipelineExecutionId: `run-${tag}`, status: 'Succeeded' })),
    });
    mocks.codepipeline.on(ListActionExecutionsCommand).callsFake((input: any) => ({
      actionExecutionDetails: [
        {
          stageName: 'Build',
          status: 'Succeeded',
          output: { outputVariables: { IMAGE_TAG: input.filter.pipelineExecutionId.slice(4) } },
        },
      ],
    }));
    mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: OLD_DIGEST }] });
    return { clients, running: () => current };
  }

  test('two rollbacks in a row go v3 → v2 → v1', async () => {
    const env = environment([v1, v2, v3], v3);
    expect(await rollback(env.clients, prod, fast)).toMatchObject({ from: v3, to: v2 });
    expect(await rollback(env.clients, prod, fast)).toMatchObject({ from: v2, to: v1 });
    expect(env.running()).toBe(v1);
  });

  test('a rollback after --to goes to the release before that one', async () => {
    const env = environment([v1, v2, v3, v4], v4);
    expect(await rollback(env.clients, prod, { ...fast, to: v2 })).toMatchObject({ from: v4, to: v2 });
    expect(await rollback(env.clients, prod, fast)).toMatchObject({ from: v2, to: v1 });
  });

  test('fails when the oldest release runs: there is nothing before it', async () => {
    const env = environment([v1, v2, v3], v1);
    const error = await rollback(env.clients, prod, fast).catch((e) => e);
    expect(error).toEqual(
      new OpsError("no earlier image in fargate-app-prod-pipeline's successful runs: pass --to TAG", EXIT.UNKNOWN_TAG),
    );
  });
});

test('fails when no recent successful run shipped the running tag, instead of guessing', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'fargate-app-prod-service' })
    .resolves({ Stacks: [prodStack('cafecafecafecafecafecafecafecafecafecafe')] });
  pipelineHistory(mocks);
  const error = await rollback(clients, prod, { ...fast }).catch((e) => e);
  expect(error).toEqual(
    new OpsError(
      'fargate-app-prod-service runs cafecafecafecafecafecafecafecafecafecafe, which no recent successful run of fargate-app-prod-pipeline shipped: pass --to TAG',
      EXIT.UNKNOWN_TAG,
    ),
  );
  expect(mocks.cloudformation.commandCalls(UpdateStackCommand)).toHaveLength(0);
});
