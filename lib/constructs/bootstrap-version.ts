import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * The CDK bootstrap version parameter (`/cdk-bootstrap/<qualifier>/version`) that a stack's SSM-typed
 * `BootstrapVersion` parameter reads, for the stack's own synthesizer qualifier.
 */
export function bootstrapVersionParameter(stack: cdk.Stack): string {
  const qualifier =
    (stack.synthesizer as cdk.DefaultStackSynthesizer).bootstrapQualifier ?? cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  return cdk.DefaultStackSynthesizer.DEFAULT_BOOTSTRAP_STACK_VERSION_SSM_PARAMETER.replace('${Qualifier}', qualifier);
}

/**
 * Reading that parameter. CloudFormation resolves an SSM-typed parameter with the caller's credentials on every
 * update-stack, so whoever updates the stack (or the stack's own role) needs it; the CDK bootstrap template grants its
 * deploy role exactly this read (aws/aws-cdk#20959).
 */
export function readBootstrapVersion(scope: cdk.Stack, parameter: string, sid?: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['ssm:GetParameters'],
    resources: [scope.formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameter.replace(/^\//, '') })],
  });
}
