import * as cdk from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CpuArchitecture } from '../config';

/**
 * Where a step runs:
 * - `docker`: EC2 compute in privileged mode, for image builds;
 * - `ec2`: EC2 compute, for steps that may run longer than Lambda compute allows;
 * - `lambda`: CodeBuild's Lambda compute, which starts in seconds instead of provisioning an instance, but has no Docker,
 *   no root and a 15-minute limit ("Limitations of AWS Lambda compute",
 *   https://docs.aws.amazon.com/codebuild/latest/userguide/lambda.html#lambda.limitations). Its Node.js 22 image carries
 *   the AWS CLI v2, jq and bash (aws/aws-codebuild-docker-images, al-lambda/aarch64/nodejs22/Dockerfile).
 */
export type StepCompute = 'docker' | 'ec2' | 'lambda';

/** CodeBuild's Lambda compute stops a build at 15 minutes. */
export const LAMBDA_TIMEOUT_LIMIT_MINUTES = 15;

export interface PipelineStepProps {
  /** The stage this step runs in, for the project's description. */
  readonly stageName: string;
  readonly envName: string;
  readonly compute: StepCompute;
  readonly cpuArchitecture: CpuArchitecture;
  /**
   * The build timeout on EC2 compute. Lambda compute takes none: its builds stop at 15 minutes, and CodeBuild refuses a
   * timeout for it; the value here only states the step's own bound, which must fit.
   */
  readonly timeout: cdk.Duration;
  readonly buildSpec: Record<string, unknown>;
  /**
   * Plain environment variables of the project.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/** One CodeBuild project of the pipeline, with its own encrypted log group. */
export class PipelineStep extends Construct {
  /** The project. */
  public readonly project: codebuild.PipelineProject;
  /** Where it runs. */
  public readonly compute: StepCompute;

  constructor(scope: Construct, id: string, props: PipelineStepProps) {
    super(scope, id);
    this.compute = props.compute;
    const arm = props.cpuArchitecture === 'ARM64';
    if (props.compute === 'lambda' && props.timeout.toMinutes() > LAMBDA_TIMEOUT_LIMIT_MINUTES) {
      throw new Error(
        `PipelineStep ${props.stageName}: timeout ${props.timeout.toMinutes()} min exceeds Lambda compute's ${LAMBDA_TIMEOUT_LIMIT_MINUTES} min; use ec2 compute`,
      );
    }
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const environment: codebuild.BuildEnvironment =
      props.compute === 'lambda'
        ? {
            buildImage: arm
              ? codebuild.LinuxArmLambdaBuildImage.AMAZON_LINUX_2023_NODE_22
              : codebuild.LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22,
            computeType: codebuild.ComputeType.LAMBDA_1GB,
          }
        : {
            buildImage: arm
              ? codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0
              : codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
            computeType: codebuild.ComputeType.SMALL,
            privileged: props.compute === 'docker',
          };
    this.project = new codebuild.PipelineProject(this, 'Project', {
      description: `${props.stageName} stage of the ${props.envName} pipeline`,
      environment,
      environmentVariables: Object.fromEntries(Object.entries(props.environment ?? {}).map(([k, value]) => [k, { value }])),
      buildSpec: codebuild.BuildSpec.fromObject(props.buildSpec),
      encryptionKey: props.encryptionKey,
      timeout: props.compute === 'lambda' ? undefined : props.timeout,
      logging: { cloudWatch: { logGroup } },
    });
  }
}
