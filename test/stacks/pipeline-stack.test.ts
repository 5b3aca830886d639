import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { environments, stackNames } from '../../lib/config';
import { synth, synthesized, type Synthesized } from '../helpers';
import { VARIANTS } from '../templates/targets';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
let connection: Synthesized;

beforeAll(() => {
  // One variant covers a connection source on x86_64; the templates tier lints the same one.
  connection = synth(VARIANTS['dev+connection-source+x86']());
});

const templates: Record<string, Template> = {};
const pipeline = (env: string) => (templates[env] ??= synthesized(env).template('pipeline'));
const props = (template: Template, type: string) => Object.values(template.findResources(type)).map((r) => r.Properties);
const pipelineOf = (template: Template) => props(template, 'AWS::CodePipeline::Pipeline')[0];
const projectNamed = (template: Template, stage: string) => {
  const entries = Object.entries(template.findResources('AWS::CodeBuild::Project'));
  const found = entries.find(([, r]) => r.Properties.Description.startsWith(`${stage} stage`));
  if (!found) throw new Error(`no ${stage} project`);
  return { logicalId: found[0], props: found[1].Properties };
};
const policyOfProject = (template: Template, stage: string): any[] => {
  const roleRef = projectNamed(template, stage).props.ServiceRole['Fn::GetAtt'][0];
  return props(template, 'AWS::IAM::Policy')
    .filter((p) => p.Roles.some((r: any) => r.Ref === roleRef))
    .flatMap((p) => p.PolicyDocument.Statement);
};

