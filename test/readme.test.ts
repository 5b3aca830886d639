import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { REFERENCE_FILE } from '../lib/config/reference';
import { anchorsOf, brokenLinks, linksOf, reachableFrom } from './markdown-links';
import { FORK_GUIDE, parseRecipes } from './recipes';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const readme = read('README.md');
/** README.md and every docs/*.md, as paths relative to the project root. */
const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const ci = read('.ci/run');
const scripts = JSON.parse(read('package.json')).scripts;

/** A newcomer reads the README in ten minutes; everything longer lives in docs/ (issue 12). */
const README_MAX_BYTES = 15 * 1024;

/** Every fenced block of a language, outside the fork-guide recipes. */
function blocks(markdown: string, language: string): string[] {
  const outside = markdown.replace(/<!-- recipe: [\w-]+ -->[\s\S]*?<!-- \/recipe -->/g, '');
  return [...outside.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]);
}
const commands = (block: string) =>
  block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);

test(`the README is at most ${README_MAX_BYTES} bytes`, () => {
  expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(README_MAX_BYTES);
});

test('the quick start is two commands, and CI runs both', () => {
  const [quickStart, ...others] = blocks(readme, 'bash');
  expect(commands(quickStart)).toEqual(['npm ci && npx cdk synth', 'npm test']);
  expect(others).toEqual([]); // every other runnable block is a recipe (CI runs those too) or needs AWS (`sh`)
  for (const doc of DOCS.filter((d) => d !== 'README.md')) expect([doc, blocks(read(doc), 'bash')]).toEqual([doc, []]);
  expect(ci).toMatch(/^npm ci\b/m);
  expect(ci).toMatch(/^npx cdk synth$/m);
  expect(ci).toMatch(/^npm test$/m);
});

test('CI runs the fork guide recipes and the benchmark', () => {
  expect(ci).toMatch(/^npm run test:recipes$/m);
  expect(ci).toMatch(/^BENCH_SECONDS=\d+ npm run bench:app$/m);
  expect(parseRecipes(read(FORK_GUIDE)).map((r) => r.name)).toEqual([
    'rename',
    'port',
    'secret',
    'staging',
    'github',
    'bluegreen',
  ]);
});

test('every recipe has a diff to apply and commands that synthesize and test', () => {
  for (const recipe of parseRecipes(read(FORK_GUIDE))) {
    expect(recipe.diffs.length).toBeGreaterThan(0);
    const all = recipe.commands.join('\n');
    expect(all).toMatch(/npx cdk synth -c env=\w+/);
    expect(all).toMatch(/npm test/);
  }
});

test.each(DOCS)('every `npm run` script %s mentions exists', (doc) => {
  const mentioned = [...read(doc).matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
  for (const script of new Set(mentioned))
    expect([doc, script, Object.keys(scripts).includes(script)]).toEqual([doc, script, true]);
});

test('the README names the scripts a newcomer runs', () => {
  for (const script of ['status', 'rollback', 'docs', 'test:update']) expect(readme).toContain(`npm run ${script}`);
});

/** Paths the docs name that a command creates, not the repository. */
const CREATED_BY_COMMANDS = new Set(['app/service/smoke-test.txt']); // `npm run test:aws` commits it

test.each(DOCS)('every file path %s names in backticks exists', (doc) => {
  const paths = [...read(doc).matchAll(/`((?:lib|bin|test|app|docs)\/[\w./-]+)`/g)]
    .map((m) => m[1])
    .filter((p) => !p.includes('*') && !CREATED_BY_COMMANDS.has(p));
  for (const p of new Set(paths)) expect([doc, p, fs.existsSync(path.join(ROOT, p.replace(/\/$/, '')))]).toEqual([doc, p, true]);
});

test('every relative link and anchor of the README and docs/*.md resolves', () => {
  expect(brokenLinks(ROOT, DOCS)).toEqual([]);
});

test('every document in docs/ is reachable from the README', () => {
  const reached = reachableFrom(ROOT, 'README.md');
  expect(DOCS.filter((d) => !reached.has(d))).toEqual([]);
});

test('the README links each moved section directly', () => {
  const linked = new Set(linksOf(readme).map((l) => l.split('#')[0]));
  for (const doc of [
    REFERENCE_FILE,
    FORK_GUIDE,
    'docs/operations.md',
    'docs/design.md',
    'docs/cost-and-speed.md',
    'docs/troubleshooting.md',
    'docs/app.md',
    'docs/pipeline.md',
    'docs/developing.md',
  ]) {
    expect([doc, linked.has(doc)]).toEqual([doc, true]);
  }
});

describe('the link check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'links-'));
  fs.mkdirSync(path.join(dir, 'docs'));
  fs.writeFileSync(path.join(dir, 'README.md'), '# Top\n\nSee [ops](docs/ops.md#day-2-basics) and [gone](docs/gone.md).\n');
  fs.writeFileSync(
    path.join(dir, 'docs', 'ops.md'),
    '# Ops\n\n## `npm run status -- --env dev`\n\n## Logs\n\n## Logs\n\n```\n## not a heading\n```\n[up](../README.md#top) [bad](../README.md#nope) [web](https://example.com/#x)\n',
  );

  test('reads GitHub heading IDs, with duplicates numbered and code blocks skipped', () => {
    expect([...anchorsOf(fs.readFileSync(path.join(dir, 'docs', 'ops.md'), 'utf8'))]).toEqual([
      'ops',
      'npm-run-status------env-dev',
      'logs',
      'logs-1',
    ]);
  });

  test('fails when a link names a missing file or a missing heading', () => {
    expect(brokenLinks(dir, ['README.md', 'docs/ops.md'])).toEqual([
      "README.md: docs/ops.md#day-2-basics (docs/ops.md has no heading with the ID 'day-2-basics')",
      'README.md: docs/gone.md (no file docs/gone.md)',
      "docs/ops.md: ../README.md#nope (README.md has no heading with the ID 'nope')",
    ]);
  });
});

