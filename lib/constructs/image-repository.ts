import * as cdk from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

/** The tag the build uses for its ECR-backed layer cache: the one tag that may be overwritten. */
export const BUILD_CACHE_TAG = 'buildcache';

/**
 * The prefix of the tag lib/pipeline/deploy.sh adds to every image it ships (`deployed-<env>-<commit>`), before the
 * stack update. The lifecycle policy keeps marked images whatever the other rules count.
 */
export const DEPLOYED_TAG_PREFIX = 'deployed-';

export interface ImageRepositoryProps {
  /** How many release images to keep, and how many deployed images; older ones expire. */
  readonly imagesToKeep: number;
  /** RETAIN keeps the repository and its images when the stack is deleted; DESTROY empties and deletes it. */
  readonly removalPolicy: cdk.RemovalPolicy;
}

/**
 * The ECR repository of the service's images.
 *
 * Tags are immutable commit SHAs (only the build-cache tag may move), every push is scanned, untagged images expire
 * after a day, the last `imagesToKeep` deployed images are kept (the running one among them), and so are the newest
 * `imagesToKeep` releases, the build cache not counted.
 */
export class ImageRepository extends Construct {
  /** The repository. */
  public readonly repository: ecr.Repository;

  /**
   * `repository` as another stack of the same account and region sees it: imported by name, so that its URI is built
   * from that stack's own `AWS::AccountId` and `AWS::Region`. A direct reference would split the repository's ARN at
   * deploy time instead: `Fn::Split` over the `Fn::GetStackOutput` of a weak cross-stack reference, which cfn-lint
   * rejects (E1022; E6101 in an output). Its authors allow `Fn::GetStackOutput` only where they saw CloudFormation
   * accept it (https://github.com/aws-cloudformation/cfn-lint/pull/4495, /pull/4519), and `Fn::Split`'s list of
   * supported functions does not name it
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-split.html).
   * Grants on the import name the same repository ARN.
   */
  public static inStack(scope: Construct, id: string, repository: ecr.IRepository): ecr.IRepository {
    const here = cdk.Stack.of(scope);
    const owner = cdk.Stack.of(repository);
    if (here.account !== owner.account || here.region !== owner.region) {
      throw new Error(`${repository.node.path} is in ${owner.account}/${owner.region}, not ${here.account}/${here.region}`);
    }
    return ecr.Repository.fromRepositoryName(scope, id, repository.repositoryName);
  }

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const destroy = props.removalPolicy === cdk.RemovalPolicy.DESTROY;
    this.repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE_WITH_EXCLUSION,
      imageTagMutabilityExclusionFilters: [ecr.ImageTagMutabilityExclusionFilter.wildcard(BUILD_CACHE_TAG)],
      encryption: ecr.RepositoryEncryption.KMS,
      removalPolicy: props.removalPolicy,
      emptyOnDelete: destroy,
      // How ECR evaluates these (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html,
      // "Lifecycle policy evaluation rules"): "An image that matches the tagging requirements of a rule cannot be
      // expired by a rule with a lower priority", and "Rules can never mark images that are marked by higher priority
      // rules, but can still identify them as if they haven't been expired": a lower rule still COUNTS the images a
      // higher rule claimed (Example A in https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html).
      // So:
      // - rule 2 claims every image deploy.sh marked: only it can expire them, and it keeps the newest `imagesToKeep`,
      //   the running image and its rollback targets among them, however many builds were pushed since;
      // - rule 3 claims the build cache, so the count rule never expires it;
      // - rule 4 still counts both, and the build cache is (at most) one of its newest images: it keeps one more than
      //   `imagesToKeep`, so that the cache does not take a release's place.
      // test/stacks/registry-stack.test.ts evaluates these rules as the documentation describes.
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'Expire untagged images after a day',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: cdk.Duration.days(1),
        },
        {
          rulePriority: 2,
          description: `Keep the last ${props.imagesToKeep} deployed images (tagged ${DEPLOYED_TAG_PREFIX}*); no later rule expires them`,
          tagStatus: ecr.TagStatus.TAGGED,
          tagPrefixList: [DEPLOYED_TAG_PREFIX],
          maxImageCount: props.imagesToKeep,
        },
        {
          rulePriority: 3,
          description: `Keep the build cache (${BUILD_CACHE_TAG}); no later rule expires it`,
          tagStatus: ecr.TagStatus.TAGGED,
          tagPatternList: [BUILD_CACHE_TAG],
          maxImageCount: 1,
        },
        {
          rulePriority: 4,
          description: `Keep the last ${props.imagesToKeep} images, plus the build cache`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: props.imagesToKeep + 1,
        },
      ],
    });
  }
}
