/**
 * cdk-nag's AwsSolutions and NIST 800-53 R5 packs on the synthesized templates, as a second pass after the construct-tree
 * run at synth (lib/app.ts): see nag.ts for what only this pass sees. Run by `npm run test:templates`.
 */
import * as fs from 'node:fs';
import { acknowledgementsIn, nagTemplate } from './nag';
import { TARGET_NAMES, target } from './targets';

// cdk-nag runs take tens of seconds on a busy 2-core machine.
jest.setTimeout(300_000);

const templatesOf = (name: string) => target(name).templates;
const key = (f: { rule: string; logicalId: string }) => `${f.logicalId} ${f.rule}`;

describe.each(TARGET_NAMES)('%s', (name) => {
  test('every template has zero unacknowledged cdk-nag findings', () => {
    for (const file of templatesOf(name)) expect({ file, findings: nagTemplate(file).map(key) }).toEqual({ file, findings: [] });
  });

  test('reads the acknowledgements each template carries, which cdk-nag v3 itself ignores: without them, findings return', () => {
    let returned = 0;
    for (const file of templatesOf(name)) {
      const acknowledged = new Set(acknowledgementsIn(JSON.parse(fs.readFileSync(file, 'utf8'))).map(key));
      const findings = nagTemplate(file, { honourAcknowledgements: false }).map(key);
      expect({ file, notAcknowledged: findings.filter((f) => !acknowledged.has(f)) }).toEqual({ file, notAcknowledged: [] });
      returned += findings.length;
    }
    expect(returned).toBeGreaterThan(0);
  });
});

describe.each(TARGET_NAMES)('%s: what the VPC custom-resource acknowledgements (lib/constructs/network.ts) say', (name) => {
  const service = () => {
    const file = templatesOf(name).find((f) => f.endsWith('-service.template.json'))!;
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  };
  const ofType = (t: any, type: string) => Object.entries<any>(t.Resources).filter(([, r]) => r.Type === type);

  test('the VPC whose default-security-group finding is acknowledged has that group closed by this template', () => {
    const t = service();
    const acknowledged = acknowledgementsIn(t).filter((a) => a.rule === 'NIST.800.53.R5-VPCDefaultSecurityGroupClosed');
    expect(acknowledged.map((a) => t.Resources[a.logicalId].Type)).toEqual(['AWS::EC2::VPC']);
    const closers = ofType(t, 'Custom::VpcRestrictDefaultSG').map(([, r]) => r.Properties.DefaultSecurityGroupId);
    expect(closers).toEqual([{ 'Fn::GetAtt': [acknowledged[0].logicalId, 'DefaultSecurityGroup'] }]);
  });

  test("the closer's role may change rules of that default security group only, besides writing its logs", () => {
    const t = service();
    const [, closer] = ofType(t, 'Custom::VpcRestrictDefaultSG')[0];
    const [, handler] = ofType(t, 'AWS::Lambda::Function').find(
      ([id]) => id === closer.Properties.ServiceToken['Fn::GetAtt'][0],
    )!;
    const role = t.Resources[handler.Properties.Role['Fn::GetAtt'][0]];
    expect(role.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' },
    ]);
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect([s.Action].flat().every((a: string) => /^ec2:(Authorize|Revoke)SecurityGroup(Ingress|Egress)$/.test(a))).toBe(true);
      expect(JSON.stringify(s.Resource)).toContain(
        JSON.stringify({ 'Fn::GetAtt': [closer.Properties.DefaultSecurityGroupId['Fn::GetAtt'][0], 'DefaultSecurityGroup'] }),
      );
      expect([s.Resource].flat()).toHaveLength(1);
    }
    expect(statements.length).toBeGreaterThan(0);
  });
});
