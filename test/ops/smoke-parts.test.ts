import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetTemplateCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { environments, stackNames } from '../../lib/config';
import { EXIT } from '../../lib/ops/errors';
import { RETRY } from '../../lib/ops/retry';
import { USAGE, UsageError, argsOrExit, parseSmokeArgs } from '../../lib/ops/smoke/args';
import { deleteCommands, deletionOrder, leftoversOf } from '../../lib/ops/smoke/leftovers';
import { PUSH_TO_LIVE_MODEL_MINUTES } from '../../lib/ops/smoke/model';
import { spawnProcess } from '../../lib/ops/smoke/process';
import { duration, modelComparison } from '../../lib/ops/smoke/report';
import { SMOKE_FILE, repositoryNameFromCloneUrl } from '../../lib/ops/smoke/source';
import { synthesized } from '../helpers';
import { mockedClients } from './fixtures';

/** A shipped environment the smoke test may deploy and destroy: the first that holds no production data. */
const DISPOSABLE = Object.values(environments).find((c) => !c.production && c.removalPolicy === 'destroy')!.envName;

RETRY.baseDelayMs = 1;
const ROOT = path.join(__dirname, '..', '..');

describe('arguments', () => {
  test('parses the options, with defaults', () => {
    expect(parseSmokeArgs(['--env', 'dev', '--confirm-account', '123456789012'])).toEqual({
      env: 'dev',
      confirmAccount: '123456789012',
      pipelineTimeoutSeconds: 2400,
      verifyTimeoutSeconds: 600,
      pollSeconds: 15,
    });
    expect(parseSmokeArgs(['--env=dev', '--confirm-account=123456789012', '--poll', '5'])).toMatchObject({ pollSeconds: 5 });
    expect(parseSmokeArgs(['-h'])).toBe('help');
  });

  test('fails when the account is not confirmed, in one line that says what to pass', () => {
    expect(() => parseSmokeArgs(['--env', 'dev'])).toThrow(
      new UsageError(
        'this deploys and destroys stacks in your AWS account: pass --confirm-account <your 12-digit account ID> (aws sts get-caller-identity)',
      ),
    );
  });

  test.each([
    [['--confirm-account', '123456789012'], 'pass --env NAME, the environment to deploy and destroy (for example --env dev)'],
    [['--env', 'dev', '--confirm-account', '1234'], "--confirm-account: '1234' is not a 12-digit AWS account ID"],
    [['--env', 'dev', '--confirm-account', '123456789012', '--poll', '0'], "--poll: '0' is not a whole number of seconds"],
    [['--env', 'dev', '--confirm-account', '123456789012', '--yes'], "Unknown option '--yes'"],
    [['--env', 'dev', '--confirm-account', '123456789012', 'extra'], "Unexpected argument 'extra'"],
  ])('fails when the arguments are %j', (argv, message) => {
    expect(() => parseSmokeArgs(argv)).toThrow(message);
  });
});

describe('what the entry point prints and exits with', () => {
  function io(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const result = argsOrExit(
      argv,
      (t) => out.push(t),
      (t) => err.push(t),
    );
    return { result, out: out.join('\n'), err: err.join('\n') };
  }

  test('--help prints the usage on stdout and exits 0', () => {
    expect(io(['--help'])).toEqual({ result: 0, out: USAGE, err: '' });
  });

  test('fails on an unknown option with the usage, exit 2', () => {
    expect(io(['--env', 'dev', '--confirm-account', '123456789012', '--keep'])).toEqual({
      result: 2,
      out: '',
      err: `error: Unknown option '--keep'\n\n${USAGE}`,
    });
  });

  test('fails when --confirm-account is missing, in one line, exit 2', () => {
    expect(io(['--env', 'dev'])).toEqual({
      result: 2,
      out: '',
      err: 'error: this deploys and destroys stacks in your AWS account: pass --confirm-account <your 12-digit account ID> (aws sts get-caller-identity)',
    });
  });

  test('returns the options when they are complete', () => {
    expect(io(['--env', 'dev', '--confirm-account', '123456789012']).result).toMatchObject({ env: 'dev' });
  });
});