describe.each(Object.keys(environments))('%s pipeline stack', (env) => {
  const c = environments[env];
  const source = c.pipeline.source;
  test('matches the snapshot', () => {
    expect(pipeline(env).toJSON()).toMatchSnapshot();
  });

  test('is a V2 pipeline', () => {
    expect(pipelineOf(pipeline(env)).PipelineType).toBe('V2');
  });

  test('builds, scans, deploys and verifies in that order', () => {
    const stages = pipelineOf(pipeline(env)).Stages.map((s: any) => s.Name);
    expect(stages).toEqual(
      c.pipeline.requireApproval
        ? ['Source', 'Build', 'ScanGate', 'Approve', 'Deploy', 'Verify']
        : ['Source', 'Build', 'ScanGate', 'Deploy', 'Verify'],
    );
  });

  (source.kind === 'codecommit' ? test : test.skip)(
    'starts on a push to the branch through EventBridge (CodeCommit source)',
    () => {
      pipeline(env).hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({
          source: ['aws.codecommit'],
          detail: Match.objectLike({ referenceName: [source.branch] }),
        }),
      });
    },
  );

  test('runs the build privileged, for Docker', () => {
    expect(projectNamed(pipeline(env), 'Build').props.Environment.PrivilegedMode).toBe(true);
    for (const stage of ['ScanGate', 'Deploy', 'Verify']) {
      expect(projectNamed(pipeline(env), stage).props.Environment.PrivilegedMode).toBe(false);
    }
  });

  test('builds on the architecture of the tasks', () => {
    const environment = projectNamed(pipeline(env), 'Build').props.Environment;
    const arm = c.cpuArchitecture === 'ARM64';
    expect(environment.Type).toBe(arm ? 'ARM_CONTAINER' : 'LINUX_CONTAINER');
    expect(environment.Image).toMatch(arm ? /aarch64/ : /x86_64/);
    expect(environment.EnvironmentVariables).toContainEqual({
      Name: 'TARGET_PLATFORM',
      Type: 'PLAINTEXT',
      Value: arm ? 'linux/arm64' : 'linux/amd64',
    });
  });

  test('keeps logic out of the buildspecs: Build calls its lib/pipeline script', () => {
    const spec = JSON.parse(projectNamed(pipeline(env), 'Build').props.Source.BuildSpec);
    expect(spec.phases.build.commands[0]).toBe('bash lib/pipeline/build.sh');
  });

  // DESIGN §5.6: what ScanGate, Deploy and Verify run comes from the pipeline stack, never from the source artifact.
  describe.each([
    ['ScanGate', 'lib/pipeline/scan-gate.sh', 'bash'],
    ['Deploy', 'lib/pipeline/deploy.sh', 'bash'],
    ['Verify', 'bin/verify.ts', 'node'],
  ])('the %s step', (stage, file, runner) => {
    const project = () => projectNamed(pipeline(env), stage).props;
    const variable = (name: string) =>
      project().Environment.EnvironmentVariables.find((v: { Name: string }) => v.Name === name)?.Value;

    test('reads no script, package or file of the source artifact', () => {
      const spec = project().Source.BuildSpec as string;
      // Every path a command names is absolute, under the step's own directory.
      const commands: string[] = Object.values<any>(JSON.parse(spec).phases).flatMap((p) => p.commands ?? []);
      expect(spec).not.toMatch(/lib\/pipeline|bin\/|CODEBUILD_SRC_DIR|npm |npx |\.\/|runtime-versions/);
      for (const c of commands) expect(c).toMatch(/^(aws s3 cp|echo|bash|node) /);
      expect(commands.at(-1)).toMatch(new RegExp(`^${runner} /tmp/pipeline-step/[\\w-]+\\.(sh|js)\\b`));
    });

    test("runs this stack's asset, checked against its SHA-256 before it runs", () => {
      const commands: string[] = JSON.parse(project().Source.BuildSpec).phases.build.commands;
      expect(commands[0]).toMatch(/^aws s3 cp --only-show-errors "\$STEP_CODE_URL" \/tmp\/pipeline-step\//);
      expect(commands[1]).toMatch(/\| sha256sum --check --strict --quiet$/);
      expect(JSON.stringify(variable('STEP_CODE_URL'))).toContain('cdk-hnb659fds-assets-');
      expect(variable('STEP_CODE_SHA256')).toMatch(/^[0-9a-f]{64}$/);
      if (runner === 'bash') {
        const digest = crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(__dirname, '..', '..', file)))
          .digest('hex');
        expect(variable('STEP_CODE_SHA256')).toBe(digest);
      }
    });
  });

  test('runs ScanGate and Verify on Lambda compute, Build and Deploy on EC2', () => {
    const compute = (stage: string) => projectNamed(pipeline(env), stage).props.Environment.ComputeType;
    expect(['Build', 'ScanGate', 'Deploy', 'Verify'].map(compute)).toEqual([
      'BUILD_GENERAL1_SMALL',
      'BUILD_LAMBDA_1GB',
      'BUILD_GENERAL1_SMALL',
      'BUILD_LAMBDA_1GB',
    ]);
  });

  test('exports the image tag and digest from the build', () => {
    const spec = JSON.parse(projectNamed(pipeline(env), 'Build').props.Source.BuildSpec);
    expect(spec.env['exported-variables']).toEqual(['IMAGE_TAG', 'IMAGE_DIGEST', 'IMAGE_URI']);
  });

  test('tags the image with the commit ID', () => {
    const build = pipelineOf(pipeline(env)).Stages.find((s: any) => s.Name === 'Build').Actions[0];
    expect(JSON.parse(build.Configuration.EnvironmentVariables)).toEqual([
      { name: 'IMAGE_TAG', type: 'PLAINTEXT', value: '#{Source.CommitId}' },
    ]);
  });

  test('has no ECS deploy action: every action is a source, CodeBuild or approval', () => {
    const providers = pipelineOf(pipeline(env)).Stages.flatMap((s: any) => s.Actions.map((a: any) => a.ActionTypeId.Provider));
    expect(
      providers.filter((p: string) => !['CodeCommit', 'CodeStarSourceConnection', 'CodeBuild', 'Manual'].includes(p)),
    ).toEqual([]);
  });

  test('the deploy role can update the Service stack and nothing else', () => {
    const statements = policyOfProject(pipeline(env), 'Deploy');
    const cfn = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('cloudformation:')));
    const stackArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':cloudformation:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:stack/${stackNames(c).service}/*`,
        ],
      ],
    };
    const imageDeployRole = {
      'Fn::GetStackOutput': expect.objectContaining({
        StackName: stackNames(c).service,
        OutputName: expect.stringContaining('ImageDeployRole'),
      }),
    };
    expect(cfn).toEqual([
      {
        Action: 'cloudformation:UpdateStack',
        Condition: { StringEquals: { 'cloudformation:RoleArn': imageDeployRole } },
        Effect: 'Allow',
        Resource: stackArn,
      },
      {
        Action: ['cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks'],
        Effect: 'Allow',
        Resource: stackArn,
      },
    ]);
    const passRole = statements.filter((s) => s.Action === 'iam:PassRole');
    expect(passRole).toEqual([
      {
        Action: 'iam:PassRole',
        Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
        Effect: 'Allow',
        Resource: imageDeployRole,
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain('cfn-exec-role');
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.some((a: string) => /^(iam:(?!PassRole)|cloudformation:(Create|Delete))/.test(a))).toBe(false);
    // ECR: the deployed marker on this repository's images; ECS: the first image's desired count, on this one service.
    const others = statements.filter((s) => [s.Action].flat().some((a: string) => /^(ecr|ecs|application-autoscaling):/.test(a)));
    const named = (s: any) => JSON.stringify(s.Resource);
    expect(others.map((s) => [s.Action, s.Resource === '*' ? '*' : named(s)])).toEqual([
      [['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:PutImage'], expect.stringContaining('ImagesRepository')],
      [['ecs:DescribeServices', 'ecs:UpdateService'], expect.stringContaining('WebService')],
      ['application-autoscaling:DescribeScalableTargets', '*'],
    ]);
  });

  test('the deploy role may read the bootstrap version parameter, which CloudFormation resolves as the caller', () => {
    const read = policyOfProject(pipeline(env), 'Deploy').filter((st) => [st.Action].flat().includes('ssm:GetParameters'));
    expect(read).toEqual([
      {
        Action: 'ssm:GetParameters',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ssm:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':parameter/cdk-bootstrap/hnb659fds/version',
            ],
          ],
        },
      },
    ]);
  });

  test('creates the notification rule only after the topic policy that lets it publish', () => {
    const [policyId] = Object.keys(pipeline(env).findResources('AWS::SNS::TopicPolicy'));
    const rule = Object.values(pipeline(env).findResources('AWS::CodeStarNotifications::NotificationRule'))[0];
    expect(rule.DependsOn).toContain(policyId);
  });

  test('lets CodeStar Notifications publish to the topic and use its key', () => {
    const topicPolicy = props(pipeline(env), 'AWS::SNS::TopicPolicy')[0];
    expect(topicPolicy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Principal: { Service: 'codestar-notifications.amazonaws.com' },
      }),
    );
    const keyStatements = props(pipeline(env), 'AWS::KMS::Key')[0].KeyPolicy.Statement;
    const keyActions = keyStatements
      .filter((st: any) => st.Principal?.Service === 'codestar-notifications.amazonaws.com')
      .flatMap((st: any) => [st.Action].flat());
    expect(keyActions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  test('announces a pending approval once: through the notification rule, not also from the action', () => {
    const actions = pipelineOf(pipeline(env)).Stages.flatMap((st: any) => st.Actions);
    for (const action of actions.filter((a: any) => a.ActionTypeId.Provider === 'Manual')) {
      expect(action.Configuration.NotificationArn).toBeUndefined();
    }
    pipeline(env).hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      EventTypeIds: Match.arrayWith(['codepipeline-pipeline-manual-approval-needed']),
    });
  });

  test('runs Verify on Node.js 22, the Lambda image the bundle targets', () => {
    expect(projectNamed(pipeline(env), 'Verify').props.Environment.Image).toMatch(/lambda-standard:nodejs22$/);
  });

  test('calls KMS on every artifact access (no S3 Bucket Key), so CloudTrail records each one', () => {
    pipeline(env).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ BucketKeyEnabled: false })] },
    });
  });

  test('verifies the running digest and the health check', () => {
    const spec = JSON.parse(projectNamed(pipeline(env), 'Verify').props.Source.BuildSpec);
    expect(spec.phases.build.commands.at(-1)).toBe(
      'node /tmp/pipeline-step/verify.js --env "$ENV_NAME" --tag "$IMAGE_TAG" --digest "$IMAGE_DIGEST"',
    );
    const verify = pipelineOf(pipeline(env)).Stages.find((s: any) => s.Name === 'Verify').Actions[0];
    expect(JSON.parse(verify.Configuration.EnvironmentVariables)).toEqual([
      { name: 'IMAGE_TAG', type: 'PLAINTEXT', value: '#{Source.CommitId}' },
      { name: 'IMAGE_DIGEST', type: 'PLAINTEXT', value: '#{Build.IMAGE_DIGEST}' },
    ]);
  });

  // Build runs the pushed commit's code; the tag the later steps act on is the pipeline's own, and ScanGate checks that
  // tag against Build's digest in ECR (scan-gate.sh).
  test("ScanGate, Deploy and Verify act on the commit's tag, never on a tag Build reports", () => {
    const stages = pipelineOf(pipeline(env)).Stages.filter((s: any) => ['ScanGate', 'Deploy', 'Verify'].includes(s.Name));
    expect(stages.map((s: any) => s.Name)).toEqual(['ScanGate', 'Deploy', 'Verify']);
    for (const stage of stages) {
      const variables = JSON.parse(stage.Actions[0].Configuration.EnvironmentVariables);
      expect(variables).toContainEqual({ name: 'IMAGE_TAG', type: 'PLAINTEXT', value: '#{Source.CommitId}' });
      // The digest ScanGate checks and passes is the one Deploy requires the tag to still hold, and Verify finds running.
      expect(variables).toContainEqual({ name: 'IMAGE_DIGEST', type: 'PLAINTEXT', value: '#{Build.IMAGE_DIGEST}' });
      expect(JSON.stringify(variables)).not.toContain('#{Build.IMAGE_TAG}');
    }
  });

  test("each step that runs this stack's code reads only its own asset object, not the bootstrap bucket", () => {
    for (const stage of ['ScanGate', 'Deploy', 'Verify']) {
      const reads = policyOfProject(pipeline(env), stage).filter((s) => JSON.stringify(s.Resource).includes('-assets-'));
      expect(reads).toHaveLength(1);
      expect(reads[0].Action).toBe('s3:GetObject');
      expect(JSON.stringify(reads[0].Resource)).toMatch(/\/[0-9a-f]{64}\.(sh|js)"\]\]\}$/);
    }
  });

  test('the scan gate role reads the scanning configuration and Inspector, and changes nothing', () => {
    const statements = policyOfProject(pipeline(env), 'ScanGate');
    expect(statements).toContainEqual({
      Action: ['ecr:GetRegistryScanningConfiguration', 'inspector2:ListCoverage', 'inspector2:ListFindings'],
      Effect: 'Allow',
      Resource: '*',
    });
    const ecr = statements.filter((s) => [s.Action].flat().some((a: string) => /^(ecr|inspector2):/.test(a)));
    expect(ecr.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'ecr:DescribeImageScanFindings',
      'ecr:DescribeImages',
      'ecr:GetRegistryScanningConfiguration',
      'inspector2:ListCoverage',
      'inspector2:ListFindings',
    ]);
  });

  test('scans with the configured severity threshold', () => {
    expect(projectNamed(pipeline(env), 'ScanGate').props.Environment.EnvironmentVariables).toContainEqual({
      Name: 'SCAN_SEVERITY_THRESHOLD',
      Type: 'PLAINTEXT',
      Value: c.pipeline.scanSeverityThreshold,
    });
  });

  test('notifies the topic when an execution fails', () => {
    pipeline(env).hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      EventTypeIds: Match.arrayWith(['codepipeline-pipeline-pipeline-execution-failed']),
      Targets: [{ TargetType: 'SNS', TargetAddress: Match.anyValue() }],
    });
  });

  test('keeps artifacts encrypted with KMS, versioned, private and expiring', () => {
    pipeline(env).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ ExpirationInDays: c.pipeline.artifactRetentionDays, Status: 'Enabled' })],
      },
    });
  });

  test('denies artifact access without TLS', () => {
    pipeline(env).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('gives every build log group an explicit retention', () => {
    for (const group of props(pipeline(env), 'AWS::Logs::LogGroup')) expect(group.RetentionInDays).toBe(c.logRetentionDays);
  });
});

