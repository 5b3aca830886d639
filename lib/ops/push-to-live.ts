/**
 * Push-to-live, modelled from the synthesized pipeline and service templates (DESIGN §5.7): how long a push takes to
 * reach a verified environment, stage by stage, and how long one rolling wave takes.
 *
 * What the templates say (compute per step, health checks, deregistration delay, deployment percentages, the alarms ECS
 * watches during a deployment) is read from them. What they cannot say is a named constant below, each with its source;
 * where AWS publishes no figure, the source says so and the value is an assumption that `npm run test:aws` measures
 * against (docs/real-account-test.md).
 */

/** One assumption: its value (seconds, or a count where the name says so) and where it comes from. */
export interface Assumption {
  readonly value: number;
  readonly source: string;
}

const MEASURE = 'no AWS figure; assumption, measured by `npm run test:aws` (docs/real-account-test.md)';

export const ASSUMPTIONS = {
  /** A push to the pipeline's start: CodeCommit → EventBridge rule (or the connection's trigger) → a new execution. */
  sourceTrigger: {
    value: 15,
    source: `https://docs.aws.amazon.com/codepipeline/latest/userguide/triggering.html; ${MEASURE}`,
  },
  /** The source action: the commit zipped into the artifact bucket. */
  sourceAction: { value: 10, source: MEASURE },
  /** CodePipeline starting an action, plus CodeBuild's QUEUED, DOWNLOAD_SOURCE and UPLOAD_ARTIFACTS phases. */
  actionOverhead: {
    value: 10,
    source: `https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details.html#view-build-details-phases; ${MEASURE}`,
  },
  /** CodeBuild's PROVISIONING phase on on-demand EC2 compute (an instance and the build image). */
  provisionEc2: {
    value: 45,
    source: `https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html; ${MEASURE}`,
  },
  /** The same on Lambda compute, which AWS describes as "optimized start-up speeds … lower start-up latency". */
  provisionLambda: { value: 5, source: `https://docs.aws.amazon.com/codebuild/latest/userguide/lambda.html; ${MEASURE}` },
  /** build.sh: ECR login, the Dockerfile's test stage and release image with a warm registry layer cache. */
  dockerBuild: { value: 75, source: `lib/pipeline/build.sh (buildx, --cache-from the ECR buildcache tag); ${MEASURE}` },
  /** build.sh: the smoke test starts the release image and waits for /health (bounded by SMOKE_START_SECONDS, 30). */
  smokeTest: { value: 10, source: `lib/pipeline/build.sh; ${MEASURE}` },
  /** build.sh: pushing the new layers (the app's, a few MB) and the manifest. */
  push: { value: 15, source: MEASURE },
  /** ECR basic scan on push, from push to COMPLETE. */
  basicScan: {
    value: 30,
    source: `https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-basic.html; ${MEASURE}`,
  },
  /** deploy.sh around the update: describe-stacks, batch-get-image, put-image of the marker, the floor check. */
  deployScript: { value: 5, source: `lib/pipeline/deploy.sh; ${MEASURE}` },
  /** CloudFormation from UpdateStack to ECS starting the deployment (the new task definition registered), and its polling. */
  stackUpdate: {
    value: 20,
    source: `https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html; ${MEASURE}`,
  },
  /** Verify: describe the stack, the service and its tasks, one /health probe through the load balancer. */
  verifyChecks: { value: 5, source: `lib/ops/verify.ts; ${MEASURE}` },
  /** A Fargate task from placement to RUNNING: ENI, pulling the slim image from ECR in-region, container start. */
  taskStart: {
    value: 30,
    source: `https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html; ${MEASURE}`,
  },
  /** ECS registering the running task with the target group, before the load balancer's first health check. */
  targetRegistration: {
    value: 5,
    source: `https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-register-targets.html; ${MEASURE}`,
  },
} as const satisfies Record<string, Assumption>;

