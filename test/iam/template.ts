/**
 * Resolves a synthesized cloud assembly into concrete values for one fake account, region and partition, so that policy
 * statements, CodeBuild environment variables and stack outputs agree with the ARNs built from the calls the code makes.
 *
 * Only what the role check reads is resolved: a Ref or Fn::GetAtt of a resource type that is not in PHYSICAL throws,
 * naming the type, rather than guessing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FAKE = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
} as const;

/** The ID part of every fake stack ARN. */
export const FAKE_STACK_ID = '5b1f7d40-0000-11ef-8000-0123456789ab';

type Template = { Parameters?: Record<string, any>; Resources: Record<string, any>; Outputs?: Record<string, any> };

/** A deployed stack in the fake account: its template, and a resolver for any of its values. */
export interface ResolvedStack {
  readonly name: string;
  readonly template: Template;
  /** The cloud assembly's artifact properties (the CloudFormation execution role, the bootstrap version parameter). */
  readonly artifact: Record<string, any>;
  resolve(value: unknown): any;
  /** Every output, resolved. */
  outputs(): Record<string, string>;
  /** The fake physical name of a resource (what `Ref` gives for most types). */
  physicalName(logicalId: string): string;
  /** The stack's ARN; its ID part is fixed. */
  readonly arn: string;
}

const arn = (service: string, resource: string, region: string = FAKE.region, account: string = FAKE.account) =>
  `arn:${FAKE.partition}:${service}:${region}:${account}:${resource}`;

/**
 * What `Ref` and `Fn::GetAtt` return, per resource type, from the CloudFormation reference's "Return values" sections
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
 * `name` is the fake physical name CloudFormation would generate.
 */
const PHYSICAL: Record<
  string,
  (name: string, props: Record<string, any>, stack: ResolvedStack) => { ref: string; attrs: Record<string, string> }
> = {
  'AWS::ECR::Repository': (name) => ({ ref: name, attrs: { Arn: arn('ecr', `repository/${name}`) } }),
  'AWS::CodeCommit::Repository': (name) => ({ ref: name, attrs: { Arn: arn('codecommit', name), Name: name } }),
  'AWS::ECS::Cluster': (name) => ({ ref: name, attrs: { Arn: arn('ecs', `cluster/${name}`) } }),
  // An ECS service's Ref is its ARN, which names its cluster.
  'AWS::ECS::Service': (name, props, stack) => {
    const cluster = stack.resolve(props.Cluster);
    const clusterName = cluster.startsWith('arn:') ? cluster.split('/').pop() : cluster;
    return { ref: arn('ecs', `service/${clusterName}/${name}`), attrs: { Name: name } };
  },
  'AWS::KMS::Key': (name) => ({ ref: name, attrs: { Arn: arn('kms', `key/${name}`), KeyId: name } }),
  'AWS::S3::Bucket': (name) => ({ ref: name, attrs: { Arn: `arn:${FAKE.partition}:s3:::${name}` } }),
  // A log group's Arn attribute ends in `:*`.
  'AWS::Logs::LogGroup': (name) => ({ ref: name, attrs: { Arn: arn('logs', `log-group:${name}:*`) } }),
  'AWS::CodeBuild::Project': (name) => ({ ref: name, attrs: { Arn: arn('codebuild', `project/${name}`) } }),
  'AWS::CodePipeline::Pipeline': (name) => ({ ref: name, attrs: {} }),
  'AWS::CloudWatch::Dashboard': (name) => ({ ref: name, attrs: {} }),
  'AWS::IAM::Role': (name) => ({ ref: name, attrs: { Arn: `arn:${FAKE.partition}:iam::${FAKE.account}:role/${name}` } }),
  'AWS::IAM::ManagedPolicy': (name, props) => {
    const policyName = props.ManagedPolicyName ?? name;
    return { ref: `arn:${FAKE.partition}:iam::${FAKE.account}:policy/${policyName}`, attrs: { PolicyArn: policyName } };
  },
  'AWS::SNS::Topic': (name) => ({ ref: arn('sns', name), attrs: { TopicName: name, TopicArn: arn('sns', name) } }),
  'AWS::ElasticLoadBalancingV2::LoadBalancer': (name) => ({
    ref: arn('elasticloadbalancing', `loadbalancer/app/${name}/0123456789abcdef`),
    attrs: { DNSName: `${name}-123456789.${FAKE.region}.elb.${FAKE.urlSuffix}` },
  }),
};

/** The properties that set a resource's physical name, for the types in PHYSICAL. */
const NAME_PROPERTIES = [
  'RepositoryName',
  'ClusterName',
  'ServiceName',
  'BucketName',
  'LogGroupName',
  'RoleName',
  'TopicName',
  'ManagedPolicyName',
  'Name',
];

