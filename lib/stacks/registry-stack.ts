import * as cdk from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { ImageRepository } from '../constructs/image-repository';
import { SourceRepository } from '../constructs/source-repository';

export interface RegistryStackProps extends cdk.StackProps {
  readonly config: EnvironmentConfig;
  /** The project directory that seeds the CodeCommit repository (codecommit source only). */
  readonly projectRoot: string;
}

/** Stateful: the image repository and, for the `codecommit` source, the source repository. */
export class RegistryStack extends cdk.Stack {
  /** The ECR repository of the service's images. */
  public readonly imageRepository: ecr.Repository;
  /** The CodeCommit repository the pipeline builds from, when the source is `codecommit`. */
  public readonly sourceRepository?: codecommit.Repository;

  constructor(scope: Construct, id: string, props: RegistryStackProps) {
    const retain = props.config.removalPolicy === 'retain';
    // Validation makes every production environment retain, so production always has termination protection too.
    super(scope, id, { ...props, terminationProtection: retain || props.config.production });
    const removalPolicy = retain ? cdk.RemovalPolicy.RETAIN : cdk.RemovalPolicy.DESTROY;

    this.imageRepository = new ImageRepository(this, 'Images', {
      imagesToKeep: props.config.imagesToKeep,
      removalPolicy,
    }).repository;

    if (props.config.pipeline.source.kind === 'codecommit') {
      this.sourceRepository = new SourceRepository(this, 'Source', {
        repositoryName: `${props.config.appName}-${props.config.envName}`,
        seedDirectory: props.projectRoot,
        branch: props.config.pipeline.source.branch,
        removalPolicy,
      }).repository;
    }

    new cdk.CfnOutput(this, 'RepositoryUri', {
      description: 'ECR repository of the service images',
      value: this.imageRepository.repositoryUri,
    });
    if (this.sourceRepository) {
      new cdk.CfnOutput(this, 'SourceCloneUrl', {
        description: 'git remote to push to (git-remote-codecommit)',
        value: `codecommit::${this.region}://${this.sourceRepository.repositoryName}`,
      });
    }
  }
}
