/**
 * A model of one rolling-deployment wave, read from a synthesized template:
 *
 *   task start (assumed) + healthy threshold x health-check interval + deregistration delay + stop timeout
 *
 * The new task must start and pass the load balancer's health checks before the old one is drained and stopped.
 * Task start (image pull, container start) is not in the template; it is assumed to take START_SECONDS.
 */
export const START_SECONDS = 30;

/** CloudFormation's and ECS's defaults, used when the template leaves a value out. */
const DEFAULTS = { interval: 30, healthyThreshold: 5, deregistrationDelay: 300, stopTimeout: 30 };

export interface WaveModel {
  start: number;
  healthChecks: number;
  deregistration: number;
  stop: number;
  total: number;
}

export function rollingWaveSeconds(template: { [key: string]: any }): WaveModel {
  const resources: any[] = Object.values(template.Resources ?? {});
  const targetGroup = resources.find((r) => r.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup')?.Properties ?? {};
  const task = resources.find((r) => r.Type === 'AWS::ECS::TaskDefinition')?.Properties ?? {};
  const attribute = (targetGroup.TargetGroupAttributes ?? []).find((a: any) => a.Key === 'deregistration_delay.timeout_seconds');
  const container = (task.ContainerDefinitions ?? [])[0] ?? {};

  const interval = targetGroup.HealthCheckIntervalSeconds ?? DEFAULTS.interval;
  const healthyThreshold = targetGroup.HealthyThresholdCount ?? DEFAULTS.healthyThreshold;
  const model = {
    start: START_SECONDS,
    healthChecks: interval * healthyThreshold,
    deregistration: attribute ? Number(attribute.Value) : DEFAULTS.deregistrationDelay,
    stop: container.StopTimeout ?? DEFAULTS.stopTimeout,
  };
  return { ...model, total: model.start + model.healthChecks + model.deregistration + model.stop };
}
