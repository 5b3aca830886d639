import { Match } from 'aws-cdk-lib/assertions';
import { environments } from '../../lib/config';
import { synthesized } from '../helpers';

const registry = (env: string) => synthesized(env).template('registry');

describe.each(['dev', 'prod'])('%s registry stack', (env) => {
  const c = environments[env];
  const codecommit = c.pipeline.source.kind === 'codecommit';

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
      countNumber: c.imagesToKeep,
    });
  });

  (codecommit ? test : test.skip)('holds the CodeCommit repository, seeded on the pipeline branch', () => {
    registry(env).hasResourceProperties('AWS::CodeCommit::Repository', {
      RepositoryName: `${c.appName}-${c.envName}`,
      Code: { BranchName: c.pipeline.source.branch, S3: Match.objectLike({ Key: Match.stringLikeRegexp('\\.zip$') }) },
    });
  });

  test('pins the logical IDs of its stateful resources', () => {
    expect(Object.keys(registry(env).findResources('AWS::ECR::Repository'))).toEqual(['ImagesRepository2D0F5B9C']);
    expect(Object.keys(registry(env).findResources('AWS::CodeCommit::Repository'))).toEqual(
      codecommit ? ['SourceRepository74575110'] : [],
    );
  });
});

describe.each(['dev', 'prod'])('%s removal policy', (env) => {
  const c = environments[env];
  const retain = c.removalPolicy === 'retain';

  test(retain ? 'retains the image repository' : 'deletes the image repository, images included', () => {
    registry(env).hasResource('AWS::ECR::Repository', {
      DeletionPolicy: retain ? 'Retain' : 'Delete',
      Properties: retain ? Match.not(Match.objectLike({ EmptyOnDelete: true })) : Match.objectLike({ EmptyOnDelete: true }),
    });
  });

  (c.pipeline.source.kind === 'codecommit' ? test : test.skip)(`${retain ? 'retains' : 'deletes'} the source repository`, () => {
    registry(env).hasResource('AWS::CodeCommit::Repository', { DeletionPolicy: retain ? 'Retain' : 'Delete' });
  });

  test(`${retain ? 'has' : 'has no'} termination protection`, () => {
    expect(Boolean(synthesized(env).artifact('registry').properties.terminationProtection)).toBe(retain);
  });
});
