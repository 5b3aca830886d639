import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { LoadBalancer } from '../../lib/constructs/load-balancer';
import { CDK_CONTEXT } from '../helpers';
import { accessLogDelivery, findInMapsFor } from '../access-logs';

/** A region code that aws-cdk-lib's region table has never heard of: a region opened after this release. */
const NEWER_REGION = 'xx-future-1';

function loadBalancerTemplate(region: string | undefined): Record<string, any> {
  const app = new cdk.App({ context: CDK_CONTEXT });
  const stack = new cdk.Stack(app, 'Lb', region ? { env: { account: '123456789012', region } } : {});
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  new LoadBalancer(stack, 'LoadBalancer', { vpc, deletionProtection: false, accessLogRetentionDays: 7, allowPlainHttp: true });
  return Template.fromStack(stack).toJSON();
}

test(`${NEWER_REGION} is unknown to aws-cdk-lib's region table`, () => {
  expect(RegionInfo.regions.map((r) => r.name)).not.toContain(NEWER_REGION);
  expect(RegionInfo.get(NEWER_REGION).elbv2Account).toBeUndefined();
});

describe.each([
  ['eu-west-1, a region with a legacy ELB account', 'eu-west-1'],
  [`${NEWER_REGION}, a region newer than aws-cdk-lib`, NEWER_REGION],
  ['an environment-agnostic stack', undefined],
])('access logs in %s', (_, region) => {
  const template = loadBalancerTemplate(region);

  test('are written by the ELB log-delivery service principal, and by nobody else', () => {
    const delivery = accessLogDelivery(template);
    expect(delivery).toHaveLength(1);
    expect(delivery[0].Principal).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
  });

  test('deploy in a region newer than aws-cdk-lib: no region lookup that such a region would miss', () => {
    expect(findInMapsFor(template, NEWER_REGION)).toEqual([]);
  });

  test('are switched on at the load balancer, after its bucket policy', () => {
    const [id, alb] = Object.entries<any>(template.Resources).find(
      ([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    )!;
    expect(alb.Properties.LoadBalancerAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    );
    const policy = Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::S3::BucketPolicy');
    expect(template.Resources[id].DependsOn).toContain(policy);
  });
});
