import { ConfigError, DEFAULT_ENVIRONMENT, environments, loadConfig, validateConfig } from '../../lib/config';
import type { EnvironmentConfig } from '../../lib/config';
import { DEV, PROD } from '../config-fixtures';

// The rules are checked on fixtures, so that a fork's own environments do not change these expectations.
const dev = DEV;
const withDev = (overrides: Record<string, unknown>): EnvironmentConfig => ({ ...dev, ...overrides }) as EnvironmentConfig;
const withPipeline = (overrides: Record<string, unknown>): EnvironmentConfig =>
  ({ ...dev, pipeline: { ...dev.pipeline, ...overrides } }) as EnvironmentConfig;
const connection = (overrides: Record<string, unknown> = {}) =>
  withPipeline({
    source: {
      kind: 'connection',
      connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
      owner: 'acme',
      repo: 'web',
      branch: 'main',
      ...overrides,
    },
  });

function problemsOf(config: EnvironmentConfig, name = 'dev'): string {
  try {
    validateConfig(name, config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('the shipped environments', () => {
  test.each(Object.keys(environments))('%s is valid', (name) => {
    expect(() => loadConfig(name)).not.toThrow();
  });

  test('the default environment is the one loaded without a name', () => {
    expect(loadConfig().envName).toBe(DEFAULT_ENVIRONMENT);
  });

  test('a connection source with every field set is valid', () => {
    expect(() => validateConfig('dev', connection({ filePaths: ['app/**', 'Dockerfile'] }))).not.toThrow();
  });

  test('a domain inside its zone is valid', () => {
    const domain = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'app.example.com' };
    expect(() => validateConfig('dev', withDev({ domain, allowPlainHttp: undefined }))).not.toThrow();
  });
});

describe('validation', () => {
  test('fails when the environment is unknown', () => {
    expect(() => loadConfig('nosuchenv')).toThrow(
      `env: 'nosuchenv' is not a configured environment; use one of ${Object.keys(environments).join(', ')}`,
    );
  });

  test('fails when envName does not match its key', () => {
    expect(problemsOf(withDev({ envName: 'qa' }))).toContain(
      "dev.envName: 'qa' is not valid; it must equal the environment's key 'dev'",
    );
  });

  test('fails when appName has upper-case letters', () => {
    expect(problemsOf(withDev({ appName: 'My_App' }))).toContain(
      "dev.appName: 'My_App' is not valid; use 3-24 lower-case letters, digits and hyphens, starting with a letter",
    );
  });

  test('fails when the account is not 12 digits', () => {
    expect(problemsOf(withDev({ account: '1234' }))).toContain("dev.account: '1234' is not valid; use a 12-digit AWS account ID");
  });

  test('fails when the region is not a region code', () => {
    expect(problemsOf(withDev({ region: 'Ireland' }))).toContain(
      "dev.region: 'Ireland' is not valid; use a region code such as 'eu-west-1'",
    );
  });

  test('fails when cpu is not a Fargate CPU size', () => {
    expect(problemsOf(withDev({ cpu: 384 }))).toContain(
      'dev.cpu: 384 is not valid; use one of 256, 512, 1024, 2048, 4096, 8192, 16384',
    );
  });

  test('fails when memory does not pair with the cpu', () => {
    expect(problemsOf(withDev({ cpu: 256, memoryLimitMiB: 4096 }))).toContain(
      'dev.memoryLimitMiB: 4096 is not valid; with cpu 256 use one of 512, 1024, 2048',
    );
  });

  test('fails when the CPU architecture is unknown', () => {
    expect(problemsOf(withDev({ cpuArchitecture: 'arm' }))).toContain(
      "dev.cpuArchitecture: 'arm' is not valid; use one of ARM64, X86_64",
    );
  });

  test('fails when gunicornWorkers is zero', () => {
    expect(problemsOf(withDev({ gunicornWorkers: 0 }))).toContain(
      'dev.gunicornWorkers: 0 is not valid; use a whole number from 1 to 32',
    );
  });

  test('fails when minCapacity exceeds maxCapacity', () => {
    expect(problemsOf(withDev({ minCapacity: 3, maxCapacity: 2 }))).toContain(
      'dev.minCapacity: 3 is not valid; it must not exceed maxCapacity (2)',
    );
  });

  test('fails when desiredCount, which was removed, is still set, and says why', () => {
    expect(problemsOf(withDev({ desiredCount: 2 }))).toContain(
      'dev.desiredCount: 2 is not valid; desiredCount was removed: once the service has an image, the template leaves the task count to autoscaling (between minCapacity and maxCapacity), and a deploy raises a service below minCapacity; delete it and set minCapacity',
    );
  });

  test('fails when the CPU scaling target is out of range', () => {
    expect(problemsOf(withDev({ cpuTargetPercent: 95 }))).toContain(
      'dev.cpuTargetPercent: 95 is not valid; use a whole number from 10 to 90',
    );
  });

  test('fails when the request scaling target is zero', () => {
    expect(problemsOf(withDev({ requestsPerTargetPerMinute: 0 }))).toContain(
      'dev.requestsPerTargetPerMinute: 0 is not valid; use a whole number from 1 to 100000',
    );
  });

  test('fails when the container port is privileged', () => {
    expect(problemsOf(withDev({ containerPort: 80 }))).toContain(
      'dev.containerPort: 80 is not valid; use a whole number from 1024 to 65535',
    );
  });

  test('fails when the container port is above 65535', () => {
    expect(problemsOf(withDev({ containerPort: 70000 }))).toContain('dev.containerPort: 70000 is not valid');
  });

  test('fails when the health-check path is not absolute', () => {
    expect(problemsOf(withDev({ healthCheckPath: 'health' }))).toContain(
      "dev.healthCheckPath: 'health' is not valid; use an absolute URL path such as '/health'",
    );
  });

  test('fails when the network profile is unknown', () => {
    expect(problemsOf(withDev({ networkProfile: 'hybrid' }))).toContain(
      "dev.networkProfile: 'hybrid' is not valid; use one of public, private",
    );
  });

  test('fails when the public profile asks for NAT gateways', () => {
    expect(problemsOf(withDev({ natGateways: 1 }))).toContain(
      "dev.natGateways: 1 is not valid; the 'public' profile has no NAT gateway; use 0, or networkProfile 'private'",
    );
  });

  test('fails when the private profile has no NAT gateway', () => {
    expect(problemsOf(withDev({ networkProfile: 'private', natGateways: 0 }))).toContain(
      'dev.natGateways: 0 is not valid; use a whole number from 1 to 2',
    );
  });

  test('fails when the VPC CIDR is public address space', () => {
    expect(problemsOf(withDev({ vpcCidr: '8.8.0.0/16' }))).toContain(
      "dev.vpcCidr: '8.8.0.0/16' is not valid; use a private IPv4 block (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) from /16, such as '10.0.0.0/16'",
    );
  });

  test('fails when the VPC CIDR has host bits set', () => {
    expect(problemsOf(withDev({ vpcCidr: '10.0.1.0/16' }))).toContain('the address has host bits set for /16');
  });

  test('fails when the VPC CIDR is too large', () => {
    expect(problemsOf(withDev({ vpcCidr: '10.0.0.0/8' }))).toContain("dev.vpcCidr: '10.0.0.0/8' is not valid");
  });

  test('fails when the hosted zone ID is malformed', () => {
    const domain = { hostedZoneId: 'zone-1', zoneName: 'example.com', recordName: 'app.example.com' };
    expect(problemsOf(withDev({ domain, allowPlainHttp: undefined }))).toContain(
      "dev.domain.hostedZoneId: 'zone-1' is not valid; use a Route 53 hosted zone ID",
    );
  });

  test('fails when the zone name is not a domain', () => {
    const domain = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'Example', recordName: 'app.example.com' };
    expect(problemsOf(withDev({ domain, allowPlainHttp: undefined }))).toContain(
      "dev.domain.zoneName: 'Example' is not valid; use a lower-case domain name",
    );
  });

  test('fails when the record name is outside the zone', () => {
    const domain = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'app.example.org' };
    expect(problemsOf(withDev({ domain, allowPlainHttp: undefined }))).toContain(
      "dev.domain.recordName: 'app.example.org' is not valid; use a lower-case name inside the zone 'example.com'",
    );
  });

  test('fails when useFargateSpot is not a boolean', () => {
    expect(problemsOf(withDev({ useFargateSpot: 'yes' }))).toContain("dev.useFargateSpot: 'yes' is not valid; use true or false");
  });

  test('fails when the deployment strategy is unknown', () => {
    expect(problemsOf(withDev({ deploymentStrategy: 'RECREATE' }))).toContain(
      "dev.deploymentStrategy: 'RECREATE' is not valid; use one of ROLLING, BLUE_GREEN, CANARY, LINEAR",
    );
  });

  test('fails when the log retention is not a CloudWatch value', () => {
    expect(problemsOf(withDev({ logRetentionDays: 10 }))).toContain(
      'dev.logRetentionDays: 10 is not valid; use one of 1, 3, 5, 7, 14, 30',
    );
  });

  test('fails when the removal policy is unknown', () => {
    expect(problemsOf(withDev({ removalPolicy: 'snapshot' }))).toContain(
      "dev.removalPolicy: 'snapshot' is not valid; use one of retain, destroy",
    );
  });

  test('fails when a production environment, whatever its name, would destroy its repositories', () => {
    const production = { ...dev, envName: 'production', production: true, useFargateSpot: false, removalPolicy: 'destroy' };
    expect(problemsOf(production as EnvironmentConfig, 'production')).toContain(
      "production.removalPolicy: 'destroy' is not valid; production images and source must survive a stack deletion (production: true); use 'retain'",
    );
  });

  test('fails when a production environment, whatever its name, runs a single task', () => {
    const live = { ...PROD, envName: 'live', minCapacity: 1 };
    expect(problemsOf(live as EnvironmentConfig, 'live')).toContain(
      'live.minCapacity: 1 is not valid; production: true needs at least 2 tasks, one per Availability Zone, so that one failed task or zone does not take the service down; use 2 or more',
    );
  });

  test('fails when a production environment runs on Fargate Spot', () => {
    const staging = { ...PROD, envName: 'staging', useFargateSpot: true };
    expect(problemsOf(staging as EnvironmentConfig, 'staging')).toContain(
      "staging.useFargateSpot: true is not valid; Spot tasks can all be reclaimed at once, two minutes' notice; production: true needs false",
    );
  });

  test('fails when production is not a boolean', () => {
    expect(problemsOf(withDev({ production: 'yes' }))).toContain(
      "dev.production: 'yes' is not valid; use true for an environment that holds production data and traffic, else false",
    );
  });

  test('a non-production environment may be called prod and destroy its repositories', () => {
    const prod = { ...PROD, production: false, removalPolicy: 'destroy' } as EnvironmentConfig;
    expect(() => validateConfig('prod', prod)).not.toThrow();
  });

  test('fails when imagesToKeep would leave no rollback target', () => {
    expect(problemsOf(withDev({ imagesToKeep: 1 }))).toContain(
      'dev.imagesToKeep: 1 is not valid; use a whole number from 2 to 1000',
    );
  });

  test('fails when the alarm email is not an address', () => {
    expect(problemsOf(withDev({ alarmEmail: 'ops' }))).toContain("dev.alarmEmail: 'ops' is not valid; use an email address");
  });

  test('fails when the source kind is unknown', () => {
    expect(problemsOf(withPipeline({ source: { kind: 'svn', branch: 'main' } }))).toContain(
      "dev.pipeline.source.kind: 'svn' is not valid; use one of codecommit, connection",
    );
  });

  test('fails when the branch is not a git branch name', () => {
    expect(problemsOf(withPipeline({ source: { kind: 'codecommit', branch: 'feature..x' } }))).toContain(
      "dev.pipeline.source.branch: 'feature..x' is not valid; use a git branch name such as 'main'",
    );
  });

  test('fails when the connection ARN is not a connection', () => {
    expect(problemsOf(connection({ connectionArn: 'arn:aws:iam::123456789012:role/x' }))).toContain(
      "dev.pipeline.source.connectionArn: 'arn:aws:iam::123456789012:role/x' is not valid; use the ARN of a CodeConnections connection",
    );
  });

  test('fails when the connection owner is missing', () => {
    expect(problemsOf(connection({ owner: '' }))).toContain(
      "dev.pipeline.source.owner: '' is not valid; use the repository owner",
    );
  });

  test('fails when the connection repo includes the owner', () => {
    expect(problemsOf(connection({ repo: 'acme/web' }))).toContain(
      "dev.pipeline.source.repo: 'acme/web' is not valid; use the repository name, without the owner or .git",
    );
  });

  test('fails when the file-path filter is empty', () => {
    expect(problemsOf(connection({ filePaths: [] }))).toContain(
      "dev.pipeline.source.filePaths: [] is not valid; use 1 to 8 non-empty glob patterns such as ['app/**']",
    );
  });

  test('fails when the scan threshold is unknown', () => {
    expect(problemsOf(withPipeline({ scanSeverityThreshold: 'SEVERE' }))).toContain(
      "dev.pipeline.scanSeverityThreshold: 'SEVERE' is not valid; use one of LOW, MEDIUM, HIGH, CRITICAL",
    );
  });

  test('fails when requireApproval is not a boolean', () => {
    expect(problemsOf(withPipeline({ requireApproval: 'no' }))).toContain(
      "dev.pipeline.requireApproval: 'no' is not valid; use true or false",
    );
  });

  test('fails when artifacts would never expire', () => {
    expect(problemsOf(withPipeline({ artifactRetentionDays: 0 }))).toContain(
      'dev.pipeline.artifactRetentionDays: 0 is not valid; use a whole number from 1 to 3650',
    );
  });

  test('fails when an environment variable name is not upper-case', () => {
    expect(problemsOf(withDev({ environment: { 'feature-x': 'on' } }))).toContain(
      "dev.environment.feature-x: 'feature-x' is not valid; use an upper-case variable name: letters, digits and underscores",
    );
  });

  test('fails when a variable overrides one the task definition sets', () => {
    expect(problemsOf(withDev({ environment: { PORT: '9000' } }))).toContain(
      "dev.environment.PORT: 'PORT' is not valid; the task definition sets PORT, APP_VERSION, APP_NAME, HEALTH_CHECK_PATH, GUNICORN_WORKERS, GUNICORN_THREADS, TRUSTED_PROXY_CIDRS, FORWARDED_ALLOW_IPS itself; use another name",
    );
  });

  test.each(['DATABASE_PASSWORD', 'STRIPE_API_KEY', 'GITHUB_TOKEN', 'JWT_SECRET'])(
    'fails when %s, named like a secret, is a plain variable',
    (name) => {
      expect(problemsOf(withDev({ environment: { [name]: 'hunter2' } }))).toContain(
        `dev.environment.${name}: '<redacted>' is not valid; '${name}' is named like a secret, and a literal value would be visible in the task definition; move it to secrets (${name}: '<secret name>')`,
      );
    },
  );

  test('a plain variable whose name only mentions a key word elsewhere is accepted', () => {
    expect(() => validateConfig('dev', withDev({ environment: { FEATURE_X: 'on', TOKENIZER_MODE: 'fast' } }))).not.toThrow();
  });

  test('fails when a name is both a variable and a secret', () => {
    expect(problemsOf(withDev({ environment: { TOKEN: 'x' }, secrets: { TOKEN: 'app/token' } }))).toContain(
      "dev.secrets.TOKEN: 'TOKEN' is not valid; it is both a variable and a secret; keep one",
    );
  });

  test('fails when a secret reference is not a secret name', () => {
    expect(problemsOf(withDev({ secrets: { TOKEN: 'arn with spaces' } }))).toContain(
      "dev.secrets.TOKEN: 'arn with spaces' is not valid; use a Secrets Manager secret name, or 'name:jsonKey' for one key of a JSON secret",
    );
  });

  test('fails when gunicornThreads is zero', () => {
    expect(problemsOf(withDev({ gunicornThreads: 0 }))).toContain(
      'dev.gunicornThreads: 0 is not valid; use a whole number from 1 to 32',
    );
  });

  test("fails when the task's memory cannot hold the gunicorn workers", () => {
    expect(problemsOf(withDev({ cpu: 256, memoryLimitMiB: 512, gunicornWorkers: 4 }))).toContain(
      "dev.gunicornWorkers: 4 is not valid; with memoryLimitMiB 512 use at most 3 (each process is budgeted 64 MiB, plus the arbiter, within 50% of the task's memory), or raise memoryLimitMiB",
    );
  });

  test('fails when there is no domain and plain HTTP is not chosen explicitly', () => {
    expect(problemsOf(withDev({ allowPlainHttp: undefined }))).toContain(
      "dev.domain: undefined is not valid; set a domain to serve HTTPS, or set allowPlainHttp: true to serve plain HTTP (no TLS) on the load balancer's name",
    );
  });

  test('fails when plain HTTP is allowed alongside a domain', () => {
    const domain = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'app.example.com' };
    expect(problemsOf(withDev({ domain, allowPlainHttp: true }))).toContain(
      'dev.allowPlainHttp: true is not valid; with a domain, HTTP only redirects to HTTPS; remove allowPlainHttp',
    );
  });

  test('fails when allowPlainHttp is not a boolean', () => {
    expect(problemsOf(withDev({ allowPlainHttp: 'yes' }))).toContain(
      "dev.allowPlainHttp: 'yes' is not valid; use true or false, or leave it unset",
    );
  });

  test.each([[[]], [[0]], [[443, 443]], [[70000]], ['some']])('fails when egressTcpPorts is %j', (ports) => {
    expect(problemsOf(withDev({ egressTcpPorts: ports }))).toContain(
      `dev.egressTcpPorts: ${JSON.stringify(ports).replace(/^"(.*)"$/, "'$1'")} is not valid; use 1 to 16 distinct TCP ports such as [443, 5432], or 'all'`,
    );
  });

  test('egressTcpPorts may be a list of ports, or all', () => {
    expect(() => validateConfig('dev', withDev({ egressTcpPorts: [443, 5432] }))).not.toThrow();
    expect(() => validateConfig('dev', withDev({ egressTcpPorts: 'all' }))).not.toThrow();
  });

  test('fails with every problem listed, one per line', () => {
    const message = problemsOf(withDev({ cpu: 384, containerPort: 80, logRetentionDays: 10 }));
    expect(message.split('\n')).toHaveLength(3);
  });
});

