/**
 * The one schema of the configuration. The types (`types.ts`), the validation (`validate.ts`) and the reference table
 * (`reference.ts`, `npm run docs`) all come from it, so they cannot drift apart.
 *
 * Each field carries its documentation (`doc`): what it does, and what is allowed. The "allowed" text is also the
 * error message a wrong value gets, so the reference says exactly what validation enforces. Objects are strict: an
 * unknown or misspelt key is an error at every level.
 */
import { z } from 'zod';
import { longestVpcPrefix, NETWORK_PROFILES, SUBNET_LAYOUT } from './network-layout';

/** The documentation of one field. */
export interface FieldDoc {
  /** What the field does. */
  readonly description: string;
  /** What is allowed, worded to follow "is not valid; " in an error. Derived from the schema where it can be. */
  readonly allowed?: string;
  /** The value used when the field is left out, for optional fields. */
  readonly default?: string;
}

/** Field documentation, by schema. `reference.ts` renders it. */
export const fieldDocs = z.registry<FieldDoc>();

/** Registers `schema`'s documentation and returns it. */
function doc<T extends z.ZodType>(schema: T, meta: FieldDoc): T {
  fieldDocs.add(schema, meta);
  return schema;
}

const ERROR_ALLOWED = Symbol('allowed');
/** The "what is allowed" text of a leaf schema: its error message. */
export function allowedOf(schema: z.ZodType): string | undefined {
  return (schema as unknown as Record<symbol, string | undefined>)[ERROR_ALLOWED];
}
function withAllowed<T extends z.ZodType>(schema: T, allowed: string): T {
  Object.defineProperty(schema, ERROR_ALLOWED, { value: allowed });
  return schema;
}

/** A whole number from `min` to `max`. */
function int(min: number, max: number) {
  const error = `use a whole number from ${min} to ${max}`;
  return withAllowed(z.number({ error }).int({ error }).min(min, { error }).max(max, { error }), error);
}

/** One of `values` (strings or numbers). */
function oneOf<const T extends readonly [string | number, ...(string | number)[]]>(
  values: T,
  error = `use one of ${values.join(', ')}`,
) {
  return withAllowed(z.literal(values, { error }), error);
}

/** A string matching `re`. */
function matching(re: RegExp, error: string) {
  return withAllowed(z.string({ error }).regex(re, { error }), error);
}

function bool(error = 'use true or false') {
  return withAllowed(z.boolean({ error }), error);
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
const CPU_SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;
const MEMORY_SIZES = [...new Set(Object.values(FARGATE_MEMORY_BY_CPU).flat())].sort((a, b) => a - b);

/** CloudWatch Logs retention values, in days (never-expire is deliberately not offered). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Variables the task definition sets itself. */
export const RESERVED_VARIABLES = [
  'PORT',
  'APP_VERSION',
  'APP_NAME',
  'HEALTH_CHECK_PATH',
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

/** Keys that existed once. A fork that still sets one is told why it went, rather than just "unknown key". */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  desiredCount:
    'desiredCount was removed: once the service has an image, the template leaves the task count to autoscaling (between minCapacity and maxCapacity), and a deploy raises a service below minCapacity; delete it and set minCapacity',
};

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
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const JSON_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
/** A complete secret ARN: Secrets Manager ends it in a hyphen and 6 random characters. */
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** One `secrets` value: a secret's name or complete ARN, and optionally one key of a JSON secret. */
export interface SecretRef {
  /** The complete ARN, when the reference is one (needed for a secret in another account). */
  readonly arn?: string;
  /** The secret's name, when the reference is a name. */
  readonly name?: string;
  /** One key of a JSON secret. */
  readonly jsonKey?: string;
}

/** Reads a `secrets` value, or returns undefined when it is not one. */
export function parseSecretRef(ref: string): SecretRef | undefined {
  if (ref.startsWith('arn:')) {
    // arn:partition:secretsmanager:region:account:secret:name-AbCdEf[:jsonKey]
    const parts = ref.split(':');
    const arn = parts.slice(0, 7).join(':');
    const jsonKey = parts[7];
    if (parts.length > 8 || !SECRET_ARN.test(arn) || (jsonKey !== undefined && !JSON_KEY.test(jsonKey))) return undefined;
    return { arn, jsonKey };
  }
  const [name, jsonKey, ...rest] = ref.split(':');
  if (rest.length > 0 || !SECRET_NAME.test(name) || (jsonKey !== undefined && !JSON_KEY.test(jsonKey))) return undefined;
  return { name, jsonKey };
}

const SECRET_REF_ALLOWED =
  "use a Secrets Manager secret name, or 'name:jsonKey' for one key of a JSON secret, or the secret's complete ARN (ending in its 6 random characters; needed for another account's secret), optionally followed by ':jsonKey'";

const VPC_CIDR_ALLOWED = "use a private IPv4 block (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) from /16, such as '10.0.0.0/16'";

/** What is wrong with a VPC block, or undefined. How small it may be depends on the network profile (a cross-field rule). */
function cidrProblem(value: string): string | undefined {
  const m = CIDR.exec(value);
  if (!m) return VPC_CIDR_ALLOWED;
  const [a, b, c, d, bits] = m.slice(1).map(Number);
  // A VPC's block is /16 to /28: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
  if ([a, b, c, d].some((o) => o > 255) || bits < 16 || bits > 28) return VPC_CIDR_ALLOWED;
  if (!(a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168))) return VPC_CIDR_ALLOWED;
  const address = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if ((address & (0xffffffff >>> bits)) !== 0) return `${VPC_CIDR_ALLOWED}; the address has host bits set for /${bits}`;
  return undefined;
}

