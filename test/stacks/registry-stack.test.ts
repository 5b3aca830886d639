import { Match } from 'aws-cdk-lib/assertions';
import { configWith, synth, type Synthesized } from '../helpers';

const byEnv: Record<string, Synthesized> = {};
beforeAll(() => {
  byEnv.dev = synth(configWith('dev'));
  byEnv.prod = synth(configWith('prod'));
});
const registry = (env: string) => byEnv[env].template('registry');

describe.each(['dev', 'prod'])('%s registry stack', (env) => {
  test('matches the snapshot', () => {
    expect(registry(env).toJSON()).toMatchSnapshot();
  });

  test('makes tags immutable, except the build-cache tag', () => {
    registry(env).hasResourceProperties('AWS::ECR::Repository', {
      ImageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      ImageTagMutabilityExclusionFilters: [
        { ImageTagMutabilityExclusionFilterType: 'WILDCARD', ImageTagMutabilityExclusionFilterValue: 'buildcache' },
      ],
    });
  });

  test('scans every push', () => {
    registry(env).hasResourceProperties('AWS::ECR::Repository', { ImageScanningConfiguration: { ScanOnPush: true } });
  });

  test('encrypts images with KMS', () => {
    registry(env).hasResourceProperties('AWS::ECR::Repository', { EncryptionConfiguration: { EncryptionType: 'KMS' } });
  });

  test('expires untagged images after a day and keeps the last releases', () => {
    const repo = Object.values(registry(env).findResources('AWS::ECR::Repository'))[0];
    const rules = JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules[0].selection).toMatchObject({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1 });
    expect(rules[1].selection).toMatchObject({
      tagStatus: 'any',
      countType: 'imageCountMoreThan',
      countNumber: env === 'dev' ? 10 : 30,
    });
  });

  test('holds the CodeCommit repository, seeded on the pipeline branch', () => {
    registry(env).hasResourceProperties('AWS::CodeCommit::Repository', {
      RepositoryName: `fargate-app-${env}`,
      Code: { BranchName: 'main', S3: Match.objectLike({ Key: Match.stringLikeRegexp('\\.zip$') }) },
    });
  });

  test('pins the logical IDs of its stateful resources', () => {
    expect(Object.keys(registry(env).findResources('AWS::ECR::Repository'))).toEqual(['ImagesRepository2D0F5B9C']);
    expect(Object.keys(registry(env).findResources('AWS::CodeCommit::Repository'))).toEqual(['SourceRepository74575110']);
  });
});

test('prod retains its repositories and has termination protection', () => {
  registry('prod').hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  registry('prod').hasResource('AWS::CodeCommit::Repository', { DeletionPolicy: 'Retain' });
  expect(byEnv.prod.stacks.registry.terminationProtection).toBe(true);
});

test('dev opts into deleting its repositories, images included', () => {
  registry('dev').hasResource('AWS::ECR::Repository', {
    DeletionPolicy: 'Delete',
    Properties: Match.objectLike({ EmptyOnDelete: true }),
  });
  registry('dev').hasResource('AWS::CodeCommit::Repository', { DeletionPolicy: 'Delete' });
  expect(byEnv.dev.stacks.registry.terminationProtection).toBe(false);
});

test('a connection source creates no CodeCommit repository', () => {
  const connection = synth(
    configWith('dev', {
      pipeline: {
        source: {
          kind: 'connection',
          connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
          owner: 'acme',
          repo: 'web',
          branch: 'main',
        },
      },
    }),
  );
  connection.template('registry').resourceCountIs('AWS::CodeCommit::Repository', 0);
});
