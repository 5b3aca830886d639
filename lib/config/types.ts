/**
 * The typed configuration of one deployment environment (`dev`, `prod`, ...).
 *
 * Every field is validated by `validateConfig` in `validate.ts` before any construct is created.
 * `bin/` picks an environment by name; nothing under `lib/` reads context or environment variables.
 */

/** CPU architecture of the Fargate task, of the CodeBuild image that builds for it, and of the image. */
export type CpuArchitecture = 'ARM64' | 'X86_64';

/** `public`: tasks in public subnets with public IPs, no NAT gateway. `private`: tasks in private subnets behind NAT. */
export type NetworkProfile = 'public' | 'private';

/** ECS deployment strategy. ROLLING uses one target group; the others are ECS-native and use a second one. */
export type DeploymentStrategyName = 'ROLLING' | 'BLUE_GREEN' | 'CANARY' | 'LINEAR';

/** What happens to the ECR (and CodeCommit) repository when its stack is deleted. */
export type StatefulRemovalPolicy = 'retain' | 'destroy';

/** ECR scan finding severities, lowest to highest. */
export type ScanSeverity = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

/** A custom domain: the service is then served over HTTPS with an ACM certificate, and HTTP redirects to HTTPS. */
export interface DomainConfig {
  /** Route 53 hosted zone ID, for example `Z0123456789ABCDEFGHIJ`. Given, not looked up, so synth stays offline. */
  readonly hostedZoneId: string;
  /** The hosted zone's name, for example `example.com`. */
  readonly zoneName: string;
  /** The full name the service answers on, inside the zone, for example `app.example.com`. */
  readonly recordName: string;
}

/** The pipeline's source: a CodeCommit repository created and seeded by this project (zero setup). */
export interface CodeCommitSourceConfig {
  readonly kind: 'codecommit';
  /** Branch whose pushes trigger the pipeline. */
  readonly branch: string;
}

/** The pipeline's source: GitHub, GitLab or Bitbucket through an existing CodeConnections connection. */
export interface ConnectionSourceConfig {
  readonly kind: 'connection';
  /** ARN of an AVAILABLE CodeConnections (or CodeStar Connections) connection. */
  readonly connectionArn: string;
  /** Repository owner (user or organisation). */
  readonly owner: string;
  /** Repository name. */
  readonly repo: string;
  /** Branch whose pushes trigger the pipeline. */
  readonly branch: string;
  /**
   * Only pushes that change one of these paths start the pipeline (V2 trigger file-path filter).
   * @default ['app/**']
   */
  readonly filePaths?: string[];
}

export type SourceConfig = CodeCommitSourceConfig | ConnectionSourceConfig;

/** The delivery pipeline of one environment. */
export interface PipelineConfig {
  /** Where the pipeline gets the code. */
  readonly source: SourceConfig;
  /** A manual approval before the deploy stage. */
  readonly requireApproval: boolean;
  /** The scan gate fails on any finding at or above this severity. */
  readonly scanSeverityThreshold: ScanSeverity;
  /** How many days pipeline artifacts are kept before they expire. */
  readonly artifactRetentionDays: number;
}

export interface EnvironmentConfig {
  /** Environment name: lower-case letters and digits, used in stack names (`<appName>-<envName>-service`). */
  readonly envName: string;
  /**
   * This environment holds production data and traffic. Every protection follows this flag, never the environment's
   * name: repositories retained, termination and deletion protection, no Fargate Spot.
   */
  readonly production: boolean;
  /** Application name: lower-case letters, digits and hyphens, used in stack and resource names. */
  readonly appName: string;
  /**
   * AWS account ID. Leave unset for an environment-agnostic synth.
   * @default - environment-agnostic: the account of the credentials used by `cdk deploy`
   */
  readonly account?: string;
  /**
   * AWS region. Leave unset for an environment-agnostic synth.
   * @default - environment-agnostic: the region of the credentials used by `cdk deploy`
   */
  readonly region?: string;