describe('a connection (GitHub, GitLab, Bitbucket) source', () => {
  const t = () => connection.template('pipeline');

  test('uses the connection, without polling or webhooks of its own', () => {
    const source = pipelineOf(t()).Stages[0].Actions[0];
    expect(source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source.Configuration).toMatchObject({
      ConnectionArn: CONNECTION_ARN,
      FullRepositoryId: 'acme/web',
      BranchName: 'release',
      DetectChanges: false,
    });
  });

  test('starts through a V2 trigger filtered on the branch and file paths', () => {
    expect(pipelineOf(t()).Triggers).toEqual([
      {
        ProviderType: 'CodeStarSourceConnection',
        GitConfiguration: {
          SourceActionName: 'Connection',
          Push: [{ Branches: { Includes: ['release'] }, FilePaths: { Includes: ['app/**', 'lib/pipeline/**'] } }],
        },
      },
    ]);
  });

  test('grants both codestar-connections and codeconnections UseConnection', () => {
    const actions = props(t(), 'AWS::IAM::Policy')
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((s: any) => s.Resource === CONNECTION_ARN)
      .flatMap((s: any) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['codestar-connections:UseConnection', 'codeconnections:UseConnection']));
  });

  test('has no EventBridge rule for CodeCommit', () => {
    t().resourceCountIs('AWS::Events::Rule', 0);
  });

  test('synthesizes with zero unacknowledged cdk-nag findings', () => {
    expect(connection.validationReport.pluginReports).toEqual([]);
  });

  test('creates no CodeCommit repository', () => {
    connection.template('registry').resourceCountIs('AWS::CodeCommit::Repository', 0);
  });
});

test('builds on x86_64 for X86_64 tasks', () => {
  const environment = projectNamed(connection.template('pipeline'), 'Build').props.Environment;
  expect(environment.Type).toBe('LINUX_CONTAINER');
  expect(environment.Image).toMatch(/x86_64/);
  expect(environment.EnvironmentVariables).toContainEqual({ Name: 'TARGET_PLATFORM', Type: 'PLAINTEXT', Value: 'linux/amd64' });
});
