import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environments } from '../../lib/config';
import { EXIT } from '../../lib/ops/errors';

const ROOT = path.join(__dirname, '..', '..');

/** Runs an ops command as a user without any AWS credentials would. */
function runWithoutCredentials(script: string, args: string[]) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'home-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, HOME: home, AWS_CONFIG_FILE: path.join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none') },
    timeout: 20000,
  });
}

const NO_CREDENTIALS =
  'error: no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry\n';

test.each([
  ['bin/status.ts', ['--env', 'dev']],
  ['bin/rollback.ts', ['--env', 'dev']],
  ['bin/verify.ts', ['--env', 'dev', '--tag', 'abc', '--digest', 'sha256:0']],
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