describe('bin/aws-smoke.ts, run as a user without AWS credentials', () => {
  type Run = { status: number | null; stdout: string; stderr: string };
  const runs: Record<string, Run> = {};

  function smoke(args: string[]): Promise<Run> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'home-'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bin/aws-smoke.ts', ...args], {
      cwd: ROOT,
      env: { ...env, HOME: home, AWS_CONFIG_FILE: path.join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none') },
      timeout: 45000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  beforeAll(async () => {
    runs.unconfirmed = await smoke(['--env', DISPOSABLE]);
    runs.noCredentials = await smoke(['--env', DISPOSABLE, '--confirm-account', '123456789012']);
  }, 100000);

  test('fails when --confirm-account is missing: one line, exit 2, before looking for credentials', () => {
    expect(runs.unconfirmed).toEqual({
      status: EXIT.USAGE,
      stdout: '',
      stderr:
        'error: this deploys and destroys stacks in your AWS account: pass --confirm-account <your 12-digit account ID> (aws sts get-caller-identity)\n',
    });
  });

  test('fails without credentials, in one line, exit 3', () => {
    expect(runs.noCredentials).toEqual({
      status: EXIT.NO_CREDENTIALS,
      stdout: '',
      stderr: 'error: no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry\n',
    });
  });
});

describe('what destroy leaves behind', () => {
  /** Every resource of a synthesized template, as ListStackResources reports it once deployed. */
  function deployedAs(template: Record<string, any>) {
    return Object.entries(template.Resources as Record<string, { Type: string }>).map(([id, r]) => ({
      LogicalResourceId: id,
      ResourceType: r.Type,
      PhysicalResourceId: `physical-${id}`,
      ResourceStatus: 'CREATE_COMPLETE' as const,
    }));
  }

  test("finds exactly what a disposable environment's synthesized stacks retain: the two buckets, the key, and the Lambda's own log group", async () => {
    const { mocks, clients } = mockedClients();
    const names = stackNames(environments[DISPOSABLE]);
    const templates = {
      [names.registry]: synthesized(DISPOSABLE).json('registry'),
      [names.service]: synthesized(DISPOSABLE).json('service'),
      [names.pipeline]: synthesized(DISPOSABLE).json('pipeline'),
    };
    mocks.cloudformation
      .on(GetTemplateCommand)
      .callsFake((input: { StackName: string }) => ({ TemplateBody: JSON.stringify(templates[input.StackName]) }));
    mocks.cloudformation
      .on(ListStackResourcesCommand)
      .callsFake((input: { StackName: string }) => ({ StackResourceSummaries: deployedAs(templates[input.StackName]) }));

    const found = [];
    for (const name of Object.values(names)) found.push(...(await leftoversOf(clients, name)));

    const logical = (stack: string, type: string) =>
      Object.entries(templates[stack].Resources as Record<string, { Type: string }>)
        .filter(([, r]) => r.Type === type)
        .map(([id]) => id);
    const [accessLogs] = logical(names.service, 'AWS::S3::Bucket');
    const [artifacts] = logical(names.pipeline, 'AWS::S3::Bucket');
    const [key] = logical(names.pipeline, 'AWS::KMS::Key');
    const lambdas = logical(names.service, 'AWS::Lambda::Function');
    expect(lambdas).toHaveLength(1);
    expect(found.map((l) => [l.stack, l.type, l.physicalId]).sort()).toEqual(
      [
        [names.service, 'AWS::S3::Bucket', `physical-${accessLogs}`],
        [names.service, 'AWS::Logs::LogGroup', `/aws/lambda/physical-${lambdas[0]}`],
        [names.pipeline, 'AWS::S3::Bucket', `physical-${artifacts}`],
        [names.pipeline, 'AWS::KMS::Key', `physical-${key}`],
      ].sort(),
    );
  });

  test('skips resources that were never created or are already gone', async () => {
    const { mocks, clients } = mockedClients();
    mocks.cloudformation.on(GetTemplateCommand).resolves({
      TemplateBody: JSON.stringify({
        Resources: {
          A: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' },
          B: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' },
        },
      }),
    });
    mocks.cloudformation.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'A',
          ResourceType: 'AWS::S3::Bucket',
          ResourceStatus: 'CREATE_FAILED',
          LastUpdatedTimestamp: new Date(),
        },
        {
          LogicalResourceId: 'B',
          ResourceType: 'AWS::S3::Bucket',
          PhysicalResourceId: 'b',
          ResourceStatus: 'DELETE_COMPLETE',
          LastUpdatedTimestamp: new Date(),
        },
      ],
    });
    expect(await leftoversOf(clients, 'stack')).toEqual([]);
  });

  test('empties a versioned bucket (versions and delete markers) before deleting it, and deletes keys last', () => {
    const bucket = { stack: 's', logicalId: 'B', type: 'AWS::S3::Bucket', physicalId: 'my-bucket', reason: 'r' };
    const key = { stack: 's', logicalId: 'K', type: 'AWS::KMS::Key', physicalId: 'k-1', reason: 'r' };
    expect(deleteCommands(bucket, 'us-east-1')).toEqual([
      "aws s3api list-object-versions --region us-east-1 --bucket my-bucket --output json --query '{Objects: [Versions, DeleteMarkers][].{Key: Key, VersionId: VersionId}, Quiet: `true`}' > /tmp/my-bucket.json",
      `grep -q '"Key"' /tmp/my-bucket.json && aws s3api delete-objects --region us-east-1 --bucket my-bucket --delete file:///tmp/my-bucket.json`,
      'aws s3api delete-bucket --region us-east-1 --bucket my-bucket',
    ]);
    expect(deletionOrder([key, bucket]).map((l) => l.logicalId)).toEqual(['B', 'K']);
  });
});

