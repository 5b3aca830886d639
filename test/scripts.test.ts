import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
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
  if (result.error) throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${result.error.message}`);
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});
