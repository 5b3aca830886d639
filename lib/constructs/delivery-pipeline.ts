import * as cdk from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CpuArchitecture, PipelineConfig } from '../config';
import { acknowledgeGrantPolicy, acknowledgeWildcards, nagArn } from './nag';

/** The stage names, in order. */
export const STAGES = ['Source', 'Build', 'ScanGate', 'Approve', 'Deploy', 'Verify'] as const;

export interface DeliveryPipelineProps {
  readonly envName: string;
  readonly pipeline: PipelineConfig;
  /** The CodeCommit repository, for the `codecommit` source. */
  readonly sourceRepository?: codecommit.IRepository;
  readonly imageRepository: ecr.IRepository;
  /** The task's CPU architecture: the build runs on the same one, so the image matches. */
  readonly cpuArchitecture: CpuArchitecture;
  readonly containerPort: number;
  readonly healthCheckPath: string;
  /** The Service stack, whose ImageTag parameter the Deploy stage updates. */
  readonly serviceStackName: string;
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly logRetention: logs.RetentionDays;
  /**
   * Subscribed to the failure notifications.
   * @default - no subscription
   */
  readonly notificationEmail?: string;
}

/**
 * The delivery pipeline (CodePipeline V2): Source → Build (unit tests, image, smoke test) → ScanGate → Approve (optional)
 * → Deploy (a CloudFormation update of the Service stack's ImageTag, nothing else) → Verify.
 * Every stage's logic lives in a script under lib/pipeline/ that the buildspecs call.
 */
export class DeliveryPipeline extends Construct {
  /** The pipeline. */
  public readonly pipeline: codepipeline.Pipeline;
  /** Failure notifications go here. */
  public readonly topic: sns.Topic;
  /** The artifact bucket. */
  public readonly artifactBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DeliveryPipelineProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const arm = props.cpuArchitecture === 'ARM64';

