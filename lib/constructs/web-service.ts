import * as cdk from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CpuArchitecture, DeploymentStrategyName } from '../config';
import { parseSecretRef } from '../config/schema';
import { acknowledgeGrantPolicy, acknowledgeWildcards } from './nag';

/** Rollout timings. Together they bound one rolling wave; see `lib/ops/push-to-live.ts` and `test/rollout-model.ts`. */
export const ROLLOUT = {
  /**
   * ALB health check interval: the ALB's minimum, 5 s (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
   * A new task takes traffic after 2 × 5 s instead of 2 × 10 s: the push-to-live model's rolling wave fits in 80 s
   * (lib/ops/push-to-live.ts) without shortening the deregistration delay, which bounds the requests a deploy lets finish
   * (docs/app-limits.md). An unhealthy target is also taken out sooner: 3 × 5 s.
   */
  healthCheckIntervalSeconds: 5,
  /** Below the interval, as the ALB requires; /health answers in milliseconds. */
  healthCheckTimeoutSeconds: 4,
  /** Consecutive passes before a new target takes traffic. */
  healthyThresholdCount: 2,
  /** Consecutive failures before a target is taken out. */
  unhealthyThresholdCount: 3,
  /** Time an old target drains before ECS stops it (default 300 s). */
  deregistrationDelaySeconds: 20,
  /** ECS ignores load balancer health this long after a task starts. */
  healthCheckGracePeriodSeconds: 30,
  /** SIGTERM to SIGKILL. gunicorn's graceful timeout (25 s) is below it. */
  stopTimeoutSeconds: 30,
} as const;

export interface WebServiceProps {
  readonly cluster: ecs.ICluster;
  readonly taskSubnets: ec2.SubnetSelection;
  /** Give tasks a public IP: the `public` network profile has no NAT gateway. */
  readonly assignPublicIp: boolean;
  /** The load balancer's security group is the only source admitted to the task port. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The listener that carries production traffic. */
  readonly listener: elbv2.ApplicationListener;
  readonly repository: ecr.IRepository;
  /** The image tag to run (a CloudFormation parameter). */
  readonly imageTag: string;
  /** True once `imageTag` names a real image: until then the service runs zero tasks. */
  readonly hasImage: cdk.CfnCondition;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly cpuArchitecture: CpuArchitecture;
  readonly containerPort: number;
  readonly healthCheckPath: string;
  readonly gunicornWorkers: number;
  readonly gunicornThreads: number;
  /** The app's name, passed to it as `APP_NAME` (it answers with it on `/`). */
  readonly appName: string;
  /**
   * The only network whose `X-Forwarded-*` headers the app trusts: the VPC's range, where the load balancer lives.
   * Passed as `TRUSTED_PROXY_CIDRS` (app/service/proxy.py; gunicorn itself trusts no peer).
   */
  readonly trustedProxyCidr: string;
  /**
   * TCP ports the tasks may connect out to, or `'all'`.
   * @default [443]
   */
  readonly egressTcpPorts?: readonly number[] | 'all';
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly cpuTargetPercent: number;
  readonly requestsPerTargetPerMinute: number;
  readonly useFargateSpot: boolean;
  readonly deploymentStrategy: DeploymentStrategyName;
  readonly logGroup: logs.ILogGroup;
  /**
   * Extra, non-secret environment variables.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Environment variable → Secrets Manager secret: its name or complete ARN, optionally followed by `:jsonKey`.
   * @default - none
   */
  readonly secrets?: Record<string, string>;
  /** Names of the alarms that roll a deployment back (5xx, unhealthy targets). */
  readonly deploymentAlarmNames: string[];
}

/**
 * The Fargate service: task definition, container, target group(s), listener rule and autoscaling.
 *
 * The container runs as the image's non-root user on a read-only root filesystem, with an init process,
 * a Python health check and a writable `/tmp`. Rollouts stop at the first sign of trouble: circuit breaker
 * and deployment alarms both roll back.
 */
