import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, environments } from '../config';
import { EXIT, OpsError, explain } from './errors';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What `util.parseArgs` returns for a command's options in strict mode, `help` included. */
export type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O & { help: { type: 'boolean'; short: 'h' } }; strict: true; allowPositionals: false }>
>['values'];

/** Where a command writes: stdout for results and help, stderr for progress and errors. Tests capture both. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** One ops command: its options, the help text that describes them, and its body. */
export interface Command<O extends Options> {
  /** Shown on --help (stdout, exit 0) and after a usage error (stderr, exit 2). */
  readonly usage: string;
  /** `util.parseArgs` options. `--help`/`-h` is added. An `env` option is checked against the configured environments. */
  readonly options: O;
  /** Checks that parseArgs cannot express (required options, numbers): throw a UsageError. */
  readonly check?: (values: Values<O>) => void;
  readonly run: (values: Values<O>, io: Io) => Promise<void>;
}

/** A command-line mistake: printed with the usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Throws a UsageError unless `value` is a whole number of seconds, at least `min`. */
export function seconds(option: string, value: string, min = 1): number {
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`--${option}: '${value}' is not a whole number of seconds (at least ${min})`);
  }
  return Number(value);
}

/** `--help` or `-h` anywhere before `--`: help wins over any other mistake on the line. */
const wantsHelp = (argv: readonly string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/** Parses the arguments strictly (unknown options, missing values and positionals are UsageErrors); 'help' on --help. */
export function parseCommandLine<O extends Options>(command: Command<O>, argv: readonly string[]): Values<O> | 'help' {
  if (wantsHelp(argv)) return 'help';
  let values: Values<O>;
  try {
    values = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values as Values<O>;
  } catch (error) {
    // parseArgs throws TypeErrors whose code starts ERR_PARSE_ARGS_ (unknown option, missing value, positional).
    if (String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError((error as Error).message.split('\n').join(' '));
    throw error;
  }
  const env = (values as { env?: unknown }).env;
  if (typeof env === 'string' && !Object.prototype.hasOwnProperty.call(environments, env)) {
    throw new UsageError(`--env: '${env}' is not a configured environment; use one of ${Object.keys(environments).join(', ')}`);
  }
  command.check?.(values);
  return values;
}

/**
 * Runs a command and returns its exit code. Every failure is written as one line on `io.err` (`error: …`, with a next
 * step), never a stack trace: usage mistakes with the usage text after it (exit 2), everything else through `explain`.
 */
export async function main<O extends Options>(command: Command<O>, argv: readonly string[], io: Io): Promise<number> {
  let values: Values<O> | 'help';
  try {
    values = parseCommandLine(command, argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}\n\n${command.usage}`);
    return EXIT.USAGE;
  }
  if (values === 'help') {
    io.out(command.usage);
    return EXIT.OK;
  }
  const envName = (values as { env?: string }).env ?? '';
  try {
    await command.run(values, io);
    return EXIT.OK;
  } catch (error) {
    const failure = describeFailure(error, envName);
    io.err(`error: ${failure.message}`);
    return failure.exitCode;
  }
}

/** The one-line failure for any error a command body throws. */
export function describeFailure(error: unknown, envName: string): OpsError {
  if (error instanceof ConfigError) return new OpsError(error.message.split('\n').join('; '), EXIT.USAGE);
  return explain(error, envName);
}

/**
 * Sets up the process the way every ops command wants it. Laptops rarely run on EC2, so the instance-metadata
 * credential lookup (a network timeout elsewhere) is off unless AWS_EC2_METADATA_DISABLED says otherwise.
 */
function prepareProcess(): void {
  process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
  // The SDK's notice that its 2027 releases need Node 22 is for maintainers (see docs/operations.md), not for every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** Waits until what was written to a stream has gone out, so that process.exit cannot cut it (pipes on macOS). */
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));

async function exit(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/** The entry point of bin/status.ts and the others: parses process.argv, runs the command, exits with its code. */
export function runMain<O extends Options>(command: Command<O>): void {
  prepareProcess();
  const io: Io = { out: (text) => console.log(text), err: (text) => console.error(text) };
  main(command, process.argv.slice(2), io).then(exit, (error: unknown) => {
    // Only a UsageError-handling bug gets here; still one line.
    console.error(`error: ${describeFailure(error, '').message}`);
    return exit(EXIT.FAILED);
  });
}

/**
 * Runs a body that parses its own arguments (bin/aws-smoke.ts) with the same one-line failure reporting and exit
 * codes as the other commands.
 */
export function runCommand(body: () => Promise<void>, envName: string): void {
  prepareProcess();
  body().then(
    () => exit(EXIT.OK),
    (error: unknown) => {
      const failure = describeFailure(error, envName);
      console.error(`error: ${failure.message}`);
      return exit(failure.exitCode);
    },
  );
}
