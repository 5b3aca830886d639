/**
 * The identities that run project code, each with the calls its code makes and the policies the synthesized stacks
 * give it: the pipeline's CodeBuild roles (found through each stage's project and its buildspec), and the operator's
 * status and rollback policies.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { CodePipelineClient, ListActionExecutionsCommand, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { type EnvironmentConfig, stackNames } from '../../lib/config';
import { checkAccount, type Clients } from '../../lib/ops/clients';
import { OpsError } from '../../lib/ops/errors';
import { RETRY } from '../../lib/ops/retry';
import { rollback } from '../../lib/ops/rollback';
import { gatherStatus } from '../../lib/ops/status';
import { verifyDeployment } from '../../lib/ops/verify';
import { type Call, callsOf, scriptRuns, sdkCalls, type ScriptRun } from './calls';
import type { Identity } from './iam';
import { FAKE, type ResolvedStack } from './template';

export const TAG = '3f2c1a9e0b7d4c6a8e5f1b2d3c4a5e6f7a8b9c0d';
export const OLD_TAG = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
export const DIGEST = 'sha256:5f2b1c9e0a7d4c6b8e5f1a2d3c4b5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d';

/** The pipeline variables a stage's action can read, as one run of the pipeline sets them. */
const PIPELINE_VARIABLES: Record<string, string> = {
  'Source.CommitId': TAG,
  'Build.IMAGE_TAG': TAG,
  'Build.IMAGE_DIGEST': DIGEST,
};

/** Buildspec commands that make no AWS call. */
const NO_AWS_CALLS = [/^npm ci\b/, /^set -a && \. \.\/pipeline\.env && set \+a$/];

/**
 * The repository file a step's asset holds: the project's STEP_CODE_SHA256 must be that file's digest, so the role
 * check runs exactly the code the step runs.
 */
function stepCodeFile(file: string, env: Record<string, string>): string {
  const digest = crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(__dirname, '..', '..', file)))
    .digest('hex');
  if (env.STEP_CODE_SHA256 !== digest) throw new Error(`the step's code (${env.STEP_CODE_SHA256}) is not ${file} (${digest})`);
  return file;
}

