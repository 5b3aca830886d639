/**
 * Synthesizes every shipped environment once per test run, exactly as `cdk synth` does: the `bin/` entry point, run by
 * tsx, with cdk.json's context in CDK_CONTEXT_JSON and `-c env=NAME`. Tests read the cloud assemblies from
 * SYNTH_DIR (see test/helpers.ts), so most test files do not synthesize again.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environments } from '../../lib/config/environments';

const ROOT = path.join(__dirname, '..', '..');

export default async function globalSetup(): Promise<void> {
  const context = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-all-'));
  await Promise.all(
    Object.keys(environments).map(
      (env) =>
        new Promise<void>((resolve, reject) => {
          const outdir = path.join(dir, env);
          fs.mkdirSync(outdir);
          const child = spawn(
            process.execPath,
            [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bin/fargate-app-template.ts'],
            {
              cwd: ROOT,
              env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...context, env }) },
            },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('error', reject);
          child.on('close', (status) => {
            fs.writeFileSync(path.join(dir, `${env}.cli.json`), JSON.stringify({ status, stdout, stderr }));
            resolve();
          });
        }),
    ),
  );
  process.env.SYNTH_DIR = dir;
}
