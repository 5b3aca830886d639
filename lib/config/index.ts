import { DEFAULT_ENVIRONMENT, environments } from './environments';
import type { EnvironmentConfig } from './types';
import { ConfigError, validateEnvironments } from './validate';

export * from './types';
export {
  ConfigError,
  problemsOf,
  validateConfig,
  validateEnvironments,
  FARGATE_MEMORY_BY_CPU,
  LOG_RETENTION_DAYS,
  RESERVED_VARIABLES,
} from './validate';
export { parseSecretRef, type SecretRef } from './schema';
export { environments, DEFAULT_ENVIRONMENT } from './environments';

/**
 * Returns the validated configuration of the named environment, or throws a `ConfigError`. Every environment in `all`
 * is validated, not only the named one: a broken `prod` fails a `dev` synth too, before anything is deployed.
 */
export function loadConfig(
  name: string = DEFAULT_ENVIRONMENT,
  all: Readonly<Record<string, EnvironmentConfig>> = environments,
): EnvironmentConfig {
  const config = Object.prototype.hasOwnProperty.call(all, name) ? all[name] : undefined;
  if (!config) {
    throw new ConfigError([`env: '${name}' is not a configured environment; use one of ${Object.keys(all).join(', ')}`]);
  }
  validateEnvironments(all);
  return config;
}

/** The CloudFormation stack names of one environment. Ops commands and the pipeline use the same names. */
export function stackNames(config: EnvironmentConfig): { registry: string; service: string; pipeline: string } {
  const prefix = `${config.appName}-${config.envName}`;
  return { registry: `${prefix}-registry`, service: `${prefix}-service`, pipeline: `${prefix}-pipeline` };
}
