import type { EnvironmentConfig } from './types';

/** A configuration that cannot be deployed. Its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Valid Fargate memory sizes (MiB) for each CPU size (units). */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** CloudWatch Logs retention values, in days (never-expire is deliberately not offered). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const ARCHITECTURES = ['ARM64', 'X86_64'];
const NETWORK_PROFILES = ['public', 'private'];
const STRATEGIES = ['ROLLING', 'BLUE_GREEN', 'CANARY', 'LINEAR'];
const REMOVAL_POLICIES = ['retain', 'destroy'];
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const SOURCE_KINDS = ['codecommit', 'connection'];

const ENV_NAME = /^[a-z][a-z0-9]{1,15}$/;
const APP_NAME = /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const HEALTH_PATH = /^\/[A-Za-z0-9\-._~/%]{0,254}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{4,31}$/;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:connection\/[0-9a-f-]{36}$/;
const REPO_PART = /^[A-Za-z0-9_.-]{1,100}$/;
// Git ref-name rules (git check-ref-format), control characters included.
// eslint-disable-next-line no-control-regex
const BRANCH = /^(?!\/|.*([/.]\.|\/\/|@\{|\\|\.lock$|[/.]$))[^\s~^:?*[\x00-\x1f\x7f]{1,255}$/;
const ENV_VAR = /^[A-Z_][A-Z0-9_]{0,127}$/;
/** Variable names that hold secrets by convention: their values belong in Secrets Manager, never in `environment`. */
const SECRET_LIKE_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)(_|$)/;
const SECRET_REF = /^[A-Za-z0-9/_+=.@-]{1,512}(:[A-Za-z0-9_.-]{1,128})?$/;
/** Variables the task definition sets itself. */
export const RESERVED_VARIABLES = [
  'PORT',
  'APP_VERSION',
  'APP_NAME',
  'GUNICORN_WORKERS',
  'GUNICORN_THREADS',
  'TRUSTED_PROXY_CIDRS',
  'FORWARDED_ALLOW_IPS',
];
/**
 * Memory budgeted per gunicorn process (each worker, plus the arbiter). A worker of the bundled app measured 32–33 MiB
 * RSS, whatever its thread count (docs/app-limits.md); the budget doubles that, and leaves the rest of the task's
 * memory to a fork's own code and caches.
 */
export const MIB_PER_GUNICORN_PROCESS = 64;
/** The share of the task's memory the gunicorn processes' budget may take. */
export const MEMORY_SHARE_FOR_GUNICORN = 0.5;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
}

/**
 * Checks one environment's configuration and throws a `ConfigError` listing every problem.
 * Each line names `env.field`, the value received and what is allowed.
 */
