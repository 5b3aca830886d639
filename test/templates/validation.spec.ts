/**
 * aws-cdk-lib's built-in CloudFormation validation (`CloudFormationValidatePlugin`, core/lib/validation in
 * aws-cdk-lib 2.276.0): registered on every app by default, offline (a bundled WASM engine, @aws/cloudformation-validate,
 * with the CloudFormation resource schemas), and its errors stay errors because cdk.json sets
 * `@aws-cdk/core:validateAgainstDefaultRules`. Its findings, like cdk-nag's, go to the assembly's validation-report.json.
 * Run by `npm run test:templates`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { buildApp } from '../../lib/app';
import { DEFAULT_ENVIRONMENT } from '../../lib/config';
import { configWith, CDK_CONTEXT } from '../helpers';
import { TARGET_NAMES, target } from './targets';

// A synthesis takes tens of seconds on a busy 2-core machine.
jest.setTimeout(300_000);

const reportOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'validation-report.json'), 'utf8'));

test.each(TARGET_NAMES)('%s: the validation report (CloudFormation validation, cdk-nag) is empty', (name) => {
  expect(reportOf(target(name).dir).pluginReports).toEqual([]);
});

test('fails when a template breaks a resource schema: the built-in validation runs on the app buildApp builds', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-broken-'));
  const app = new cdk.App({ context: CDK_CONTEXT, outdir });
  const { registry } = buildApp(app, configWith(DEFAULT_ENVIRONMENT));
  (registry.imageRepository.node.defaultChild as cdk.CfnResource).addPropertyOverride('ImageTagMutability', 'SOMETIMES');
  const stderr = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    app.synth();
  } finally {
    stderr.mockRestore();
  }
  const reports = reportOf(outdir).pluginReports;
  expect(reports.map((r: any) => r.pluginName)).toEqual(['CloudFormation Validate']);
  expect(JSON.stringify(reports)).toContain("'SOMETIMES' is not one of");
});
