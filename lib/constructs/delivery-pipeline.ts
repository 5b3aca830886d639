import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
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
import { ImageDeployStep } from './image-deploy-step';
import { acknowledgeGrantPolicy, acknowledgeWildcards, nagArn } from './nag';
import { PipelineStep, type PipelineStepProps } from './pipeline-step';
import { StepCode } from './step-code';

/** The scan gate's script, shipped as an asset of the pipeline stack. */
export const SCAN_GATE_SCRIPT = path.join(__dirname, '..', 'pipeline', 'scan-gate.sh');
/** The Verify step's entry point, bundled into one file and shipped as an asset of the pipeline stack. */
export const VERIFY_ENTRY = path.join(__dirname, '..', '..', 'bin', 'verify.ts');

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
  /** The Service stack's CloudFormation role for image deploys: the Deploy stage passes it, and no other. */
  readonly imageDeployRole: iam.IRole;
  /** The CDK bootstrap version parameter the Service template reads (`/cdk-bootstrap/<qualifier>/version`). */
  readonly bootstrapVersionParameter: string;
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
 * Every stage's logic lives in a script under lib/pipeline/ or an entry point under bin/. Build runs the pushed
 * commit's copy (its tests and image are what it builds); ScanGate, Deploy and Verify run this stack's copy, shipped as
 * assets (StepCode), so a push cannot change what they do.
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

    const step = (
      id: string,
      stepProps: Omit<PipelineStepProps, 'envName' | 'cpuArchitecture' | 'encryptionKey' | 'logRetention'>,
    ) =>
      new PipelineStep(this, id, {
        ...stepProps,
        envName: props.envName,
        cpuArchitecture: props.cpuArchitecture,
        encryptionKey: key,
        logRetention: props.logRetention,
      }).project;

    // Build: unit tests, release image, smoke test, push. The one step that runs the pushed code (its tests and its
    // Dockerfile), so its role can push images to this repository and nothing more.
    const build = step('Build', {
      stageName: 'Build',
      compute: 'docker',
      timeout: cdk.Duration.minutes(30),
      environment: {
        REPOSITORY_URI: props.imageRepository.repositoryUri,
        TARGET_PLATFORM: arm ? 'linux/arm64' : 'linux/amd64',
        CONTAINER_PORT: String(props.containerPort),
        HEALTH_PATH: props.healthCheckPath,
      },
      buildSpec: {
        version: '0.2',
        env: { 'exported-variables': ['IMAGE_TAG', 'IMAGE_DIGEST', 'IMAGE_URI'] },
        phases: { build: { commands: ['bash lib/pipeline/build.sh', 'set -a && . ./pipeline.env && set +a'] } },
      },
    });
    props.imageRepository.grantPullPush(build);
    props.imageRepository.grant(build, 'ecr:DescribeImages');
    acknowledgeWildcards(build.role!, { 'Resource::*': 'ecr:GetAuthorizationToken has no resource-level permissions' });
    const buildAction = new actions.CodeBuildAction({
      actionName: 'Build',
      project: build,
      input: sourceOutput,
      environmentVariables: { IMAGE_TAG: { value: sourceAction.variables.commitId } },
      variablesNamespace: 'Build',
    });
    this.pipeline.addStage({ stageName: 'Build', actions: [buildAction] });
    // The tag is the commit, set by the pipeline, never what Build's (the pushed commit's) code reports; its digest is
    // checked by ScanGate against what the tag holds in ECR (scan-gate.sh), so Deploy and Verify act on the scanned image.
    const imageTag = sourceAction.variables.commitId;
    const imageDigest = buildAction.variable('IMAGE_DIGEST');

    // Scan gate: its code comes from this stack, so a push cannot wave its own image through. Lambda compute: it only
    // polls ECR and Inspector, for at most SCAN_TIMEOUT_SECONDS (600 s by default) of its 15 minutes.
    const scanCode = new StepCode(this, 'ScanGateCode', { entry: SCAN_GATE_SCRIPT });
    const scan = step('ScanGate', {
      stageName: 'ScanGate',
      compute: 'lambda',
      timeout: cdk.Duration.minutes(15),
      environment: {
        REPOSITORY_NAME: props.imageRepository.repositoryName,
        SCAN_SEVERITY_THRESHOLD: props.pipeline.scanSeverityThreshold,
        ...scanCode.environment,
      },
      buildSpec: { version: '0.2', phases: { build: { commands: scanCode.commands() } } },
    });
    scanCode.grantRead(scan);
    props.imageRepository.grant(scan, 'ecr:DescribeImageScanFindings', 'ecr:DescribeImages');
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
          environmentVariables: { IMAGE_TAG: { value: imageTag }, IMAGE_DIGEST: { value: imageDigest } },
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

    // Deploy: a CloudFormation update of the Service stack's ImageTag, and nothing else, with its image-deploy role.
    const deployStep = new ImageDeployStep(this, 'Deploy', {
      envName: props.envName,
      stackName: props.serviceStackName,
      stackRole: props.imageDeployRole,
      serviceArn: props.serviceArn,
      repository: props.imageRepository,
      bootstrapVersionParameter: props.bootstrapVersionParameter,
      cpuArchitecture: props.cpuArchitecture,
      encryptionKey: key,
      logRetention: props.logRetention,
    });
    const deploy = deployStep.step.project;
    this.pipeline.addStage({ stageName: 'Deploy', actions: [deployStep.action(sourceOutput, imageTag, imageDigest)] });

    // Verify: the new digest runs, and the service answers. It runs bin/verify.ts prebuilt (one esbuild bundle, an asset
    // of this stack) on Lambda compute: no `npm ci`, no instance to provision.
    const verifyCode = new StepCode(this, 'VerifyCode', { entry: VERIFY_ENTRY });
    const verify = step('Verify', {
      stageName: 'Verify',
      compute: 'lambda',
      timeout: cdk.Duration.minutes(10),
      environment: { ENV_NAME: props.envName, ...verifyCode.environment },
      buildSpec: {
        version: '0.2',
        phases: { build: { commands: verifyCode.commands('--env "$ENV_NAME" --tag "$IMAGE_TAG" --digest "$IMAGE_DIGEST"') } },
      },
    });
    verifyCode.grantRead(verify);
    const serviceStackArn = stack.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${props.serviceStackName}/*`,
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
    acknowledgeWildcards(verify.role!, {
      [`Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${props.serviceStackName}/*`]:
        'A stack ARN ends in an ID generated at creation; the stack name is fixed',
      'Resource::*':
        'ecs:ListTasks and ecs:DescribeTasks are limited to the cluster by condition; ecs:DescribeTaskDefinition has no resource-level permissions',
    });
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
