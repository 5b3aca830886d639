import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environments } from '../lib/config';
import { CDK_CONTEXT, synthesized } from './helpers';

const ROOT = path.join(__dirname, '..');

describe.each(Object.keys(environments))('cdk synth -c env=%s', (env) => {
  test('succeeds silently: no warning from aws-cdk-lib, cdk-nag or CloudFormation validation', () => {
    expect(synthesized(env).cli).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  test('synthesizes the registry, service and pipeline stacks', () => {
    for (const stack of ['registry', 'service', 'pipeline'] as const)
      expect(synthesized(env).json(stack).Resources).toBeDefined();
  });

  test('leaves zero unacknowledged findings in the validation report (cdk-nag AwsSolutions, NIST 800-53 R5, CloudFormation)', () => {
    expect(synthesized(env).validationReport.pluginReports).toEqual([]);
  });

  test('writes every acknowledgement into the templates, each with a reason', () => {
    let count = 0;
    for (const stack of ['registry', 'service', 'pipeline'] as const) {
      for (const resource of Object.values<any>(synthesized(env).json(stack).Resources)) {
        for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          expect(rule.reason.length).toBeGreaterThan(20);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(0);
  });
});

test('fails when the environment is unknown, with one clear line, no stack trace and no cdk.out', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bin/fargate-app-template.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_CONTEXT, env: 'nosuchenv' }) },
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe(
    `Invalid configuration:\nenv: 'nosuchenv' is not a configured environment; use one of ${Object.keys(environments).join(', ')}\n`,
  );
  expect(fs.readdirSync(outdir)).toEqual([]);
});
