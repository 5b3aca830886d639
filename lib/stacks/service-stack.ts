import * as cdk from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { ImageDeployRole } from '../constructs/image-deploy-role';
import { bootstrapVersionParameter } from '../constructs/bootstrap-version';
import { ImageRepository } from '../constructs/image-repository';
import { LoadBalancer } from '../constructs/load-balancer';
import { Network } from '../constructs/network';
import { ServiceMonitoring } from '../constructs/service-monitoring';
import { WebService } from '../constructs/web-service';

/** The image-tag parameter's value before the pipeline has pushed anything. */
export const NO_IMAGE_TAG = 'no-image';
/** The parameter the pipeline (and `npm run rollback`) changes to ship an image. Nothing else changes. */
export const IMAGE_TAG_PARAMETER = 'ImageTag';

export interface ServiceStackProps extends cdk.StackProps {
  readonly config: EnvironmentConfig;
  readonly repository: ecr.IRepository;
}

/** Stateless: network, cluster, load balancer, the Fargate service, its scaling, alarms and dashboard. */
export class ServiceStack extends cdk.Stack {
  /** The ECS service. */
  public readonly service: ecs.FargateService;
  /** The cluster. */
  public readonly cluster: ecs.Cluster;
  /** The service's base URL. */
  public readonly url: string;
  /** The topic that alarms publish to. */
  public readonly alarmTopic: sns.Topic;
  /** The CloudFormation role the pipeline passes to change ImageTag: it can do that and nothing else. */
  public readonly imageDeployRole: iam.IRole;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const repository = ImageRepository.inStack(this, 'ImageRepository', props.repository);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    const imageTag = new cdk.CfnParameter(this, IMAGE_TAG_PARAMETER, {
      type: 'String',
      default: NO_IMAGE_TAG,
      allowedPattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$',
      description: `Image tag (a commit SHA) to run. '${NO_IMAGE_TAG}' runs zero tasks. Set by the pipeline; cdk deploy keeps the previous value.`,
    });
    const hasImage = new cdk.CfnCondition(this, 'HasImage', {
      expression: cdk.Fn.conditionNot(cdk.Fn.conditionEquals(imageTag.valueAsString, NO_IMAGE_TAG)),
    });

    // One key for this stack's logs and alarm topic.
    const key = new kms.Key(this, 'Key', {
      description: `${config.appName}-${config.envName}: service logs and alarm topic`,
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
      pendingWindow: cdk.Duration.days(7),
    });
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`));
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    const network = new Network(this, 'Network', {
      profile: config.networkProfile,
      natGateways: config.natGateways,
      cidr: config.vpcCidr,
      logRetention,
      logKey: key,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });

    const lb = new LoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      deletionProtection: config.production,
      allowPlainHttp: config.allowPlainHttp === true,
      accessLogRetentionDays: Math.max(config.logRetentionDays, 7),
      domain: config.domain,
    });
    this.url = lb.url;

    const logGroup = new logs.LogGroup(this, 'AppLogs', {
      retention: logRetention,
      encryptionKey: key,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });

    this.alarmTopic = new sns.Topic(this, 'Alarms', { masterKey: key, enforceSSL: true });
    if (config.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));

    const alarmNames = {
      target5xx: `${this.stackName}-target-5xx`,
      unhealthyTargets: `${this.stackName}-unhealthy-targets`,
      latencyP99: `${this.stackName}-latency-p99`,
      cpuHigh: `${this.stackName}-cpu-high`,
      memoryHigh: `${this.stackName}-memory-high`,
    };
    const web = new WebService(this, 'Web', {
      cluster: this.cluster,
      taskSubnets: network.taskSubnets,
      assignPublicIp: network.assignPublicIp,
      loadBalancer: lb.loadBalancer,
      listener: lb.listener,
      repository,
      imageTag: imageTag.valueAsString,
      hasImage,
      cpu: config.cpu,
      memoryLimitMiB: config.memoryLimitMiB,
      cpuArchitecture: config.cpuArchitecture,
      containerPort: config.containerPort,
      healthCheckPath: config.healthCheckPath,
      gunicornWorkers: config.gunicornWorkers,
      gunicornThreads: config.gunicornThreads,
      appName: config.appName,
      trustedProxyCidr: config.vpcCidr,
      egressTcpPorts: config.egressTcpPorts,
      minCapacity: config.minCapacity,
      maxCapacity: config.maxCapacity,
      cpuTargetPercent: config.cpuTargetPercent,
      requestsPerTargetPerMinute: config.requestsPerTargetPerMinute,
      useFargateSpot: config.useFargateSpot,
      deploymentStrategy: config.deploymentStrategy,
      logGroup,
      environment: config.environment,
      secrets: config.secrets,
      deploymentAlarmNames: [alarmNames.target5xx, alarmNames.unhealthyTargets],
    });
    this.service = web.service;

    const registryStack = cdk.Stack.of(props.repository);
    const infrastructureRole = web.service.node.tryFindChild('AlternateRole') as iam.IRole | undefined;
    this.imageDeployRole = new ImageDeployRole(this, 'ImageDeploy', {
      service: web.service,
      taskDefinition: web.taskDefinition,
      outputStackNames: registryStack === this ? [] : [registryStack.stackName],
      bootstrapVersionParameter: bootstrapVersionParameter(this),
      ecsServiceRoles: infrastructureRole ? [infrastructureRole] : [],
    }).role;

    const monitoring = new ServiceMonitoring(this, 'Monitoring', {
      webService: web,
      loadBalancer: lb.loadBalancer,
      topic: this.alarmTopic,
      alarmNames,
    });

    // `enforceSSL` writes a topic policy, and a topic policy replaces SNS's default one: without this statement no alarm
    // could publish. Only this stack's alarms may, on behalf of this account
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html). The key's policy lets CloudWatch
    // use it (above), as encrypted topics need
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': monitoring.alarmArns },
          StringEquals: { 'aws:SourceAccount': this.account },
        },
      }),
    );
    // The alarms are created after that policy. An alarm acts as soon as it exists (its first OK is a notification), so
    // otherwise its first notifications could meet the topic before the policy this stack writes and tests is in place;
    // the pipeline's notification rule waits for its topic policy the same way (aws/aws-cdk#29484). The policy names
    // the alarms by ARNs built from their names, so it does not depend on them in turn.
    const topicPolicy = this.alarmTopic.node.tryFindChild('Policy');
    if (!topicPolicy) throw new Error('ServiceStack: the alarm topic has no policy');
    for (const alarm of monitoring.alarms) alarm.node.addDependency(topicPolicy);

    new cdk.CfnOutput(this, 'ServiceUrl', { description: 'Service URL', value: lb.url });
    new cdk.CfnOutput(this, 'RepositoryUri', {
      description: 'ECR repository of the images',
      value: repository.repositoryUri,
    });
    new cdk.CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new cdk.CfnOutput(this, 'ServiceName', { value: this.service.serviceName });
    new cdk.CfnOutput(this, 'ImageDeployRoleArn', {
      description: 'CloudFormation role for ImageTag-only updates (the pipeline and `npm run rollback` pass it)',
      value: this.imageDeployRole.roleArn,
    });
    new cdk.CfnOutput(this, 'AppLogGroup', { description: 'aws logs tail <this> --follow', value: logGroup.logGroupName });
    new cdk.CfnOutput(this, 'DeployedImageTag', { description: 'Image tag this stack runs', value: imageTag.valueAsString });
    new cdk.CfnOutput(this, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${monitoring.dashboard.dashboardName}`,
    });
  }
}
