import { Match } from 'aws-cdk-lib/assertions';
import { environments } from '../../lib/config';
import { synthesized } from '../helpers';

const registry = (env: string) => synthesized(env).template('registry');

interface Rule {
  rulePriority: number;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPrefixList?: string[];
    tagPatternList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed';
    countNumber: number;
  };
}
interface Image {
  id: string;
  tags: string[];
  pushedDaysAgo: number;
}

function lifecycleRules(env: string): Rule[] {
  const repo = Object.values(registry(env).findResources('AWS::ECR::Repository'))[0];
  return JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
}

/**
 * The images a lifecycle policy expires, by ECR's documented evaluation rules
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html#lp-evaluation-rules):
 * rules run by priority; "an image that matches the tagging requirements of a rule cannot be expired by a rule with a
 * lower priority"; "rules can never mark images that are marked by higher priority rules, but can still identify them
 * as if they haven't been expired" (they count them); a tag list matches when every entry matches one of the image's
 * tags; "expiration is always ordered by pushed_at_time, and always expires older images before newer ones".
 */
function evaluate(rules: Rule[], images: Image[]): string[] {
  const claimed = new Set<string>();
  const expired: string[] = [];
  const wildcard = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
  for (const { selection: sel } of [...rules].sort((a, b) => a.rulePriority - b.rulePriority)) {
    const matches = (image: Image) => {
      if (sel.tagStatus === 'untagged') return image.tags.length === 0;
      if (sel.tagStatus === 'any') return true;
      if (image.tags.length === 0) return false;
      if (sel.tagPrefixList) return sel.tagPrefixList.every((p) => image.tags.some((t) => t.startsWith(p)));
      return (sel.tagPatternList ?? []).every((p) => image.tags.some((t) => wildcard(p).test(t)));
    };
    const selected = images.filter(matches).sort((a, b) => a.pushedDaysAgo - b.pushedDaysAgo); // newest first
    const candidates =
      sel.countType === 'imageCountMoreThan'
        ? selected.slice(sel.countNumber)
        : selected.filter((i) => i.pushedDaysAgo > sel.countNumber);
    for (const image of candidates) {
      if (!claimed.has(image.id) && !expired.includes(image.id)) expired.push(image.id);
    }
    for (const image of selected) claimed.add(image.id);
  }
  return expired.sort();
}

test("the lifecycle evaluator reproduces ECR's documented Example A", () => {
  // lifecycle_policy_examples.html, "Filtering on multiple rules", Example A: the result is that Image A is expired.
  const rule = (rulePriority: number, prefix: string): Rule => ({
    rulePriority,
    selection: { tagStatus: 'tagged', tagPrefixList: [prefix], countType: 'imageCountMoreThan', countNumber: 1 },
  });
  const images = [
    { id: 'A', tags: ['beta-1', 'prod-1'], pushedDaysAgo: 10 },
    { id: 'B', tags: ['beta-2', 'prod-2'], pushedDaysAgo: 9 },
    { id: 'C', tags: ['beta-3'], pushedDaysAgo: 8 },
  ];
  expect(evaluate([rule(1, 'prod'), rule(2, 'beta')], images)).toEqual(['A']);
});

describe.each(Object.keys(environments))('%s registry stack', (env) => {
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

  test('expires untagged images after a day', () => {
    const rules = lifecycleRules(env);
    expect(rules[0].selection).toMatchObject({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1 });
  });

  describe('lifecycle policy, evaluated as ECR documents it', () => {
    const N = c.imagesToKeep;
    const release = (i: number, deployed = false): Image => ({
      id: `r${i}`,
      tags: [`sha${i}`, ...(deployed ? [`deployed-${env}-sha${i}`] : [])],
      pushedDaysAgo: 100 - i,
    });

    test('never expires the running image, however many builds came after it', () => {
      // r1 runs (deployed long ago); 3N builds since were never deployed (failed scans, pending approvals).
      const images = [release(1, true), ...Array.from({ length: 3 * N }, (_, i) => release(i + 2))];
      const expired = evaluate(lifecycleRules(env), images);
      expect(expired).not.toContain('r1');
      expect(expired.length).toBeGreaterThan(0);
    });

    test('keeps the last deployed images, and expires deployed images beyond them', () => {
      const images = Array.from({ length: N + 3 }, (_, i) => release(i + 1, true));
      const expired = evaluate(lifecycleRules(env), images);
      expect(expired).toEqual(['r1', 'r2', 'r3']);
    });

    test('keeps the last releases, the build cache not counted, and keeps the cache', () => {
      const cache: Image = { id: 'cache', tags: ['buildcache'], pushedDaysAgo: 0 };
      const images = [...Array.from({ length: N + 5 }, (_, i) => release(i + 1)), cache];
      const expired = evaluate(lifecycleRules(env), images);
      const kept = images.filter((i) => !expired.includes(i.id)).map((i) => i.id);
      expect(kept).toEqual([...Array.from({ length: N }, (_, i) => `r${i + 6}`), 'cache']);
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

describe.each(Object.keys(environments))('%s removal policy', (env) => {
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
