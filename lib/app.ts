import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { type EnvironmentConfig, stackNames } from './config';
import { PipelineStack } from './stacks/pipeline-stack';
import { RegistryStack } from './stacks/registry-stack';
import { ServiceStack } from './stacks/service-stack';

/** The project directory: it seeds the CodeCommit repository. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface FargateApp {
  readonly registry: RegistryStack;
  readonly service: ServiceStack;
  readonly pipeline: PipelineStack;
}

/**
 * Builds every stack of one environment into `app` and registers the cdk-nag packs on it, so that any
 * unacknowledged finding fails synthesis. `bin/` and the tests both call this.
 */
export function buildApp(app: cdk.App, config: EnvironmentConfig): FargateApp {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const names = stackNames(config);
  const tags = { Application: config.appName, Environment: config.envName };

  const registry = new RegistryStack(app, names.registry, {
    env,
    config,
    projectRoot: PROJECT_ROOT,
    description: `${config.appName} (${config.envName}): image and source repositories`,
    tags,
  });
  const service = new ServiceStack(app, names.service, {
    env,
    config,
    repository: registry.imageRepository,
    description: `${config.appName} (${config.envName}): Fargate service behind an ALB`,
    tags,
  });

  const pipeline = new PipelineStack(app, names.pipeline, {
    env,
    config,
    imageRepository: registry.imageRepository,
    sourceRepository: registry.sourceRepository,
    serviceStack: service,
    description: `${config.appName} (${config.envName}): delivery pipeline`,
    tags,
  });

  cdk.Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
    new NIST80053R5Checks(app, { writeSuppressionsToCloudFormation: true }),
  );
  return { registry, service, pipeline };
}
