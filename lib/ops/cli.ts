import { ConfigError } from '../config';
import { EXIT, OpsError, explain } from './errors';

/**
 * Runs an ops command's body and turns every failure into one line on stderr and a distinct exit code.
 * Laptops rarely run on EC2, so the instance-metadata credential lookup (a network timeout elsewhere) is off
 * unless AWS_EC2_METADATA_DISABLED says otherwise.
 */
export function runCommand(
  body: () => Promise<void>,
  envName = process.argv.join(' ').match(/--env[= ](\S+)/)?.[1] ?? 'dev',
): void {
  process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
  // The SDK's notice that its 2027 releases need Node 22 is for maintainers (see the README), not for every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  body().then(
    () => process.exit(EXIT.OK),
    (error: unknown) => {
      const failure =
        error instanceof ConfigError
          ? new OpsError(error.message.split('\n').join('; '), EXIT.USAGE)
          : error instanceof Error && error.message.startsWith('usage:')
            ? new OpsError(error.message, EXIT.USAGE)
            : explain(error, envName);
      console.error(`error: ${failure.message}`);
      process.exit(failure.exitCode);
    },
  );
}
