import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_ENVIRONMENT, environments } from '../../lib/config';
import { CDK_CONTEXT } from '../helpers';

// The selected environment is the default; another one is broken. By role, not by name: a fork renames them.
const BROKEN = Object.keys(environments).find((name) => name !== DEFAULT_ENVIRONMENT)!;

const ROOT = path.join(__dirname, '..', '..');

test('fails when an environment other than the selected one is broken: one line naming it, no stack trace, no cdk.out', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
  const outdir = path.join(dir, 'cdk.out');
  fs.mkdirSync(outdir);
  // bin/ exactly as `cdk synth` runs it, after prod (not the selected dev) is broken in memory.
  const entry = path.join(dir, 'entry.ts');
  fs.writeFileSync(
    entry,
    [
      `import { environments } from ${JSON.stringify(path.join(ROOT, 'lib/config/environments'))};`,
      `(environments[${JSON.stringify(BROKEN)}] as { cpu: number }).cpu = 384;`,
      `require(${JSON.stringify(path.join(ROOT, 'bin/fargate-app-template'))});`,
    ].join('\n'),
  );
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), entry], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_CONTEXT, env: DEFAULT_ENVIRONMENT }) },
  });
  expect(result.stderr).toBe(
    `Invalid configuration:\n${BROKEN}.cpu: 384 is not valid; use one of 256, 512, 1024, 2048, 4096, 8192, 16384\n`,
  );
  expect(result.status).toBe(1);
  expect(fs.readdirSync(outdir)).toEqual([]);
});