export class WebService extends Construct {
  /** The ECS service. */
  public readonly service: ecs.FargateService;
  /** The task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The target group that production traffic starts on. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The second target group, for ECS-native blue/green, canary and linear deployments. */
  public readonly alternateTargetGroup?: elbv2.ApplicationTargetGroup;
  /** The container's name in the task definition. */
  public readonly containerName = 'app';

  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    const port = props.containerPort;

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture === 'ARM64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      // /tmp for a read-only root: a task volume mounted where the image declares `VOLUME ["/tmp"]` (app/Dockerfile).
      // "If the absolute path that's specified in the VOLUME directive is the same as the containerPath that's specified
      // in the task definition, the data in the VOLUME directive path is copied to the data volume", and otherwise "the
      // volume permissions are set to 0755 and the owner as root" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html,
      // "Considerations when using bind mounts"). The image's /tmp is 1777, so the app's user can write it on Fargate.
      volumes: [{ name: 'tmp' }],
    });

    const container = this.taskDefinition.addContainer('App', {
      containerName: this.containerName,
      image: ecs.ContainerImage.fromEcrRepository(props.repository, props.imageTag),
      portMappings: [{ containerPort: port, name: 'http', appProtocol: ecs.AppProtocol.http }],
      environment: {
        ...props.environment,
        PORT: String(port),
        // The app serves its health route here (app/service/config.py): one field drives the app and the checks.
        HEALTH_CHECK_PATH: props.healthCheckPath,
        APP_NAME: props.appName,
        APP_VERSION: props.imageTag,
        GUNICORN_WORKERS: String(props.gunicornWorkers),
        GUNICORN_THREADS: String(props.gunicornThreads),
        TRUSTED_PROXY_CIDRS: props.trustedProxyCidr,
      },
      // Slim images have no curl; Python is always there.
      healthCheck: {
        command: [
          'CMD',
          'python',
          '-c',
          `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}${props.healthCheckPath}', timeout=3)`,
        ],
        interval: cdk.Duration.seconds(10),
        timeout: cdk.Duration.seconds(5),
        retries: 3,
        startPeriod: cdk.Duration.seconds(15),
      },
      secrets: containerSecrets(this, props.secrets ?? {}),
      readonlyRootFilesystem: true,
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      stopTimeout: cdk.Duration.seconds(ROLLOUT.stopTimeoutSeconds),
      logging: ecs.LogDrivers.awsLogs({
        logGroup: props.logGroup,
        streamPrefix: 'app',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: cdk.Size.mebibytes(25),
      }),
    });
    container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
    // The reason names every variable, the user's included: validation refuses values that look like secrets.
    const variables = this.variableNames(props);
    cdk.Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: `Only non-secret settings (${variables.join(', ')}): validation refuses a literal value under a secret-like name, and secrets go in the container's \`secrets\``,
    });
    const executionRole = this.taskDefinition.obtainExecutionRole();
    const keyFindings = grantForeignSecretKeys(executionRole, props.secrets ?? {}, cdk.Stack.of(this).account);
    acknowledgeWildcards(executionRole, {
      ...keyFindings,
      'Resource::*': 'ecr:GetAuthorizationToken has no resource-level permissions; every other statement names its resource',
      ...Object.fromEntries(
        Object.values(props.secrets ?? {})
          .map((ref) => parseSecretRef(ref)?.name)
          .filter((name) => name !== undefined)
          .map((name) => [
            `Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????`,
            'Secrets Manager ends a secret ARN in 6 random characters; the secret name is fixed',
          ]),
      ),
    });
    acknowledgeGrantPolicy(executionRole);

    const egress = props.egressTcpPorts ?? [443];
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'Tasks: admits only the load balancer, on the container port',
      allowAllOutbound: egress === 'all',
    });
    // Image pulls, logs and secrets are HTTPS calls from the task's own network interface (Fargate platform 1.4+), so
    // they need 443 out. DNS to the VPC resolver is not filtered by security groups:
    // https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
    if (egress !== 'all') {
      for (const p of egress) securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(p), `Out to TCP ${p}`);
    }
    for (const lbGroup of props.loadBalancer.connections.securityGroups) {
      securityGroup.addIngressRule(lbGroup, ec2.Port.tcp(port), 'From the load balancer');
    }

    const progressive = props.deploymentStrategy !== 'ROLLING';
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      // No image yet: zero tasks, so the first deploy completes without one (DESIGN §3). Once there is an image,
      // DesiredCount is left out of the template, so that a deploy, a rollback or `cdk deploy` never resets a scaled-out
      // service (aws/aws-cdk#13130): "for existing services, if a desired count is not specified, it is omitted from
      // the operation" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html).
      // Autoscaling owns the count between minCapacity and maxCapacity; the deploy step raises a service that is still
      // at zero after its first image (lib/pipeline/deploy.sh).
      desiredCount: cdk.Token.asNumber(cdk.Fn.conditionIf(props.hasImage.logicalId, cdk.Aws.NO_VALUE, 0)),
      vpcSubnets: props.taskSubnets,
      assignPublicIp: props.assignPublicIp,
      securityGroups: [securityGroup],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: cdk.Duration.seconds(ROLLOUT.healthCheckGracePeriodSeconds),
      circuitBreaker: { enable: true, rollback: true },
      deploymentAlarms: { alarmNames: props.deploymentAlarmNames, behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
      deploymentStrategy: ecs.DeploymentStrategy[props.deploymentStrategy],
      ...(props.deploymentStrategy === 'BLUE_GREEN' ? { bakeTime: cdk.Duration.minutes(5) } : {}),
      ...(props.deploymentStrategy === 'CANARY'
        ? { canaryConfiguration: { stepPercent: 10, stepBakeTime: cdk.Duration.minutes(5) } }
        : {}),
      ...(props.deploymentStrategy === 'LINEAR'
        ? { linearConfiguration: { stepPercent: 25, stepBakeTime: cdk.Duration.minutes(2) } }
        : {}),
      capacityProviderStrategies: [{ capacityProvider: props.useFargateSpot ? 'FARGATE_SPOT' : 'FARGATE', weight: 1 }],
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    // Created after, and deleted before, the cluster's capacity-provider association; otherwise a delete can fail with
    // "The specified capacity provider is in use" and a create can race it (aws/containers-roadmap#631, comment of
    // 2021-04-09; pahud/cdk-fargate-patterns#71).
    // aws-cdk-lib adds the association in an aspect at synthesis, so the dependency is added by a later-running one.
    const service = this.service;
    cdk.Aspects.of(this).add(
      {
        visit(node) {
          if (node !== service) return;
          const association = props.cluster.node.children.find((c) => c instanceof ecs.CfnClusterCapacityProviderAssociations);
          if (!association) throw new Error(`${service.node.path}: the cluster has no capacity-provider association`);
          service.node.addDependency(association);
        },
      },
      { priority: cdk.AspectPriority.READONLY },
    );

    const targetGroupProps: elbv2.ApplicationTargetGroupProps = {
      vpc: props.cluster.vpc,
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: cdk.Duration.seconds(ROLLOUT.deregistrationDelaySeconds),
      healthCheck: {
        path: props.healthCheckPath,
        port: String(port),
        interval: cdk.Duration.seconds(ROLLOUT.healthCheckIntervalSeconds),
        timeout: cdk.Duration.seconds(ROLLOUT.healthCheckTimeoutSeconds),
        healthyThresholdCount: ROLLOUT.healthyThresholdCount,
        unhealthyThresholdCount: ROLLOUT.unhealthyThresholdCount,
        healthyHttpCodes: '200',
      },
    };
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', targetGroupProps);
    if (progressive) {
      this.alternateTargetGroup = new elbv2.ApplicationTargetGroup(this, 'AlternateTargetGroup', targetGroupProps);
    }
    // ECS-native blue/green shifts traffic by re-weighting this rule's two groups; rolling forwards to one.
    const rule = new elbv2.ApplicationListenerRule(this, 'ProductionRule', {
      listener: props.listener,
      priority: 1,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
      action: this.alternateTargetGroup
        ? elbv2.ListenerAction.weightedForward([
            { targetGroup: this.targetGroup, weight: 100 },
            { targetGroup: this.alternateTargetGroup, weight: 0 },
          ])
        : elbv2.ListenerAction.forward([this.targetGroup]),
    });

    if (this.alternateTargetGroup) {
      this.service
        .loadBalancerTarget({
          containerName: this.containerName,
          containerPort: port,
          alternateTarget: new ecs.AlternateTarget('Alternate', {
            alternateTargetGroup: this.alternateTargetGroup,
            productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(rule),
          }),
        })
        .attachToApplicationTargetGroup(this.targetGroup);
      const infrastructureRole = this.service.node.tryFindChild('AlternateRole');
      if (infrastructureRole) {
        cdk.Validations.of(infrastructureRole).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
          reason: 'The AWS-maintained policy ECS-native blue/green needs to re-weight listener rules and target groups',
        });
      }
    } else {
      this.service.attachToApplicationTargetGroup(this.targetGroup);
    }

    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minCapacity, maxCapacity: props.maxCapacity });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: props.cpuTargetPercent });
    // Blue/green swaps target groups on every deploy, so request-count scaling (bound to one group) is rolling-only.
    if (!progressive) {
      scaling.scaleOnRequestCount('Requests', {
        requestsPerTarget: props.requestsPerTargetPerMinute,
        targetGroup: this.targetGroup,
      });
    }
    // With no image the scaling floor is zero too, or Application Auto Scaling would start tasks that cannot pull.
    const target = this.service.node
      .findAll()
      .find((c): c is appscaling.CfnScalableTarget => c instanceof appscaling.CfnScalableTarget);
    if (!target) throw new Error('WebService: the scalable target was not created');
    target.minCapacity = cdk.Token.asNumber(cdk.Fn.conditionIf(props.hasImage.logicalId, props.minCapacity, 0));
  }

  /** The names of the container's plain environment variables, sorted. */
  private variableNames(props: WebServiceProps): string[] {
    return [
      ...Object.keys(props.environment ?? {}),
      'PORT',
      'HEALTH_CHECK_PATH',
      'APP_NAME',
      'APP_VERSION',
      'GUNICORN_WORKERS',
      'GUNICORN_THREADS',
      'TRUSTED_PROXY_CIDRS',
    ].sort();
  }

  /** A metric of the production target group(s): the maximum across both groups when blue/green is on. */
  targetGroupMetric(metricName: 'UnHealthyHostCount' | 'HealthyHostCount', statistic: string): cloudwatch.IMetric {
    const groups = [this.targetGroup, ...(this.alternateTargetGroup ? [this.alternateTargetGroup] : [])];
    const metrics = groups.map((tg) => tg.metrics.custom(metricName, { statistic, period: cdk.Duration.minutes(1) }));
    if (metrics.length === 1) return metrics[0];
    const id = metricName.toLowerCase();
    return new cloudwatch.MathExpression({
      expression: `MAX([${id}0, ${id}1])`,
      usingMetrics: { [`${id}0`]: metrics[0], [`${id}1`]: metrics[1] },
      period: cdk.Duration.minutes(1),
      label: metricName,
    });
  }
}