describe('rules every fork meets', () => {
  test.each([
    ['public', '10.0.0.0/24', 23],
    ['private', '10.0.0.0/21', 20],
  ])("fails when the %s profile's subnets do not fit in %s", (profile, vpcCidr, longest) => {
    const natGateways = profile === 'private' ? 1 : 0;
    expect(problemsOf(withDev({ networkProfile: profile, natGateways, vpcCidr }))).toContain(
      `dev.vpcCidr: '${vpcCidr}' is not valid; the '${profile}' profile creates `,
    );
    expect(problemsOf(withDev({ networkProfile: profile, natGateways, vpcCidr }))).toContain(
      `which need a /${longest} or larger; use a prefix from /16 to /${longest}`,
    );
  });

  test.each(['refs/heads/main', 'refs/main'])('fails when the branch is a full ref, %s, and gives the name to use', (branch) => {
    expect(problemsOf(withPipeline({ source: { kind: 'codecommit', branch } }))).toBe(
      `dev.pipeline.source.branch: '${branch}' is not valid; use the branch name alone, 'main': the pipeline's trigger matches branch names, so a full ref never fires`,
    );
  });

  test('fails when a top-level key is misspelt, and suggests the right one', () => {
    const message = problemsOf(withDev({ minCapacty: 3 }));
    expect(message).toMatch(
      /^dev\.minCapacty: 3 is not valid; 'minCapacty' is not a key of an environment; did you mean 'minCapacity'\? the keys are envName, production, appName, account, region, cpu, /,
    );
    expect(message.split('\n')).toHaveLength(1);
  });

  test('fails when the desiredCout of the issue is set', () => {
    expect(problemsOf(withDev({ desiredCout: 3 }))).toMatch(
      /^dev\.desiredCout: 3 is not valid; 'desiredCout' is not a key of an environment; /,
    );
  });

  test.each([
    [
      'domain',
      withDev({
        allowPlainHttp: undefined,
        domain: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'app.example.com', ttl: 60 },
      }),
    ],
    ['pipeline', withPipeline({ requireAproval: true })],
    ['pipeline.source', withPipeline({ source: { kind: 'codecommit', branch: 'main', owner: 'acme' } })],
  ])('fails when %s has an unknown key', (parent, config) => {
    expect(problemsOf(config)).toMatch(
      new RegExp(`^dev\\.${parent.replace(/\./g, '\\.')}\\.\\w+: .* is not valid; '\\w+' is not a key of '${parent}'; `),
    );
  });

  test('a codecommit source lists its own keys when given a connection key', () => {
    expect(problemsOf(withPipeline({ source: { kind: 'codecommit', branch: 'main', owner: 'acme' } }))).toBe(
      "dev.pipeline.source.owner: 'acme' is not valid; 'owner' is not a key of 'pipeline.source'; the keys are kind, branch",
    );
  });

  test.each([
    'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders/db-AbC123',
    'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders/db-AbC123:password',
  ])('accepts a complete Secrets Manager ARN in secrets: %s', (ref) => {
    expect(() => validateConfig('dev', withDev({ secrets: { DATABASE_PASSWORD: ref } }))).not.toThrow();
  });

  test.each([
    'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders/db',
    'arn:aws:ssm:eu-west-1:111122223333:parameter/orders/db',
    'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders/db-AbC123:password:AWSCURRENT',
  ])('fails when a secret ARN is not a complete secret ARN: %s', (ref) => {
    expect(problemsOf(withDev({ secrets: { DATABASE_PASSWORD: ref } }))).toBe(
      `dev.secrets.DATABASE_PASSWORD: '${ref}' is not valid; use a Secrets Manager secret name, or 'name:jsonKey' for one key of a JSON secret, or the secret's complete ARN (ending in its 6 random characters; needed for another account's secret), optionally followed by ':jsonKey'`,
    );
  });

  test('fails when a variable named like a secret, whatever its case of use, is in environment: already refused', () => {
    expect(problemsOf(withDev({ environment: { DB_PASSWORD: 'x' } }))).toMatch(
      /^dev\.environment\.DB_PASSWORD: '<redacted>' is not valid; /,
    );
  });

  test('fails when an environment that holds production runs entirely on Spot, whatever its name', () => {
    const live = { ...environments.prod, envName: 'live', useFargateSpot: true } as EnvironmentConfig;
    expect(problemsOf(live, 'live')).toMatch(/^live\.useFargateSpot: true is not valid; /);
  });

  test('fails with one line per problem even when a value or key holds a line break', () => {
    const message = problemsOf(withDev({ appName: 'a\nb', 'x\ny': 1 }));
    expect(message.split('\n')).toEqual([
      "dev.appName: 'a\\nb' is not valid; use 3-24 lower-case letters, digits and hyphens, starting with a letter",
      expect.stringMatching(/^dev\.x\\ny: 1 is not valid; 'x\\ny' is not a key of an environment; /),
    ]);
  });

  test.each([
    [
      { pipeline: null },
      'dev.pipeline: null is not valid; give the pipeline settings: { source, requireApproval, scanSeverityThreshold, artifactRetentionDays }',
    ],
    [
      { pipeline: { ...dev.pipeline, source: 'main' } },
      "dev.pipeline.source: 'main' is not valid; use { kind: 'codecommit', branch }, or { kind: 'connection', connectionArn, owner, repo, branch }",
    ],
    [
      { domain: 'app.example.com', allowPlainHttp: undefined },
      "dev.domain: 'app.example.com' is not valid; use { hostedZoneId, zoneName, recordName }, or leave it unset",
    ],
    [{ cpu: Number.NaN }, 'dev.cpu: NaN is not valid; use one of 256, 512, 1024, 2048, 4096, 8192, 16384'],
    [{ environment: [] }, 'dev.environment: [] is not valid; use an object of NAME: value pairs'],
  ])('fails when a value has the wrong shape: %j', (overrides, line) => {
    expect(problemsOf(withDev(overrides))).toBe(line);
  });

  test('fails when the configuration is not an object, with one line', () => {
    expect(problemsOf('dev' as unknown as EnvironmentConfig)).toBe("dev: 'dev' is not valid; use an object of fields");
  });
});

