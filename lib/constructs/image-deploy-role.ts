import * as cdk from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { readBootstrapVersion } from './bootstrap-version';
import { nagId } from './nag';

export interface ImageDeployRoleProps {
  /** The service whose task definition an image change replaces. */
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /**
   * Stacks whose outputs the Service stack's template reads with `Fn::GetStackOutput` (the Registry stack's repository
   * name): CloudFormation resolves them with this role.
   */
  readonly outputStackNames: readonly string[];
  /** The CDK bootstrap version parameter (`/cdk-bootstrap/<qualifier>/version`) the template's BootstrapVersion reads. */
  readonly bootstrapVersionParameter: string;
  /**
   * Roles the service hands to ECS itself on an update (ECS-native blue/green's infrastructure role).
   * @default - none
   */
  readonly ecsServiceRoles?: readonly iam.IRole[];
}

/**
 * The CloudFormation service role for image deploys (DESIGN §5.6): the pipeline updates the Service stack's ImageTag
 * with this role, never with the CDK bootstrap's execution role (AdministratorAccess by default).
 *
 * It can do what an ImageTag change makes CloudFormation do, read from the synthesized template
 * (`test/constructs/image-deploy-role.test.ts` pins the list): ImageTag feeds the task definition's image and
 * `APP_VERSION`, so the task definition is replaced (register the new revision, deregister the old one, pass its two
 * roles to ECS tasks) and the service is updated to it; the first image also flips the `HasImage` condition, which
 * changes the service's DesiredCount and the scalable target's MinCapacity. Everything is scoped to this stack's own
 * service, task roles and scalable target, so passing this role with another stack's template gets nothing more.
 */
export class ImageDeployRole extends Construct {
  /** The role. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ImageDeployRoleProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    // CloudFormation assumes a stack's service role as cloudformation.amazonaws.com, and the documented trust policy
    // names that principal and nothing else
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html); the CDK bootstrap's
    // own execution role trusts it the same way. No aws:SourceAccount condition: the page does not say CloudFormation
    // sends one when it assumes a service role, and if it did not, every deploy would fail to assume this role. Who may
    // hand the role to CloudFormation is what guards it: iam:PassRole on it is granted to the Deploy step and the
    // rollback policy only, and a role cannot be passed to another account.
    this.role = new iam.Role(this, 'Role', {
      description: `CloudFormation role for ImageTag updates of ${stack.stackName} only`,
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'),
    });
    const statements: iam.PolicyStatement[] = [];

    // The new task definition revision. RegisterTaskDefinition and DescribeTaskDefinition act on no resource type, and
    // DeregisterTaskDefinition (the old revision, in the cleanup phase) takes `*` too
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
    statements.push(
      new iam.PolicyStatement({
        sid: 'TaskDefinitionRevisions',
        actions: ['ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition'],
        resources: ['*'],
      }),
      // The stack's tags (Application, Environment) go onto the new revision: tagging on create needs ecs:TagResource,
      // limited here to that create action (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html).
      new iam.PolicyStatement({
        sid: 'TagNewRevision',
        actions: ['ecs:TagResource'],
        resources: ['*'],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    // The revision names the task and execution roles: passing them to ECS tasks, and nothing else.
    const taskRoles = [props.taskDefinition.taskRole, props.taskDefinition.obtainExecutionRole()];
    statements.push(
      new iam.PolicyStatement({
        sid: 'PassTaskRoles',
        actions: ['iam:PassRole'],
        resources: taskRoles.map((r) => r.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    if (props.ecsServiceRoles?.length) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'PassServiceRoles',
          actions: ['iam:PassRole'],
          resources: props.ecsServiceRoles.map((r) => r.roleArn),
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs.amazonaws.com' } },
        }),
      );
    }
    // CloudFormation's resource handlers call more than the one mutating action: each declares its calls in its
    // registry schema (`handlers.<operation>.permissions`, returned by `aws cloudformation describe-type --type RESOURCE
    // --type-name AWS::ECS::Service`; https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html).
    // AWS::ECS::TaskDefinition's create and delete handlers read the roles they pass (iam:GetRole).
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadTaskRoles',
        actions: ['iam:GetRole'],
        resources: taskRoles.map((r) => r.roleArn),
      }),
    );
    // The service moves to the new revision; CloudFormation then waits for it to stabilize. AWS::ECS::Service's update
    // handler declares ecs:DescribeServiceDeployments, DescribeServices, ListServiceDeployments, ListTagsForResource,
    // StopServiceDeployment, TagResource, UntagResource and UpdateService: the service's own actions on the service,
    // and its deployments' on `service-deployment/<cluster>/<service>/*`
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
    statements.push(
      new iam.PolicyStatement({
        sid: 'UpdateThisService',
        actions: [
          'ecs:UpdateService',
          'ecs:DescribeServices',
          'ecs:ListServiceDeployments',
          'ecs:ListTagsForResource',
          'ecs:TagResource',
          'ecs:UntagResource',
        ],
        resources: [props.service.serviceArn],
      }),
      new iam.PolicyStatement({
        sid: 'ThisServiceDeployments',
        // Both actions require the service and the service-deployment resource types: a policy that limits resources must
        // name one of each (the same Service Authorization Reference).
        actions: ['ecs:DescribeServiceDeployments', 'ecs:StopServiceDeployment'],
        resources: [
          props.service.serviceArn,
          stack.formatArn({
            service: 'ecs',
            resource: 'service-deployment',
            resourceName: `${props.service.cluster.clusterName}/${props.service.serviceName}/*`,
          }),
        ],
      }),
    );
    // The first image raises the scalable target's floor. Application Auto Scaling's actions take `*`
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_applicationautoscaling.html); it then
    // acts on the service through its own service-linked role.
    statements.push(
      new iam.PolicyStatement({
        sid: 'ScalingFloor',
        // The ScalableTarget's update handler reads the target's scheduled actions too.
        actions: [
          'application-autoscaling:RegisterScalableTarget',
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:DescribeScheduledActions',
        ],
        resources: ['*'],
      }),
    );
    // The template's SSM-typed BootstrapVersion parameter (aws/aws-cdk#20959), and the outputs it reads with
    // Fn::GetStackOutput, which CloudFormation resolves with "the current stack's execution role" unless told otherwise
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html).
    statements.push(readBootstrapVersion(stack, props.bootstrapVersionParameter, 'TemplateInputs'));
    if (props.outputStackNames.length) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ReadOutputs',
          actions: ['cloudformation:DescribeStacks'],
          resources: props.outputStackNames.map((name) =>
            stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${name}/*` }),
          ),
        }),
      );
    }
    // A managed policy of its own, not an inline default policy, so that its statements are one reviewable document.
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `What CloudFormation needs to change the image of ${stack.stackName}, and nothing else`,
      statements,
    });
    policy.attachToRole(this.role);

    const wildcards = {
      'Resource::*':
        'ECS task definition actions and Application Auto Scaling actions have no resource-level permissions; ecs:TagResource is limited to RegisterTaskDefinition by condition',
    };
    cdk.Validations.of(policy).acknowledge(
      ...Object.entries(wildcards).map(([finding, reason]) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service-deployment/<${nagId(props.service.cluster)}>/<${nagId(props.service)}.Name>/*]`,
        reason:
          "A service deployment's ID is generated by ECS per deployment; the wildcard is limited to this service's deployments",
      },
      ...props.outputStackNames.map((name) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${name}/*]`,
        reason: 'A stack ARN ends in an ID generated at creation; the stack name is fixed',
      })),
    );
  }
}
