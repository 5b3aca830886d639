import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CDK_CONTEXT, configWith, synth } from './helpers';

const ROOT = path.join(__dirname, '..');

describe.each(['dev', 'prod'])('%s', (env) => {
  test('synthesizes with zero unacknowledged cdk-nag findings and an empty validation report', () => {
    // app.synth() throws on any finding; the report records what the plugins saw.
    const { validationReport } = synth(configWith(env));
    expect(validationReport.pluginReports).toEqual([]);
  });

  test('writes every acknowledgement into the template with a reason', () => {
    const { assembly } = synth(configWith(env));
    for (const stack of assembly.stacks) {
      for (const resource of Object.values<any>(stack.template.Resources)) {
        for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          expect(rule.reason.length).toBeGreaterThan(20);
        }
      }
    }
  });
});

describe('the app entry point, run as the cdk CLI runs it', () => {
  // The CLI hands the app cdk.json's context (and any -c values) in CDK_CONTEXT_JSON, and an output directory.
  const run = (context: Record<string, string>) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
    const result = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bin/fargate-app-template.ts'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_CONTEXT, ...context }) },
      },
    );
    return { ...result, outdir };
  };

  test('fails when the environment is unknown, with one clear line and no stack trace or cdk.out', () => {
    const { status, stderr, outdir } = run({ env: 'staging' });
    expect(status).toBe(1);
    expect(stderr).toBe("Invalid configuration:\nenv: 'staging' is not a configured environment; use one of dev, prod\n");
    expect(fs.readdirSync(outdir)).toEqual([]);
  });

  test('is silent on a good synth', () => {
    const { status, stdout, stderr, outdir } = run({ env: 'prod' });
    expect({ status, stdout, stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(fs.readdirSync(outdir)).toContain('fargate-app-prod-service.template.json');
  });
});