/** Defaults the templates may leave out, from the scripts and AWS's documented defaults. */
export const DEFAULTS = {
  /** scan-gate.sh polls every SCAN_POLL_SECONDS (10): on average the gate sees COMPLETE half a poll late. */
  scanPollSeconds: { value: 10, source: 'lib/pipeline/scan-gate.sh (SCAN_POLL_SECONDS)' },
  /**
   * build.sh's smoke test fails an image that is still running SMOKE_STOP_SECONDS (10) after SIGTERM, so no image that
   * ships takes longer to stop than this, whatever the task's stopTimeout.
   */
  smokeStopSeconds: { value: 10, source: 'lib/pipeline/build.sh (SMOKE_STOP_SECONDS)' },
  healthCheckIntervalSeconds: {
    value: 30,
    source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html',
  },
  healthyThresholdCount: {
    value: 5,
    source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html',
  },
  deregistrationDelaySeconds: {
    value: 300,
    source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-attributes.html',
  },
} as const satisfies Record<string, Assumption>;

/**
 * ECS watches a deployment's alarms for a bake time after the new tasks are in and the old ones out, and "computes this
 * time period based on the alarm configuration" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html).
 * Modelled as the longest Period × EvaluationPeriods among those alarms: the time one of them needs to go to ALARM.
 */
export const BAKE_TIME_SOURCE = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html';

type Template = { Resources: Record<string, { Type: string; Properties?: any }> };

export interface RollingWave {
  readonly taskStart: number;
  readonly registration: number;
  readonly healthChecks: number;
  readonly deregistration: number;
  readonly stop: number;
  readonly total: number;
  /** How it adds up, for people. */
  readonly arithmetic: string;
}

export interface StageTime {
  readonly stage: string;
  readonly seconds: number;
  /** The terms, for people. */
  readonly detail: string;
}

export interface PushToLive {
  readonly stages: StageTime[];
  readonly totalSeconds: number;
  readonly wave: RollingWave;
  readonly waves: number;
  readonly bakeSeconds: number;
  /** The stage that takes longest. */
  readonly dominant: StageTime;
}

const resourcesOf = (template: Template, type: string) =>
  Object.values(template.Resources)
    .filter((r) => r.Type === type)
    .map((r) => r.Properties ?? {});
const only = (template: Template, type: string) => {
  const found = resourcesOf(template, type);
  if (found.length !== 1) throw new Error(`push-to-live model: expected one ${type} in the template, found ${found.length}`);
  return found[0];
};
const num = (value: unknown, fallback: number) => (value === undefined ? fallback : Number(value));

/** One rolling wave, from the service template: a new task starts and takes traffic, then an old one drains and stops. */
export function rollingWave(service: Template, stopBoundSeconds: number = DEFAULTS.smokeStopSeconds.value): RollingWave {
  // Blue/green strategies have a second target group: the model needs their health checks and draining to agree.
  const groups = resourcesOf(service, 'AWS::ElasticLoadBalancingV2::TargetGroup');
  const timing = (g: any) =>
    JSON.stringify([g.HealthCheckIntervalSeconds, g.HealthyThresholdCount, g.TargetGroupAttributes ?? []]);
  if (groups.length === 0 || groups.some((g) => timing(g) !== timing(groups[0]))) {
    throw new Error(
      `push-to-live model: expected target groups with one health-check and draining setting, found ${groups.length}`,
    );
  }
  const targetGroup = groups[0];
  const task = only(service, 'AWS::ECS::TaskDefinition');
  const attribute = (targetGroup.TargetGroupAttributes ?? []).find((a: any) => a.Key === 'deregistration_delay.timeout_seconds');
  const interval = num(targetGroup.HealthCheckIntervalSeconds, DEFAULTS.healthCheckIntervalSeconds.value);
  const threshold = num(targetGroup.HealthyThresholdCount, DEFAULTS.healthyThresholdCount.value);
  const stopTimeout = num(task.ContainerDefinitions?.[0]?.StopTimeout, 30);
  const wave = {
    taskStart: ASSUMPTIONS.taskStart.value,
    registration: ASSUMPTIONS.targetRegistration.value,
    healthChecks: interval * threshold,
    deregistration: attribute ? Number(attribute.Value) : DEFAULTS.deregistrationDelaySeconds.value,
    stop: Math.min(stopTimeout, stopBoundSeconds),
  };
  const total = wave.taskStart + wave.registration + wave.healthChecks + wave.deregistration + wave.stop;
  const arithmetic =
    `task start ${wave.taskStart} + registration ${wave.registration} + health checks ${threshold} × ${interval} ` +
    `+ deregistration ${wave.deregistration} + stop ${wave.stop} = ${total} s`;
  return { ...wave, total, arithmetic };
}

