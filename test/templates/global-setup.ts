/**
 * The templates tier's global setup (`npm run test:templates`): what test/setup/global-setup.ts does (each shipped
 * environment, through `bin/` as `cdk synth` runs it), then each variant of targets.ts, in child processes that run
 * alongside one another. Shipped environments land in SYNTH_DIR/NAME
 * and variants in VARIANTS_DIR/NAME, each with NAME.cli.json recording how its synthesis ended.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import shippedSetup from '../setup/global-setup';
import { VARIANTS } from './targets';

const ROOT = path.join(__dirname, '..', '..');

function synthesize(dir: string, name: string): Promise<void> {
  const outdir = path.join(dir, name);
  fs.mkdirSync(outdir);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'test/templates/synth-variant.ts', name, outdir],
      {
        cwd: ROOT,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      fs.writeFileSync(path.join(dir, `${name}.cli.json`), JSON.stringify({ status, stdout, stderr }));
      resolve();
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-variants-'));
  await Promise.all([shippedSetup(), ...Object.keys(VARIANTS).map((name) => synthesize(dir, name))]);
  process.env.VARIANTS_DIR = dir;
}
