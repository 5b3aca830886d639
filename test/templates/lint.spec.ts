/**
 * cfn-lint, an independent judge of the templates (DESIGN §12): zero errors and zero warnings on every template of
 * every target. Run by `npm run test:templates` (these `.spec.ts` files are not part of `npm test`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CfnLintFinding, cfnLint, cfnLintVersion } from './cfn-lint';
import { TARGET_NAMES, type Target, target } from './targets';

/**
 * W3005 says a `DependsOn` repeats a dependency that a `Ref` or `Fn::GetAtt` already makes. aws-cdk-lib writes such
 * pairs itself (here: the pipeline on its role, the VPC custom resource's handler on its role); they deploy as written,
 * and aws-cdk-lib's own CloudFormation validation excludes W3005 for that reason (`IGNORE_RULES` in
 * node_modules/aws-cdk-lib/core/lib/validation/cloudformation-validate-plugin.js). It is a warning, never an error.
 */
const TOLERATED = new Set(['W3005']);

const describeFinding = (f: CfnLintFinding) =>
  `${f.Rule.Id} ${path.basename(f.Filename)}:${f.Location.Start.LineNumber} ${(f.Location.Path ?? []).join('/')}: ${f.Message}`;

// cfn-lint takes tens of seconds per target on a busy 2-core machine.
jest.setTimeout(300_000);

const targets = new Map<string, Target>();
const findings = new Map<string, Promise<CfnLintFinding[]>>();

beforeAll(() => {
  // One cfn-lint process per target, all started at once: each is single-threaded.
  for (const name of TARGET_NAMES) {
    targets.set(name, target(name));
    findings.set(name, cfnLint(targets.get(name)!.templates));
    findings.get(name)!.catch(() => {}); // reported by the target's own test
  }
});

test('cfn-lint is installed: this tier never skips', () => {
  expect(cfnLintVersion()).toMatch(/^cfn-lint \d+\.\d+/);
});

describe.each(TARGET_NAMES)('%s', (name) => {
  test('cfn-lint reports no error and no warning', async () => {
    const reported = (await findings.get(name)!).filter((f) => !TOLERATED.has(f.Rule.Id));
    expect(reported.map(describeFinding)).toEqual([]);
  });
});

test('fails when a template has an error: cfn-lint judges these templates', async () => {
  const file = targets.get(TARGET_NAMES[0])!.templates.find((t) => t.endsWith('-registry.template.json'))!;
  const template = JSON.parse(fs.readFileSync(file, 'utf8'));
  const repository = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::ECR::Repository');
  repository.Properties.ImageScanningConfiguration = { ScanOnPush: 'sometimes' };
  const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-')), 'broken.template.json');
  fs.writeFileSync(broken, JSON.stringify(template, undefined, 1));
  const errors = (await cfnLint([broken])).filter((f) => f.Level === 'Error');
  expect(errors.map((f) => f.Location.Path?.join('/'))).toContainEqual(
    expect.stringContaining('ImageScanningConfiguration/ScanOnPush'),
  );
});
