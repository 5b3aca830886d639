import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { readBootstrapVersion } from './bootstrap-version';
import type { CpuArchitecture } from '../config';
import { acknowledgeWildcards } from './nag';
import { PipelineStep } from './pipeline-step';
import { StepCode } from './step-code';

export interface ImageDeployStepProps {
  readonly envName: string;
  /** The Service stack whose ImageTag this step changes. */
  readonly stackName: string;
  /** The CloudFormation role the update passes: the Service stack's image-deploy role, never the bootstrap's. */
  readonly stackRole: iam.IRole;
  /** The service, whose desired count the step raises to its scaling floor after the first image. */
  readonly serviceArn: string;
  /** The image repository: the step reads the image and tags it `deployed-<env>-<tag>`. */
  readonly repository: ecr.IRepository;
  /** The CDK bootstrap version parameter the Service template reads (`/cdk-bootstrap/<qualifier>/version`). */
  readonly bootstrapVersionParameter: string;
  readonly cpuArchitecture: CpuArchitecture;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/** The image-change script. It runs from this stack's asset, never from the source artifact. */
export const DEPLOY_SCRIPT = path.join(__dirname, '..', 'pipeline', 'deploy.sh');

/**
 * Deploy: one CloudFormation update of a Service stack's ImageTag, nothing else, with the stack's image-deploy role.
 * Inputs: the stack name, the role, and (per action) the image tag. Everything it runs comes from the pipeline stack.
 *
 * It runs on EC2 compute, not Lambda: it waits for CloudFormation, which waits for ECS to stabilize, and a failing
 * rollout (circuit breaker, then CloudFormation's own rollback, each a rolling deployment) can outlast Lambda compute's
 * 15 minutes; a step cut off mid-update leaves the stack UPDATE_IN_PROGRESS and the next run refused.
 */
export class ImageDeployStep extends Construct {
  /** The step's CodeBuild project and compute. */
  public readonly step: PipelineStep;
  private readonly code: StepCode;

  constructor(scope: Construct, id: string, props: ImageDeployStepProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    this.code = new StepCode(this, 'Code', { entry: DEPLOY_SCRIPT });
    this.step = new PipelineStep(this, 'Step', {
      stageName: 'Deploy',
      envName: props.envName,
      compute: 'ec2',
      cpuArchitecture: props.cpuArchitecture,
      timeout: cdk.Duration.minutes(60),
      environment: {
        SERVICE_STACK_NAME: props.stackName,
        STACK_ROLE_ARN: props.stackRole.roleArn,
        REPOSITORY_NAME: props.repository.repositoryName,
        ENV_NAME: props.envName,
        ...this.code.environment,
      },
      buildSpec: { version: '0.2', phases: { build: { commands: this.code.commands() } } },
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
    });
    const project = this.step.project;
    this.code.grantRead(project);

    const stackArn = stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${props.stackName}/*` });
    // UpdateStack only with the image-deploy role: the `cloudformation:RoleArn` condition key holds the role the request
    // names (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html), so an update
    // that names another role, or none (the stack's previous role), is denied.
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:UpdateStack'],
        resources: [stackArn],
        conditions: { StringEquals: { 'cloudformation:RoleArn': props.stackRole.roleArn } },
      }),
    );
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents'],
        resources: [stackArn],
      }),
    );
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.stackRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      }),
    );
    // The Service stack has an SSM-typed BootstrapVersion parameter, which CloudFormation resolves with the caller's
    // credentials on every update-stack; the CDK bootstrap template grants its own deploy role exactly this read
    // (aws/aws-cdk#20959).
    project.addToRolePolicy(readBootstrapVersion(stack, props.bootstrapVersionParameter));
    // deploy.sh tags the shipped image `deployed-<env>-<tag>` (batch-get-image, then put-image of the same manifest), so
    // that the lifecycle policy keeps it, and reads which image a marker already there is on; on this repository only.
    props.repository.grant(project, 'ecr:BatchGetImage', 'ecr:PutImage', 'ecr:DescribeImages');
    // deploy.sh raises the service to its scaling floor when it is below it (see the comment there): it reads the floor
    // and the desired count, and changes the desired count of this one service.
    project.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ecs:DescribeServices', 'ecs:UpdateService'], resources: [props.serviceArn] }),
    );
    // Application Auto Scaling has no resource-level permissions: "specify `Resource: *`"
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_applicationautoscaling.html).
    project.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['application-autoscaling:DescribeScalableTargets'], resources: ['*'] }),
    );
    acknowledgeWildcards(project.role!, {
      'Resource::*': 'application-autoscaling:DescribeScalableTargets (read-only) has no resource-level permissions',
      [`Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${props.stackName}/*`]:
        'A stack ARN ends in an ID generated at creation; the stack name is fixed',
    });
  }

  /**
   * The pipeline action that deploys `imageTag`, which must still hold `imageDigest` (the digest ScanGate passed). Its
   * input artifact is only the trigger: the step never reads it.
   */
  public action(
    input: codepipeline.Artifact,
    imageTag: string,
    imageDigest: string,
    actionName = 'Deploy',
  ): actions.CodeBuildAction {
    return new actions.CodeBuildAction({
      actionName,
      project: this.step.project,
      input,
      environmentVariables: { IMAGE_TAG: { value: imageTag }, IMAGE_DIGEST: { value: imageDigest } },
    });
  }
}
