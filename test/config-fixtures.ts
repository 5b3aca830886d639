/**
 * Configurations the tests use as inputs: today's shipped `dev` and `prod`, copied. Tests of the operator tools, the
 * validation rules and the documentation take these, not lib/config/environments.ts, which a fork edits freely
 * (`npm run test:forks` checks that such edits need no test change). Tests of the shipped stacks iterate over
 * `environments` instead.
 */
import type { EnvironmentConfig } from '../lib/config';

export const DEV: EnvironmentConfig = {
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

export const PROD: EnvironmentConfig = {
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
