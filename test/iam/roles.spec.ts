import * as path from 'node:path';
import { DEFAULT_ENVIRONMENT, environments, stackNames } from '../../lib/config';
import { type Call, parseLine } from './calls';
import { denied, type Identity, iamRequests, type IamRequest } from './iam';
import {
  managedPolicyId,
  managedPolicyIdentity,
  opsScenarios,
  pipelineStages,
  rolePolicies,
  type StageIdentity,
} from './identities';
import { FAKE, loadAssembly, type ResolvedStack } from './template';

/**
 * DESIGN §12: every AWS call that project code makes is checked against the identity that runs it, including the
 * permissions AWS needs implicitly. The calls are recorded (test/iam/calls.ts), mapped to IAM requests with the SDK and
 * IAM's action list (test/iam/iam.ts), and evaluated against the synthesized policies by @cloud-copilot/iam-simulate.
 * Every configured environment is checked: each synthesizes its own roles.
 */
interface Loaded {
  readonly names: ReturnType<typeof stackNames>;
  readonly stacks: Map<string, ResolvedStack>;
  readonly stages: StageIdentity[];
  readonly ops: ReturnType<typeof opsScenarios>;
}

const loaded: Record<string, Promise<Loaded>> = {};
/** One environment's synthesized stacks (from jest's global setup), its pipeline stages and their recorded calls. */
function load(env: string): Promise<Loaded> {
  return (loaded[env] ??= (async () => {
    const dir = process.env.SYNTH_DIR;
    if (!dir) throw new Error('SYNTH_DIR is not set: run the tests through jest, whose global setup synthesizes');
    const config = environments[env];
    const stacks = loadAssembly(path.join(dir, env));
    const ops = opsScenarios(stacks, config);
    const stages = await pipelineStages(stacks, config, { verify: ops.verify });
    return { names: stackNames(config), stacks, stages, ops };
  })());
}

const requestsOf = async (stacks: Map<string, ResolvedStack>, calls: Call[]) =>
  (await Promise.all(calls.map((c) => iamRequests(c, stacks)))).flat();
const stageOf = (l: Loaded, name: string) => {
  const found = l.stages.find((s) => s.stage === name);
  if (!found) throw new Error(`no CodeBuild stage ${name} in ${l.names.pipeline}`);
  return found;
};

describe.each(Object.keys(environments))('%s', (env) => {
  beforeAll(() => load(env));

  test('finds every CodeBuild stage of the pipeline, each with calls to check', async () => {
    const { stages } = await load(env);
    expect(stages.map((s) => s.stage)).toEqual(['Build', 'ScanGate', 'Deploy', 'Verify']);
    for (const s of stages) expect(s.calls.length).toBeGreaterThan(0);
  });

  test('runs each pipeline script on the inputs its synthesized project gives it, without error', async () => {
    for (const s of (await load(env)).stages) {
      for (const { script, runs } of s.scriptRuns) {
        const plain = runs.find((r) => r.scenario === 'plain')!;
        expect({ script, status: plain.status, stderr: plain.status === 0 ? '' : plain.stderr }).toEqual({
          script,
          status: 0,
          stderr: '',
        });
      }
    }
  });

  describe.each(['Build', 'ScanGate', 'Deploy', 'Verify'])('the %s role', (name) => {
    test('allows every call its code makes, and what AWS checks implicitly', async () => {
      const l = await load(env);
      const s = stageOf(l, name);
      expect(await denied(s, await requestsOf(l.stacks, s.calls), l.stacks)).toEqual([]);
    });
  });

  // DESIGN §5.6: the pushed code can't widen its own powers. Every CodeBuild role is checked, Build's (which runs the
  // pushed commit) first among them, against what would let code escape: new IAM principals or policies, the bootstrap's
  // administrator execution role, and stack updates that do not pass the Service stack's image-deploy role.
  describe.each(['Build', 'ScanGate', 'Deploy', 'Verify'])('the %s role cannot widen its powers', (name) => {
    test('allows none of the escalations', async () => {
      const l = await load(env);
      expect(await allowed(stageOf(l, name), escalations(l), l.stacks)).toEqual([]);
    });
  });

  describe("the Service stack's image-deploy role", () => {
    test('allows what CloudFormation does for an ImageTag-only update', async () => {
      const l = await load(env);
      expect(await denied(imageDeployRole(l), imageTagUpdate(l), l.stacks)).toEqual([]);
    });

    test('allows none of the escalations, nor acting on another service or role', async () => {
      const l = await load(env);
      expect(await allowed(imageDeployRole(l), [...escalations(l), ...beyondTheService(l)], l.stacks)).toEqual([]);
    });
  });

  describe('the operator policies', () => {
    const policy = (l: Loaded, suffix: string): Identity => {
      const pipeline = l.stacks.get(l.names.pipeline)!;
      const policyName = `${l.names.pipeline.replace(/-pipeline$/, '')}-${suffix}`;
      return managedPolicyIdentity(pipeline, `${suffix} policy`, managedPolicyId(pipeline, policyName));
    };

    test('the status policy alone allows every call of `npm run status`', async () => {
      const l = await load(env);
      expect(await denied(policy(l, 'status'), await requestsOf(l.stacks, await l.ops.status()), l.stacks)).toEqual([]);
    });

    test('the rollback policy allows every call of `npm run rollback` and `npm run status`', async () => {
      const l = await load(env);
      const calls = [...(await l.ops.rollback()), ...(await l.ops.status())];
      expect(await denied(policy(l, 'rollback'), await requestsOf(l.stacks, calls), l.stacks)).toEqual([]);
    });

    test('the status policy cannot roll back', async () => {
      const l = await load(env);
      const lines = await denied(policy(l, 'status'), await requestsOf(l.stacks, await l.ops.rollback()), l.stacks);
      expect(lines.some((line) => line.includes('needs cloudformation:UpdateStack'))).toBe(true);
    });
  });
});

