import { environments } from './environments';
import type { EnvironmentConfig } from './types';
import { ConfigError, validateConfig } from './validate';

/** One configuration field, documented next to the code that defines and checks it. */
export interface FieldDoc {
  /** Path in the configuration, for example `pipeline.source.branch`. */
  readonly field: string;
  readonly type: string;
  /** What the field does and what it allows. */
  readonly allowed: string;
  /** A wrong value at `field` (applied to `dev`, after `context`), to show the error it gets. */
  readonly bad: unknown;
  /** Other fields the wrong value needs around it (for example a connection source). */
  readonly context?: Record<string, unknown>;
}

const CONNECTION = {
  'pipeline.source': {
    kind: 'connection',
    connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    owner: 'acme',
    repo: 'web',
    branch: 'main',
  },
};
const DOMAIN = {
  domain: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'app.example.com' },
  allowPlainHttp: undefined,
};

/** Every field of `EnvironmentConfig`; a test fails when one is missing. */
export const FIELD_DOCS: readonly FieldDoc[] = [
  { field: 'envName', type: 'string', allowed: "the environment's key: 2–16 lower-case letters and digits", bad: 'Dev' },
  {
    field: 'production',
    type: 'boolean',
    allowed: 'holds production data and traffic: retain, termination and deletion protection, no Spot',
    bad: 'yes',
  },
  {
    field: 'appName',
    type: 'string',
    allowed: '3–24 lower-case letters, digits, hyphens; prefixes every stack name',
    bad: 'My_App',
  },
  { field: 'account', type: 'string?', allowed: '12-digit account ID; unset = environment-agnostic', bad: '1234' },
  { field: 'region', type: 'string?', allowed: 'region code; unset = environment-agnostic', bad: 'Ireland' },
  { field: 'cpu', type: 'number', allowed: 'Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192, 16384', bad: 384 },
  { field: 'memoryLimitMiB', type: 'number', allowed: 'a memory size Fargate pairs with `cpu`', bad: 4096 },
  {
    field: 'cpuArchitecture',
    type: "'ARM64' \\| 'X86_64'",
    allowed: 'task, build and image architecture (Graviton by default)',
    bad: 'arm',
  },
  {
    field: 'gunicornWorkers',
    type: 'number',
    allowed: '1–32 worker processes per task; each is budgeted 64 MiB (plus one for the arbiter) within half the memory',
    bad: 0,
  },
  {
    field: 'gunicornThreads',
    type: 'number',
    allowed: '1–32 threads per worker; workers × threads requests run at once per task (docs/app-limits.md)',
    bad: 0,
  },
  {
    field: 'desiredCount',
    type: 'number',
    allowed: 'tasks once an image exists, between min and max capacity; each deploy starts from it, then autoscaling adjusts',
    bad: 5,
  },
  { field: 'minCapacity', type: 'number', allowed: 'autoscaling floor once an image exists; ≤ maxCapacity', bad: 3 },
  { field: 'maxCapacity', type: 'number', allowed: 'autoscaling ceiling, 1–1000', bad: 0 },
  { field: 'cpuTargetPercent', type: 'number', allowed: 'CPU target tracking, 10–90 %', bad: 95 },
  {
    field: 'requestsPerTargetPerMinute',
    type: 'number',
    allowed: 'request-count target tracking (rolling only), 1–100000',
    bad: 0,
  },
  { field: 'containerPort', type: 'number', allowed: '1024–65535; also in the Dockerfile (`EXPOSE`, `PORT`)', bad: 80 },
  {
    field: 'healthCheckPath',
    type: 'string',
    allowed: 'absolute path the ALB and the container health check call',
    bad: 'health',
  },
  {
    field: 'networkProfile',
    type: "'public' \\| 'private'",
    allowed: '`public`: no NAT, tasks get public IPs; `private`: tasks behind NAT',
    bad: 'hybrid',
  },
  { field: 'natGateways', type: 'number', allowed: '0 for `public`; 1–2 for `private`', bad: 1 },
  { field: 'vpcCidr', type: 'string', allowed: 'private IPv4 block, /16–/24', bad: '8.8.0.0/16' },
  {
    field: 'domain',
    type: 'object?',
    allowed: 'HTTPS with an ACM certificate and HTTP→HTTPS redirect; unset = HTTP on the ALB name',
    bad: 'app.example.com',
  },
  {
    field: 'allowPlainHttp',
    type: 'boolean?',
    allowed: 'serve plain HTTP on the ALB name: required without a domain, refused with one',
    bad: 'yes',
  },
  {
    field: 'egressTcpPorts',
    type: "number[] \\| 'all'?",
    allowed: 'TCP ports tasks may connect out to; default `[443]` (ECR, logs, secrets)',
    bad: [0],
  },
  {
    field: 'domain.hostedZoneId',
    type: 'string',
    allowed: 'Route 53 hosted zone ID (given, not looked up)',
    bad: 'zone-1',
    context: DOMAIN,
  },
  { field: 'domain.zoneName', type: 'string', allowed: "the zone's domain name", bad: 'Example', context: DOMAIN },
  {
    field: 'domain.recordName',
    type: 'string',
    allowed: 'the name to serve, inside the zone',
    bad: 'app.example.org',
    context: DOMAIN,
  },
  { field: 'useFargateSpot', type: 'boolean', allowed: 'run on Fargate Spot', bad: 'yes' },
  {
    field: 'deploymentStrategy',
    type: 'string',
    allowed: '`ROLLING`, or ECS-native `BLUE_GREEN`, `CANARY`, `LINEAR`',
    bad: 'RECREATE',
  },
  {
    field: 'logRetentionDays',
    type: 'number',
    allowed: 'a CloudWatch Logs retention value (never-expire is not offered)',
    bad: 10,
  },
  {
    field: 'removalPolicy',
    type: "'retain' \\| 'destroy'",
    allowed: 'repositories on stack deletion; `production` must retain',
    bad: 'snapshot',
  },
  {
    field: 'imagesToKeep',
    type: 'number',
    allowed: 'deployed images, and releases, ECR keeps: 2–1000 (the running one and a rollback target)',
    bad: 1,
  },
  {
    field: 'environment',
    type: 'Record<string, string>?',
    allowed: 'extra non-secret variables; upper-case names, not PORT/APP_VERSION/GUNICORN_WORKERS',
    bad: { PORT: '1' },
  },
  {
    field: 'secrets',
    type: 'Record<string, string>?',
    allowed: 'variable → Secrets Manager secret name, or `name:jsonKey`',
    bad: { TOKEN: 'a b' },
  },
  { field: 'alarmEmail', type: 'string?', allowed: 'subscribed to alarms and pipeline failures', bad: 'ops' },
  {
    field: 'pipeline.source.kind',
    type: "'codecommit' \\| 'connection'",
    allowed: 'where the pipeline gets the code',
    bad: 'svn',
  },
  { field: 'pipeline.source.branch', type: 'string', allowed: 'the branch whose pushes deploy', bad: 'feature..x' },
  {
    field: 'pipeline.source.connectionArn',
    type: 'string',
    allowed: 'an existing CodeConnections connection (connection source)',
    bad: 'arn:aws:iam::123456789012:role/x',
    context: CONNECTION,
  },
  {
    field: 'pipeline.source.owner',
    type: 'string',
    allowed: 'repository owner (connection source)',
    bad: '',
    context: CONNECTION,
  },
  {
    field: 'pipeline.source.repo',
    type: 'string',
    allowed: 'repository name (connection source)',
    bad: 'acme/web',
    context: CONNECTION,
  },
  {
    field: 'pipeline.source.filePaths',
    type: 'string[]?',
    allowed: "trigger only on these globs (connection source); default `['app/**']`",
    bad: [],
    context: CONNECTION,
  },
  { field: 'pipeline.requireApproval', type: 'boolean', allowed: 'manual approval before Deploy', bad: 'no' },
  {
    field: 'pipeline.scanSeverityThreshold',
    type: 'string',
    allowed: 'fail on findings at or above `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`',
    bad: 'SEVERE',
  },
  { field: 'pipeline.artifactRetentionDays', type: 'number', allowed: 'days before artifacts expire, 1–3650', bad: 0 },
];

