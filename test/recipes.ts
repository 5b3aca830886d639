/**
 * `npm run test:recipes`: runs every recipe of the fork guide (docs/fork-guide.md) on a fresh copy of the project. For each
 * `<!-- recipe: NAME -->` section it applies the section's ```diff blocks with `git apply`, then runs its ```bash blocks.
 * Prints one line per recipe and a closing `N passed, N failed` line; exits non-zero on any failure.
 *
 *   npm run test:recipes                 every recipe
 *   npm run test:recipes -- port rename  only these
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
/** The document whose recipes this runs, relative to the project root. */
export const FORK_GUIDE = 'docs/fork-guide.md';

interface Recipe {
  name: string;
  diffs: string[];
  commands: string[];
}

export function parseRecipes(guide: string): Recipe[] {
  const recipes: Recipe[] = [];
  const sections = guide.matchAll(/<!-- recipe: ([\w-]+) -->([\s\S]*?)<!-- \/recipe -->/g);
  for (const [, name, body] of sections) {
    const blocks = [...body.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)];
    recipes.push({
      name,
      diffs: blocks.filter((b) => b[1] === 'diff').map((b) => b[2]),
      commands: blocks.filter((b) => b[1] === 'bash').map((b) => b[2]),
    });
  }
  return recipes;
}

/** A copy of the project's files (tracked and new, not ignored), sharing node_modules. */
export function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recipe-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
  for (const file of files) {
    fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // The CodeCommit seed is what git tracks: the copy is a work tree of its own, its files staged.
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['add', '-A'], { cwd: dir });
  return dir;
}

function run(recipe: Recipe): { ok: boolean; seconds: number; detail: string } {
  const started = Date.now();
  const dir = copyProject();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  for (const [i, diff] of recipe.diffs.entries()) {
    const patch = path.join(dir, `.recipe-${i}.diff`);
    fs.writeFileSync(patch, diff);
    const applied = spawnSync('git', ['apply', '--verbose', patch], { cwd: dir, encoding: 'utf8' });
    fs.rmSync(patch);
    if (applied.status !== 0) return { ok: false, seconds: seconds(), detail: `the diff does not apply:\n${applied.stderr}` };
  }
  for (const commands of recipe.commands) {
    const result = spawnSync('bash', ['-euo', 'pipefail', '-c', commands], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    if (result.status !== 0) {
      const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
      return { ok: false, seconds: seconds(), detail: `\`${commands.trim()}\` failed:\n${output}` };
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { ok: true, seconds: seconds(), detail: '' };
}

if (require.main === module) {
  if (spawnSync('git', ['--version']).error) {
    console.error(
      'test:recipes: git is not on PATH; the recipes are applied with git apply: apt-get install git, or brew install git',
    );
    process.exit(1);
  }
  const only = process.argv.slice(2);
  const recipes = parseRecipes(fs.readFileSync(path.join(ROOT, FORK_GUIDE), 'utf8')).filter(
    (r) => !only.length || only.includes(r.name),
  );
  if (recipes.length === 0) {
    console.error(`test:recipes: no recipe found in ${FORK_GUIDE}`);
    process.exit(1);
  }
  let passed = 0;
  let failed = 0;
  for (const recipe of recipes) {
    const result = run(recipe);
    if (result.ok) passed++;
    else failed++;
    console.log(
      `${result.ok ? 'PASS' : 'FAIL'} recipe ${recipe.name} (${result.seconds}s)${result.ok ? '' : `\n${result.detail}`}`,
    );
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