/** Reads every stack of a cloud assembly directory and resolves them against each other (Fn::GetStackOutput). */
export function loadAssembly(outdir: string): Map<string, ResolvedStack> {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const stacks = new Map<string, ResolvedStack>();
  for (const [name, artifact] of Object.entries<any>(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const template = JSON.parse(fs.readFileSync(path.join(outdir, artifact.properties.templateFile), 'utf8'));
    stacks.set(name, resolvedStack(name, template, artifact.properties, stacks));
  }
  return stacks;
}

function resolvedStack(
  name: string,
  template: Template,
  artifact: Record<string, any>,
  stacks: Map<string, ResolvedStack>,
): ResolvedStack {
  const pseudo: Record<string, string> = {
    'AWS::Partition': FAKE.partition,
    'AWS::Region': FAKE.region,
    'AWS::AccountId': FAKE.account,
    'AWS::URLSuffix': FAKE.urlSuffix,
    'AWS::StackName': name,
  };
  const physical = (logicalId: string) => {
    const resource = template.Resources[logicalId];
    if (!resource) throw new Error(`${name}: no resource ${logicalId}`);
    const of = PHYSICAL[resource.Type];
    if (!of) throw new Error(`${name}: resolving ${logicalId} needs the return values of ${resource.Type}: add it to PHYSICAL`);
    return of(self.physicalName(logicalId), resource.Properties ?? {}, self);
  };
  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id];
    const parameter = template.Parameters?.[id];
    // A parameter keeps its default: CDK deploys with it, and the pipeline passes UsePreviousValue for every other.
    if (parameter) return String(parameter.Default ?? '');
    return physical(id).ref;
  };
  const getAtt = (id: string, attr: string): string => {
    const value = physical(id).attrs[attr];
    if (value === undefined) throw new Error(`${name}: no fake value for ${id}.${attr} (${template.Resources[id].Type})`);
    return value;
  };
  const resolve = (e: any): any => {
    if (e === null || typeof e !== 'object') return e;
    if (Array.isArray(e)) return e.map(resolve);
    const keys = Object.keys(e);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = e[fn];
      switch (fn) {
        case 'Ref':
          return ref(arg);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
          return getAtt(id, attr);
        }
        case 'Fn::Join':
          return resolve(arg[1]).join(arg[0]);
        case 'Fn::Select':
          return resolve(arg[1])[Number(resolve(arg[0]))];
        case 'Fn::Split':
          return String(resolve(arg[1])).split(arg[0]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? [arg[0], resolve(arg[1])] : [arg, {}];
          return String(text).replace(/\$\{([^}!]+)\}/g, (_, v: string) =>
            v in vars ? vars[v] : v.includes('.') ? getAtt(v.split('.')[0], v.split('.')[1]) : ref(v),
          );
        }
        case 'Fn::GetStackOutput':
        case 'Fn::ImportValue': {
          const target = fn === 'Fn::GetStackOutput' ? stacks.get(resolve(arg.StackName)) : exporter(resolve(arg));
          const output = fn === 'Fn::GetStackOutput' ? resolve(arg.OutputName) : exportedOutput(resolve(arg));
          if (!target) throw new Error(`${name}: ${fn} of an unknown stack: ${JSON.stringify(arg)}`);
          return target.outputs()[output];
        }
      }
      if (fn.startsWith('Fn::')) throw new Error(`${name}: ${fn} is not resolved here: ${JSON.stringify(e)}`);
    }
    return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, resolve(v)]));
  };
  const exports = () =>
    [...stacks.values()].flatMap((s) =>
      Object.entries<any>(s.template.Outputs ?? {})
        .filter(([, o]) => o.Export)
        .map(([key, o]) => ({ stack: s, key, name: s.resolve(o.Export.Name) })),
    );
  const exporter = (exportName: string) => exports().find((x) => x.name === exportName)?.stack;
  const exportedOutput = (exportName: string) => exports().find((x) => x.name === exportName)!.key;

  const self: ResolvedStack = {
    name,
    template,
    artifact,
    resolve,
    outputs: () => Object.fromEntries(Object.entries<any>(template.Outputs ?? {}).map(([k, o]) => [k, resolve(o.Value)])),
    physicalName: (logicalId) => {
      const resource = template.Resources[logicalId] ?? {};
      const type: string = resource.Type ?? '';
      // A name the template sets is the physical name.
      const given = NAME_PROPERTIES.map((p) => resource.Properties?.[p]).find((v) => v !== undefined);
      if (given !== undefined) return String(resolve(given));
      // Names CloudFormation generates: `<stack>-<logical id>-<suffix>`, lower-case where the service requires it.
      const generated = `${name}-${logicalId}-FAKE1`;
      return /ECR::Repository|S3::Bucket/.test(type) ? generated.toLowerCase() : generated;
    },
    arn: arn('cloudformation', `stack/${name}/${FAKE_STACK_ID}`),
  };
  return self;
}
