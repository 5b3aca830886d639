import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DEFAULT_ENVIRONMENT, environments, stackNames } from '../../lib/config';
import { accessLogDelivery, findInMapsFor } from '../access-logs';
import { CDK_CONTEXT, resolveConditions, synth, synthesized, type Synthesized } from '../helpers';
import { rollingWaveSeconds } from '../rollout-model';
import { VARIANTS } from '../templates/targets';

let custom: Synthesized;

beforeAll(() => {
  // Production by its flag, not by its name; the templates tier lints the same variant.
  custom = synth(VARIANTS['dev+domain+blue-green+x86+port9000+secrets']());
});

const templates: Record<string, Template> = {};
const service = (env: string) => (templates[env] ??= synthesized(env).template('service'));
const firstOf = (template: Template, type: string) => Object.values(template.findResources(type))[0].Properties;

// Expectations come from each environment's configuration, so that a fork's own settings keep these tests meaningful.
describe.each(Object.keys(environments))('%s service stack', (env) => {
  const c = environments[env];
  const names = stackNames(c);

  test('matches the snapshot', () => {
    expect(service(env).toJSON()).toMatchSnapshot();
  });

  test('creates two AZs of subnets and never the default VPC layout', () => {
    const subnets = service(env).findResources('AWS::EC2::Subnet');
    expect(Object.keys(subnets).length).toBe(c.networkProfile === 'public' ? 2 : 4);
  });

  test('turns VPC flow logs on for all traffic', () => {
    service(env).hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  test('turns Container Insights on', () => {
    service(env).hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  test('sets the runtime platform explicitly', () => {
    service(env).hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: c.cpuArchitecture, OperatingSystemFamily: 'LINUX' },
    });
  });

  test('checks container health with Python, not curl', () => {
    const container = firstOf(service(env), 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    expect(container.HealthCheck.Command.slice(0, 2)).toEqual(['CMD', 'python']);
    expect(container.HealthCheck.Command[3]).toContain(`http://127.0.0.1:${c.containerPort}${c.healthCheckPath}`);
  });

  test('runs an init process on a read-only root filesystem with a writable /tmp', () => {
    service(env).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          LinuxParameters: { InitProcessEnabled: true },
          ReadonlyRootFilesystem: true,
          MountPoints: [{ ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'tmp' }],
        }),
      ],
      Volumes: [{ Name: 'tmp' }],
    });
  });

  // ECS copies the image's content at a VOLUME path into a task volume mounted at that same path; any other empty bind
  // mount is root-owned 0755, which the app's user (10001) cannot write: see the comment in web-service.ts.
  test("mounts each task volume where the image declares a VOLUME, so the app's user can write it", () => {
    const dockerfile = fs.readFileSync(path.join(__dirname, '..', '..', 'app', 'Dockerfile'), 'utf8');
    const release = dockerfile.slice(dockerfile.search(/^FROM .* AS release$/m));
    const declared = [...release.matchAll(/^VOLUME\s+(\[.*\])\s*$/gm)].flatMap((m) => JSON.parse(m[1]) as string[]);
    // Owned by the app user and 1777: writable whether ECS carries the mode, the owner, or both into the volume.
    expect(release).toMatch(/^RUN chown 10001:10001 \/tmp && chmod 1777 \/tmp$/m);
    const taskDefinition = firstOf(service(env), 'AWS::ECS::TaskDefinition');
    const mounts = taskDefinition.ContainerDefinitions.flatMap((c: any) => c.MountPoints ?? []);
    expect(mounts.map((m: any) => m.ContainerPath)).toEqual(['/tmp']);
    for (const mount of mounts) expect(declared).toContain(mount.ContainerPath);
    expect(taskDefinition.Volumes).toEqual(mounts.map((m: any) => ({ Name: m.SourceVolume })));
    expect(taskDefinition.ContainerDefinitions.every((c: any) => c.ReadonlyRootFilesystem === true)).toBe(true);
  });

  test('gives every log group an explicit retention', () => {
    for (const group of Object.values(service(env).findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(c.logRetentionDays);
    }
  });

  test('rolls back on circuit breaker and on deployment alarms', () => {
    service(env).hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        Alarms: {
          AlarmNames: [`${names.service}-target-5xx`, `${names.service}-unhealthy-targets`],
          Enable: true,
          Rollback: true,
        },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      }),
    });
  });

  test('creates the deployment alarms it rolls back on', () => {
    const alarms = Object.values(service(env).findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const named = (suffix: string) => JSON.stringify(alarms.find((a) => a.AlarmName === `${names.service}-${suffix}`));
    expect(named('target-5xx')).toContain('HTTPCode_Target_5XX_Count');
    // One target group when rolling; the maximum over both with blue/green.
    expect(named('unhealthy-targets')).toContain('UnHealthyHostCount');
  });

  test('drains targets in 20 seconds and checks health every 5 seconds (timeout 4), healthy after 2', () => {
    service(env).hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: c.healthCheckPath,
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 4,
      HealthyThresholdCount: 2,
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }]),
    });
  });

  test('sets an explicit health-check grace period', () => {
    service(env).hasResourceProperties('AWS::ECS::Service', { HealthCheckGracePeriodSeconds: 30 });
  });

  test('models a rolling wave at 120 seconds or less', () => {
    expect(rollingWaveSeconds(service(env).toJSON()).total).toBeLessThanOrEqual(120);
  });

  const albAttribute = (key: string, value: string) =>
    service(env).hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: key, Value: value }]),
    });

  test('drops invalid headers', () => albAttribute('routing.http.drop_invalid_header_fields.enabled', 'true'));

  test('writes access logs', () => albAttribute('access_logs.s3.enabled', 'true'));

  test('lets only the ELB log-delivery service principal write access logs, in any region, newer ones included', () => {
    const template = service(env).toJSON();
    expect(accessLogDelivery(template).map((st) => st.Principal)).toEqual([
      { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
    ]);
    // A region opened after this aws-cdk-lib release (test/constructs/load-balancer.test.ts checks it is unknown).
    expect(findInMapsFor(template, 'xx-future-1')).toEqual([]);
  });

  test('keeps the idle timeout below gunicorn keep-alive (60 s against 65 s)', () =>
    albAttribute('idle_timeout.timeout_seconds', '60'));

  test('encrypts, versions and blocks public access to the access-log bucket', () => {
    service(env).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  test('admits only the load balancer to the task port', () => {
    const ingress = service(env).findResources('AWS::EC2::SecurityGroupIngress');
    const rules = Object.values(ingress).map((r) => r.Properties);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ FromPort: c.containerPort, ToPort: c.containerPort, IpProtocol: 'tcp' });
    expect(rules[0].SourceSecurityGroupId).toBeDefined();
  });

  test('uses the configured port for the container, target group, health check and PORT', () => {
    const container = firstOf(service(env), 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    expect(container.PortMappings[0].ContainerPort).toBe(c.containerPort);
    expect(container.Environment).toContainEqual({ Name: 'PORT', Value: String(c.containerPort) });
    // The app serves its health route at HEALTH_CHECK_PATH: the same field drives it and both health checks.
    expect(container.Environment).toContainEqual({ Name: 'HEALTH_CHECK_PATH', Value: c.healthCheckPath });
    service(env).hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: c.containerPort,
      HealthCheckPort: String(c.containerPort),
    });
  });

  test('scales on CPU', () => {
    service(env).hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: c.cpuTargetPercent,
      }),
    });
  });

  test('scales on requests per target when rolling (blue/green swaps the target group)', () => {
    const requestPolicies = Object.values(service(env).findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).filter(
      (p) =>
        p.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType ===
        'ALBRequestCountPerTarget',
    );
    if (c.deploymentStrategy === 'ROLLING') {
      expect(requestPolicies.map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration.TargetValue)).toEqual([
        c.requestsPerTargetPerMinute,
      ]);
    } else {
      expect(requestPolicies).toEqual([]);
    }
  });

  test('runs on Fargate Spot only when configured', () => {
    service(env).hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [{ CapacityProvider: c.useFargateSpot ? 'FARGATE_SPOT' : 'FARGATE', Weight: 1 }],
    });
  });

  test('protects the load balancer from deletion exactly when the environment holds production', () => {
    service(env).hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: String(c.production) }]),
    });
  });

  test(`follows its network profile`, () => {
    const svc = firstOf(service(env), 'AWS::ECS::Service');
    const subnets = service(env).findResources('AWS::EC2::Subnet');
    const taskSubnetTypes = svc.NetworkConfiguration.AwsvpcConfiguration.Subnets.map(
      (ref: any) => subnets[ref.Ref].Properties.Tags.find((t: any) => t.Key === 'aws-cdk:subnet-type').Value,
    );
    if (c.networkProfile === 'public') {
      service(env).resourceCountIs('AWS::EC2::NatGateway', 0);
      expect(svc.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
      expect(taskSubnetTypes).toEqual(['Public', 'Public']);
    } else {
      service(env).resourceCountIs('AWS::EC2::NatGateway', c.natGateways);
      expect(svc.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
      expect(taskSubnetTypes).toEqual(['Private', 'Private']);
    }
  });

  test('creates the service after, and deletes it before, the capacity-provider association', () => {
    const [associationId] = Object.keys(service(env).findResources('AWS::ECS::ClusterCapacityProviderAssociations'));
    const svc = Object.values(service(env).findResources('AWS::ECS::Service'))[0];
    expect(svc.DependsOn).toContain(associationId);
  });

  test('lets tasks connect out only on the configured TCP ports', () => {
    const ports = c.egressTcpPorts ?? [443];
    const groups = Object.values(service(env).findResources('AWS::EC2::SecurityGroup')).map((g) => g.Properties);
    const tasks = groups.find((g) => g.GroupDescription.startsWith('Tasks:'));
    if (ports === 'all') {
      expect(tasks.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })]);
    } else {
      expect(tasks.SecurityGroupEgress.map((r: any) => [r.IpProtocol, r.FromPort, r.ToPort])).toEqual(
        ports.map((p) => ['tcp', p, p]),
      );
    }
  });

  test('names every plain variable of the container in its ECS2 acknowledgement', () => {
    const [id, task] = Object.entries(service(env).findResources('AWS::ECS::TaskDefinition'))[0];
    const names = task.Properties.ContainerDefinitions[0].Environment.map((e: any) => e.Name);
    const ack = task.Metadata.cdk_nag.rules_to_suppress.find((r: any) => r.id === 'AwsSolutions-ECS2');
    expect(id).toBeDefined();
    for (const name of names) expect(ack.reason).toContain(name);
  });

  test('tells the app its name and the only network whose forwarded headers it may trust', () => {
    const container = firstOf(service(env), 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    expect(container.Environment).toContainEqual({ Name: 'APP_NAME', Value: c.appName });
    expect(container.Environment).toContainEqual({ Name: 'TRUSTED_PROXY_CIDRS', Value: c.vpcCidr });
    expect(container.Environment).toContainEqual({ Name: 'GUNICORN_THREADS', Value: String(c.gunicornThreads) });
  });

  test('sends every alarm to the SNS topic', () => {
    for (const alarm of Object.values(service(env).findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
    }
  });

  test('has a dashboard', () => {
    service(env).resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('outputs the service URL and the repository URI', () => {
    service(env).hasOutput('ServiceUrl', {});
    service(env).hasOutput('RepositoryUri', {});
  });
});

/** An `Fn::Join` of strings and references as one string, each reference written `${Name}`. */
function rendered(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `\${${value.Ref}}`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(rendered).join(value['Fn::Join'][0]);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

describe.each(Object.keys(environments))('%s alarm delivery', (env) => {
  /** Every SNS topic an alarm notifies, with the alarms that notify it. */
  function alarmTopics(): Map<string, string[]> {
    const topics = new Map<string, string[]>();
    for (const [id, alarm] of Object.entries(service(env).findResources('AWS::CloudWatch::Alarm'))) {
      for (const action of [...(alarm.Properties.AlarmActions ?? []), ...(alarm.Properties.OKActions ?? [])]) {
        topics.set(action.Ref, [...new Set([...(topics.get(action.Ref) ?? []), id])]);
      }
    }
    return topics;
  }

  test('every SNS topic an alarm notifies lets exactly those alarms publish, on behalf of this account', () => {
    const policies = Object.values(service(env).findResources('AWS::SNS::TopicPolicy')).map((p) => p.Properties);
    expect(alarmTopics().size).toBeGreaterThan(0);
    for (const [topic, alarms] of alarmTopics()) {
      const policy = policies.find((p) => p.Topics.some((t: any) => t.Ref === topic));
      const allow = policy?.PolicyDocument.Statement.find(
        (st: any) => st.Effect === 'Allow' && st.Principal?.Service === 'cloudwatch.amazonaws.com',
      );
      expect(allow).toMatchObject({ Action: 'sns:Publish', Resource: { Ref: topic } });
      const alarmResources = service(env).findResources('AWS::CloudWatch::Alarm');
      const arnOf = (id: string) =>
        `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${alarmResources[id].Properties.AlarmName}`;
      expect(allow.Condition.ArnEquals['aws:SourceArn'].map(rendered).sort()).toEqual(alarms.map(arnOf).sort());
      expect(allow.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    }
  });

  // An alarm created before its topic's policy can fire (an OK action right after creation) into a topic that does not
  // yet let CloudWatch publish, and that notification is lost.
  test("creates every alarm that notifies a topic after that topic's policy", () => {
    const policies = service(env).findResources('AWS::SNS::TopicPolicy');
    const alarms = service(env).findResources('AWS::CloudWatch::Alarm');
    for (const [topic, ids] of alarmTopics()) {
      const policy = Object.keys(policies).find((p) => policies[p].Properties.Topics.some((t: any) => t.Ref === topic));
      expect(policy).toBeDefined();
      for (const id of ids)
        expect({ alarm: id, dependsOn: alarms[id].DependsOn ?? [] }).toEqual({
          alarm: id,
          dependsOn: expect.arrayContaining([policy]),
        });
    }
  });

  test("every encrypted alarm topic's key lets CloudWatch encrypt to it", () => {
    const topics = service(env).findResources('AWS::SNS::Topic');
    const keys = service(env).findResources('AWS::KMS::Key');
    for (const topic of alarmTopics().keys()) {
      const keyRef = topics[topic].Properties.KmsMasterKeyId?.['Fn::GetAtt']?.[0];
      if (!keyRef) continue;
      const statements = keys[keyRef].Properties.KeyPolicy.Statement;
      const actions = statements
        .filter((st: any) => st.Effect === 'Allow' && st.Principal?.Service === 'cloudwatch.amazonaws.com')
        .flatMap((st: any) => [st.Action].flat());
      expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
    }
  });
});

describe('image tag parameter', () => {
  test.each(Object.keys(environments))('%s runs zero tasks with a zero scaling floor before any image exists', (env) => {
    const template = service(env).toJSON();
    const resolve = resolveConditions(template, {});
    expect(resolve(firstOf(service(env), 'AWS::ECS::Service').DesiredCount)).toBe(0);
    expect(resolve(firstOf(service(env), 'AWS::ApplicationAutoScaling::ScalableTarget').MinCapacity)).toBe(0);
  });

  test.each(Object.keys(environments))('%s leaves the task count to the scaling floor once a tag is deployed', (env) => {
    const template = service(env).toJSON();
    const resolve = resolveConditions(template, { ImageTag: '3f2c1a9e0b7d4c6a8e5f1b2d3c4a5e6f7a8b9c0d' });
    expect(resolve(firstOf(service(env), 'AWS::ApplicationAutoScaling::ScalableTarget').MinCapacity)).toBe(
      environments[env].minCapacity,
    );
  });

  test.each(Object.keys(environments))(
    '%s never resets a scaled-out service: DesiredCount is left out once a tag is deployed',
    (env) => {
      const template = service(env).toJSON();
      const resolve = resolveConditions(template, { ImageTag: '3f2c1a9e0b7d4c6a8e5f1b2d3c4a5e6f7a8b9c0d' });
      const [serviceId] = Object.keys(service(env).findResources('AWS::ECS::Service'));
      const resolved = resolve(template.Resources[serviceId].Properties) as Record<string, unknown>;
      expect(Object.keys(resolved)).not.toContain('DesiredCount');
    },
  );

  test('defaults to the no-image value and rejects tags ECR would reject', () => {
    service(DEFAULT_ENVIRONMENT).hasParameter('ImageTag', {
      Default: 'no-image',
      AllowedPattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$',
    });
  });

  test('runs the image of the tag and passes the tag to the app as its version', () => {
    const container = firstOf(service(DEFAULT_ENVIRONMENT), 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    expect(JSON.stringify(container.Image)).toContain('{"Ref":"ImageTag"}');
    expect(container.Environment).toContainEqual({ Name: 'APP_VERSION', Value: { Ref: 'ImageTag' } });
  });
});

describe.each(Object.keys(environments))('%s network profile', (env) => {
  const c = environments[env];

  test(
    c.networkProfile === 'public'
      ? 'has no NAT gateway and gives tasks public IPs'
      : `runs its tasks in private subnets behind ${c.natGateways} NAT gateway(s)`,
    () => {
      service(env).resourceCountIs('AWS::EC2::NatGateway', c.networkProfile === 'public' ? 0 : c.natGateways);
      expect(firstOf(service(env), 'AWS::ECS::Service').NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe(
        c.networkProfile === 'public' ? 'ENABLED' : 'DISABLED',
      );
    },
  );
});

describe('a customised environment (domain, blue/green, x86, port 9000)', () => {
  const t = () => custom.template('service');

  test('serves HTTPS with an ACM certificate validated in the zone', () => {
    t().hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'app.example.com', ValidationMethod: 'DNS' });
    t().hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
  });

  test('protects the load balancer from deletion because the environment holds production, whatever its name', () => {
    t().hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
  });

  test('redirects HTTP to HTTPS', () => {
    t().hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' }) },
      ],
    });
  });

  test('points the record at the load balancer', () => {
    t().hasResourceProperties('AWS::Route53::RecordSet', { Name: 'app.example.com.', Type: 'A' });
  });

  test('uses the ECS-native blue/green strategy with a second target group', () => {
    t().hasResourceProperties('AWS::ECS::Service', { DeploymentConfiguration: Match.objectLike({ Strategy: 'BLUE_GREEN' }) });
    t().resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
  });

  test('builds for x86_64 when configured', () => {
    t().hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: Match.objectLike({ CpuArchitecture: 'X86_64' }) });
  });

  test('carries a non-default port everywhere', () => {
    const container = firstOf(t(), 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    expect(container.PortMappings[0].ContainerPort).toBe(9000);
    expect(container.Environment).toContainEqual({ Name: 'PORT', Value: '9000' });
    expect(container.HealthCheck.Command[3]).toContain('127.0.0.1:9000/health');
    t().hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 9000, HealthCheckPort: '9000' });
    t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 9000, ToPort: 9000 });
  });

  test("names the user's own variables in the ECS2 acknowledgement, which validation backs", () => {
    const task = Object.values(t().findResources('AWS::ECS::TaskDefinition'))[0];
    const ack = task.Metadata.cdk_nag.rules_to_suppress.find((r: any) => r.id === 'AwsSolutions-ECS2');
    expect(ack.reason).toContain('FEATURE_X');
  });

  test('passes extra variables and Secrets Manager secrets to the container', () => {
    const container = firstOf(t(), 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    expect(container.Environment).toContainEqual({ Name: 'FEATURE_X', Value: 'on' });
    expect(container.Secrets.map((x: any) => x.Name)).toEqual(['DATABASE_URL', 'API_KEY']);
    expect(JSON.stringify(container.Secrets[1].ValueFrom)).toContain(':secret:orders/api:key::');
  });

  test('lets the execution role read exactly those secrets', () => {
    const statements = Object.values(t().findResources('AWS::IAM::Policy')).flatMap(
      (p: any) => p.Properties.PolicyDocument.Statement,
    );
    const reads = statements.filter((x: any) => [x.Action].flat().includes('secretsmanager:GetSecretValue'));
    const resources = reads.flatMap((x: any) => [x.Resource].flat()).map((r: unknown) => JSON.stringify(r));
    expect(resources).toHaveLength(2);
    expect(resources.join()).toContain('secret:orders/database-url-??????');
    expect(resources.join()).toContain('secret:orders/api-??????');
  });

  test('synthesizes with zero unacknowledged cdk-nag findings', () => {
    expect(custom.validationReport.pluginReports).toEqual([]);
  });

  test('subscribes the alarm email', () => {
    t().hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});

test('the all-defaults ApplicationLoadBalancedFargateService models a 510-second wave', () => {
  const app = new cdk.App({ context: CDK_CONTEXT });
  const stack = new cdk.Stack(app, 'Defaults');
  const defaults = new ecsPatterns.ApplicationLoadBalancedFargateService(stack, 'Service', {
    vpc: new ec2.Vpc(stack, 'Vpc'),
    minHealthyPercent: 100,
    taskImageOptions: {
      image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'app'), 'v1'),
    },
  });
  cdk.Validations.of(defaults.service).acknowledge({
    id: '@aws-cdk/aws-ecs:shouldUseCircuitBreaker',
    reason: 'The defaults are what this test measures',
  });
  expect(rollingWaveSeconds(Template.fromStack(stack).toJSON())).toEqual({
    start: 30,
    healthChecks: 150,
    deregistration: 300,
    stop: 30,
    total: 510,
  });
});
