/**
 * Runs the cdk-nag packs that lib/app.ts registers on a synthesized template rather than on the construct tree.
 *
 * The construct-tree run at synth cannot see what aws-cdk-lib adds as untyped `CfnResource`s, such as the Lambda
 * function and role of `ec2.Vpc`'s `Custom::VpcRestrictDefaultSG`: cdk-nag's rules match L1 classes (`CfnFunction`,
 * `CfnRole`). Loaded with `CfnInclude`, every resource is its L1 class, so every rule sees every resource.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { CDK_CONTEXT } from '../helpers';

/** A finding: rule ID (with its `[finding]` suffix, if any) on a template's logical ID. */
export interface NagFinding {
  readonly rule: string;
  readonly logicalId: string;
}

/** An acknowledgement the template carries in a resource's `Metadata.cdk_nag.rules_to_suppress`. */
export interface Acknowledgement extends NagFinding {
  readonly reason: string;
}

/**
 * `CfnInclude` in aws-cdk-lib 2.276.0 rejects `Fn::GetStackOutput` ("Unsupported CloudFormation function"), which
 * aws-cdk-lib itself writes for cross-stack references under `@aws-cdk/core:defaultCrossStackReferences: weak`.
 * It becomes `Fn::ImportValue`: also a value of another stack, unknown until deploy, so each rule sees an unresolved
 * value either way. Nothing else in the template changes.
 */
function withoutGetStackOutput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutGetStackOutput);
  if (value === null || typeof value !== 'object') return value;
  const ref = (value as Record<string, any>)['Fn::GetStackOutput'];
  if (ref) return { 'Fn::ImportValue': `${ref.StackName}:${ref.OutputName}` };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutGetStackOutput(v)]));
}

/** The acknowledgements a template carries, as `writeSuppressionsToCloudFormation` wrote them. */
export function acknowledgementsIn(template: Record<string, any>): Acknowledgement[] {
  return Object.entries<any>(template.Resources ?? {}).flatMap(([logicalId, resource]) =>
    (resource.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((r: { id: string; reason: string }) => ({
      rule: r.id,
      logicalId,
      reason: r.reason,
    })),
  );
}

export interface NagRunOptions {
  /**
   * Honour the template's own `cdk_nag` Metadata. cdk-nag v3 reads acknowledgements only from construct metadata
   * (`Validations.of(c).acknowledge`, see `NagPack.isAcknowledged` in node_modules/cdk-nag/lib/nag-pack.js), never from
   * a template's Metadata, so each one is re-declared on the included resource that carries it.
   * @default true
   */
  readonly honourAcknowledgements?: boolean;
}

/** Every AwsSolutions and NIST 800-53 R5 finding on one template file, sorted. */
export function nagTemplate(templateFile: string, options: NagRunOptions = {}): NagFinding[] {
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-include-'));
  const file = path.join(dir, path.basename(templateFile));
  fs.writeFileSync(file, JSON.stringify(withoutGetStackOutput(template)));

  const app = new cdk.App({ context: CDK_CONTEXT, outdir: dir });
  const stack = new cdk.Stack(app, 'Template');
  const included = new CfnInclude(stack, 'Include', { templateFile: file });
  if (options.honourAcknowledgements ?? true) {
    for (const ack of acknowledgementsIn(template)) {
      cdk.Validations.of(included.getResource(ack.logicalId)).acknowledge({ id: ack.rule, reason: ack.reason });
    }
  }

  const prefix = `${included.node.path}/`;
  const findings: NagFinding[] = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    for (const violation of pack.validateScope(app).violations) {
      for (const resource of violation.violatingResources) {
        const constructPath = resource.constructPath ?? '';
        if (!constructPath.startsWith(prefix)) throw new Error(`finding outside the included template: ${constructPath}`);
        findings.push({ rule: violation.ruleName, logicalId: constructPath.slice(prefix.length) });
      }
    }
  }
  return findings.sort((a, b) => `${a.logicalId} ${a.rule}`.localeCompare(`${b.logicalId} ${b.rule}`));
}
