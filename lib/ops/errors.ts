import { isThrottling } from './retry';

/** Exit codes of the ops commands: each failure a script may want to tell apart has its own. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  NO_CREDENTIALS: 3,
  WRONG_ACCOUNT: 4,
  NOT_DEPLOYED: 5,
  UNKNOWN_TAG: 6,
  ROLLBACK_IN_PROGRESS: 7,
  THROTTLED: 8,
  VERIFY_FAILED: 9,
} as const;

/** A failure to report in one line, saying what to do next, with its exit code. Never a stack trace. */
export class OpsError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

/** Turns an AWS SDK (or any) error into an OpsError with a next step. OpsErrors pass through. */
export function explain(error: unknown, envName: string): OpsError {
  if (error instanceof OpsError) return error;
  const e = error as { name?: string; message?: string; Code?: string };
  const name = e?.name ?? e?.Code ?? '';
  const message = String(e?.message ?? error).split('\n')[0];
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new OpsError(
      'no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry',
      EXIT.NO_CREDENTIALS,
    );
  }
  if (['ExpiredToken', 'ExpiredTokenException', 'UnrecognizedClientException', 'InvalidClientTokenId'].includes(name)) {
    return new OpsError(
      `your AWS credentials are expired or invalid (${name}): run \`aws sso login\` or refresh AWS_PROFILE, then retry`,
      EXIT.NO_CREDENTIALS,
    );
  }
  if (/Region is missing/i.test(message)) {
    return new OpsError(
      `no AWS region: set AWS_REGION, or \`region\` for '${envName}' in lib/config/environments.ts`,
      EXIT.NO_CREDENTIALS,
    );
  }
  if (isThrottling(error)) {
    return new OpsError(
      `AWS is throttling requests (${name}) even after retries: wait a minute and run the command again`,
      EXIT.THROTTLED,
    );
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new OpsError(
      `access denied: ${message}. Use credentials for the account that hosts '${envName}'`,
      EXIT.NO_CREDENTIALS,
    );
  }
  return new OpsError(`${name ? `${name}: ` : ''}${message}`, EXIT.FAILED);
}
