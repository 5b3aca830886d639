import * as cdk from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { WebService } from './web-service';

export interface ServiceMonitoringProps {
  readonly webService: WebService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly topic: sns.ITopic;
  /**
   * Physical alarm names. The deployment alarms' are known before the service exists, so that it can roll back on them;
   * every alarm's is known before the alarms exist, so that the topic's policy can name their ARNs without waiting for them.
   */
  readonly alarmNames: {
    readonly target5xx: string;
    readonly unhealthyTargets: string;
    readonly latencyP99: string;
    readonly cpuHigh: string;
    readonly memoryHigh: string;
  };
}

/**
 * Alarms to the SNS topic and a CloudWatch dashboard. Two of the alarms are also the service's deployment alarms:
 * a rollout that raises them is rolled back.
 */
export class ServiceMonitoring extends Construct {
  /** Raised by 5xx answers from the app. Rolls deployments back. */
  public readonly target5xxAlarm: cloudwatch.Alarm;
  /** Raised by targets failing the load balancer's health check. Rolls deployments back. */
  public readonly unhealthyTargetsAlarm: cloudwatch.Alarm;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, each of which notifies the topic. */
  public readonly alarms: cloudwatch.Alarm[];
  /**
   * The ARNs of `alarms`, in the same order, built from their names: a policy that names them does not depend on the
   * alarms, so the alarms can depend on it.
   */
  public readonly alarmArns: string[];

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    const { webService, loadBalancer } = props;
    const service = webService.service;
    const minute = cdk.Duration.minutes(1);
    const alb = loadBalancer.metrics;

    const target5xx = alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute, statistic: 'Sum' });
    this.target5xxAlarm = new cloudwatch.Alarm(this, 'Target5xx', {
      alarmName: props.alarmNames.target5xx,
      alarmDescription: 'The app answered 5xx at least 5 times in a minute',
      metric: target5xx,
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.unhealthyTargetsAlarm = new cloudwatch.Alarm(this, 'UnhealthyTargets', {
      alarmName: props.alarmNames.unhealthyTargets,
      alarmDescription: 'A target failed the load balancer health check for 2 minutes',
      metric: webService.targetGroupMetric('UnHealthyHostCount', 'Maximum'),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const latency = alb.targetResponseTime({ period: minute, statistic: 'p99' });
    const latencyAlarm = new cloudwatch.Alarm(this, 'LatencyP99', {
      alarmName: props.alarmNames.latencyP99,
      alarmDescription: 'p99 response time above 2 s for 5 minutes',
      metric: latency,
      threshold: 2,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const cpu = service.metricCpuUtilization({ period: minute });
    const memory = service.metricMemoryUtilization({ period: minute });
    const cpuAlarm = new cloudwatch.Alarm(this, 'CpuHigh', {
      alarmName: props.alarmNames.cpuHigh,
      alarmDescription: 'Service CPU above 90% for 5 minutes',
      metric: cpu,
      threshold: 90,
      evaluationPeriods: 5,
    });
    const memoryAlarm = new cloudwatch.Alarm(this, 'MemoryHigh', {
      alarmName: props.alarmNames.memoryHigh,
      alarmDescription: 'Service memory above 90% for 5 minutes',
      metric: memory,
      threshold: 90,
      evaluationPeriods: 5,
    });
    const action = new actions.SnsAction(props.topic);
    this.alarms = [this.target5xxAlarm, this.unhealthyTargetsAlarm, latencyAlarm, cpuAlarm, memoryAlarm];
    const names = props.alarmNames;
    this.alarmArns = [names.target5xx, names.unhealthyTargets, names.latencyP99, names.cpuHigh, names.memoryHigh].map((name) =>
      cdk.Stack.of(this).formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: name,
        arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: cdk.Duration.hours(3),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Requests and errors',
            left: [alb.requestCount({ period: minute, statistic: 'Sum' })],
            right: [target5xx, alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute, statistic: 'Sum' })],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Response time',
            left: [alb.targetResponseTime({ period: minute, statistic: 'p50' }), latency],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'CPU and memory (%)', left: [cpu, memory], width: 12 }),
          new cloudwatch.GraphWidget({
            title: 'Targets',
            left: [
              webService.targetGroupMetric('HealthyHostCount', 'Minimum'),
              webService.targetGroupMetric('UnHealthyHostCount', 'Maximum'),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [this.target5xxAlarm, this.unhealthyTargetsAlarm, latencyAlarm, cpuAlarm, memoryAlarm],
            width: 24,
          }),
        ],
      ],
    });
  }
}