export const domainSchema = z.strictObject(
  {
    hostedZoneId: doc(matching(HOSTED_ZONE_ID, "use a Route 53 hosted zone ID such as 'Z0123456789ABCDEFGHIJ'"), {
      description: 'Route 53 hosted zone ID. Given, not looked up, so synth stays offline.',
    }),
    zoneName: doc(matching(DOMAIN, "use a lower-case domain name such as 'example.com'"), {
      description: "The hosted zone's name.",
    }),
    recordName: doc(matching(DOMAIN, "use a lower-case name inside the zone, such as 'app.example.com'"), {
      description: 'The full name the service answers on, inside the zone.',
    }),
  },
  { error: 'use { hostedZoneId, zoneName, recordName }, or leave it unset' },
);

const branch = doc(
  withAllowed(
    matching(BRANCH, "use a git branch name such as 'main'").refine((b) => !b.startsWith('refs/'), {
      error: (issue) =>
        `use the branch name alone, '${String(issue.input).replace(/^refs\/(heads\/)?/, '')}': the pipeline's trigger matches branch names, so a full ref never fires`,
    }),
    "a git branch name such as 'main' (not a full ref such as 'refs/heads/main')",
  ),
  { description: 'The branch whose pushes trigger the pipeline.' },
);

const FILE_PATHS = "use 1 to 8 non-empty glob patterns such as ['app/**']";

export const codeCommitSourceSchema = z.strictObject({
  kind: doc(z.literal('codecommit'), { description: 'Which source.', allowed: 'one of codecommit, connection' }),
  branch,
});

export const connectionSourceSchema = z.strictObject({
  kind: z.literal('connection'),
  branch,
  connectionArn: doc(
    matching(
      CONNECTION_ARN,
      "use the ARN of a CodeConnections connection, 'arn:aws:codeconnections:<region>:<account>:connection/<uuid>'",
    ),
    { description: 'An AVAILABLE CodeConnections (or CodeStar Connections) connection to GitHub, GitLab or Bitbucket.' },
  ),
  owner: doc(matching(REPO_PART, 'use the repository owner (user or organisation) name'), {
    description: 'Repository owner (user or organisation).',
  }),
  repo: doc(matching(REPO_PART, 'use the repository name, without the owner or .git'), { description: 'Repository name.' }),
  filePaths: doc(
    withAllowed(
      z
        .array(z.string({ error: FILE_PATHS }).min(1).max(255), { error: FILE_PATHS })
        .min(1)
        .max(8),
      FILE_PATHS,
    ).optional(),
    {
      description: 'Only pushes that change one of these paths start the pipeline (V2 trigger file-path filter).',
      default: "['app/**']",
    },
  ),
});

