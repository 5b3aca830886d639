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
  NETWORK: 10,
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

/** What an AWS SDK or Node error carries that the messages use. */
interface ErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  hostname?: string;
  /** Set by the clients' `opsErrorContext` middleware (clients.ts): which call failed, and where it went. */
  $call?: { operation: string; endpoint: string };
}

const firstLine = (error: unknown) => String((error as ErrorShape)?.message ?? error).split('\n')[0];

/**
 * The short form of an error, for a report line: `AccessDeniedException: User … is not authorized …`. Node's system
 * errors are named by their code, since their name is only `Error`, unless the message says it already
 * (`connect ECONNREFUSED 10.0.0.1:443`).
 */
export function describeError(error: unknown): string {
  if (error instanceof OpsError) return error.message;
  const e = error as ErrorShape;
  const name = e?.name && e.name !== 'Error' ? e.name : (e?.code ?? e?.Code ?? '');
  const message = firstLine(error);
  return name && !message.includes(name) ? `${name}: ${message}` : message;
}

/*
 * How the AWS SDK surfaces a network failure: @smithy/node-http-handler rejects with Node's own error from the
 * request's 'error' event (`code` ECONNREFUSED, ENOTFOUND, EAI_AGAIN…, message `connect ECONNREFUSED 1.2.3.4:443`,
 * `getaddrinfo ENOTFOUND host`, `socket hang up`), renaming it `TimeoutError` when its code is ECONNRESET, EPIPE or
 * ETIMEDOUT; its own connection and socket timeouts are plain Errors named `TimeoutError`. The retry middleware
 * retries all of these (transient) and then throws the last one unchanged. Read in node_modules/@smithy/core
 * (submodules/retry/service-error-classification) and @smithy/node-http-handler (dist-cjs/index.js, `req.on("error")`).
 */
const REFUSED = ['ECONNREFUSED'];
const UNRESOLVED = ['ENOTFOUND', 'EAI_AGAIN'];
const UNREACHABLE = ['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN'];
const CUT = ['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNABORTED'];
const CHECK = '`aws sts get-caller-identity` tests the same connection';

/** The one-line explanation of a network failure, or undefined when the error is not one. */
function networkFailure(e: ErrorShape, envName: string): string | undefined {
  const code = e?.code ?? '';
  const raw = firstLine(e);
  const what = e?.$call ? `${e.$call.operation} (${e.$call.endpoint})` : 'an AWS call';
  if (REFUSED.includes(code)) {
    return `${what} failed: ${raw}: nothing accepts connections there; check AWS_ENDPOINT_URL if you set one, your VPN or firewall, then retry (${CHECK})`;
  }
  if (UNRESOLVED.includes(code)) {
    return `${what} failed: ${raw}: that host name does not resolve; check that you are online and that the region is right (AWS_REGION, or \`region\` for '${envName}' in lib/config/environments.ts), then retry (${CHECK})`;
  }
  if (UNREACHABLE.includes(code)) {
    return `${what} failed: ${raw}: no route to AWS; check that you are online (VPN, Wi-Fi), then retry (${CHECK})`;
  }
  if (CUT.includes(code) || e?.name === 'TimeoutError' || /socket hang up/i.test(raw)) {
    return `${what} failed: ${raw}: the connection timed out or was cut; check your network, VPN or proxy, then retry (${CHECK})`;
  }
  return undefined;
}

/** Turns an AWS SDK (or any) error into an OpsError with a next step. OpsErrors pass through. */
export function explain(error: unknown, envName: string): OpsError {
  if (error instanceof OpsError) return error;
  const e = error as ErrorShape;
  const name = e?.name ?? e?.Code ?? '';
  const message = firstLine(error);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    if (/Could not load credentials from any providers/i.test(message) || !message) {
      return new OpsError(
        'no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry',
        EXIT.NO_CREDENTIALS,
      );
    }
    // A named profile that is missing, an expired SSO session…: the provider's own words say which.
    return new OpsError(
      `AWS credentials could not be loaded: ${message.replace(/\.$/, '')}; fix AWS_PROFILE or run \`aws sso login\`, then check with \`aws sts get-caller-identity\``,
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
  const network = networkFailure(e, envName);
  if (network) return new OpsError(network, EXIT.NETWORK);
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
  return new OpsError(describeError(error), EXIT.FAILED);
}