describe('report', () => {
  test('compares the measured push-to-live with the model', () => {
    const model = { min: 9, max: 13, source: 'the README' };
    expect(modelComparison(8 * 60 + 59, model)).toBe(
      'push to live: 8m 59s measured; modelled 9–13 min (the README): faster than the model',
    );
    expect(modelComparison(13 * 60, model)).toBe(
      'push to live: 13m 00s measured; modelled 9–13 min (the README): within the model',
    );
    expect(modelComparison(13 * 60 + 1, model)).toBe(
      'push to live: 13m 01s measured; modelled 9–13 min (the README): SLOWER than the model',
    );
    expect(modelComparison(600, { min: 9, max: 9, source: 'the model' })).toBe(
      'push to live: 10m 00s measured; modelled 9 min (the model): SLOWER than the model',
    );
    expect(modelComparison(600)).toContain(`(${PUSH_TO_LIVE_MODEL_MINUTES.source})`);
    expect(duration(59)).toBe('59s');
  });

  // test/ops/push-to-live.test.ts ties PUSH_TO_LIVE_MODEL_MINUTES to the model's output for dev.
});

describe('source', () => {
  test('reads the repository name from the SourceCloneUrl output', () => {
    expect(repositoryNameFromCloneUrl('codecommit::us-east-1://fargate-app-dev')).toBe('fargate-app-dev');
    expect(repositoryNameFromCloneUrl('codecommit::us-east-1://profile@fargate-app-dev')).toBe('fargate-app-dev');
  });

  test('fails when the source is not CodeCommit', () => {
    expect(() => repositoryNameFromCloneUrl(undefined)).toThrow(
      "the registry stack's SourceCloneUrl output is '', not codecommit::<region>://<name>: the smoke test needs the codecommit source",
    );
  });

  test('the smoke commit changes a file that the release image copies, so it ships a new digest', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'app', 'Dockerfile'), 'utf8');
    const release = dockerfile.slice(dockerfile.indexOf(' AS release'));
    const copied = [...release.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => `app/${m[1]}`);
    expect(copied.some((source) => SMOKE_FILE.startsWith(source))).toBe(true);
  });
});

describe('process runner', () => {
  test("resolves a real child's exit code", async () => {
    expect(await spawnProcess(process.execPath, ['-e', 'process.exit(3)'])).toBe(3);
  });

  test('on abort, stops the child with SIGINT, as Ctrl-C in the terminal would', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const exit = spawnProcess(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect(await exit).toBe(130);
    expect(Date.now() - started).toBeLessThan(30000);
  });

  test('fails when the command does not exist', async () => {
    await expect(spawnProcess('no-such-command-for-the-smoke-test', [])).rejects.toThrow('ENOENT');
  });
});