test('the status sample in docs/operations.md is what the status command renders', () => {
  const sample = read('test/ops/status-sample.txt');
  expect(read('docs/operations.md')).toContain(`\`\`\`\n${sample}\`\`\``);
});

test('the prerequisites name every tool a tier checks for', () => {
  const bench = /^for tool in ([\w ]+); do$/m.exec(read('test/bench/app-bench.sh'))![1].split(' ');
  const required = /REQUIRED_COMMANDS: Record<string, string> = \{([^}]*)\}/.exec(read('test/container/rehearsal.ts'))![1];
  const container = [...required.matchAll(/(\w+):/g)].map((m) => m[1]);
  const section = readme.slice(
    readme.indexOf('## Prerequisites'),
    readme.indexOf('\n## ', readme.indexOf('## Prerequisites') + 1),
  );
  for (const tool of [...bench.filter((t) => t !== 'unshare'), ...container, 'catatonit', 'shellcheck', 'cfn-lint', 'jq', 'bc']) {
    expect([tool, section.includes(tool)]).toEqual([tool, true]);
  }
  expect(section).toMatch(/root \(`unshare --pid`/);
});

describe('the local run', () => {
  const app = read('docs/app.md');
  const local = blocks(app.slice(app.indexOf('## Run it locally without Docker')), 'sh')[0];
  const gunicorn = commands(local).find((c) => /gunicorn --config/.test(c))!;

  test('publishes the container on the loopback address only', () => {
    const run = commands(blocks(app.slice(app.indexOf('## Run it with Docker')), 'sh')[0]).find((c) => /docker run/.test(c))!;
    expect(run).toMatch(/ -p 127\.0\.0\.1:8080:8080 /);
  });

  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM'); // gunicorn's graceful stop also ends its worker
    await exited;
  });

  test("the documented gunicorn command listens on 127.0.0.1 only, overriding the config file's 0.0.0.0", async () => {
    // The command as documented, on a free port, with the interpreter test/python.sh would pick for .venv/bin/gunicorn.
    const python = [process.env.PYTHON, '/usr/bin/python3', path.join(ROOT, 'app', '.venv', 'bin', 'python')].find(
      (py) => py && spawnSync(py, ['-c', 'import flask, gunicorn']).status === 0,
    );
    if (!python) throw new Error('no Python with flask and gunicorn: see the README, Prerequisites');
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const words = gunicorn.replace(/:8080\b/g, `:${port}`).split(/\s+/);
    const env = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split('=', 2)));
    const args = words.slice(words.findIndex((w) => w.endsWith('gunicorn')) + 1);
    expect(args).toContain('--bind');
    server = spawn(python, ['-m', 'gunicorn', ...args], {
      cwd: path.join(ROOT, 'app'),
      env: { PATH: process.env.PATH, ...env, GUNICORN_WORKERS: '1' },
    });
    let log = '';
    server.stderr!.on('data', (d) => (log += d));
    for (let i = 0; i < 100 && !/Listening at/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toContain(`Listening at: http://127.0.0.1:${port} `);
    // Nothing listens on that port on any other address (the kernel's table of listening TCP sockets).
    const listening = fs
      .readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port)
      .map((f) => f[1].split(':')[0]);
    expect(listening).toEqual(['0100007F']);
  });
});
