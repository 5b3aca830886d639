/**
 * The typed configuration of one deployment environment (`dev`, `prod`, ...), inferred from the schema in `schema.ts`:
 * the schema documents each field and validates it; these types follow it.
 *
 * `bin/` picks an environment by name; nothing under `lib/` reads context or environment variables.
 */
import type { z } from 'zod';
import type { codeCommitSourceSchema, connectionSourceSchema, domainSchema, environmentSchema, pipelineSchema } from './schema';

// Arrays stay as they are: constructs take them as plain arrays.
type DeepReadonly<T> = T extends unknown[] ? T : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The configuration of one environment. Field documentation: `schema.ts`, or the configuration reference. */
export type EnvironmentConfig = DeepReadonly<z.infer<typeof environmentSchema>>;
/** A custom domain: the service is then served over HTTPS with an ACM certificate, and HTTP redirects to HTTPS. */
export type DomainConfig = DeepReadonly<z.infer<typeof domainSchema>>;
/** The pipeline's source: a CodeCommit repository created and seeded by this project (zero setup). */
export type CodeCommitSourceConfig = DeepReadonly<z.infer<typeof codeCommitSourceSchema>>;
/** The pipeline's source: GitHub, GitLab or Bitbucket through an existing CodeConnections connection. */
export type ConnectionSourceConfig = DeepReadonly<z.infer<typeof connectionSourceSchema>>;
export type SourceConfig = CodeCommitSourceConfig | ConnectionSourceConfig;
/** The delivery pipeline of one environment. */
export type PipelineConfig = DeepReadonly<z.infer<typeof pipelineSchema>>;

/** CPU architecture of the Fargate task, of the CodeBuild image that builds for it, and of the image. */
export type CpuArchitecture = EnvironmentConfig['cpuArchitecture'];
/** `public`: tasks in public subnets with public IPs, no NAT gateway. `private`: tasks in private subnets behind NAT. */
export type NetworkProfile = EnvironmentConfig['networkProfile'];
/** ECS deployment strategy. ROLLING uses one target group; the others are ECS-native and use a second one. */
export type DeploymentStrategyName = EnvironmentConfig['deploymentStrategy'];
/** What happens to the ECR (and CodeCommit) repository when its stack is deleted. */
export type StatefulRemovalPolicy = EnvironmentConfig['removalPolicy'];
/** ECR scan finding severities, lowest to highest. */
export type ScanSeverity = PipelineConfig['scanSeverityThreshold'];
