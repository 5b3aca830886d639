import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run test:aws -- --env NAME --confirm-account ACCOUNT_ID [options]

Deploys the environment into your AWS account, pushes a commit, waits for the pipeline, verifies, rolls back and
forward, then destroys everything it created. Takes about 40 minutes and costs money: read docs/real-account-test.md.

  --env NAME                   environment to deploy (dev); one whose configuration retains data is refused
  --confirm-account ID         the 12-digit account ID of your credentials (aws sts get-caller-identity); required
  --pipeline-timeout SECONDS   longest wait for one pipeline run, or one rollback (2400)
  --verify-timeout SECONDS     longest wait for tasks and health after a deploy or rollback (600)
  --poll SECONDS               polling interval (15)
  -h, --help                   this text`;

export interface SmokeArgs {
  readonly env: string;
  readonly confirmAccount: string;
  readonly pipelineTimeoutSeconds: number;
  readonly verifyTimeoutSeconds: number;
  readonly pollSeconds: number;
}

/** A command-line mistake: the entry point prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Whether the usage text helps; a refusal that names what to pass is one line. */
    readonly withUsage = true,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

function seconds(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`--${name}: '${value}' is not a whole number of seconds`);
  return n;
}

/** Parses the smoke test's arguments; `'help'` when help was asked for. Throws UsageError on a mistake. */
export function parseSmokeArgs(argv: readonly string[]): SmokeArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        env: { type: 'string' },
        'confirm-account': { type: 'string' },
        'pipeline-timeout': { type: 'string', default: '2400' },
        'verify-timeout': { type: 'string', default: '600' },
        poll: { type: 'string', default: '15' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if (values.help) return 'help';
  if (!values.env) throw new UsageError('pass --env NAME, the environment to deploy and destroy (for example --env dev)');
  const account = values['confirm-account'];
  if (!account) {
    throw new UsageError(
      'this deploys and destroys stacks in your AWS account: pass --confirm-account <your 12-digit account ID> (aws sts get-caller-identity)',
      false,
    );
  }
  if (!/^\d{12}$/.test(account)) throw new UsageError(`--confirm-account: '${account}' is not a 12-digit AWS account ID`);
  return {
    env: values.env,
    confirmAccount: account,
    pipelineTimeoutSeconds: seconds('pipeline-timeout', values['pipeline-timeout']),
    verifyTimeoutSeconds: seconds('verify-timeout', values['verify-timeout']),
    pollSeconds: seconds('poll', values.poll),
  };
}

/**
 * What the entry point does with its arguments: the parsed options, or the exit code after printing the usage
 * (`--help`: 0, on stdout) or the mistake (2, on stderr; with the usage unless the message says all there is to say).
 */
export function argsOrExit(
  argv: readonly string[],
  out: (text: string) => void = console.log,
  err: (text: string) => void = console.error,
): SmokeArgs | number {
  try {
    const args = parseSmokeArgs(argv);
    if (args !== 'help') return args;
    out(USAGE);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`error: ${error.message}${error.withUsage ? `\n\n${USAGE}` : ''}`);
    return 2;
  }
}
