import * as path from 'node:path';
import { DEFAULT_ENVIRONMENT, environments, stackNames } from '../../lib/config';
import { type Call, parseLine } from './calls';
import { denied, type Identity, iamRequests, type IamRequest } from './iam';
import { managedPolicyId, managedPolicyIdentity, opsScenarios, pipelineStages, type StageIdentity } from './identities';
import { loadAssembly, type ResolvedStack } from './template';

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

  test('records the implicit permissions of a stack update: the bootstrap parameter and the stack role', async () => {
    const requests = await iamRequests(deployUpdate(), stacks);
    const summary = requests.map((r: IamRequest) => `${r.action} ${r.resource}`);
    expect(summary).toEqual([
      `cloudformation:UpdateStack arn:aws:cloudformation:eu-west-1:123456789012:stack/${names.service}/5b1f7d40-0000-11ef-8000-0123456789ab`,
      'ssm:GetParameters arn:aws:ssm:eu-west-1:123456789012:parameter/cdk-bootstrap/hnb659fds/version',
      'iam:PassRole arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1',
    ]);
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
        /^Deploy role: aws cloudformation update-stack --stack-name \S+ .* needs iam:PassRole on arn:aws:iam::123456789012:role\/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1 with \{"iam:PassedToService":"cloudformation.amazonaws.com"\}/,
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
