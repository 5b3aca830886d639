/**
 * `npm run test:forks`: proves that a fork may change its environments freely. For each variant below it edits
 * `lib/config/environments.ts` (and nothing else) in a fresh copy of the project, then runs what the fork guide tells a
 * fork to run: `npm run docs && npm run test:update && npm test`. A test that hard-codes an environment's name or values,
 * or documentation that depends on them, fails here.
 * Prints one line per variant and a closing `N passed, N failed` line; exits non-zero on any failure.
 *
 *   npm run test:forks                       every variant
 *   npm run test:forks -- renamed third-env  only these
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyProject } from './recipes';

const CONFIG = path.join('lib', 'config', 'environments.ts');
const COMMANDS = 'npm run docs && npm run test:update && npm test';

/** The source of one environment's object literal (`const NAME… = { … };`) in environments.ts. */
export function environmentBlock(source: string, name: string): string {
  const match = new RegExp(`^const ${name}\\b[^=]*= \\{\\n[\\s\\S]*?^\\};?$`, 'm').exec(source);
  if (!match) throw new Error(`${CONFIG} has no \`const ${name} … = { … };\` block: update test/forks.ts to its new shape`);
  return match[0];
}

/** Replaces `from` (a regular expression) inside environment `name`'s block; fails if it does not match exactly once. */
export function edit(source: string, name: string, from: RegExp, to: string): string {
  const block = environmentBlock(source, name);
  const matches = block.match(new RegExp(from.source, 'gm')) ?? [];
  if (matches.length !== 1) throw new Error(`${CONFIG}: ${from} matches ${matches.length} times in \`${name}\`, expected once`);
  return source.replace(block, block.replace(new RegExp(from.source, 'm'), to));
}

/** Each variant is an edit a fork plausibly makes, with valid values. */
export const VARIANTS: Record<string, (source: string) => string> = {
  // A bigger dev: more CPU and memory, and room to scale out.
  bigger: (s) => {
    s = edit(s, 'dev', /^(\s*)cpu: \d+,/, '$1cpu: 1024,');
    s = edit(s, 'dev', /^(\s*)memoryLimitMiB: \d+,/, '$1memoryLimitMiB: 2048,');
    return edit(s, 'dev', /^(\s*)maxCapacity: \d+,/, '$1maxCapacity: 10,');
  },
  // dev on the private network profile, behind one NAT gateway.
  private: (s) => {
    s = edit(s, 'dev', /^(\s*)networkProfile: '\w+',/, "$1networkProfile: 'private',");
    return edit(s, 'dev', /^(\s*)natGateways: \d+,/, '$1natGateways: 1,');
  },
  // dev renamed to `staging`, and made the default.
  renamed: (s) => {
    s = edit(s, 'dev', /^(\s*)envName: 'dev',/, "$1envName: 'staging',");
    s = s.replace(/^const dev\b/m, 'const staging');
    s = s.replace(/\{ dev, prod \}/, '{ staging, prod }');
    if (!/\{ staging, prod \}/.test(s)) throw new Error(`${CONFIG}: the environments map is not \`{ dev, prod }\``);
    return s.replace(/^export const DEFAULT_ENVIRONMENT = 'dev';$/m, "export const DEFAULT_ENVIRONMENT = 'staging';");
  },
  // A third environment, `qa`: a copy of dev on its own network.
  'third-env': (s) => {
    let qa = environmentBlock(s, 'dev').replace(/^const dev\b/, 'const qa');
    qa = edit(qa, 'qa', /^(\s*)envName: 'dev',/, "$1envName: 'qa',");
    qa = edit(qa, 'qa', /^(\s*)vpcCidr: '[\d./]+',/, "$1vpcCidr: '10.30.0.0/16',");
    s = s.replace(/^(export const environments\b)/m, `${qa}\n\n$1`);
    if (!/\{ dev, prod \}/.test(s)) throw new Error(`${CONFIG}: the environments map is not \`{ dev, prod }\``);
    return s.replace(/\{ dev, prod \}/, '{ dev, prod, qa }');
  },
};

function run(name: string, variant: (source: string) => string): { ok: boolean; seconds: number; detail: string } {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const dir = copyProject();
  const file = path.join(dir, CONFIG);
  try {
    fs.writeFileSync(file, variant(fs.readFileSync(file, 'utf8')));
  } catch (e) {
    return { ok: false, seconds: seconds(), detail: (e as Error).message };
  }
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', COMMANDS], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  if (result.status !== 0) {
    const lines = `${result.stdout}\n${result.stderr}`.trim().split('\n');
    // jest's failing files and tests, then the tail of whatever failed.
    const failures = [...new Set(lines.filter((l) => /^FAIL |^\s+● .+ › /.test(l)))];
    const output = [...failures, '…', ...lines.slice(-30)].join('\n');
    return { ok: false, seconds: seconds(), detail: `\`${COMMANDS}\` failed in ${dir}:\n${output}` };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { ok: true, seconds: seconds(), detail: '' };
}

if (require.main === module) {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !(n in VARIANTS));
  if (unknown.length) {
    console.error(`test:forks: no variant ${unknown.join(', ')}; the variants are ${Object.keys(VARIANTS).join(', ')}`);
    process.exit(2);
  }
  let passed = 0;
  let failed = 0;
  for (const [name, variant] of Object.entries(VARIANTS).filter(([n]) => !only.length || only.includes(n))) {
    const result = run(name, variant);
    if (result.ok) passed++;
    else failed++;
    console.log(`${result.ok ? 'PASS' : 'FAIL'} fork ${name} (${result.seconds}s)${result.ok ? '' : `\n${result.detail}`}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
