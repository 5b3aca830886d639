import * as cdk from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

/** The tag the build uses for its ECR-backed layer cache: the one tag that may be overwritten. */
export const BUILD_CACHE_TAG = 'buildcache';

export interface ImageRepositoryProps {
  /** How many tagged release images to keep; older ones expire. */
  readonly imagesToKeep: number;
  /** RETAIN keeps the repository and its images when the stack is deleted; DESTROY empties and deletes it. */
  readonly removalPolicy: cdk.RemovalPolicy;
}

/**
 * The ECR repository of the service's images.
 *
 * Tags are immutable commit SHAs (only the build-cache tag may move), every push is scanned,
 * untagged images expire after a day and only the newest `imagesToKeep` releases are kept.
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
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'Expire untagged images after a day',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: cdk.Duration.days(1),
        },
        {
          rulePriority: 2,
          description: `Keep the last ${props.imagesToKeep} images`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: props.imagesToKeep,
        },
      ],
    });
  }
}