export const sourceSchema = z.discriminatedUnion('kind', [codeCommitSourceSchema, connectionSourceSchema], {
  error: (issue) =>
    typeof issue.input === 'object' && issue.input !== null
      ? 'use one of codecommit, connection'
      : "use { kind: 'codecommit', branch }, or { kind: 'connection', connectionArn, owner, repo, branch }",
});

export const pipelineSchema = z.strictObject(
  {
    source: doc(sourceSchema, {
      description:
        'Where the pipeline gets the code: the CodeCommit repository this project creates and seeds (`codecommit`), or GitHub, GitLab or Bitbucket through an existing connection (`connection`).',
    }),
    requireApproval: doc(bool(), { description: 'A manual approval before the deploy stage.' }),
    scanSeverityThreshold: doc(oneOf(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']), {
      description: 'The scan gate fails on any finding at or above this severity.',
    }),
    artifactRetentionDays: doc(int(1, 3650), { description: 'Days before pipeline artifacts expire.' }),
  },
  { error: 'give the pipeline settings: { source, requireApproval, scanSeverityThreshold, artifactRetentionDays }' },
);

/** The message of a record that is not an object; its keys' and values' own messages otherwise. */
const notAnObject = (issue: { code: string }) =>
  issue.code === 'invalid_type' ? 'use an object of NAME: value pairs' : undefined;

const variableName = z
  .string()
  .regex(ENV_VAR, { error: 'use an upper-case variable name: letters, digits and underscores' })
  .refine((name) => !RESERVED_VARIABLES.includes(name), {
    error: `the task definition sets ${RESERVED_VARIABLES.join(', ')} itself; use another name`,
  });

const environmentVariables = z
  .record(variableName, z.string({ error: 'use a string value' }), { error: notAnObject })
  .superRefine(
    (variables, ctx) => {
      if (typeof variables !== 'object' || variables === null) return;
      for (const name of Object.keys(variables)) {
        // A task definition's environment is readable by anyone who may describe it: secrets go through Secrets Manager.
        if (SECRET_LIKE_NAME.test(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            input: '<redacted>',
            message: `'${name}' is named like a secret, and a literal value would be visible in the task definition; move it to secrets (${name}: '<secret name>')`,
          });
        }
      }
    },
    { when: () => true },
  );

const secretReferences = z.record(
  variableName,
  z.string({ error: SECRET_REF_ALLOWED }).refine((ref) => parseSecretRef(ref) !== undefined, { error: SECRET_REF_ALLOWED }),
  { error: notAnObject },
);

