import * as cdk from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges NIST 800-53 R5's inline-policy finding on a role's default policy: the inline policy that aws-cdk-lib
 * writes for its `grant*` methods and for `addToRolePolicy`. Not every statement names this stack's resources (some
 * actions have no resource-level permissions), but every wildcard in it carries its own AwsSolutions-IAM5
 * acknowledgement, or synthesis fails; a customer managed policy holding the same statements would be no narrower.
 */
export function acknowledgeGrantPolicy(role: iam.IRole): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  cdk.Validations.of(policy).acknowledge({
    id: 'NIST.800.53.R5-IAMNoInlinePolicy',
    reason:
      "This role's own default policy (aws-cdk-lib grants and addToRolePolicy statements), attached to this role only; each wildcard in it carries its own AwsSolutions-IAM5 acknowledgement, and a managed policy with the same statements would be no narrower",
  });
}

/** The logical ID of a construct's resource, as cdk-nag writes references in IAM5 finding IDs (`<LogicalId>`). */
export function nagId(resource: IConstruct): string {
  return cdk.Stack.of(resource).getLogicalId(resource.node.defaultChild as cdk.CfnElement);
}

/** The token-free form cdk-nag uses for a resource's ARN in IAM5 finding IDs: `<LogicalId.Arn>`. */
export function nagArn(resource: IConstruct): string {
  return `<${nagId(resource)}.Arn>`;
}

/** Acknowledges, on one role's default policy, IAM5 findings that aws-cdk-lib's grants create, each with its reason. */
export function acknowledgeWildcards(role: iam.IRole, findings: Record<string, string>): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`acknowledgeWildcards: ${role.node.path} has no default policy`);
  for (const [finding, reason] of Object.entries(findings)) {
    cdk.Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
