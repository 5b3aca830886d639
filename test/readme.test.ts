import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRecipes } from './recipes';

const ROOT = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

/** Every fenced block of a language, outside the fork-guide recipes. */
function blocks(language: string): string[] {
  const outside = readme.replace(/<!-- recipe: [\w-]+ -->[\s\S]*?<!-- \/recipe -->/g, '');
  return [...outside.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]);
}
const commands = (block: string) =>
  block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);

test('the quick start is two commands, and CI runs both', () => {
  const [quickStart, ...others] = blocks('bash');
  expect(commands(quickStart)).toEqual(['npm ci && npx cdk synth', 'npm test']);
  expect(others).toEqual([]); // every other runnable block is a recipe (CI runs those too) or needs AWS (`sh`)
  expect(ci).toMatch(/^npm ci\b/m);
  expect(ci).toMatch(/^npx cdk synth$/m);
  expect(ci).toMatch(/^npm test$/m);
});

test('CI runs the fork guide recipes and the benchmark', () => {
  expect(ci).toMatch(/^npm run test:recipes$/m);
  expect(ci).toMatch(/^BENCH_SECONDS=\d+ npm run bench:app$/m);
  expect(parseRecipes(readme).map((r) => r.name)).toEqual(['rename', 'port', 'secret', 'staging', 'github', 'bluegreen']);
});

test('every recipe has a diff to apply and commands that synthesize and test', () => {
  for (const recipe of parseRecipes(readme)) {
    expect(recipe.diffs.length).toBeGreaterThan(0);
    const all = recipe.commands.join('\n');
    expect(all).toMatch(/npx cdk synth -c env=\w+/);
    expect(all).toMatch(/npm test/);
  }
});

test('every `npm run` script the README mentions exists', () => {
  const mentioned = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
  expect(mentioned.length).toBeGreaterThan(5);
  for (const script of new Set(mentioned)) expect(Object.keys(scripts)).toContain(script);
});

test('every file path the README names in backticks exists', () => {
  const paths = [...readme.matchAll(/`((?:lib|bin|test|app)\/[\w./-]+)`/g)].map((m) => m[1]).filter((p) => !p.includes('*'));
  expect(paths.length).toBeGreaterThan(5);
  for (const p of new Set(paths)) expect(fs.existsSync(path.join(ROOT, p.replace(/\/$/, '')))).toBe(true);
});

test("the README's status sample is what the status command renders", () => {
  const sample = fs.readFileSync(path.join(ROOT, 'test', 'ops', 'status-sample.txt'), 'utf8');
  expect(readme).toContain(`\`\`\`\n${sample}\`\`\``);
});
