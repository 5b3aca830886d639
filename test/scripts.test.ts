import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

/** Every shell script of the project: .ci/run, the test stubs and every *.sh outside node_modules and cdk.out. */
const STUBS = path.join(ROOT, 'test', 'pipeline', 'stubs');
function shellScripts(
  dir = ROOT,
  found: string[] = [path.join(ROOT, '.ci', 'run'), ...fs.readdirSync(STUBS).map((f) => path.join(STUBS, f))],
): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'cdk.out', '.git', '.venv'].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) shellScripts(full, found);
    else if (entry.name.endsWith('.sh')) found.push(full);
  }
  return found;
}

test.each(shellScripts().map((f) => [path.relative(ROOT, f)]))('%s is shellcheck-clean', (file) => {
  const result = spawnSync('shellcheck', ['--external-sources', file], { cwd: ROOT, encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      `shellcheck is not installed (apt-get install shellcheck, or brew install shellcheck): ${result.error.message}`,
    );
  }
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

/** A directory holding only the named commands of this machine, to run a script on a PATH that lacks the others. */
function pathWith(commands: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'path-'));
  for (const command of commands) {
    const found = spawnSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
    if (found) fs.symlinkSync(found, path.join(dir, command));
  }
  return dir;
}
const BASH = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

/** The commands `npm test` runs besides Node, with their install commands (README, Prerequisites). */
const NPM_TEST_NEEDS: Record<string, string> = {
  shellcheck: 'apt-get install shellcheck, or brew install shellcheck',
  jq: 'apt-get install jq, or brew install jq', // the pipeline scripts parse AWS CLI output with it
  git: 'apt-get install git, or brew install git',
  python3: 'apt-get install python3, or brew install python',
};
test.each(Object.keys(NPM_TEST_NEEDS))('%s is installed (npm test needs it)', (command) => {
  const found = spawnSync('bash', ['-c', `command -v ${command}`]).status === 0;
  if (!found) throw new Error(`${command} is not on PATH; npm test needs it: ${NPM_TEST_NEEDS[command]}`);
});

// A tier whose prerequisite is missing fails, and says how to install it; it never skips (README, Prerequisites).
describe('a missing prerequisite fails with the install command', () => {
  test('fails when the Python tests get an interpreter without Flask, gunicorn and pytest', () => {
    const venv = fs.mkdtempSync(path.join(os.tmpdir(), 'bare-python-'));
    expect(spawnSync('python3', ['-m', 'venv', '--without-pip', venv]).status).toBe(0); // any Python 3, without the packages
    const r = spawnSync(BASH, [path.join(ROOT, 'test', 'python.sh')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PYTHON: path.join(venv, 'bin', 'python') },
    });
    fs.rmSync(venv, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`python.sh: PYTHON=${path.join(venv, 'bin', 'python')} cannot import flask, gunicorn and pytest`);
    expect(r.stderr).toContain("'apt-get install python3-flask gunicorn python3-pytest'");
    expect(r.stderr).toContain("'python3 -m venv app/.venv && app/.venv/bin/pip install -r app/requirements-dev.txt'");
  });

  test('fails when the benchmark finds no wrk on PATH', () => {
    const bin = pathWith(['dirname', 'unshare', 'jq', 'bc', 'curl']);
    const r = spawnSync(BASH, [path.join(ROOT, 'test', 'bench', 'app-bench.sh')], { encoding: 'utf8', env: { PATH: bin } });
    fs.rmSync(bin, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('app-bench: wrk is required (apt-get install wrk util-linux jq bc curl)\n');
  });

  test('fails when the benchmark does not run as root, before it starts anything', () => {
    // The script alone, in a directory any user may read (the project may sit where only its owner can).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-as-user-'));
    const script = path.join(dir, 'test', 'bench', 'app-bench.sh');
    fs.mkdirSync(path.dirname(script), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'test', 'bench', 'app-bench.sh'), script);
    for (const d of [dir, path.join(dir, 'test'), path.dirname(script)]) fs.chmodSync(d, 0o755);
    fs.chmodSync(script, 0o644);
    // As root (CI), drop to nobody for this run; as anyone else, run as is.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', BASH] : [BASH];
    const r = spawnSync(asUser[0], [...asUser.slice(1), script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir },
      timeout: 20000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toContain('app-bench: needs root, for unshare --pid and the cgroup CPU quota: run it as root (sudo)\n');
    expect(r.status).toBe(1);
  });
});
