import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DEFAULT_ENVIRONMENT, environments } from '../../lib/config';
import { type Command, type Io, UsageError, main, seconds } from '../../lib/ops/cli';
import { EXIT } from '../../lib/ops/errors';

const ROOT = path.join(__dirname, '..', '..');
const ENVS = Object.keys(environments).join(', ');
/** Shipped environments by role, not by name: a fork renames them (npm run test:forks). */
const ENV = DEFAULT_ENVIRONMENT;
const PRODUCTION = Object.values(environments).find((c) => c.production)?.envName ?? DEFAULT_ENVIRONMENT;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an ops command through its real entry point, as a user without any AWS configuration would (plus `env`).
 * Asynchronous, so that a test can serve a fake endpoint from this process meanwhile.
 */
function runCli(script: string, args: string[], env: Record<string, string> = {}, stdin: 'pipe' | number = 'pipe') {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'home-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), script, ...args], {
    cwd: ROOT,
    env: {
      ...clean,
      HOME: home,
      AWS_CONFIG_FILE: path.join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
      ...env,
    },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  if (stdin === 'pipe') child.stdin?.end();
  const result: Run = { status: null, stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk) => (result.stdout += chunk));
  child.stderr?.on('data', (chunk) => (result.stderr += chunk));
  const timer = setTimeout(() => child.kill(), 40_000);
  return new Promise<Run>((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ ...result, status });
    }),
  );
}

/** Fake credentials and one attempt per call, so that a network failure shows at once. */
const FAKE_AWS = { AWS_ACCESS_KEY_ID: 'AKIAFAKE', AWS_SECRET_ACCESS_KEY: 'fake', AWS_REGION: 'eu-west-1', AWS_MAX_ATTEMPTS: '1' };

/** A local HTTP server for the duration of `body`; its URL is what AWS_ENDPOINT_URL points the SDK at. */
async function withServer<T>(handler: http.RequestListener, body: (url: string) => Promise<T>): Promise<T> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  return withServer(
    () => undefined,
    async (url) => Number(new URL(url).port),
  );
}

const usageOf = (script: string) => {
  const text = fs.readFileSync(path.join(ROOT, script), 'utf8');
  const usage = text.slice(text.indexOf('`usage: ') + 1, text.indexOf('`;', text.indexOf('`usage: ')));
  return usage.replace('${DEFAULT_ENVIRONMENT}', DEFAULT_ENVIRONMENT);
};
const ONE_LINE = /^error: [^\n]+\n$/;