function get(obj: unknown, path: string): unknown {
  return path.split('.').reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

function withValue<T>(obj: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.');
  const copy: any = Array.isArray(obj) ? [...(obj as unknown[])] : { ...(obj as object) };
  copy[head] = rest.length ? withValue(copy[head] ?? {}, rest.join('.'), value) : value;
  return copy;
}

/** The error a wrong value of the field gets, as `validateConfig` words it. */
export function errorFor(doc: FieldDoc): string {
  let config: EnvironmentConfig = environments.dev;
  for (const [path, value] of Object.entries(doc.context ?? {})) config = withValue(config, path, value);
  config = withValue(config, doc.field, doc.bad);
  try {
    validateConfig('dev', config);
  } catch (error) {
    if (error instanceof ConfigError) {
      const line = error.problems.find((p) => p.startsWith(`dev.${doc.field}`)) ?? error.problems[0];
      return line;
    }
    throw error;
  }
  throw new Error(`reference: ${doc.field} = ${JSON.stringify(doc.bad)} was accepted`);
}

const cell = (value: unknown): string => {
  if (value === undefined) return '–';
  const text = typeof value === 'string' ? `\`${value}\`` : `\`${JSON.stringify(value)}\``;
  return text.replace(/\|/g, '\\|');
};

/** The configuration reference, as a Markdown table. */
export function renderReference(): string {
  const rows = FIELD_DOCS.map((doc) => {
    const values =
      doc.field.startsWith('domain.') ||
      (doc.field.startsWith('pipeline.source.') && !['kind', 'branch'].includes(doc.field.split('.')[2]))
        ? ['–', '–']
        : [cell(get(environments.dev, doc.field)), cell(get(environments.prod, doc.field))];
    return `| \`${doc.field}\` | ${doc.type} | ${values[0]} | ${values[1]} | ${doc.allowed} | ${errorFor(doc).replace(/\|/g, '\\|')} |`;
  });
  return [
    '| Field | Type | dev | prod | Allowed | Error when wrong (example) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