  /** Fargate task CPU units (256 = 0.25 vCPU). Must pair with `memoryLimitMiB` as Fargate allows. */
  readonly cpu: number;
  /** Fargate task memory in MiB. */
  readonly memoryLimitMiB: number;
  /** CPU architecture of the task and the image. */
  readonly cpuArchitecture: CpuArchitecture;
  /** gunicorn worker processes per task. Fargate's `os.cpu_count()` reports the host, so this is set explicitly. */
  readonly gunicornWorkers: number;
  /**
   * Threads per gunicorn worker. `gunicornWorkers × gunicornThreads` is the number of requests one task serves at
   * once; the next request waits for a free thread (see docs/app-limits.md).
   */
  readonly gunicornThreads: number;

  /** Tasks the service runs once it has an image. With no image yet it runs zero. */
  readonly desiredCount: number;
  /** Autoscaling floor once the service has an image. */
  readonly minCapacity: number;
  /** Autoscaling ceiling. */
  readonly maxCapacity: number;
  /** Target average CPU utilisation, in percent, for CPU scaling. */
  readonly cpuTargetPercent: number;
  /** Target ALB requests per task per minute for request-count scaling. */
  readonly requestsPerTargetPerMinute: number;

  /** The port the container listens on; also the target group, health check, security group and `PORT`. */
  readonly containerPort: number;
  /** The path the load balancer and the container health check call. */
  readonly healthCheckPath: string;

  /** Network profile. */
  readonly networkProfile: NetworkProfile;
  /** NAT gateways for the `private` profile (1 is cheapest, 2 survives an AZ outage). Must be 0 for `public`. */
  readonly natGateways: number;
  /** The VPC's IPv4 CIDR block, /16 to /24. */
  readonly vpcCidr: string;

  /**
   * A custom domain, served over HTTPS.
   * @default - no domain: then `allowPlainHttp` must say that plain HTTP is intended
   */
  readonly domain?: DomainConfig;
  /**
   * Serve plain HTTP on the load balancer's own DNS name, with no TLS. Required, as an explicit choice, when there is
   * no `domain`; refused when there is one (HTTP then only redirects to HTTPS).
   * @default false
   */
  readonly allowPlainHttp?: boolean;
  /**
   * TCP ports the tasks may connect out to, anywhere, or `'all'`. 443 reaches ECR, CloudWatch Logs and Secrets Manager;
   * add your database's port, for example.
   * @default [443]
   */
  readonly egressTcpPorts?: readonly number[] | 'all';

  /** Run tasks on Fargate Spot (up to 70% cheaper, may be interrupted with two minutes' notice). */
  readonly useFargateSpot: boolean;
  /** How new images are rolled out. */
  readonly deploymentStrategy: DeploymentStrategyName;
  /** Retention of every log group, in days: one of CloudWatch Logs' allowed values. */
  readonly logRetentionDays: number;
  /** Removal policy of the stateful resources (ECR and CodeCommit repositories). */
  readonly removalPolicy: StatefulRemovalPolicy;
  /** How many tagged release images ECR keeps. Older ones expire. */
  readonly imagesToKeep: number;

  /**
   * Extra environment variables for the container (not secrets: they are visible in the task definition).
   * @default - none beyond PORT, APP_VERSION and GUNICORN_WORKERS
   */
  readonly environment?: Record<string, string>;
  /**
   * Secrets for the container: environment variable name → Secrets Manager secret name (`name`, or `name:jsonKey` for
   * one key of a JSON secret). ECS injects them at task start; the execution role may read exactly these.
   * @default - none
   */
  readonly secrets?: Record<string, string>;

  /**
   * An email address subscribed to the alarm and pipeline-failure topics.
   * @default - no subscription; subscribe to the SNS topics yourself
   */
  readonly alarmEmail?: string;

  /** The delivery pipeline. */
  readonly pipeline: PipelineConfig;
}