describe('through the real entry points', () => {
  const NO_CREDENTIALS =
    'error: no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry\n';

  test.concurrent.each([
    ['bin/status.ts', ['--env', ENV]],
    ['bin/rollback.ts', ['--env', ENV, '--yes']],
    ['bin/verify.ts', ['--env', ENV, '--tag', 'abc', '--digest', 'sha256:0']],
  ])('%s without credentials prints one line and exits with NO_CREDENTIALS', async (script, args) => {
    expect(await runCli(script, args)).toEqual({ status: EXIT.NO_CREDENTIALS, stdout: '', stderr: NO_CREDENTIALS });
  });

  test.concurrent('status --help prints the usage on stdout and exits 0', async () => {
    expect(await runCli('bin/status.ts', ['--help'])).toEqual({ status: 0, stdout: `${usageOf('bin/status.ts')}\n`, stderr: '' });
  });

  test.concurrent('fails when status gets an unknown environment: usage, exit 2', async () => {
    expect(await runCli('bin/status.ts', ['--env', 'nosuchenv'])).toEqual({
      status: EXIT.USAGE,
      stdout: '',
      stderr: `error: --env: 'nosuchenv' is not a configured environment; use one of ${ENVS}\n\n${usageOf('bin/status.ts')}\n`,
    });
  });

  test.concurrent('fails when rollback gets an option without its value: usage, exit 2', async () => {
    expect(await runCli('bin/rollback.ts', ['--env', ENV, '--to'])).toEqual({
      status: EXIT.USAGE,
      stdout: '',
      stderr: `error: Option '--to <value>' argument missing\n\n${usageOf('bin/rollback.ts')}\n`,
    });
  });

  test.concurrent('fails when verify gets a positional argument: usage, exit 2', async () => {
    expect(await runCli('bin/verify.ts', ['--env', ENV, 'stray'])).toEqual({
      status: EXIT.USAGE,
      stdout: '',
      stderr: `error: Unexpected argument 'stray'. This command does not take positional arguments\n\n${usageOf('bin/verify.ts')}\n`,
    });
  });

  // The check does not depend on the environment; a production one is where going ahead unasked hurts.
  test.concurrent(
    `rollback --env ${PRODUCTION} fails when stdin is not a terminal and --yes is missing, before any AWS call`,
    async () => {
      const devNull = fs.openSync('/dev/null', 'r');
      // No credentials: reaching AWS would exit NO_CREDENTIALS, so exit 2 shows the refusal came first.
      const result = await runCli('bin/rollback.ts', ['--env', PRODUCTION], {}, devNull);
      fs.closeSync(devNull);
      expect(result).toEqual({
        status: EXIT.USAGE,
        stdout: '',
        stderr:
          'error: rollback asks before it changes anything, but stdin is not a terminal: run it from a terminal, or pass --yes to roll back without asking; nothing changed\n',
      });
    },
  );

  test.concurrent('status fails in one line with the next step when the endpoint refuses connections', async () => {
    const port = await closedPort();
    const result = await runCli('bin/status.ts', ['--env', ENV], { ...FAKE_AWS, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
    expect(result).toEqual({
      status: EXIT.NETWORK,
      stdout: '',
      stderr: expect.stringMatching(ONE_LINE),
    });
    expect(result.stderr).toBe(
      `error: STS GetCallerIdentity (http://127.0.0.1:${port}) failed: connect ECONNREFUSED 127.0.0.1:${port}: nothing accepts connections there; check AWS_ENDPOINT_URL if you set one, your VPN or firewall, then retry (\`aws sts get-caller-identity\` tests the same connection)\n`,
    );
  });

  test.concurrent('rollback fails in one line when the connection is cut (socket hang up)', async () => {
    const result = await withServer(
      (req) => req.socket.destroy(),
      (url) => runCli('bin/rollback.ts', ['--env', ENV, '--yes'], { ...FAKE_AWS, AWS_ENDPOINT_URL: url }),
    );
    expect(result).toEqual({ status: EXIT.NETWORK, stdout: '', stderr: expect.stringMatching(ONE_LINE) });
    expect(result.stderr).toMatch(
      /^error: STS GetCallerIdentity \(http:\/\/127\.0\.0\.1:\d+\) failed: socket hang up: the connection timed out or was cut; check your network, VPN or proxy, then retry/,
    );
  });

  test.concurrent('verify fails in one line when STS says the credentials expired', async () => {
    // STS answers expired session credentials with the error code ExpiredToken (Apache Ozone mirrors what AWS
    // returns: https://issues.apache.org/jira/browse/HDDS-14847); the SDK's query protocol parses this body.
    const expired = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>0</RequestId></ErrorResponse>`;
    const result = await withServer(
      (req, res) => req.resume().on('end', () => res.writeHead(403, { 'content-type': 'text/xml' }).end(expired)),
      (url) =>
        runCli('bin/verify.ts', ['--env', ENV, '--tag', 'abc', '--digest', 'sha256:0'], { ...FAKE_AWS, AWS_ENDPOINT_URL: url }),
    );
    expect(result).toEqual({
      status: EXIT.NO_CREDENTIALS,
      stdout: '',
      stderr:
        'error: your AWS credentials are expired or invalid (ExpiredToken): run `aws sso login` or refresh AWS_PROFILE, then retry\n',
    });
  });
});

describe('main', () => {
  const USAGE = 'usage: demo [--env NAME] [--to TAG] [--yes] [--interval SECONDS]';
  const ran: unknown[] = [];
  const demo: Command<{
    env: { type: 'string'; default: string };
    to: { type: 'string' };
    yes: { type: 'boolean'; short: 'y' };
    interval: { type: 'string'; default: string };
  }> = {
    usage: USAGE,
    options: {
      env: { type: 'string', default: ENV },
      to: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      interval: { type: 'string', default: '10' },
    },
    check: (values) => void seconds('interval', values.interval),
    run: async (values, io) => {
      ran.push(values);
      if (values.to === 'config') throw new ConfigError(['dev.cpu: 384 is not a Fargate CPU size', 'dev.memoryLimitMiB: 1']);
      if (values.to === 'refused') {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED', syscall: 'connect' });
      }
      if (values.to === 'usage') throw new UsageError('never printed with the usage from a body');
      io.out(`to ${values.to}`);
    },
  };

  async function call(argv: string[], command = demo) {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t) };
    const status = await main(command, argv, io);
    return { status, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  beforeEach(() => (ran.length = 0));

  test.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['-x'], "Unknown option '-x'"],
    [['--env'], "Option '--env <value>' argument missing"],
    [['--to', '--yes'], "Option '--to' argument is ambiguous"],
    [['stray'], "Unexpected argument 'stray'"],
    [['--yes=1'], "Option '-y, --yes' does not take an argument"],
    [['--env', 'nosuchenv'], `--env: 'nosuchenv' is not a configured environment; use one of ${ENVS}`],
    [['--interval', 'soon'], "--interval: 'soon' is not a whole number of seconds (at least 1)"],
    [['--interval', '0'], "--interval: '0' is not a whole number of seconds (at least 1)"],
  ])('fails when the arguments are %j: usage on stderr, exit 2, nothing run', async (argv, message) => {
    const result = await call(argv);
    expect(result.status).toBe(EXIT.USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`error: ${message}`)).toBe(true);
    expect(result.stderr.split('\n')).toHaveLength(3);
    expect(result.stderr.endsWith(`\n\n${USAGE}`)).toBe(true);
    expect(ran).toEqual([]);
  });

  test.each([[['--help']], [['-h']], [['--env', ENV, '--help']], [['--bogus', '-h']]])(
    '%j prints the usage on stdout and exits 0, nothing run',
    async (argv) => {
      expect(await call(argv)).toEqual({ status: 0, stdout: USAGE, stderr: '' });
      expect(ran).toEqual([]);
    },
  );

  test('--help after -- is an argument, not a request for help', async () => {
    expect((await call(['--', '--help'])).status).toBe(EXIT.USAGE);
  });

  test('runs the body with the parsed values', async () => {
    expect(await call(['--env', ENV, '-y', '--to=abc'])).toEqual({ status: 0, stdout: 'to abc', stderr: '' });
    expect(ran).toEqual([expect.objectContaining({ env: ENV, yes: true, to: 'abc', interval: '10' })]);
  });

  test('fails when the configuration is invalid: its errors on one line, exit 2, no usage', async () => {
    expect(await call(['--to', 'config'])).toEqual({
      status: EXIT.USAGE,
      stdout: '',
      stderr: 'error: dev.cpu: 384 is not a Fargate CPU size; dev.memoryLimitMiB: 1',
    });
  });

  test('fails when the body meets a network failure: one line, exit NETWORK', async () => {
    const result = await call(['--to', 'refused']);
    expect(result.status).toBe(EXIT.NETWORK);
    expect(`${result.stderr}\n`).toMatch(ONE_LINE);
    expect(result.stderr).toMatch(/^error: an AWS call failed: connect ECONNREFUSED 127\.0\.0\.1:443: /);
  });
});