describe('every environment on every synth', () => {
  test('fails when another environment than the selected one is broken, naming it', () => {
    const all = { dev, prod: { ...environments.prod, cpu: 384 } as unknown as EnvironmentConfig };
    expect(() => loadConfig('dev', all)).toThrow(
      new ConfigError(['prod.cpu: 384 is not valid; use one of 256, 512, 1024, 2048, 4096, 8192, 16384']),
    );
  });

  test('fails when an environment is keyed by a name other than its envName, or an invalid one', () => {
    expect(() => loadConfig('dev', { dev, Staging: { ...dev, envName: 'Staging' } })).toThrow(
      "Staging: 'Staging' is not a valid environment name; use 2-16 lower-case letters and digits, starting with a letter",
    );
  });

  test.each([
    ['a bigger dev', { dev: { ...dev, cpu: 1024, memoryLimitMiB: 4096, gunicornWorkers: 4, maxCapacity: 10 } }],
    ['dev on the private network', { dev: { ...dev, networkProfile: 'private', natGateways: 1, vpcCidr: '10.10.0.0/20' } }],
    ['dev renamed', { development: { ...dev, envName: 'development' } }],
    ['prod alone', { prod: environments.prod }],
  ])('%s validates with no other edit', (_, all) => {
    const name = Object.keys(all)[0];
    expect(loadConfig(name, all as Record<string, EnvironmentConfig>).envName).toBe(name);
  });

  test('a third environment with any valid values is accepted', () => {
    const qa = {
      ...environments.prod,
      envName: 'qa',
      production: false,
      cpu: 1024,
      memoryLimitMiB: 2048,
      vpcCidr: '10.30.0.0/20',
    };
    expect(loadConfig('qa', { ...environments, qa } as Record<string, EnvironmentConfig>).envName).toBe('qa');
  });

  test('validates every environment in well under a second', () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) loadConfig();
    expect((performance.now() - started) / 20).toBeLessThan(50);
  });
});