const ARN = (service: string, resource: string, region: string = FAKE.region) =>
  `arn:${FAKE.partition}:${service}:${region}:${FAKE.account}:${resource}`;
const request = (action: string, resource: string, context: Record<string, string> = {}): IamRequest => ({
  call: { shown: `${action} ${resource}`, kind: 'sdk', service: '', operation: '', input: {}, origin: 'escalation check' },
  action,
  resource,
  context,
});
const serviceOf = (l: Loaded) => l.stacks.get(l.names.service)!;
/** The one resource of a type whose logical ID starts with the construct path's parts (`Web/Service` → `WebService…`). */
const logicalIdOf = (stack: ResolvedStack, type: string, constructPath: string) => {
  const prefix = constructPath.replace(/\W/g, '');
  const found = Object.entries<any>(stack.template.Resources).filter(([id, r]) => r.Type === type && id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`${stack.name} has ${found.length} ${type} resources under ${constructPath}, not 1`);
  return found[0][0];
};
const roleArnOf = (stack: ResolvedStack, pathPart: string) =>
  stack.resolve({ 'Fn::GetAtt': [logicalIdOf(stack, 'AWS::IAM::Role', pathPart), 'Arn'] }) as string;

/** The requests an identity IS allowed, each as `action resource context`: `denied` lists the others. */
async function allowed(identity: Identity, requests: IamRequest[], stacks: Map<string, ResolvedStack>): Promise<string[]> {
  const out: string[] = [];
  for (const r of requests) {
    if ((await denied(identity, [r], stacks)).length === 0) out.push(`${r.action} ${r.resource} ${JSON.stringify(r.context)}`);
  }
  return out;
}

/** The Service stack's image-deploy role, as CloudFormation assumes it. */
function imageDeployRole(l: Loaded): Identity {
  const stack = serviceOf(l);
  const roleId = logicalIdOf(stack, 'AWS::IAM::Role', 'ImageDeploy/Role');
  return {
    name: 'image-deploy role',
    principal: `arn:${FAKE.partition}:sts::${FAKE.account}:assumed-role/${stack.physicalName(roleId)}/AWSCloudFormation`,
    policies: rolePolicies(stack, roleId),
  };
}

