import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_ENVIRONMENT, environments } from '../../lib/config';
import { ASSUMPTIONS, type PushToLive, pushToLive, renderModelSection, rollingWave } from '../../lib/ops/push-to-live';
import { PUSH_TO_LIVE_MODEL_MINUTES } from '../../lib/ops/smoke/model';
import { synthesized } from '../helpers';

const models: Record<string, PushToLive> = {};
const model = (env: string) =>
  (models[env] ??= pushToLive(synthesized(env).json('pipeline') as any, synthesized(env).json('service') as any));
const seconds = (m: PushToLive, stage: string) => m.stages.find((s) => s.stage === stage)!.seconds;

describe.each(Object.keys(environments))('%s', (env) => {
  test('models every stage of the synthesized pipeline but the approval, in order', () => {
    expect(model(env).stages.map((s) => s.stage)).toEqual(['Source', 'Build', 'ScanGate', 'Deploy', 'Verify']);
    expect(model(env).totalSeconds).toBe(model(env).stages.reduce((sum, s) => sum + s.seconds, 0));
  });

  test('charges Lambda start-up, not EC2 provisioning, to ScanGate and Verify', () => {
    for (const stage of ['ScanGate', 'Verify']) {
      expect(model(env).stages.find((s) => s.stage === stage)!.detail).toContain(
        `Lambda provisioning ${ASSUMPTIONS.provisionLambda.value}`,
      );
    }
    expect(model(env).stages.find((s) => s.stage === 'Deploy')!.detail).toContain('EC2 provisioning');
  });

  test('models one rolling wave in 80 seconds or less', () => {
    expect(model(env).wave.total).toBeLessThanOrEqual(80);
  });

  test("reads the bake time from the deployment's alarms: the longest Period × EvaluationPeriods", () => {
    expect(model(env).bakeSeconds).toBe(120);
  });
});

test('the Deploy stage is the wave, the bake time and fixed costs', () => {
  const m = model(DEFAULT_ENVIRONMENT);
  const fixed =
    ASSUMPTIONS.actionOverhead.value +
    ASSUMPTIONS.provisionEc2.value +
    ASSUMPTIONS.deployScript.value +
    ASSUMPTIONS.stackUpdate.value;
  expect(seconds(m, 'Deploy')).toBe(fixed + m.waves * m.wave.total + m.bakeSeconds);
});

test('a wave of the all-defaults target group and task takes the defaults: 5 × 30 s checks, 300 s draining', () => {
  const template = {
    Resources: {
      TG: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: {} },
      TD: { Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{}] } },
    },
  };
  expect(rollingWave(template, 30)).toMatchObject({ healthChecks: 150, deregistration: 300, stop: 30, total: 515 });
});

test('fails when the pipeline has a stage the model does not know', () => {
  const pipeline = synthesized(DEFAULT_ENVIRONMENT).json('pipeline');
  const copy = JSON.parse(JSON.stringify(pipeline));
  const resource: any = Object.values(copy.Resources).find((r: any) => r.Type === 'AWS::CodePipeline::Pipeline');
  resource.Properties.Stages.find((s: any) => s.Name === 'Verify').Name = 'Smoke';
  expect(() => pushToLive(copy, synthesized(DEFAULT_ENVIRONMENT).json('service') as any)).toThrow(
    'push-to-live model: no model for stage Smoke',
  );
});

test('docs/cost-and-speed.md prints the model as it is', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'cost-and-speed.md'), 'utf8');
  const section = /<!-- push-to-live:begin -->\n([\s\S]*?)\n<!-- push-to-live:end -->/.exec(doc)?.[1];
  expect(section).toBe(renderModelSection(Object.fromEntries(Object.keys(environments).map((env) => [env, model(env)]))));
});

test("the smoke test's model figure is the default environment's model total, rounded out to whole minutes", () => {
  const minutes = model(DEFAULT_ENVIRONMENT).totalSeconds / 60;
  expect(PUSH_TO_LIVE_MODEL_MINUTES).toMatchObject({ min: Math.floor(minutes), max: Math.ceil(minutes) });
});

test('a blue/green service has two target groups with the same timing: one wave is modelled from them', () => {
  const group = { HealthCheckIntervalSeconds: 5, HealthyThresholdCount: 2 };
  const task = { Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{}] } };
  const template = (second: object) => ({
    Resources: {
      Blue: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: group },
      Green: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: second },
      TD: task,
    },
  });
  expect(rollingWave(template(group), 30)).toMatchObject({ healthChecks: 10 });
  expect(() => rollingWave(template({ ...group, HealthyThresholdCount: 5 }), 30)).toThrow(
    'push-to-live model: expected target groups with one health-check and draining setting, found 2',
  );
});

test("reads a metric-math deployment alarm's period from its metrics (the blue/green variant's alarm)", () => {
  const template = {
    Resources: {
      Service: {
        Type: 'AWS::ECS::Service',
        Properties: { DeploymentConfiguration: { Alarms: { Enable: true, AlarmNames: ['math'] } } },
      },
      Alarm: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { AlarmName: 'math', EvaluationPeriods: 2, Metrics: [{ Id: 'm', MetricStat: { Period: 60 } }, { Id: 'e' }] },
      },
    },
  };
  const pipeline = synthesized(DEFAULT_ENVIRONMENT).json('pipeline');
  const service = synthesized(DEFAULT_ENVIRONMENT).json('service') as any;
  const copy = JSON.parse(JSON.stringify(service));
  for (const [id, r] of Object.entries<any>(copy.Resources)) if (r.Type === 'AWS::CloudWatch::Alarm') delete copy.Resources[id];
  const ecsService: any = Object.values(copy.Resources).find((r: any) => r.Type === 'AWS::ECS::Service');
  ecsService.Properties.DeploymentConfiguration.Alarms = template.Resources.Service.Properties.DeploymentConfiguration.Alarms;
  copy.Resources.Alarm = template.Resources.Alarm;
  expect(pushToLive(pipeline as any, copy).bakeSeconds).toBe(120);
});
