import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_ENVIRONMENT, environments } from '../../lib/config';
import { EXIT } from '../../lib/ops/errors';

const ROOT = path.join(__dirname, '..', '..');

/** Runs an ops command as a user without any AWS credentials would. */
function runWithoutCredentials(script: string, args: string[], stdin: 'pipe' | number = 'pipe') {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'home-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, HOME: home, AWS_CONFIG_FILE: path.join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none') },
    timeout: 20000,
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

const NO_CREDENTIALS =
  'error: no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry\n';

test.each([
  ['bin/status.ts', ['--env', DEFAULT_ENVIRONMENT]],
  ['bin/rollback.ts', ['--env', DEFAULT_ENVIRONMENT, '--yes']],
  ['bin/verify.ts', ['--env', DEFAULT_ENVIRONMENT, '--tag', 'abc', '--digest', 'sha256:0']],
])('%s without credentials prints one line and exits with NO_CREDENTIALS', (script, args) => {
  const result = runWithoutCredentials(script, args);
  expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
    status: EXIT.NO_CREDENTIALS,
    stdout: '',
    stderr: NO_CREDENTIALS,
  });
});

test('an unknown environment is a usage error', () => {
  const result = runWithoutCredentials('bin/status.ts', ['--env', 'nosuchenv']);
  expect(result.status).toBe(EXIT.USAGE);
  expect(result.stderr).toBe(
    `error: env: 'nosuchenv' is not a configured environment; use one of ${Object.keys(environments).join(', ')}\n`,
  );
});

// The check does not depend on the environment; a production one is where going ahead unasked hurts.
const PRODUCTION = Object.values(environments).find((c) => c.production)?.envName ?? DEFAULT_ENVIRONMENT;

test(`rollback --env ${PRODUCTION} fails when stdin is not a terminal and --yes is missing, before any AWS call`, () => {
  const devNull = fs.openSync('/dev/null', 'r');
  // No credentials: reaching AWS would exit NO_CREDENTIALS, so exit 2 shows the refusal came first.
  const result = runWithoutCredentials('bin/rollback.ts', ['--env', PRODUCTION], devNull);
  fs.closeSync(devNull);
  expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
    status: EXIT.USAGE,
    stdout: '',
    stderr:
      'error: rollback asks before it changes anything, but stdin is not a terminal: run it from a terminal, or pass --yes to roll back without asking; nothing changed\n',
  });
});