/** The stage times of one environment's pipeline run, from its pipeline and service templates. */
export function pushToLive(pipeline: Template, service: Template): PushToLive {
  const pipe = only(pipeline, 'AWS::CodePipeline::Pipeline');
  const projects = Object.entries(pipeline.Resources).filter(([, r]) => r.Type === 'AWS::CodeBuild::Project');
  const projectOf = (action: any) => {
    const id = action.Configuration?.ProjectName?.Ref;
    const found = projects.find(([logicalId]) => logicalId === id);
    if (!found) throw new Error(`push-to-live model: no CodeBuild project for action ${action.Name}`);
    return found[1].Properties;
  };
  const variable = (project: any, name: string) =>
    (project.Environment.EnvironmentVariables ?? []).find((v: any) => v.Name === name)?.Value as string | undefined;
  const provisioning = (project: any) => {
    const lambda = String(project.Environment.ComputeType).startsWith('BUILD_LAMBDA');
    return { seconds: (lambda ? ASSUMPTIONS.provisionLambda : ASSUMPTIONS.provisionEc2).value, kind: lambda ? 'Lambda' : 'EC2' };
  };

  const svc = only(service, 'AWS::ECS::Service');
  const deployment = svc.DeploymentConfiguration ?? {};
  const maxPercent = num(deployment.MaximumPercent, 200);
  const minPercent = num(deployment.MinimumHealthyPercent, 100);
  // Each wave replaces up to (max − min healthy)% of the tasks, or min healthy's complement when that is larger.
  const perWave = Math.max(maxPercent - 100, 100 - minPercent);
  const waves = Math.ceil(100 / perWave);
  const alarmNames: string[] = deployment.Alarms?.Enable ? deployment.Alarms.AlarmNames : [];
  const alarms = resourcesOf(service, 'AWS::CloudWatch::Alarm').filter((a) => alarmNames.includes(a.AlarmName));
  if (alarms.length !== alarmNames.length)
    throw new Error('push-to-live model: a deployment alarm is not in the service template');
  // A metric-math alarm (the blue/green variant's) has its periods in Metrics, not at the top.
  const periodOf = (a: any) =>
    Number(a.Period ?? Math.max(0, ...(a.Metrics ?? []).map((m: any) => Number(m.MetricStat?.Period ?? 0))));
  const bakeSeconds = Math.max(0, ...alarms.map((a) => periodOf(a) * Number(a.EvaluationPeriods)));

  let smokeStop: number = DEFAULTS.smokeStopSeconds.value;
  const stages: StageTime[] = [];
  for (const stage of pipe.Stages) {
    const action = stage.Actions[0];
    const provider = action.ActionTypeId.Provider;
    if (provider === 'Manual') continue; // Time to approve is a person's, not the pipeline's.
    if (stage.Name === 'Source') {
      const s = ASSUMPTIONS.sourceTrigger.value + ASSUMPTIONS.sourceAction.value;
      stages.push({
        stage: 'Source',
        seconds: s,
        detail: `trigger ${ASSUMPTIONS.sourceTrigger.value} + source action ${ASSUMPTIONS.sourceAction.value}`,
      });
      continue;
    }
    if (provider !== 'CodeBuild') throw new Error(`push-to-live model: no model for a ${provider} action (${stage.Name})`);
    const project = projectOf(action);
    const p = provisioning(project);
    const overhead = ASSUMPTIONS.actionOverhead.value;
    const head = `action ${overhead} + ${p.kind} provisioning ${p.seconds}`;
    if (stage.Name === 'Build') {
      smokeStop = num(variable(project, 'SMOKE_STOP_SECONDS'), smokeStop);
      const work = ASSUMPTIONS.dockerBuild.value + ASSUMPTIONS.smokeTest.value + ASSUMPTIONS.push.value;
      stages.push({
        stage: 'Build',
        seconds: overhead + p.seconds + work,
        detail: `${head} + image build ${ASSUMPTIONS.dockerBuild.value} + smoke test ${ASSUMPTIONS.smokeTest.value} + push ${ASSUMPTIONS.push.value}`,
      });
    } else if (stage.Name === 'ScanGate') {
      const poll = num(variable(project, 'SCAN_POLL_SECONDS'), DEFAULTS.scanPollSeconds.value) / 2;
      stages.push({
        stage: 'ScanGate',
        seconds: overhead + p.seconds + ASSUMPTIONS.basicScan.value + poll,
        detail: `${head} + basic scan ${ASSUMPTIONS.basicScan.value} + half a poll ${poll}`,
      });
    } else if (stage.Name === 'Deploy') {
      const wave = rollingWave(service, smokeStop);
      const rollout = waves * wave.total;
      stages.push({
        stage: 'Deploy',
        seconds: overhead + p.seconds + ASSUMPTIONS.deployScript.value + ASSUMPTIONS.stackUpdate.value + rollout + bakeSeconds,
        detail:
          `${head} + deploy.sh ${ASSUMPTIONS.deployScript.value} + CloudFormation ${ASSUMPTIONS.stackUpdate.value} ` +
          `+ ${waves} rolling wave(s) × ${wave.total} + alarm bake ${bakeSeconds}`,
      });
    } else if (stage.Name === 'Verify') {
      stages.push({
        stage: 'Verify',
        seconds: overhead + p.seconds + ASSUMPTIONS.verifyChecks.value,
        detail: `${head} + checks ${ASSUMPTIONS.verifyChecks.value} (prebuilt bundle: no npm ci)`,
      });
    } else {
      throw new Error(`push-to-live model: no model for stage ${stage.Name}`);
    }
  }
  const totalSeconds = stages.reduce((sum, s) => sum + s.seconds, 0);
  const dominant = stages.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  return { stages, totalSeconds, wave: rollingWave(service, smokeStop), waves, bakeSeconds, dominant };
}

