import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IgnoreStrategy } from 'aws-cdk-lib';
import { type Copy, DockerfileParser } from 'dockerfile-ast';

/**
 * What `docker build app` sends as its build context, computed with Docker's own .dockerignore semantics:
 * aws-cdk-lib's `IgnoreStrategy.docker` is @balena/dockerignore, the matcher Docker-compatible tooling uses.
 * The Dockerfile's test stage runs `COPY . .` and then pytest, so the suite sees exactly these files.
 */
const APP_DIR = path.join(__dirname, '..', '..', 'app');

function dockerignorePatterns(ignoreFile: string): string[] {
  // Docker's syntax: one pattern a line; a line starting with # is a comment.
  return fs
    .readFileSync(ignoreFile, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Every file of `dir` that the build context holds, relative to `dir`, sorted. */
function buildContext(dir: string, patterns: string[]): string[] {
  const ignore = IgnoreStrategy.docker(dir, patterns);
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (!ignore.completelyIgnores(full)) walk(full);
      } else if (!ignore.ignores(full)) {
        files.push(path.relative(dir, full));
      }
    }
  };
  walk(dir);
  return files.sort();
}

/** The sources of every COPY that reads the build context (not `--from` another stage). */
function contextCopySources(dockerfile: string): string[] {
  return DockerfileParser.parse(dockerfile)
    .getInstructions()
    .filter((i) => i.getKeyword() === 'COPY' && !(i as Copy).getFlags().some((f) => f.getName() === 'from'))
    .flatMap((i) => i.getArguments().slice(0, -1).map((a) => a.getValue()));
}

/** Runs the app's pytest suite, as the Dockerfile's test stage does, on a copy of only `files`. */
function pytestOn(files: string[]): { status: number | null; output: string } {
  // Without the packages every run fails, and a test expecting a failure would pass for the wrong reason.
  if (spawnSync('/usr/bin/python3', ['-c', 'import flask, gunicorn, pytest']).status !== 0) {
    throw new Error(
      '/usr/bin/python3 cannot import flask, gunicorn and pytest, which this tier needs: apt-get install python3-flask gunicorn python3-pytest',
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-context-'));
  try {
    for (const file of files) {
      fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      fs.copyFileSync(path.join(APP_DIR, file), path.join(dir, file));
    }
    // /usr/bin/python3: Debian's Flask, gunicorn and pytest (test/python.sh); PYTHONDONTWRITEBYTECODE as in the image.
    const r = spawnSync('/usr/bin/python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 120_000,
    });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const context = buildContext(APP_DIR, dockerignorePatterns(path.join(APP_DIR, '.dockerignore')));

test('the build context holds every COPY source of the Dockerfile', () => {
  const sources = contextCopySources(fs.readFileSync(path.join(APP_DIR, 'Dockerfile'), 'utf8'));
  expect(sources).toEqual(expect.arrayContaining(['requirements.txt', 'requirements-dev.txt', '.', 'service/', 'gunicorn.conf.py']));
  for (const source of sources) {
    const prefix = source.replace(/\/$/, '');
    const present = prefix === '.' ? context.length > 0 : context.some((f) => f === prefix || f.startsWith(`${prefix}/`));
    expect({ source, present }).toEqual({ source, present: true });
  }
});

test('the build context keeps the Dockerfile, which the test stage reads, and leaves local state out', () => {
  expect(context).toContain('Dockerfile');
  expect(context).toContain('tests/test_gunicorn.py');
  expect(context.filter((f) => /__pycache__|\.pyc$|\.pytest_cache|^\.venv\//.test(f))).toEqual([]);
});

test('the test stage runs the same pytest command as npm run test:python', () => {
  const pytest = (text: string) => /python -m pytest ([^\n&"]*?tests)\b/.exec(text)?.[1];
  const dockerfile = fs.readFileSync(path.join(APP_DIR, 'Dockerfile'), 'utf8');
  const script = fs.readFileSync(path.join(__dirname, '..', 'python.sh'), 'utf8').replace(/"\$py"/g, 'python');
  expect(pytest(dockerfile)).toBe('-q -p no:cacheprovider tests');
  expect(pytest(script)).toBe(pytest(dockerfile));
});

test('the pytest suite passes on a copy of only the build context', () => {
  const result = pytestOn(context);
  // On failure, jest shows pytest's summary.
  expect(result.status === 0 ? 'passed' : result.output.trim().split('\n').slice(-15).join('\n')).toBe('passed');
}, 150_000);

test('fails when .dockerignore drops the Dockerfile (issue 9, defect 1)', () => {
  const withoutDockerfile = buildContext(APP_DIR, [...dockerignorePatterns(path.join(APP_DIR, '.dockerignore')), 'Dockerfile']);
  expect(withoutDockerfile).not.toContain('Dockerfile');
  const result = pytestOn(withoutDockerfile.filter((f) => f === 'tests/test_gunicorn.py' || !f.startsWith('tests/test_')));
  expect(result.status).not.toBe(0);
  expect(result.output).toMatch(/FileNotFoundError: .*Dockerfile/);
}, 150_000);
