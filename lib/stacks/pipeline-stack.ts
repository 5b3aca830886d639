import * as cdk from 'aws-cdk-lib';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { DeliveryPipeline } from '../constructs/delivery-pipeline';
import { bootstrapVersionParameter } from '../constructs/bootstrap-version';
import { ImageRepository } from '../constructs/image-repository';
import { OperatorPolicies } from '../constructs/operator-policies';
import type { ServiceStack } from './service-stack';

export interface PipelineStackProps extends cdk.StackProps {
  readonly config: EnvironmentConfig;
  readonly imageRepository: ecr.IRepository;
  readonly sourceRepository?: codecommit.IRepository;
  readonly serviceStack: ServiceStack;
}

/** The delivery pipeline. Created after the Service stack, and started on creation: its first run ships the first image. */
export class PipelineStack extends cdk.Stack {
  /** The pipeline construct. */
  public readonly delivery: DeliveryPipeline;
  /** The status and rollback policies for people. */
  public readonly operatorPolicies: OperatorPolicies;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.delivery = new DeliveryPipeline(this, 'Delivery', {
      envName: config.envName,
      pipeline: config.pipeline,
      sourceRepository: props.sourceRepository,
      imageRepository: ImageRepository.inStack(this, 'ImageRepository', props.imageRepository),
      cpuArchitecture: config.cpuArchitecture,
      containerPort: config.containerPort,
      healthCheckPath: config.healthCheckPath,
      serviceStackName: props.serviceStack.stackName,
      imageDeployRole: props.serviceStack.imageDeployRole,
      bootstrapVersionParameter: bootstrapVersionParameter(props.serviceStack),
      clusterArn: props.serviceStack.cluster.clusterArn,
      serviceArn: props.serviceStack.service.serviceArn,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      notificationEmail: config.alarmEmail,
    });
    this.addStackDependency(props.serviceStack, 'The pipeline deploys into the Service stack');

    // `npm run status` reads the stack that holds the image repository (the Registry stack) too.
    const registryStack = cdk.Stack.of(props.imageRepository);
    this.operatorPolicies = new OperatorPolicies(this, 'Operator', {
      namePrefix: `${config.appName}-${config.envName}`,
      serviceStack: props.serviceStack,
      otherStacks: registryStack === this ? [this] : [registryStack, this],
      // The rollback changes ImageTag and nothing else: it passes the image-deploy role, like the pipeline.
      stackRoleArn: props.serviceStack.imageDeployRole.roleArn,
      // CloudFormation resolves the Service stack's bootstrap parameter, named by its synthesizer.
      bootstrapVersionParameter: bootstrapVersionParameter(props.serviceStack),
      repository: props.imageRepository,
      cluster: props.serviceStack.cluster,
      service: props.serviceStack.service,
      pipeline: this.delivery.pipeline,
    });

    new cdk.CfnOutput(this, 'PipelineConsoleUrl', {
      description: 'The pipeline in the console',
      value: `https://console.aws.amazon.com/codesuite/codepipeline/pipelines/${this.delivery.pipeline.pipelineName}/view?region=${this.region}`,
    });
    new cdk.CfnOutput(this, 'PipelineName', { value: this.delivery.pipeline.pipelineName });
    new cdk.CfnOutput(this, 'NotificationTopicArn', {
      description: 'Pipeline failures and approvals',
      value: this.delivery.topic.topicArn,
    });
    new cdk.CfnOutput(this, 'StatusPolicyName', {
      description: 'Customer managed policy for `npm run status`: attach it to a permission set by this name',
      value: this.operatorPolicies.statusPolicy.managedPolicyName,
    });
    new cdk.CfnOutput(this, 'RollbackPolicyName', {
      description: 'Customer managed policy for `npm run rollback` and status: attach it to a permission set by this name',
      value: this.operatorPolicies.rollbackPolicy.managedPolicyName,
    });
  }
}