const minutes = (seconds: number) => (seconds / 60).toFixed(1);

/** The model as a Markdown table, stage by stage, with the wave's arithmetic under it. */
export function renderPushToLive(envName: string, model: PushToLive): string {
  const lines = [
    `| Stage (${envName}) | Seconds | How it adds up |`,
    '| --- | ---: | --- |',
    ...model.stages.map((s) => `| ${s.stage} | ${s.seconds} | ${s.detail} |`),
    `| **Total** | **${model.totalSeconds} (≈ ${minutes(model.totalSeconds)} min)** | an approval's wait not included |`,
    '',
    `One rolling wave: ${model.wave.arithmetic}. Alarm bake time: ${model.bakeSeconds} s. ` +
      `Dominant stage: ${model.dominant.stage} (${model.dominant.seconds} s).`,
  ];
  return lines.join('\n');
}

/** Every assumption and default, with its source, as a Markdown table. */
export function renderAssumptions(): string {
  const rows = Object.entries({ ...ASSUMPTIONS, ...DEFAULTS }).map(([name, a]) => `| \`${name}\` | ${a.value} | ${a.source} |`);
  return ['| Constant | Value | Source |', '| --- | ---: | --- |', ...rows].join('\n');
}

/** What `npm run model:push-to-live` prints and docs/cost-and-speed.md holds between its markers. */
export function renderModelSection(models: Record<string, PushToLive>): string {
  return [...Object.entries(models).map(([env, model]) => renderPushToLive(env, model)), renderAssumptions()].join('\n\n');
}
