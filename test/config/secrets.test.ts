import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { containerSecrets, grantForeignSecretKeys } from '../../lib/constructs/web-service';
import { CDK_CONTEXT } from '../helpers';

/** The task definition's secrets and its execution role's grants, for `secrets` as configured. */
function synthesize(secrets: Record<string, string>) {
  const stack = new cdk.Stack(new cdk.App({ context: CDK_CONTEXT }), 'Secrets', {
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  task.addContainer('App', { image: ecs.ContainerImage.fromRegistry('example'), secrets: containerSecrets(task, secrets) });
  const findings = grantForeignSecretKeys(task.obtainExecutionRole(), secrets, stack.account);
  const template = Template.fromStack(stack).toJSON();
  const resources = Object.values<any>(template.Resources);
  const container = resources.find((r) => r.Type === 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions[0];
  const statements = resources
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
  const keyStatements = resources
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
  return { container, statements, keyStatements, findings };
}

const PARTNER = 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:partner/api-AbC123';

test("a complete ARN, another account's secret, goes to ECS as that ARN and is the only secret the execution role may read", () => {
  const { container, statements } = synthesize({ PARTNER_TOKEN: `${PARTNER}:token` });
  expect(container.Secrets).toEqual([{ Name: 'PARTNER_TOKEN', ValueFrom: `${PARTNER}:token::` }]);
  expect(statements).toEqual([{ Action: expect.any(Array), Effect: 'Allow', Resource: PARTNER }]);
  expect(statements[0].Action.sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
});

test('a secret name is read in the stack account and region, by its name with any 6-character suffix', () => {
  const { container, statements } = synthesize({ DATABASE_URL: 'orders/database-url' });
  expect(JSON.stringify(container.Secrets[0].ValueFrom)).toContain(':secret:orders/database-url');
  expect(JSON.stringify(statements[0].Resource)).toContain(':secret:orders/database-url-??????');
});

test("another account's secret: the execution role may decrypt with that account's keys only as Secrets Manager does for it", () => {
  const { keyStatements, findings } = synthesize({ PARTNER_TOKEN: PARTNER });
  expect(keyStatements).toEqual([
    {
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: 'arn:aws:kms:eu-west-1:444455556666:key/*',
      Condition: {
        StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com', 'kms:EncryptionContext:SecretARN': PARTNER },
      },
    },
  ]);
  expect(Object.keys(findings)).toEqual(['Resource::arn:aws:kms:eu-west-1:444455556666:key/*']);
});

test("a secret of the stack's own account, by ARN or name, needs no key grant", () => {
  const own = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders/db-AbC123';
  expect(synthesize({ DB: own, URL: 'orders/url' }).keyStatements).toEqual([]);
});
