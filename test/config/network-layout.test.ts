import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { problemsOf } from '../../lib/config';
import { longestVpcPrefix, NETWORK_PROFILES } from '../../lib/config/network-layout';
import { Network } from '../../lib/constructs/network';
import { DEV } from '../config-fixtures';
import { CDK_CONTEXT } from '../helpers';

/** The configuration's own check and real CDK judge the same boundary: the smallest VPC each profile's subnets fit. */
function buildNetwork(profile: (typeof NETWORK_PROFILES)[number], cidr: string): Template {
  const stack = new cdk.Stack(new cdk.App({ context: CDK_CONTEXT }), 'Network');
  new Network(stack, 'Network', {
    profile,
    natGateways: profile === 'private' ? 1 : 0,
    cidr,
    logRetention: logs.RetentionDays.ONE_WEEK,
    logKey: new kms.Key(stack, 'Key'),
  });
  return Template.fromStack(stack);
}

const config = (profile: string, vpcCidr: string) => ({
  ...DEV,
  networkProfile: profile,
  natGateways: profile === 'private' ? 1 : 0,
  vpcCidr,
});

describe.each(NETWORK_PROFILES)('the %s profile', (profile) => {
  const longest = longestVpcPrefix(profile);

  test(`accepts its smallest VPC, /${longest}, and CDK builds it`, () => {
    expect(problemsOf('dev', config(profile, `10.0.0.0/${longest}`))).toEqual([]);
    buildNetwork(profile, `10.0.0.0/${longest}`).resourceCountIs('AWS::EC2::VPC', 1);
  });

  test(`fails when the VPC is /${longest + 1}, which CDK too refuses with SubnetCountExceedsRemainingSpace`, () => {
    expect(problemsOf('dev', config(profile, `10.0.0.0/${longest + 1}`))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^dev\\.vpcCidr: '10\\.0\\.0\\.0/${longest + 1}' is not valid; the '${profile}' profile creates .* use a prefix from /16 to /${longest}$`,
        ),
      ),
    ]);
    expect(() => buildNetwork(profile, `10.0.0.0/${longest + 1}`)).toThrow(
      expect.objectContaining({
        name: 'SubnetCountExceedsRemainingSpace',
        message: expect.stringMatching(/exceeds remaining space/),
      }),
    );
  });
});

test('the layout needs a /23 for the public profile and a /20 for the private one', () => {
  expect([longestVpcPrefix('public'), longestVpcPrefix('private')]).toEqual([23, 20]);
});