/** An identity's policies in a template: inline, attached AWS::IAM::Policy and customer-managed policies. */
export function rolePolicies(stack: ResolvedStack, roleId: string): Identity['policies'] {
  const resources = stack.template.Resources;
  const role = resources[roleId];
  const policies: Identity['policies'] = [];
  for (const p of role.Properties.Policies ?? []) policies.push({ name: p.PolicyName, policy: stack.resolve(p.PolicyDocument) });
  for (const [id, r] of Object.entries<any>(resources)) {
    if (!['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type)) continue;
    if ((r.Properties.Roles ?? []).some((x: any) => x.Ref === roleId))
      policies.push({ name: id, policy: stack.resolve(r.Properties.PolicyDocument) });
  }
  for (const arn of role.Properties.ManagedPolicyArns ?? []) {
    throw new Error(`${roleId} has a managed policy the role check cannot read: ${JSON.stringify(arn)}`);
  }
  return policies;
}

/** A managed policy of a template as an identity of its own: an operator whose permission set attaches it. */
export function managedPolicyIdentity(stack: ResolvedStack, name: string, logicalId: string): Identity {
  const r = stack.template.Resources[logicalId];
  if (r?.Type !== 'AWS::IAM::ManagedPolicy') throw new Error(`${stack.name} has no managed policy ${logicalId}`);
  return {
    name,
    principal: `arn:${FAKE.partition}:sts::${FAKE.account}:assumed-role/AWSReservedSSO_Operator_0123456789abcdef/operator`,
    policies: [{ name: logicalId, policy: stack.resolve(r.Properties.PolicyDocument) }],
  };
}

/** The managed policy whose Description starts with the given text (descriptions are set in OperatorPolicies). */
export function managedPolicyId(stack: ResolvedStack, name: string): string {
  const found = Object.entries<any>(stack.template.Resources).find(
    ([, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && stack.resolve(r.Properties.ManagedPolicyName) === name,
  );
  if (!found) throw new Error(`${stack.name} has no managed policy named ${name}`);
  return found[0];
}

export interface StageIdentity extends Identity {
  readonly stage: string;
  readonly calls: Call[];
  readonly scriptRuns: { script: string; runs: ScriptRun[] }[];
}

/** Each CodeBuild stage of the pipeline: its role's policies, and the calls its buildspec's commands make. */
export async function pipelineStages(
  stacks: Map<string, ResolvedStack>,
  config: EnvironmentConfig,
  opsScenarios: Record<string, () => Promise<Call[]>>,
): Promise<StageIdentity[]> {
  const pipelineStack = stacks.get(stackNames(config).pipeline)!;
  const resources = pipelineStack.template.Resources;
  const pipeline = Object.values<any>(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline');
  const stages: StageIdentity[] = [];
  for (const stage of pipeline.Properties.Stages) {
    for (const action of stage.Actions) {
      if (action.ActionTypeId.Provider !== 'CodeBuild') continue;
      const projectId = action.Configuration.ProjectName.Ref;
      const project = resources[projectId].Properties;
      const roleId = project.ServiceRole['Fn::GetAtt'][0];
      // The stub `aws` answers describe-stacks with the Service stack's real outputs, so the ARNs the scripts build
      // from them are the ones the policies name.
      const serviceOutputs = stacks.get(stackNames(config).service)!.outputs();
      const env: Record<string, string> = {
        // CodeBuild sets the region (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html).
        AWS_REGION: FAKE.region,
        AWS_DEFAULT_REGION: FAKE.region,
        SERVICE_OUTPUT_CLUSTER_NAME: serviceOutputs.ClusterName,
        SERVICE_OUTPUT_SERVICE_NAME: serviceOutputs.ServiceName,
      };
      for (const v of project.Environment.EnvironmentVariables ?? []) env[v.Name] = String(pipelineStack.resolve(v.Value));
      for (const v of JSON.parse(action.Configuration.EnvironmentVariables ?? '[]')) {
        env[v.name] = String(v.value).replace(/#\{([^}]+)\}/g, (_, name: string) => {
          if (!(name in PIPELINE_VARIABLES)) throw new Error(`${stage.Name}: no value for the pipeline variable #{${name}}`);
          return PIPELINE_VARIABLES[name];
        });
      }
      const spec = JSON.parse(project.Source.BuildSpec);
      const commands: string[] = Object.values<any>(spec.phases ?? {}).flatMap((p) => p.commands ?? []);
      const calls: Call[] = [];
      const runs: StageIdentity['scriptRuns'] = [];
      for (const command of commands) {
        // Step code from a pipeline-stack asset (lib/constructs/step-code.ts): the download is an S3 read by the role, the
        // check makes no AWS call, and the run is the repository file whose SHA-256 the project carries.
        const fetched = /^aws s3 cp --only-show-errors "\$STEP_CODE_URL" \S+$/.test(command);
        const checked = /^echo "\$STEP_CODE_SHA256 {2}\S+" \| sha256sum --check --strict --quiet$/.test(command);
        const stepRun = /^(bash|node) \/tmp\/pipeline-step\/([\w-]+)\.(sh|js)\b/.exec(command);
        const script =
          /^bash (lib\/pipeline\/[\w-]+\.sh)$/.exec(command)?.[1] ??
          (stepRun?.[3] === 'sh' ? stepCodeFile(`lib/pipeline/${stepRun[2]}.sh`, env) : undefined);
        const entry = /\bbin\/([\w-]+)\.ts\b/.exec(command)?.[1] ?? (stepRun?.[3] === 'js' ? stepRun[2] : undefined);
        if (fetched) {
          const url = new URL(env.STEP_CODE_URL);
          calls.push({
            shown: `aws s3 cp ${env.STEP_CODE_URL}`,
            kind: 'sdk',
            service: 's3',
            operation: 'GetObject',
            input: { Bucket: url.host, Key: url.pathname.slice(1) },
            origin: stage.Name,
          });
        } else if (checked) {
          continue;
        } else if (script) {
          const r = await scriptRuns(script, env);
          runs.push({ script, runs: r });
          calls.push(...callsOf(script, r));
        } else if (entry) {
          const scenario = opsScenarios[entry];
          if (!scenario) throw new Error(`${stage.Name}: no ops scenario records the calls of bin/${entry}.ts`);
          calls.push(...(await scenario()));
        } else if (!NO_AWS_CALLS.some((re) => re.test(command))) {
          throw new Error(
            `${stage.Name}: the buildspec command '${command}' is neither a lib/pipeline script nor a bin/ entry point`,
          );
        }
      }
      stages.push({
        name: `${stage.Name} role`,
        stage: stage.Name,
        principal: `arn:${FAKE.partition}:sts::${FAKE.account}:assumed-role/${pipelineStack.physicalName(roleId)}/AWSCodeBuild-1`,
        policies: rolePolicies(pipelineStack, roleId),
        calls,
        scriptRuns: runs,
      });
    }
  }
  return stages;
}

/** Clients whose every command is recorded, answering as the synthesized stacks would once deployed. */
function recordingClients(stacks: Map<string, ResolvedStack>, serviceStatus: () => string, currentTag: () => string) {
  const options = { region: FAKE.region, maxAttempts: 1, credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } };
  const clients = {
    cloudformation: new CloudFormationClient(options),
    ecs: new ECSClient(options),
    ecr: new ECRClient(options),
    codepipeline: new CodePipelineClient(options),
    sts: new STSClient(options),
  };
  const mocks = {
    cloudformation: mockClient(clients.cloudformation),
    ecs: mockClient(clients.ecs),
    ecr: mockClient(clients.ecr),
    codepipeline: mockClient(clients.codepipeline),
    sts: mockClient(clients.sts),
  };
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: FAKE.account });
  mocks.cloudformation.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const stack = stacks.get(input.StackName);
    if (!stack) throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    const service = stack.template.Parameters?.ImageTag !== undefined;
    return {
      Stacks: [
        {
          StackName: stack.name,
          StackId: stack.arn,
          StackStatus: service ? serviceStatus() : 'UPDATE_COMPLETE',
          CreationTime: new Date('2026-11-20T10:00:00Z'),
          Parameters: Object.entries<any>(stack.template.Parameters ?? {}).map(([key, p]) => ({
            ParameterKey: key,
            ParameterValue: key === 'ImageTag' ? currentTag() : String(p.Default),
          })),
          Outputs: Object.entries(stack.outputs()).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    };
  });
  mocks.cloudformation.on(UpdateStackCommand).resolves({ StackId: 'id' });
  mocks.cloudformation.on(DescribeStackEventsCommand).resolves({
    StackEvents: [
      { ResourceStatus: 'UPDATE_FAILED', LogicalResourceId: 'WebService', ResourceStatusReason: 'circuit breaker' } as any,
    ],
  });
  mocks.ecr.on(DescribeImagesCommand).callsFake((input: any) => ({
    imageDetails: [
      {
        imageDigest: DIGEST,
        imageTags: [input.imageIds?.[0]?.imageTag],
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindingsSummary: { findingSeverityCounts: {} },
      },
    ],
  }));
  mocks.ecs.on(DescribeServicesCommand).callsFake((input: any) => ({
    services: [
      {
        serviceName: input.services[0],
        status: 'ACTIVE',
        runningCount: 1,
        desiredCount: 1,
        pendingCount: 0,
        deployments: [
          {
            status: 'PRIMARY',
            rolloutState: 'COMPLETED',
            runningCount: 1,
            desiredCount: 1,
            pendingCount: 0,
            taskDefinition: `arn:${FAKE.partition}:ecs:${FAKE.region}:${FAKE.account}:task-definition/app:7`,
          },
        ],
        events: [],
      },
    ],
  }));
  mocks.ecs
    .on(DescribeTaskDefinitionCommand)
    .resolves({ taskDefinition: { containerDefinitions: [{ name: 'app', image: `x:${TAG}` }] } });
  mocks.ecs.on(ListTasksCommand).callsFake((input: any) => ({
    taskArns: [`arn:${FAKE.partition}:ecs:${FAKE.region}:${FAKE.account}:task/${input.cluster}/0123456789abcdef0`],
  }));
  mocks.ecs.on(DescribeTasksCommand).callsFake((input: any) => ({
    tasks: input.tasks.map((taskArn: string) => ({
      taskArn,
      lastStatus: 'RUNNING',
      containers: [{ name: 'app', imageDigest: DIGEST }],
    })),
  }));
  mocks.codepipeline.on(ListPipelineExecutionsCommand).resolves({
    pipelineExecutionSummaries: [
      { pipelineExecutionId: 'e2', status: 'Succeeded' },
      { pipelineExecutionId: 'e1', status: 'Succeeded' },
    ],
  });
  mocks.codepipeline.on(ListActionExecutionsCommand).callsFake((input: any) => ({
    actionExecutionDetails: [
      {
        stageName: 'Build',
        status: 'Succeeded',
        output: { outputVariables: { IMAGE_TAG: input.filter.pipelineExecutionId === 'e2' ? TAG : OLD_TAG } },
      },
    ],
  }));
  return { clients: clients as Clients, mocks, restore: () => Object.values(mocks).forEach((m) => m.restore()) };
}

const healthy = (async () => new Response('{"status":"ok"}', { status: 200 })) as typeof fetch;

/**
 * The ops code's scenarios, each recording the commands it sends: what `npm run status`, `npm run rollback` and the
 * Verify stage's `bin/verify.ts` do, on their normal paths and on the failure paths that make extra calls.
 */
export function opsScenarios(stacks: Map<string, ResolvedStack>, config: EnvironmentConfig) {
  RETRY.baseDelayMs = 1;
  // The fake account and region stand for the configured ones.
  const cfg = { ...config, account: undefined, region: undefined };
  const names = stackNames(config);
  const record = async (origin: string, body: (clients: Clients, after: { status: string; tag: string }) => Promise<unknown>) => {
    const state = { status: 'UPDATE_COMPLETE', tag: TAG };
    const { clients, mocks, restore } = recordingClients(
      stacks,
      () => state.status,
      () => state.tag,
    );
    try {
      await checkAccount(clients, cfg);
      await body(clients, state);
      return sdkCalls(mocks, clients, origin);
    } finally {
      restore();
    }
  };
  return {
    status: () =>
      record('status', async (clients) => {
        const report = await gatherStatus(clients, cfg, { account: FAKE.account, region: FAKE.region, fetch: healthy });
        // status shows what it can read and marks the rest: a part this scenario could not read made no calls to check.
        if (report.unreadable.length) throw new Error(`the status scenario could not read: ${JSON.stringify(report.unreadable)}`);
      }),
    rollback: async () => [
      // The default target: the tag of the previous successful pipeline run.
      ...(await record('rollback', async (clients, state) => {
        const result = await rollback(clients, cfg, { pollSeconds: 1, maxWaitSeconds: 5 });
        if (!result.changed) throw new Error('the rollback scenario changed nothing');
        state.tag = OLD_TAG;
      })),
      // An update that CloudFormation rolls back: the waiter fails, and the cause is read.
      ...(await record('rollback (update rolled back)', async (clients, state) => {
        state.status = 'UPDATE_ROLLBACK_COMPLETE';
        const failed = await rollback(clients, cfg, { to: OLD_TAG, pollSeconds: 1, maxWaitSeconds: 5 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!(failed instanceof OpsError)) throw new Error(`the failing rollback scenario did not fail as expected: ${failed}`);
      })),
    ],
    verify: () =>
      record('verify', (clients) =>
        verifyDeployment(clients, {
          envName: config.envName,
          stackName: names.service,
          imageTag: TAG,
          imageDigest: DIGEST,
          healthCheckPath: config.healthCheckPath,
          timeoutSeconds: 5,
          pollSeconds: 1,
          fetch: healthy,
        }),
      ),
  };
}
