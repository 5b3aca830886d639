import type { EnvironmentConfig } from './types';

/**
 * Development: cheapest shape that still behaves like production.
 * Public subnets and no NAT gateway; repositories are deleted with the stack.
 */
const dev: EnvironmentConfig = {
  envName: 'dev',
  production: false,
  appName: 'fargate-app',
  cpu: 256,
  memoryLimitMiB: 512,
  cpuArchitecture: 'ARM64',
  gunicornWorkers: 2,
  // 2 × 8 served the most at 0.25 vCPU, measured (docs/app-limits.md §4).
  gunicornThreads: 8,
  minCapacity: 1,
  maxCapacity: 2,
  cpuTargetPercent: 70,
  requestsPerTargetPerMinute: 1000,
  containerPort: 8080,
  healthCheckPath: '/health',
  networkProfile: 'public',
  natGateways: 0,
  vpcCidr: '10.10.0.0/16',
  // No domain yet: plain HTTP on the load balancer's name. Set `domain` (and drop this) for HTTPS.
  allowPlainHttp: true,
  useFargateSpot: true,
  deploymentStrategy: 'ROLLING',
  logRetentionDays: 14,
  removalPolicy: 'destroy',
  imagesToKeep: 10,
  pipeline: {
    source: { kind: 'codecommit', branch: 'main' },
    requireApproval: false,
    scanSeverityThreshold: 'CRITICAL',
    artifactRetentionDays: 30,
  },
};

/**
 * Production: private subnets behind two NAT gateways (one per AZ), two tasks minimum,
 * repositories retained, and a manual approval before each deploy.
 */
const prod: EnvironmentConfig = {
  envName: 'prod',
  production: true,
  appName: 'fargate-app',
  cpu: 512,
  memoryLimitMiB: 1024,
  cpuArchitecture: 'ARM64',
  gunicornWorkers: 2,
  // 2 × 16 served the most at 0.5 vCPU, measured (docs/app-limits.md §4).
  gunicornThreads: 16,
  minCapacity: 2,
  maxCapacity: 6,
  cpuTargetPercent: 60,
  requestsPerTargetPerMinute: 1000,
  containerPort: 8080,
  healthCheckPath: '/health',
  networkProfile: 'private',
  natGateways: 2,
  vpcCidr: '10.20.0.0/16',
  // A template cannot ship your domain. Before real traffic, set `domain` (HTTPS, HTTP redirects) and drop this.
  allowPlainHttp: true,
  useFargateSpot: false,
  deploymentStrategy: 'ROLLING',
  logRetentionDays: 90,
  removalPolicy: 'retain',
  imagesToKeep: 30,
  pipeline: {
    source: { kind: 'codecommit', branch: 'main' },
    requireApproval: true,
    scanSeverityThreshold: 'HIGH',
    artifactRetentionDays: 90,
  },
};

/** Every environment this app knows, by name. `-c env=NAME` picks one; `dev` is the default. */
export const environments: Readonly<Record<string, EnvironmentConfig>> = { dev, prod };

export const DEFAULT_ENVIRONMENT = 'dev';