const environmentShape = {
  envName: doc(matching(ENV_NAME, 'use 2-16 lower-case letters and digits, starting with a letter'), {
    description:
      "The environment's name, equal to its key in `environments`; used in stack names (`<appName>-<envName>-service`).",
  }),
  production: doc(bool('use true for an environment that holds production data and traffic, else false'), {
    description:
      'This environment holds production data and traffic. Every protection follows this flag, never the name: repositories retained, termination and deletion protection, no Fargate Spot, at least 2 tasks.',
  }),
  appName: doc(matching(APP_NAME, 'use 3-24 lower-case letters, digits and hyphens, starting with a letter'), {
    description: 'Application name: prefixes every stack name, and the app answers with it on `/` (`APP_NAME`).',
  }),
  account: doc(matching(ACCOUNT, 'use a 12-digit AWS account ID, or leave it unset').optional(), {
    description: 'AWS account ID.',
    default: 'environment-agnostic: the account of the credentials `cdk deploy` uses',
  }),
  region: doc(matching(REGION, "use a region code such as 'eu-west-1', or leave it unset").optional(), {
    description: 'AWS region.',
    default: 'environment-agnostic: the region of the credentials `cdk deploy` uses',
  }),

  cpu: doc(oneOf(CPU_SIZES), { description: 'Fargate task CPU units (256 = 0.25 vCPU).' }),
  memoryLimitMiB: doc(
    withAllowed(z.number({ error: 'use a Fargate memory size in MiB' }), 'a memory size Fargate pairs with `cpu`'),
    {
      description: `Fargate task memory, in MiB. Fargate pairs ${Object.entries(FARGATE_MEMORY_BY_CPU)
        .map(([cpu, memory]) => `cpu ${cpu} with ${memory[0]}–${memory[memory.length - 1]}`)
        .join(', ')} (steps as Fargate allows).`,
    },
  ),
  cpuArchitecture: doc(oneOf(['ARM64', 'X86_64']), {
    description:
      'CPU architecture of the task, of the CodeBuild image that builds for it, and of the image (Graviton by default).',
  }),
  gunicornWorkers: doc(int(1, 32), {
    description: `gunicorn worker processes per task (Fargate's \`os.cpu_count()\` reports the host). Each process, the arbiter included, is budgeted ${MIB_PER_GUNICORN_PROCESS} MiB within ${MEMORY_SHARE_FOR_GUNICORN * 100}% of the task's memory.`,
  }),
  gunicornThreads: doc(int(1, 32), {
    description: 'Threads per worker: workers × threads requests run at once per task (docs/app-limits.md).',
  }),

  minCapacity: doc(int(1, 1000), {
    description: 'Autoscaling floor once the service has an image (with none yet it runs zero); at most maxCapacity.',
  }),
  maxCapacity: doc(int(1, 1000), { description: 'Autoscaling ceiling.' }),
  cpuTargetPercent: doc(int(10, 90), { description: 'Target average CPU utilisation, in percent, for CPU scaling.' }),
  requestsPerTargetPerMinute: doc(int(1, 100000), {
    description: 'Target ALB requests per task per minute for request-count scaling (rolling deployments only).',
  }),

  containerPort: doc(int(1024, 65535), {
    description:
      'The port the app listens on: the task definition passes it as `PORT`; also the target group, health check and security group.',
  }),
  healthCheckPath: doc(matching(HEALTH_PATH, "use an absolute URL path such as '/health'"), {
    description:
      'The path the load balancer and the container health check call. The task definition passes it as `HEALTH_CHECK_PATH`, and the app serves its health route there.',
  }),

  networkProfile: doc(oneOf(NETWORK_PROFILES), {
    description: `\`public\`: tasks in public subnets with public IPs, no NAT gateway. \`private\`: tasks in private subnets behind NAT.`,
  }),
  natGateways: doc(int(0, 2), {
    description: 'NAT gateways: 0 for `public`; 1 (cheapest) or 2 (survives an AZ outage) for `private`.',
  }),
  vpcCidr: doc(
    withAllowed(
      z.string({ error: VPC_CIDR_ALLOWED }).superRefine((value, ctx) => {
        const problem = cidrProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', input: value, message: problem });
      }),
      `private IPv4 block; /16 to /${longestVpcPrefix('public')} for \`public\`, /16 to /${longestVpcPrefix('private')} for \`private\``,
    ),
    {
      description: `The VPC's IPv4 block. It must hold the profile's subnets, per AZ: ${Object.entries(SUBNET_LAYOUT)
        .map(([profile, subnets]) => `\`${profile}\` ${subnets.map((s) => `/${s.cidrMask}`).join(' + ')}`)
        .join('; ')}.`,
    },
  ),

  domain: doc(domainSchema.optional(), {
    description: 'A custom domain: HTTPS with an ACM certificate, and HTTP redirects to HTTPS.',
    default: 'no domain: then `allowPlainHttp` must say that plain HTTP is intended',
  }),
  allowPlainHttp: doc(bool('use true or false, or leave it unset').optional(), {
    description: "Serve plain HTTP on the load balancer's DNS name, with no TLS: required without a domain, refused with one.",
    default: 'false',
  }),
  egressTcpPorts: doc(
    withAllowed(
      z.custom<number[] | 'all'>(
        (v) =>
          v === 'all' ||
          (Array.isArray(v) &&
            v.length >= 1 &&
            v.length <= 16 &&
            new Set(v).size === v.length &&
            v.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)),
        { error: "use 1 to 16 distinct TCP ports such as [443, 5432], or 'all'" },
      ),
      "1 to 16 distinct TCP ports such as [443, 5432], or 'all'",
    ).optional(),
    {
      description: 'TCP ports the tasks may connect out to, anywhere. 443 reaches ECR, CloudWatch Logs and Secrets Manager.',
      default: '[443]',
    },
  ),

  useFargateSpot: doc(bool(), {
    description:
      "Run tasks on Fargate Spot (up to 70% cheaper, interrupted with two minutes' notice). Refused with `production`.",
  }),
  deploymentStrategy: doc(oneOf(['ROLLING', 'BLUE_GREEN', 'CANARY', 'LINEAR']), {
    description: 'How new images roll out: `ROLLING`, or ECS-native `BLUE_GREEN`, `CANARY`, `LINEAR` (a second target group).',
  }),
  logRetentionDays: doc(oneOf(LOG_RETENTION_DAYS), {
    description: 'Retention of every log group, in days (never-expire is not offered).',
  }),
  removalPolicy: doc(oneOf(['retain', 'destroy']), {
    description: 'What happens to the ECR and CodeCommit repositories when their stack is deleted. `production` must retain.',
  }),
  imagesToKeep: doc(int(2, 1000), {
    description: 'Deployed images, and releases, ECR keeps: at least the running one and a rollback target.',
  }),

  environment: doc(environmentVariables.optional(), {
    description:
      'Extra environment variables for the container: upper-case names, string values, not secrets (they are visible in the task definition).',
    allowed: 'NAME: value pairs; not a name the task definition sets, nor one named like a secret',
    default: 'none',
  }),
  secrets: doc(secretReferences.optional(), {
    description:
      'Secrets for the container: variable name → Secrets Manager secret. ECS injects them at task start; the execution role may read exactly these.',
    allowed: "secret name, `name:jsonKey`, or the complete ARN (another account's secret needs it), optionally `:jsonKey`",
    default: 'none',
  }),
  alarmEmail: doc(matching(EMAIL, "use an email address such as 'ops@example.com', or leave it unset").optional(), {
    description: 'An email address subscribed to the alarm and pipeline-failure topics.',
    default: 'no subscription',
  }),

  pipeline: doc(pipelineSchema, { description: 'The delivery pipeline.' }),
};

/** A problem found by a cross-field rule. */
interface Problem {
  readonly path: (string | number)[];
  readonly input: unknown;
  readonly message: string;
}

/**
 * Rules that involve more than one field. They run on the raw input even when some fields are wrong (every problem is
 * reported at once), so each looks only at fields that are themselves valid.
 */
function crossFieldProblems(c: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const valid = <K extends keyof typeof environmentShape>(key: K): boolean =>
    environmentShape[key].safeParse(c[key as string]).success;
  const add = (path: (string | number)[], message: string, input: unknown = path.reduce<any>((o, k) => o?.[k], c)) =>
    problems.push({ path, message, input });

  // Fargate task size.
  const memories = valid('cpu') ? FARGATE_MEMORY_BY_CPU[c.cpu as number] : undefined;
  const memoryOk = memories !== undefined && memories.includes(c.memoryLimitMiB as number);
  if (memories && !memoryOk) add(['memoryLimitMiB'], `with cpu ${c.cpu} use one of ${memories.join(', ')}`);
  if (!valid('cpu') && !MEMORY_SIZES.includes(c.memoryLimitMiB as number)) {
    add(
      ['memoryLimitMiB'],
      `use a memory size Fargate offers: ${MEMORY_SIZES[0]} to ${MEMORY_SIZES[MEMORY_SIZES.length - 1]} MiB`,
    );
  }
  if (memoryOk && valid('gunicornWorkers')) {
    const memory = c.memoryLimitMiB as number;
    const workers = c.gunicornWorkers as number;
    if ((workers + 1) * MIB_PER_GUNICORN_PROCESS > memory * MEMORY_SHARE_FOR_GUNICORN) {
      const most = Math.floor((memory * MEMORY_SHARE_FOR_GUNICORN) / MIB_PER_GUNICORN_PROCESS) - 1;
      add(
        ['gunicornWorkers'],
        `with memoryLimitMiB ${memory} use at most ${Math.max(most, 0)} (each process is budgeted ${MIB_PER_GUNICORN_PROCESS} MiB, plus the arbiter, within ${MEMORY_SHARE_FOR_GUNICORN * 100}% of the task's memory), or raise memoryLimitMiB`,
      );
    }
  }

  // Capacity.
  if (valid('minCapacity') && valid('maxCapacity') && (c.minCapacity as number) > (c.maxCapacity as number)) {
    add(['minCapacity'], `it must not exceed maxCapacity (${c.maxCapacity})`);
  }

  // Network.
  if (valid('networkProfile') && valid('natGateways')) {
    if (c.networkProfile === 'public' && c.natGateways !== 0) {
      add(['natGateways'], "the 'public' profile has no NAT gateway; use 0, or networkProfile 'private'");
    } else if (c.networkProfile === 'private' && c.natGateways === 0) {
      add(['natGateways'], 'use a whole number from 1 to 2');
    }
  }
  if (valid('networkProfile') && valid('vpcCidr')) {
    const profile = c.networkProfile as keyof typeof SUBNET_LAYOUT;
    const longest = longestVpcPrefix(profile);
    const prefix = Number((c.vpcCidr as string).split('/')[1]);
    if (prefix > longest) {
      const subnets = SUBNET_LAYOUT[profile].map((s) => `2 × /${s.cidrMask}`).join(' and ');
      add(
        ['vpcCidr'],
        `the '${profile}' profile creates ${subnets} subnets (one per AZ), which need a /${longest} or larger; use a prefix from /16 to /${longest}`,
      );
    }
  }

  // HTTP, HTTPS.
  if (valid('allowPlainHttp') && valid('domain')) {
    if (c.domain === undefined && c.allowPlainHttp !== true) {
      add(
        ['domain'],
        "set a domain to serve HTTPS, or set allowPlainHttp: true to serve plain HTTP (no TLS) on the load balancer's name",
      );
    } else if (c.domain !== undefined && c.allowPlainHttp === true) {
      add(['allowPlainHttp'], 'with a domain, HTTP only redirects to HTTPS; remove allowPlainHttp');
    }
  }
  if (valid('domain') && c.domain !== undefined) {
    const { zoneName, recordName } = c.domain as z.infer<typeof domainSchema>;
    if (!(recordName === zoneName || recordName.endsWith(`.${zoneName}`))) {
      add(['domain', 'recordName'], `use a lower-case name inside the zone '${zoneName}', such as 'app.${zoneName}'`);
    }
  }

  // Production: safety follows this flag, whatever the environment is called.
  if (c.production === true) {
    if (c.removalPolicy === 'destroy') {
      add(['removalPolicy'], "production images and source must survive a stack deletion (production: true); use 'retain'");
    }
    if (c.useFargateSpot === true) {
      add(['useFargateSpot'], "Spot tasks can all be reclaimed at once, two minutes' notice; production: true needs false");
    }
    if (valid('minCapacity') && (c.minCapacity as number) < 2) {
      add(
        ['minCapacity'],
        'production: true needs at least 2 tasks, one per Availability Zone, so that one failed task or zone does not take the service down; use 2 or more',
      );
    }
  }

  // Variables and secrets share one namespace in the container.
  const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(c.environment) && isObject(c.secrets)) {
    for (const name of Object.keys(c.secrets)) {
      if (Object.hasOwn(c.environment, name)) add(['secrets', name], 'it is both a variable and a secret; keep one', name);
    }
  }
  return problems;
}

/** One environment's configuration. */
export const environmentSchema = z.strictObject(environmentShape, { error: 'use an object of fields' }).superRefine(
  (c, ctx) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return;
    for (const problem of crossFieldProblems(c as Record<string, unknown>)) ctx.addIssue({ code: 'custom', ...problem });
  },
  // Run even when single fields are wrong, so that every problem is reported at once.
  { when: () => true },
);
