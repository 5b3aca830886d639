import * as cdk from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { readBootstrapVersion } from './bootstrap-version';

export interface OperatorPoliciesProps {
  /** The policies are named `<namePrefix>-status` and `<namePrefix>-rollback`: a permission set refers to them by name. */
  readonly namePrefix: string;
  /** The Service stack: the rollback updates its ImageTag parameter. */
  readonly serviceStack: cdk.Stack;
  /** The other stacks `npm run status` reads (registry, pipeline). */
  readonly otherStacks: cdk.Stack[];
  /** The role CloudFormation updates the Service stack with: its image-deploy role, which the rollback passes. */
  readonly stackRoleArn: string;
  /** The SSM parameter of the Service stack's SSM-typed BootstrapVersion parameter, e.g. `/cdk-bootstrap/hnb659fds/version`. */
  readonly bootstrapVersionParameter: string;
  readonly repository: ecr.IRepository;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.IBaseService;
  readonly pipeline: codepipeline.IPipeline;
}

/**
 * Two customer-managed policies for people, to attach to an IAM Identity Center permission set by name:
 * - **status**: the reads of `npm run status`;
 * - **rollback**: status, plus what `npm run rollback` needs: a CloudFormation update of the Service stack (which also
 *   needs the stack role passed and the bootstrap version parameter read) and the reads of the update's waiter.
 * test/iam/roles.spec.ts (npm run test:components) runs both commands against mocks and checks every call against these policies.
 */
export class OperatorPolicies extends Construct {
  /** The read-only policy of `npm run status`. */
  public readonly statusPolicy: iam.ManagedPolicy;
  /** The policy of `npm run rollback` (and status). */
  public readonly rollbackPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPoliciesProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const stackArn = (s: cdk.Stack) =>
      // A stack ARN ends in an ID CloudFormation generates; the name is what identifies it here.
      stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${s.stackName}/*` });

    const reads = () => [
      new iam.PolicyStatement({
        sid: 'StackReads',
        actions: ['cloudformation:DescribeStacks'],
        resources: [props.serviceStack, ...props.otherStacks].map(stackArn),
      }),
      new iam.PolicyStatement({
        sid: 'ImageReads',
        actions: ['ecr:DescribeImages'],
        resources: [props.repository.repositoryArn],
      }),
      new iam.PolicyStatement({ sid: 'ServiceReads', actions: ['ecs:DescribeServices'], resources: [props.service.serviceArn] }),
      // ecs:ListTasks and ecs:DescribeTasks are limited to the cluster by its condition key
      // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
      new iam.PolicyStatement({
        sid: 'TaskReads',
        actions: ['ecs:ListTasks', 'ecs:DescribeTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
      // ecs:DescribeTaskDefinition has no resource-level permissions (same reference).
      new iam.PolicyStatement({ sid: 'TaskDefinitionReads', actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'PipelineReads',
        actions: ['codepipeline:ListPipelineExecutions', 'codepipeline:ListActionExecutions'],
        resources: [props.pipeline.pipelineArn],
      }),
    ];

    this.statusPolicy = new iam.ManagedPolicy(this, 'Status', {
      managedPolicyName: `${props.namePrefix}-status`,
      description: `npm run status: read-only view of ${props.serviceStack.stackName} and its pipeline`,
      statements: reads(),
    });

    this.rollbackPolicy = new iam.ManagedPolicy(this, 'Rollback', {
      managedPolicyName: `${props.namePrefix}-rollback`,
      description: `npm run rollback: an ImageTag update of ${props.serviceStack.stackName}, and npm run status`,
      statements: [
        ...reads(),
        new iam.PolicyStatement({
          sid: 'ServiceStackUpdate',
          actions: ['cloudformation:DescribeStackEvents'],
          resources: [stackArn(props.serviceStack)],
        }),
        // Only with the image-deploy role: `cloudformation:RoleArn` is the role the request names
        // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html).
        new iam.PolicyStatement({
          sid: 'ServiceStackImageUpdate',
          actions: ['cloudformation:UpdateStack'],
          resources: [stackArn(props.serviceStack)],
          conditions: { StringEquals: { 'cloudformation:RoleArn': props.stackRoleArn } },
        }),
        // CloudFormation updates the stack with its service role, which the caller must be allowed to pass
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
        new iam.PolicyStatement({
          sid: 'PassStackRole',
          actions: ['iam:PassRole'],
          resources: [props.stackRoleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
        }),
        // CloudFormation resolves the stack's SSM-typed BootstrapVersion parameter with the caller's permissions
        // (https://github.com/aws/aws-cdk/issues/20959; the CDK bootstrap template grants its deploy role the same).
        readBootstrapVersion(stack, props.bootstrapVersionParameter, 'ReadBootstrapVersion'),
      ],
    });

    for (const policy of [this.statusPolicy, this.rollbackPolicy]) {
      cdk.Validations.of(policy).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ecs:ListTasks and ecs:DescribeTasks are limited to the cluster by the ecs:cluster condition; ecs:DescribeTaskDefinition has no resource-level permissions',
        },
        ...[props.serviceStack, ...props.otherStacks].map((s) => ({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${s.stackName}/*]`,
          reason: 'A stack ARN ends in an ID generated at creation; the stack name is fixed',
        })),
      );
    }
  }
}