export function validateConfig(name: string, c: EnvironmentConfig): EnvironmentConfig {
  const problems: string[] = [];
  const fail = (field: string, value: unknown, allowed: string) =>
    problems.push(`${name}.${field}: ${show(value)} is not valid; ${allowed}`);
  const oneOf = (field: string, value: unknown, allowed: readonly unknown[]) => {
    if (!allowed.includes(value)) fail(field, value, `use one of ${allowed.join(', ')}`);
  };
  const int = (field: string, value: unknown, min: number, max: number): value is number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      fail(field, value, `use a whole number from ${min} to ${max}`);
      return false;
    }
    return true;
  };
  const matches = (field: string, value: unknown, re: RegExp, allowed: string) => {
    if (typeof value !== 'string' || !re.test(value)) fail(field, value, allowed);
  };

  if (c.envName !== name) fail('envName', c.envName, `it must equal the environment's key '${name}'`);
  matches('envName', c.envName, ENV_NAME, 'use 2-16 lower-case letters and digits, starting with a letter');
  matches('appName', c.appName, APP_NAME, 'use 3-24 lower-case letters, digits and hyphens, starting with a letter');
  if (c.account !== undefined) matches('account', c.account, ACCOUNT, 'use a 12-digit AWS account ID, or leave it unset');
  if (c.region !== undefined) matches('region', c.region, REGION, "use a region code such as 'eu-west-1', or leave it unset");

  // Fargate task size.
  const memories = FARGATE_MEMORY_BY_CPU[c.cpu];
  if (!memories) {
    fail('cpu', c.cpu, `use one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(', ')}`);
  } else if (!memories.includes(c.memoryLimitMiB)) {
    fail('memoryLimitMiB', c.memoryLimitMiB, `with cpu ${c.cpu} use one of ${memories.join(', ')}`);
  }
  oneOf('cpuArchitecture', c.cpuArchitecture, ARCHITECTURES);
  const workersOk = int('gunicornWorkers', c.gunicornWorkers, 1, 32);
  int('gunicornThreads', c.gunicornThreads, 1, 32);
  if (workersOk && memories?.includes(c.memoryLimitMiB)) {
    const needed = (c.gunicornWorkers + 1) * MIB_PER_GUNICORN_PROCESS;
    if (needed > c.memoryLimitMiB * MEMORY_SHARE_FOR_GUNICORN) {
      const most = Math.floor((c.memoryLimitMiB * MEMORY_SHARE_FOR_GUNICORN) / MIB_PER_GUNICORN_PROCESS) - 1;
      fail(
        'gunicornWorkers',
        c.gunicornWorkers,
        `with memoryLimitMiB ${c.memoryLimitMiB} use at most ${Math.max(most, 0)} (each process is budgeted ${MIB_PER_GUNICORN_PROCESS} MiB, plus the arbiter, within ${MEMORY_SHARE_FOR_GUNICORN * 100}% of the task's memory), or raise memoryLimitMiB`,
      );
    }
  }

  // Capacity.
  const minOk = int('minCapacity', c.minCapacity, 1, 1000);
  const maxOk = int('maxCapacity', c.maxCapacity, 1, 1000);
  const desiredOk = int('desiredCount', c.desiredCount, 1, 1000);
  if (minOk && maxOk && c.minCapacity > c.maxCapacity) {
    fail('minCapacity', c.minCapacity, `it must not exceed maxCapacity (${c.maxCapacity})`);
  }
  if (minOk && maxOk && desiredOk && (c.desiredCount < c.minCapacity || c.desiredCount > c.maxCapacity)) {
    fail('desiredCount', c.desiredCount, `it must be between minCapacity (${c.minCapacity}) and maxCapacity (${c.maxCapacity})`);
  }
  int('cpuTargetPercent', c.cpuTargetPercent, 10, 90);
  int('requestsPerTargetPerMinute', c.requestsPerTargetPerMinute, 1, 100000);

  // Container.
  int('containerPort', c.containerPort, 1024, 65535);
  matches('healthCheckPath', c.healthCheckPath, HEALTH_PATH, "use an absolute URL path such as '/health'");

  // Network.
  oneOf('networkProfile', c.networkProfile, NETWORK_PROFILES);
  if (c.networkProfile === 'public' && c.natGateways !== 0) {
    fail('natGateways', c.natGateways, "the 'public' profile has no NAT gateway; use 0, or networkProfile 'private'");
  } else if (c.networkProfile === 'private') {
    int('natGateways', c.natGateways, 1, 2);
  }
  validateCidr(c.vpcCidr, (v, allowed) => fail('vpcCidr', v, allowed));

  if (c.allowPlainHttp !== undefined && typeof c.allowPlainHttp !== 'boolean') {
    fail('allowPlainHttp', c.allowPlainHttp, 'use true or false, or leave it unset');
  } else if (c.domain === undefined && c.allowPlainHttp !== true) {
    fail(
      'domain',
      c.domain,
      "set a domain to serve HTTPS, or set allowPlainHttp: true to serve plain HTTP (no TLS) on the load balancer's name",
    );
  } else if (c.domain !== undefined && c.allowPlainHttp === true) {
    fail('allowPlainHttp', c.allowPlainHttp, 'with a domain, HTTP only redirects to HTTPS; remove allowPlainHttp');
  }
  if (c.egressTcpPorts !== undefined && c.egressTcpPorts !== 'all') {
    const ports = c.egressTcpPorts as unknown;
    if (
      !Array.isArray(ports) ||
      ports.length === 0 ||
      ports.length > 16 ||
      new Set(ports).size !== ports.length ||
      ports.some((p) => typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)
    ) {
      fail('egressTcpPorts', ports, "use 1 to 16 distinct TCP ports such as [443, 5432], or 'all'");
    }
  }

  if (c.domain !== undefined && (typeof c.domain !== 'object' || c.domain === null)) {
    fail('domain', c.domain, 'use { hostedZoneId, zoneName, recordName }, or leave it unset');
  } else if (c.domain !== undefined) {
    matches(
      'domain.hostedZoneId',
      c.domain.hostedZoneId,
      HOSTED_ZONE_ID,
      "use a Route 53 hosted zone ID such as 'Z0123456789ABCDEFGHIJ'",
    );
    matches('domain.zoneName', c.domain.zoneName, DOMAIN, "use a lower-case domain name such as 'example.com'");
    if (
      typeof c.domain.recordName !== 'string' ||
      !DOMAIN.test(c.domain.recordName) ||
      !(c.domain.recordName === c.domain.zoneName || c.domain.recordName.endsWith(`.${c.domain.zoneName}`))
    ) {
      fail(
        'domain.recordName',
        c.domain.recordName,
        `use a lower-case name inside the zone '${c.domain.zoneName}', such as 'app.${c.domain.zoneName}'`,
      );
    }
  }

  // Operations.
  if (typeof c.useFargateSpot !== 'boolean') fail('useFargateSpot', c.useFargateSpot, 'use true or false');
  oneOf('deploymentStrategy', c.deploymentStrategy, STRATEGIES);
  oneOf('logRetentionDays', c.logRetentionDays, LOG_RETENTION_DAYS);
  oneOf('removalPolicy', c.removalPolicy, REMOVAL_POLICIES);
  if (typeof c.production !== 'boolean') {
    fail('production', c.production, 'use true for an environment that holds production data and traffic, else false');
  } else if (c.production) {
    // Safety follows this flag, whatever the environment is called.
    if (c.removalPolicy === 'destroy') {
      fail(
        'removalPolicy',
        c.removalPolicy,
        "production images and source must survive a stack deletion (production: true); use 'retain'",
      );
    }
    if (c.useFargateSpot === true) {
      fail(
        'useFargateSpot',
        c.useFargateSpot,
        "Spot tasks can all be reclaimed at once, two minutes' notice; production: true needs false",
      );
    }
  }
  // At least 2: the running image and the one a rollback returns to (lib/constructs/image-repository.ts keeps this many
  // deployed images and this many releases).
  int('imagesToKeep', c.imagesToKeep, 2, 1000);
  const names: string[] = [];
  for (const [kind, map] of [
    ['environment', c.environment],
    ['secrets', c.secrets],
  ] as const) {
    if (map === undefined) continue;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      fail(kind, map, 'use an object of NAME: value pairs');
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      if (!ENV_VAR.test(name)) fail(`${kind}.${name}`, name, 'use an upper-case variable name: letters, digits and underscores');
      else if (RESERVED_VARIABLES.includes(name))
        fail(`${kind}.${name}`, name, `the task definition sets ${RESERVED_VARIABLES.join(', ')} itself; use another name`);
      else if (names.includes(name)) fail(`${kind}.${name}`, name, 'it is both a variable and a secret; keep one');
      names.push(name);
      if (kind === 'environment' && typeof value !== 'string') fail(`${kind}.${name}`, value, 'use a string value');
      else if (kind === 'environment' && SECRET_LIKE_NAME.test(name)) {
        // A task definition's environment is readable by anyone who may describe it: secrets go through Secrets Manager.
        fail(
          `${kind}.${name}`,
          '<redacted>',
          `'${name}' is named like a secret, and a literal value would be visible in the task definition; move it to secrets (${name}: '<secret name>')`,
        );
      }
      if (kind === 'secrets' && (typeof value !== 'string' || !SECRET_REF.test(value))) {
        fail(`${kind}.${name}`, value, "use a Secrets Manager secret name, or 'name:jsonKey' for one key of a JSON secret");
      }
    }
  }
  if (c.alarmEmail !== undefined)
    matches('alarmEmail', c.alarmEmail, EMAIL, "use an email address such as 'ops@example.com', or leave it unset");

  // Pipeline.
  const p = c.pipeline;
  if (typeof p !== 'object' || p === null) {
    fail('pipeline', p, 'give the pipeline settings: source, requireApproval, scanSeverityThreshold, artifactRetentionDays');
  } else {
    const s = p.source;
    oneOf('pipeline.source.kind', s?.kind, SOURCE_KINDS);
    matches('pipeline.source.branch', s?.branch, BRANCH, "use a git branch name such as 'main'");
    if (s?.kind === 'connection') {
      matches(
        'pipeline.source.connectionArn',
        s.connectionArn,
        CONNECTION_ARN,
        "use the ARN of a CodeConnections connection, 'arn:aws:codeconnections:<region>:<account>:connection/<uuid>'",
      );
      matches('pipeline.source.owner', s.owner, REPO_PART, 'use the repository owner (user or organisation) name');
      matches('pipeline.source.repo', s.repo, REPO_PART, 'use the repository name, without the owner or .git');
      if (
        s.filePaths !== undefined &&
        (!Array.isArray(s.filePaths) ||
          s.filePaths.length === 0 ||
          s.filePaths.length > 8 ||
          s.filePaths.some((f) => typeof f !== 'string' || f.length === 0 || f.length > 255))
      ) {
        fail('pipeline.source.filePaths', s.filePaths, "use 1 to 8 non-empty glob patterns such as ['app/**']");
      }
    }
    if (typeof p.requireApproval !== 'boolean') fail('pipeline.requireApproval', p.requireApproval, 'use true or false');
    oneOf('pipeline.scanSeverityThreshold', p.scanSeverityThreshold, SEVERITIES);
    int('pipeline.artifactRetentionDays', p.artifactRetentionDays, 1, 3650);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}

function validateCidr(value: unknown, fail: (value: unknown, allowed: string) => void): void {
  const allowed = "use a private IPv4 block from /16 to /24, such as '10.0.0.0/16'";
  const m = typeof value === 'string' ? CIDR.exec(value) : null;
  if (!m) return fail(value, allowed);
  const [a, b, c2, d, bits] = m.slice(1).map(Number);
  if ([a, b, c2, d].some((o) => o > 255) || bits < 16 || bits > 24) return fail(value, allowed);
  const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  if (!isPrivate) return fail(value, allowed);
  const address = ((a << 24) | (b << 16) | (c2 << 8) | d) >>> 0;
  const hostMask = 0xffffffff >>> bits;
  if ((address & hostMask) !== 0) fail(value, `${allowed}; the address has host bits set for /${bits}`);
}