/** What would let code escape its role: new principals and policies, the bootstrap's role, stack updates without the image-deploy role. */
function escalations(l: Loaded): IamRequest[] {
  const service = serviceOf(l);
  const bootstrapRole = service.resolve({ 'Fn::Sub': service.artifact.cloudFormationExecutionRoleArn });
  const imageRole = roleArnOf(service, 'ImageDeploy/Role');
  const stackArn = (name: string) => ARN('cloudformation', `stack/${name}/5b1f7d40-0000-11ef-8000-0123456789ab`);
  const iam = (resource: string) => `arn:${FAKE.partition}:iam::${FAKE.account}:${resource}`;
  return [
    request('iam:CreateUser', iam('user/intruder')),
    request('iam:CreateRole', iam('role/intruder')),
    request('iam:CreateAccessKey', iam('user/intruder')),
    request('iam:CreatePolicy', iam('policy/intruder')),
    request('iam:PutRolePolicy', imageRole),
    request('iam:AttachRolePolicy', imageRole),
    request('iam:PutUserPolicy', iam('user/intruder')),
    request('iam:CreateServiceLinkedRole', iam('role/aws-service-role/intruder')),
    request('iam:PassRole', bootstrapRole, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }),
    request('cloudformation:UpdateStack', stackArn(l.names.service), { 'cloudformation:RoleArn': bootstrapRole }),
    // No role named: CloudFormation would use the stack's previous one, which `cdk deploy` set to the bootstrap's.
    request('cloudformation:UpdateStack', stackArn(l.names.service)),
    request('cloudformation:CreateStack', stackArn('intruder'), { 'cloudformation:RoleArn': imageRole }),
    request('cloudformation:UpdateStack', stackArn(l.names.pipeline), { 'cloudformation:RoleArn': imageRole }),
    request('cloudformation:UpdateStack', stackArn(l.names.registry), { 'cloudformation:RoleArn': imageRole }),
    request('cloudformation:CreateChangeSet', stackArn(l.names.service), { 'cloudformation:RoleArn': bootstrapRole }),
  ];
}

/**
 * What CloudFormation calls with the stack's role for an ImageTag-only update, read from the synthesized template:
 * ImageTag is in the task definition (image, APP_VERSION), so it is replaced (a new revision registered with its two
 * roles, the old one deregistered) and the service moves to it; the first image flips HasImage, which changes the
 * service's DesiredCount and the scalable target's MinCapacity. The template's SSM-typed BootstrapVersion and its
 * Fn::GetStackOutput of the Registry stack are resolved too. Beyond the calls that change something, each resource
 * handler declares what it calls, reads included, in its registry schema (`handlers.create/update/delete.permissions`,
 * as `aws cloudformation describe-type` returns it): AWS::ECS::Service's update handler declares
 * ecs:DescribeServiceDeployments, DescribeServices, ListServiceDeployments, ListTagsForResource, StopServiceDeployment,
 * TagResource, UntagResource and UpdateService; AWS::ECS::TaskDefinition's create and delete handlers add iam:GetRole
 * next to iam:PassRole; AWS::ApplicationAutoScaling::ScalableTarget's update handler reads the scheduled actions.
 */