/**
 * ECS secrets from the configuration's references, with no lookup at synth: a name stands for a secret of the stack's
 * account and region; a complete ARN for any secret, another account's included. ECS takes the secret's full ARN in
 * `valueFrom` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Secret.html), and a secret shared with
 * another account is read by its ARN, encrypted with a customer managed key the reader may use
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html).
 */
export function containerSecrets(
  scope: Construct,
  refs: Readonly<Record<string, string>>,
): Record<string, ecs.Secret> | undefined {
  const entries = Object.entries(refs);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([variable, ref]) => {
      const parsed = parseSecretRef(ref);
      if (!parsed)
        throw new Error(`secrets.${variable}: '${ref}' is not a secret name or ARN (validation should have refused it)`);
      const secret = parsed.arn
        ? secretsmanager.Secret.fromSecretCompleteArn(scope, `Secret${variable}`, parsed.arn)
        : secretsmanager.Secret.fromSecretNameV2(scope, `Secret${variable}`, parsed.name!);
      return [variable, ecs.Secret.fromSecretsManager(secret, parsed.jsonKey)];
    }),
  );
}

/**
 * Lets `role` decrypt the secrets that `refs` names by ARN in another account than `account` (or in any, when the stack
 * is environment-agnostic). Such a secret is encrypted with a customer managed key of its own account, which the reader
 * must be allowed to use: https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html.
 * The key is not known here, so the grant names any key of that account, used by Secrets Manager for exactly that
 * secret: Secrets Manager decrypts with the secret's ARN as encryption context (`SecretARN`),
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-encryption-context.
 * Returns the cdk-nag findings the `key/*` wildcards raise, with their reasons.
 */
export function grantForeignSecretKeys(
  role: iam.IRole,
  refs: Readonly<Record<string, string>>,
  account: string,
): Record<string, string> {
  const findings: Record<string, string> = {};
  for (const ref of Object.values(refs)) {
    const arn = parseSecretRef(ref)?.arn;
    if (!arn) continue;
    const [, partition, , region, secretAccount] = arn.split(':');
    if (!cdk.Token.isUnresolved(account) && secretAccount === account) continue;
    const keys = `arn:${partition}:kms:${region}:${secretAccount}:key/*`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [keys],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': arn },
        },
      }),
    );
    findings[`Resource::${keys}`] =
      "The secret's key is in its own account and not known here: any key there, but only as Secrets Manager uses it for this secret's ARN";
  }
  return findings;
}