    const key = new kms.Key(this, 'Key', {
      description: `Pipeline artifacts, build logs and notifications (${props.envName})`,
      enableKeyRotation: true,
      // Retained with the artifact bucket: a deleted key would leave the retained artifacts unreadable.
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`));
    key.grant(new iam.ServicePrincipal('codestar-notifications.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      // No S3 Bucket Key: every object read and write then calls KMS with this key, and CloudTrail records each KMS call
      // as a management event, with the object's ARN in the encryption context
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context,
      // https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html). A Bucket Key would batch
      // those calls and lose the per-object record. The cost is one KMS request per artifact access.
      bucketKeyEnabled: false,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: cdk.Duration.days(props.pipeline.artifactRetentionDays),
          noncurrentVersionExpiration: cdk.Duration.days(1),
          abortIncompleteMultipartUploadAfter: cdk.Duration.days(1),
        },
      ],
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    // Deletes, listings and lifecycle expiry call no KMS operation, so they leave no such record: the reason says so.
    const accessRecord =
      "Every object read and write calls KMS with this bucket's key (no Bucket Key), which CloudTrail records as a management event naming the object ARN; deletes and listings are not recorded";
    cdk.Validations.of(this.artifactBucket).acknowledge(
      { id: 'AwsSolutions-S1', reason: accessRecord },
      { id: 'NIST.800.53.R5-S3BucketLoggingEnabled', reason: accessRecord },
      {
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason: 'Artifacts are rebuilt from source on demand and expire; replication adds cost, not recovery',
      },
    );

    this.topic = new sns.Topic(this, 'Notifications', { masterKey: key, enforceSSL: true });
    if (props.notificationEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.notificationEmail));

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: this.artifactBucket,
      restartExecutionOnUpdate: false,
      usePipelineRoleForActions: true,
    });

    // Source.
    const sourceOutput = new codepipeline.Artifact('Source');
    const source = props.pipeline.source;
    let sourceAction: actions.CodeCommitSourceAction | actions.CodeStarConnectionsSourceAction;
    if (source.kind === 'codecommit') {
      if (!props.sourceRepository) throw new Error('DeliveryPipeline: the codecommit source needs sourceRepository');
      sourceAction = new actions.CodeCommitSourceAction({
        actionName: 'CodeCommit',
        repository: props.sourceRepository,
        branch: source.branch,
        output: sourceOutput,
        trigger: actions.CodeCommitTrigger.EVENTS,
        variablesNamespace: 'Source',
      });
    } else {
      sourceAction = new actions.CodeStarConnectionsSourceAction({
        actionName: 'Connection',
        connectionArn: source.connectionArn,
        owner: source.owner,
        repo: source.repo,
        branch: source.branch,
        output: sourceOutput,
        // The V2 trigger below starts the pipeline, with branch and file-path filters.
        triggerOnPush: false,
        variablesNamespace: 'Source',
      });
      // The connection may be a CodeStar Connections or a CodeConnections ARN; the action needs the one its ARN names.
      this.pipeline.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['codestar-connections:UseConnection', 'codeconnections:UseConnection'],
          resources: [source.connectionArn],
        }),
      );
      this.pipeline.addTrigger({
        providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
        gitConfiguration: {
          sourceAction,
          pushFilter: [{ branchesIncludes: [source.branch], filePathsIncludes: source.filePaths ?? ['app/**'] }],
        },
      });
    }
    this.pipeline.addStage({ stageName: 'Source', actions: [sourceAction] });

    // Build: unit tests, release image, smoke test, push.
    const project = (
      name: string,
      projectProps: { privileged?: boolean; timeout: cdk.Duration; spec: Record<string, unknown>; env?: Record<string, string> },
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: props.logRetention,
        encryptionKey: key,
        removalPolicy: cdk.RemovalPolicy.DESTROY,
      });
      const p = new codebuild.PipelineProject(this, name, {
        description: `${name} stage of the ${props.envName} pipeline`,
        environment: {
          buildImage: arm
            ? codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0
            : codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
          computeType: codebuild.ComputeType.SMALL,
          privileged: projectProps.privileged ?? false,
        },
        environmentVariables: Object.fromEntries(Object.entries(projectProps.env ?? {}).map(([k, value]) => [k, { value }])),
        buildSpec: codebuild.BuildSpec.fromObject(projectProps.spec),
        encryptionKey: key,
        timeout: projectProps.timeout,
        logging: { cloudWatch: { logGroup } },
      });
      return p;
    };
    const build = project('Build', {
      privileged: true, // Docker builds need it.
      timeout: cdk.Duration.minutes(30),
      env: {
        REPOSITORY_URI: props.imageRepository.repositoryUri,
        TARGET_PLATFORM: arm ? 'linux/arm64' : 'linux/amd64',
        CONTAINER_PORT: String(props.containerPort),
        HEALTH_PATH: props.healthCheckPath,
      },
      spec: {
        version: '0.2',
        env: { 'exported-variables': ['IMAGE_TAG', 'IMAGE_DIGEST', 'IMAGE_URI'] },
        phases: { build: { commands: ['bash lib/pipeline/build.sh', 'set -a && . ./pipeline.env && set +a'] } },
      },
    });
    props.imageRepository.grantPullPush(build);
    props.imageRepository.grant(build, 'ecr:DescribeImages');
    const buildAction = new actions.CodeBuildAction({
      actionName: 'Build',
      project: build,
      input: sourceOutput,
      environmentVariables: { IMAGE_TAG: { value: sourceAction.variables.commitId } },
      variablesNamespace: 'Build',
    });
    this.pipeline.addStage({ stageName: 'Build', actions: [buildAction] });
    const imageTag = buildAction.variable('IMAGE_TAG');
    const imageDigest = buildAction.variable('IMAGE_DIGEST');

    // Scan gate.
    const scan = project('ScanGate', {
      timeout: cdk.Duration.minutes(15),
      env: {
        REPOSITORY_NAME: props.imageRepository.repositoryName,
        SCAN_SEVERITY_THRESHOLD: props.pipeline.scanSeverityThreshold,
      },
      spec: { version: '0.2', phases: { build: { commands: ['bash lib/pipeline/scan-gate.sh'] } } },
    });
    props.imageRepository.grant(scan, 'ecr:DescribeImageScanFindings');
    // scan-gate.sh reads the registry's scanning configuration, and under enhanced scanning Inspector's coverage and
    // findings of the image (ECR's DescribeImageScanFindings itself needs inspector2:ListFindings then). None of these
    // has resource-level permissions: GetRegistryScanningConfiguration acts on the registry
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html), and
    // Inspector's List* actions list no resource type
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoninspector2.html).
    scan.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecr:GetRegistryScanningConfiguration', 'inspector2:ListCoverage', 'inspector2:ListFindings'],
        resources: ['*'],
      }),
    );
    acknowledgeWildcards(scan.role!, {
      'Resource::*':
        'Read-only: ecr:GetRegistryScanningConfiguration, inspector2:ListCoverage and inspector2:ListFindings have no resource-level permissions',
    });
    this.pipeline.addStage({
      stageName: 'ScanGate',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'ScanGate',
          project: scan,
          input: sourceOutput,
          environmentVariables: { IMAGE_DIGEST: { value: imageDigest } },
        }),
      ],
    });

    // Optional manual approval.
    if (props.pipeline.requireApproval) {
      this.pipeline.addStage({
        stageName: 'Approve',
        actions: [
          // Announced once, by the notification rule below (MANUAL_APPROVAL_NEEDED); a notificationTopic here would
          // send the same approval a second time.
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            additionalInformation: `Deploy image ${imageTag} (${imageDigest}) to ${props.envName}?`,
          }),
        ],
      });
    }

    // Deploy: a CloudFormation update of the Service stack's ImageTag, and nothing else.
    const deploy = project('Deploy', {
      timeout: cdk.Duration.minutes(60),
      env: {
        SERVICE_STACK_NAME: props.serviceStackName,
        REPOSITORY_NAME: props.imageRepository.repositoryName,
        ENV_NAME: props.envName,
      },
      spec: { version: '0.2', phases: { build: { commands: ['bash lib/pipeline/deploy.sh'] } } },
    });
    const serviceStackArn = stack.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${props.serviceStackName}/*`,
    });
    deploy.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:UpdateStack', 'cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents'],
        resources: [serviceStackArn],
      }),
    );
    // CloudFormation updates the stack with the role `cdk deploy` gave it: the bootstrap's execution role.
    const executionRoleArn = (stack.synthesizer as cdk.DefaultStackSynthesizer).cloudFormationExecutionRoleArn;
    // The Service stack has an SSM-typed BootstrapVersion parameter, which CloudFormation resolves with the caller's
    // credentials on every update-stack; the CDK bootstrap template grants its own deploy role exactly this read
    // (aws/aws-cdk#20959).
    const qualifier =
      (stack.synthesizer as cdk.DefaultStackSynthesizer).bootstrapQualifier ?? cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const bootstrapVersionParameter = cdk.DefaultStackSynthesizer.DEFAULT_BOOTSTRAP_STACK_VERSION_SSM_PARAMETER.replace(
      '${Qualifier}',
      qualifier,
    );
    deploy.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameters'],
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: bootstrapVersionParameter.slice(1) })],
      }),
    );
    deploy.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [cdk.Fn.sub(executionRoleArn)],
        conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      }),
    );
    // deploy.sh tags the shipped image `deployed-<env>-<tag>` (batch-get-image, then put-image of the same manifest), so
    // that the lifecycle policy keeps it; on this repository only.
    props.imageRepository.grant(deploy, 'ecr:BatchGetImage', 'ecr:PutImage');
    // On the first image only, deploy.sh raises the service to its scaling floor (see the comment there): it reads the
    // floor and the desired count, and changes the desired count of this one service.
    deploy.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ecs:DescribeServices', 'ecs:UpdateService'], resources: [props.serviceArn] }),
    );
    // Application Auto Scaling has no resource-level permissions: "specify `Resource: *`"
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_applicationautoscaling.html).
    deploy.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['application-autoscaling:DescribeScalableTargets'], resources: ['*'] }),
    );
    acknowledgeWildcards(deploy.role!, {
      'Resource::*': 'application-autoscaling:DescribeScalableTargets (read-only) has no resource-level permissions',
    });
    this.pipeline.addStage({
      stageName: 'Deploy',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'Deploy',
          project: deploy,
          input: sourceOutput,
          environmentVariables: { IMAGE_TAG: { value: imageTag } },
        }),
      ],
    });

    // Verify: the new digest runs, and the service answers.
    const verify = project('Verify', {
      timeout: cdk.Duration.minutes(15),
      env: { ENV_NAME: props.envName },
      spec: {
        version: '0.2',
        phases: {
          // Node.js 20 reached end of life in 2026-04; both CodeBuild AL2023 images offer 22.
          install: { 'runtime-versions': { nodejs: '22' }, commands: ['npm ci --no-audit --no-fund'] },
          build: { commands: ['npx tsx bin/verify.ts --env "$ENV_NAME" --tag "$IMAGE_TAG" --digest "$IMAGE_DIGEST"'] },
        },
      },
    });
    verify.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [serviceStackArn] }));
    verify.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [props.serviceArn] }));
    verify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:ListTasks', 'ecs:DescribeTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': props.clusterArn } },
      }),
    );
    verify.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] }));
    this.pipeline.addStage({
      stageName: 'Verify',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'Verify',
          project: verify,
          input: sourceOutput,
          environmentVariables: { IMAGE_TAG: { value: imageTag }, IMAGE_DIGEST: { value: imageDigest } },
        }),
      ],
    });

    // Failures and pending approvals notify the topic. The rule is created only after the topic policy that lets
    // CodeStar Notifications publish, or a fresh deploy can fail to create it (aws/aws-cdk#29484).
    const rule = this.pipeline.notifyOn('Failures', this.topic, {
      events: [
        codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
        codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
      ],
    });
    const topicPolicy = this.topic.node.tryFindChild('Policy');
    if (!topicPolicy) throw new Error('DeliveryPipeline: the notification topic has no policy');
    rule.node.addDependency(topicPolicy);

    // aws-cdk-lib's grants use action families and object wildcards on this pipeline's own bucket and key only.
    const bucketObjects = `Resource::${nagArn(this.artifactBucket)}/*`;
    const artifactAccess = {
      'Action::s3:GetObject*': "Read access (grantRead) to this pipeline's own artifact bucket",
      'Action::s3:GetBucket*': "Read access (grantRead) to this pipeline's own artifact bucket",
      'Action::s3:List*': "Read access (grantRead) to this pipeline's own artifact bucket",
      [bucketObjects]: "The objects of this pipeline's own artifact bucket",
      'Action::kms:GenerateDataKey*': "Encrypting artifacts with this pipeline's own key, and no other",
      'Action::kms:ReEncrypt*': "Encrypting artifacts with this pipeline's own key, and no other",
    };
    const stackArn = `Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${props.serviceStackName}/*`;
    const stackReason = 'A stack ARN ends in an ID generated at creation; the stack name is fixed';
    for (const p of [build, scan, deploy, verify]) {
      const id = nagArn(p).replace(/\.Arn>$/, '>');
      acknowledgeGrantPolicy(p.role!);
      acknowledgeWildcards(p.role!, {
        ...artifactAccess,
        [`Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/${id}-*`]:
          "CodeBuild's default policy: this project's own report groups",
        [`Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/${id}:*`]:
          "CodeBuild's default policy: this project's own log streams",
      });
    }
    acknowledgeWildcards(build.role!, { 'Resource::*': 'ecr:GetAuthorizationToken has no resource-level permissions' });
    acknowledgeWildcards(deploy.role!, { [stackArn]: stackReason });
    acknowledgeWildcards(verify.role!, {
      [stackArn]: stackReason,
      'Resource::*':
        'ecs:ListTasks and ecs:DescribeTasks are limited to the cluster by condition; ecs:DescribeTaskDefinition has no resource-level permissions',
    });
    acknowledgeGrantPolicy(this.pipeline.role);
    acknowledgeWildcards(this.pipeline.role, {
      ...artifactAccess,
      'Action::s3:DeleteObject*': "Read-write access (grantReadWrite) to this pipeline's own artifact bucket",
      'Action::s3:Abort*': "Read-write access (grantReadWrite) to this pipeline's own artifact bucket",
    });
    const eventsRole = this.pipeline.node.tryFindChild('EventsRole') as iam.IRole | undefined;
    if (eventsRole) acknowledgeGrantPolicy(eventsRole);
  }
}