function imageTagUpdate(l: Loaded): IamRequest[] {
  const stack = serviceOf(l);
  const serviceArn = stack.resolve({ Ref: logicalIdOf(stack, 'AWS::ECS::Service', 'Web/Service') }) as string;
  const { ClusterName: cluster, ServiceName: service } = stack.outputs();
  const deployment = ARN('ecs', `service-deployment/${cluster}/${service}/Kx2mQ9pL4wZrT7vB1nC3d`);
  const toTasks = { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' };
  const taskDefinition = ARN('ecs', 'task-definition/app:8');
  return [
    request('ecs:RegisterTaskDefinition', '*'),
    request('ecs:TagResource', taskDefinition, { 'ecs:CreateAction': 'RegisterTaskDefinition' }),
    request('iam:PassRole', roleArnOf(stack, 'Web/TaskDefinition/TaskRole'), toTasks),
    request('iam:PassRole', roleArnOf(stack, 'Web/TaskDefinition/ExecutionRole'), toTasks),
    request('ecs:DescribeTaskDefinition', '*'),
    request('ecs:DeregisterTaskDefinition', '*'),
    request('iam:GetRole', roleArnOf(stack, 'Web/TaskDefinition/TaskRole')),
    request('iam:GetRole', roleArnOf(stack, 'Web/TaskDefinition/ExecutionRole')),
    request('ecs:UpdateService', serviceArn),
    request('ecs:DescribeServices', serviceArn),
    request('ecs:ListServiceDeployments', serviceArn),
    request('ecs:ListTagsForResource', serviceArn),
    request('ecs:TagResource', serviceArn),
    request('ecs:UntagResource', serviceArn),
    // These two require both resource types: the service and its deployment.
    request('ecs:DescribeServiceDeployments', deployment),
    request('ecs:StopServiceDeployment', deployment),
    request('ecs:DescribeServiceDeployments', serviceArn),
    request('ecs:StopServiceDeployment', serviceArn),
    request('application-autoscaling:RegisterScalableTarget', '*'),
    request('application-autoscaling:DescribeScalableTargets', '*'),
    request('application-autoscaling:DescribeScheduledActions', '*'),
    request('ssm:GetParameters', ARN('ssm', 'parameter/cdk-bootstrap/hnb659fds/version')),
    request(
      'cloudformation:DescribeStacks',
      ARN('cloudformation', `stack/${l.names.registry}/5b1f7d40-0000-11ef-8000-0123456789ab`),
    ),
  ];
}

/** The same kinds of action on what is not this stack's: another service, another role, tagging outside a register. */
function beyondTheService(l: Loaded): IamRequest[] {
  const cluster = serviceOf(l).outputs().ClusterName;
  return [
    request('ecs:UpdateService', ARN('ecs', `service/${cluster}/other-service`)),
    request('ecs:DeleteService', ARN('ecs', `service/${cluster}/other-service`)),
    request('ecs:RunTask', ARN('ecs', 'task-definition/app:8')),
    request('ecs:TagResource', ARN('ecs', `service/${cluster}/other-service`)),
    request('iam:PassRole', `arn:${FAKE.partition}:iam::${FAKE.account}:role/admin`, {
      'iam:PassedToService': 'ecs-tasks.amazonaws.com',
    }),
    request('iam:PassRole', roleArnOf(serviceOf(l), 'Web/TaskDefinition/TaskRole'), {
      'iam:PassedToService': 'lambda.amazonaws.com',
    }),
    request('cloudformation:UpdateStack', ARN('cloudformation', `stack/${l.names.service}/5b1f7d40-0000-11ef-8000-0123456789ab`)),
    request('s3:GetObject', `arn:${FAKE.partition}:s3:::any-bucket/any-key`),
  ];
}

// The check's own behaviour, on the default environment.
let stacks: Map<string, ResolvedStack>;
let names: Loaded['names'];
let current: Loaded;
const stage = (name: string) => stageOf(current, name);
beforeAll(async () => {
  current = await load(DEFAULT_ENVIRONMENT);
  ({ stacks, names } = current);
});

describe('the check itself', () => {
  const deployUpdate = () => stage('Deploy').calls.find((c) => c.operation === 'update-stack')!;

  test('records the implicit permissions of a stack update: the bootstrap parameter and the image-deploy role', async () => {
    const requests = await iamRequests(deployUpdate(), stacks);
    const imageRole = stacks.get(names.service)!.outputs().ImageDeployRoleArn;
    const summary = requests.map((r: IamRequest) => `${r.action} ${r.resource}`);
    expect(summary).toEqual([
      `cloudformation:UpdateStack arn:aws:cloudformation:eu-west-1:123456789012:stack/${names.service}/5b1f7d40-0000-11ef-8000-0123456789ab`,
      'ssm:GetParameters arn:aws:ssm:eu-west-1:123456789012:parameter/cdk-bootstrap/hnb659fds/version',
      `iam:PassRole ${imageRole}`,
    ]);
    expect(requests[0].context).toEqual({ 'cloudformation:RoleArn': imageRole });
  });

  test('fails when a role lacks a permission the code needs, naming the call, the role and the action', async () => {
    const s = stage('Deploy');
    const withoutPassRole: Identity = {
      ...s,
      policies: s.policies.map((p) => ({
        ...p,
        policy: { ...p.policy, Statement: p.policy.Statement.filter((st: any) => st.Action !== 'iam:PassRole') },
      })),
    };
    const lines = await denied(withoutPassRole, await iamRequests(deployUpdate(), stacks), stacks);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^Deploy role: aws cloudformation update-stack --stack-name \S+ .* needs iam:PassRole on arn:aws:iam::123456789012:role\/\S*ImageDeploy\S* with \{"iam:PassedToService":"cloudformation.amazonaws.com"\}/,
      ),
    );
  });

  test('fails when a CLI call is not an SDK operation', async () => {
    const call = parseLine('aws ecr describe-imagez --repository-name images', 'test')!;
    await expect(iamRequests(call, stacks)).rejects.toThrow('@aws-sdk/client-ecr has no DescribeImagezCommand');
  });

  test('fails when the SDK package of a CLI service is not installed', async () => {
    const call = parseLine('aws sqs list-queues', 'test')!;
    await expect(iamRequests(call, stacks)).rejects.toThrow('@aws-sdk/client-sqs is not installed; add it as a devDependency');
  });

  test('adds the KMS permissions of an encrypted bucket or topic that a call reads or writes', async () => {
    const pipeline = stacks.get(names.pipeline)!;
    const resources = Object.entries<any>(pipeline.template.Resources);
    const bucketId = resources.find(([, r]) => r.Type === 'AWS::S3::Bucket')![0];
    const topicId = resources.find(([, r]) => r.Type === 'AWS::SNS::Topic')![0];
    const keyArn = pipeline.resolve({ 'Fn::GetAtt': [resources.find(([, r]) => r.Type === 'AWS::KMS::Key')![0], 'Arn'] });
    const sdk = (service: string, operation: string, input: Record<string, unknown>): Call => ({
      shown: `${service}:${operation}`,
      kind: 'sdk',
      service,
      operation,
      input,
      origin: 'test',
    });
    const summary = async (call: Call) => (await iamRequests(call, stacks)).map((r) => `${r.action} ${r.resource}`);
    const bucket = pipeline.physicalName(bucketId);
    expect(await summary(sdk('s3', 'GetObject', { Bucket: bucket, Key: 'a/b.zip' }))).toEqual([
      `s3:GetObject arn:aws:s3:::${bucket}/a/b.zip`,
      `kms:Decrypt ${keyArn}`,
    ]);
    const topic = pipeline.resolve({ Ref: topicId });
    expect(await summary(sdk('sns', 'Publish', { TopicArn: topic, Message: 'x' }))).toEqual([
      `sns:Publish ${topic}`,
      `kms:GenerateDataKey ${keyArn}`,
      `kms:Decrypt ${keyArn}`,
    ]);
    // The Build role can read its input artifact: the object and the key.
    expect(
      await denied(stage('Build'), await iamRequests(sdk('s3', 'GetObject', { Bucket: bucket, Key: 'a/b.zip' }), stacks), stacks),
    ).toEqual([]);
  });

  test('maps docker pushes and registry caches to ECR actions on the repository', async () => {
    const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/images';
    const line = `docker buildx build --cache-from type=registry,ref=${uri}:buildcache --tag ${uri}:abc --push app`;
    const requests = await iamRequests(parseLine(line, 'test')!, stacks);
    expect([...new Set(requests.map((r) => r.action))].sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:CompleteLayerUpload',
      'ecr:GetDownloadUrlForLayer',
      'ecr:InitiateLayerUpload',
      'ecr:PutImage',
      'ecr:UploadLayerPart',
    ]);
    expect(new Set(requests.map((r) => r.resource))).toEqual(new Set(['arn:aws:ecr:eu-west-1:123456789012:repository/images']));
    expect(await iamRequests(parseLine('docker buildx create --driver-opt image=public.ecr.aws/x/y:1', 'test')!, stacks)).toEqual(
      [],
    );
  });

  test('maps a CLI waiter to the reads the SDK waiter makes', async () => {
    const call = parseLine('aws ecr wait image-scan-complete --repository-name images --image-id imageDigest=sha256:1', 't')!;
    const requests = await iamRequests(call, stacks);
    expect(requests.map((r) => `${r.action} ${r.resource}`)).toEqual([
      'ecr:DescribeImageScanFindings arn:aws:ecr:eu-west-1:123456789012:repository/images',
    ]);
  });
});
