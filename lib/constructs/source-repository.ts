import * as cdk from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/** Never seeded into the source repository: dependencies, build output and local state. */
export const SEED_EXCLUDES = [
  '.git',
  'node_modules',
  'cdk.out',
  'coverage',
  '.venv',
  '__pycache__',
  '.pytest_cache',
  'bench-results',
  '*.log',
];

export interface SourceRepositoryProps {
  /** The repository name: people type it in `git remote add`. */
  readonly repositoryName: string;
  /** The directory whose files become the first commit. */
  readonly seedDirectory: string;
  /** The branch of the first commit. */
  readonly branch: string;
  readonly removalPolicy: cdk.RemovalPolicy;
}

/**
 * A CodeCommit repository seeded from this project on creation, so that the pipeline has something to build
 * the moment it exists. The seed applies only when the repository is created; later pushes are yours.
 */
export class SourceRepository extends Construct {
  /** The repository. */
  public readonly repository: codecommit.Repository;

  constructor(scope: Construct, id: string, props: SourceRepositoryProps) {
    super(scope, id);
    // .gitignore semantics: a pattern without a slash matches at any depth.
    const seed = new s3assets.Asset(this, 'Seed', {
      path: props.seedDirectory,
      exclude: SEED_EXCLUDES,
      ignoreMode: cdk.IgnoreMode.GIT,
    });
    this.repository = new codecommit.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      description: 'Source of the service; every push to the pipeline branch deploys',
      code: codecommit.Code.fromAsset(seed, props.branch),
    });
    this.repository.applyRemovalPolicy(props.removalPolicy);
  }
}
