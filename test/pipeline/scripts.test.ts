import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The pipeline's scripts, run with stub `docker`, `aws` and `curl` commands first on PATH (test/pipeline/stubs).
 * The stubs record their calls; STUB_* variables choose the scenario.
 */
const ROOT = path.join(__dirname, '..', '..');
const STUBS = path.join(__dirname, 'stubs');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The last line the script wrote to stderr: its one-line reason on failure. */
  reason: string;
  calls: string[];
  dir: string;
}

function run(script: string, env: Record<string, string>): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-'));
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(log, '');
  const result = spawnSync('bash', [path.join(ROOT, 'lib', 'pipeline', script)], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${STUBS}:${process.env.PATH}`, HOME: dir, STUB_DIR: dir, STUB_LOG: log, ...env },
    timeout: 20000,
  });
  const lines = result.stderr.trim().split('\n');
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    reason: lines[lines.length - 1],
    calls: fs.readFileSync(log, 'utf8').trim().split('\n'),
    dir,
  };
}

const TAG = '3f2c1a9e0b7d4c6a8e5f1b2d3c4a5e6f7a8b9c0d';
const DIGEST = 'sha256:5f2b1c9e0a7d4c6b8e5f1a2d3c4b5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d';
const BUILD_ENV = {
  REPOSITORY_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/images',
  IMAGE_TAG: TAG,
  AWS_REGION: 'eu-west-1',
  SMOKE_START_SECONDS: '2',
  SMOKE_STOP_SECONDS: '1',
};

describe('build.sh', () => {
  test('builds, smoke-tests, pushes and exports the tag and digest', () => {
    const r = run('build.sh', BUILD_ENV);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(r.dir, 'pipeline.env'), 'utf8')).toBe(
      `IMAGE_TAG=${TAG}\nIMAGE_DIGEST=${DIGEST}\nIMAGE_URI=123456789012.dkr.ecr.eu-west-1.amazonaws.com/images@${DIGEST}\n`,
    );
  });

  test('logs in with get-login-password', () => {
    const r = run('build.sh', BUILD_ENV);
    expect(r.calls).toContain('aws ecr get-login-password --region eu-west-1');
    expect(r.calls).toContain('docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com');
  });

  test('builds the test target before the release target, for the task architecture, with the ECR layer cache', () => {
    const builds = run('build.sh', BUILD_ENV).calls.filter((c) => c.startsWith('docker buildx build'));
    expect(builds).toHaveLength(2);
    expect(builds[0]).toContain('--platform linux/arm64 --target test');
    expect(builds[1]).toContain('--target release');
    expect(builds[1]).toContain(
      '--cache-to type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/images:buildcache,mode=max',
    );
    expect(builds[1]).toContain(`--tag 123456789012.dkr.ecr.eu-west-1.amazonaws.com/images:${TAG}`);
  });

  test('runs BuildKit from ECR Public, not Docker Hub', () => {
    const create = run('build.sh', BUILD_ENV).calls.find((c) => c.startsWith('docker buildx create'));
    expect(create).toContain('--driver-opt image=public.ecr.aws/');
  });

  test('pushes only the commit tag, never latest', () => {
    const pushes = run('build.sh', BUILD_ENV).calls.filter((c) => c.startsWith('docker push'));
    expect(pushes).toEqual([`docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/images:${TAG}`]);
  });

  test('smoke-tests a read-only container and stops it with SIGTERM', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_IMAGE_VOLUMES: '{"/tmp":{}}' });
    expect(r.calls.find((c) => c.startsWith('docker run'))).toContain('--read-only --volume /tmp --env');
    expect(r.calls).toContain('curl --fail --silent --show-error --max-time 2 http://127.0.0.1:49153/health');
    expect(r.calls).toContain('docker exec c0ffee python -c import tempfile; tempfile.TemporaryFile().close()');
    expect(r.calls).toContain('docker kill --signal TERM c0ffee');
  });

  test('smoke-tests the configured health path, and tells the app to serve it there', () => {
    const r = run('build.sh', { ...BUILD_ENV, HEALTH_PATH: '/_ops/ready' });
    expect(r.calls.find((c) => c.startsWith('docker run'))).toContain('--env HEALTH_CHECK_PATH=/_ops/ready');
    expect(r.calls).toContain('curl --fail --silent --show-error --max-time 2 http://127.0.0.1:49153/_ops/ready');
  });

  test('mounts /tmp as Fargate does: an empty root-owned 0755 directory unless the image declares VOLUME /tmp', () => {
    const r = run('build.sh', BUILD_ENV);
    const docker = r.calls.find((c) => c.startsWith('docker run'))!;
    expect(docker).not.toContain('--tmpfs');
    const dir = /--read-only --volume (\/tmp\/tmp\.\w+):\/tmp --env/.exec(docker)?.[1];
    expect(r.calls).toContain(`mount ${dir}: 755 root, 0 entries`);
    expect(r.stdout).toContain("build: smoke test: the app's user can write in /tmp");
  });

  test('fails when the app user cannot write /tmp, and pushes nothing', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_TMP_NOT_WRITABLE: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PermissionError');
    expect(r.reason).toBe("build: smoke test: the app's user cannot create a temporary file in /tmp (the error is above)");
    expect(r.calls.some((c) => c.startsWith('docker push'))).toBe(false);
  });

  test('fails when the unit tests fail, and pushes nothing', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_FAIL_TESTS: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe("build: the unit tests failed in the Dockerfile's test stage (their output is above)");
    expect(r.calls.some((c) => c.startsWith('docker push'))).toBe(false);
  });

  test('fails when the smoke test never sees /health, and pushes nothing', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_NO_HEALTH: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe('build: smoke test: /health did not answer on port 8080 within 2s');
    expect(r.calls.some((c) => c.startsWith('docker push'))).toBe(false);
  });

  test('fails when the app ignores SIGTERM, and pushes nothing', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_IGNORE_SIGTERM: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe('build: smoke test: the app was still running 1s after SIGTERM; ECS would kill it mid-request');
    expect(r.calls.some((c) => c.startsWith('docker push'))).toBe(false);
  });

  test('succeeds without rebuilding when the tag already exists', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_TAG_EXISTS: '1' });
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => c.startsWith('docker buildx build') || c.startsWith('docker push'))).toBe(false);
    expect(fs.readFileSync(path.join(r.dir, 'pipeline.env'), 'utf8')).toContain(`IMAGE_DIGEST=${DIGEST}`);
  });

  test('fails when the push is refused', () => {
    const r = run('build.sh', { ...BUILD_ENV, STUB_PUSH_FAILS: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(`build: could not push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/images:${TAG}`);
  });

  test('fails when a required variable is missing', () => {
    const r = run('build.sh', { ...BUILD_ENV, IMAGE_TAG: '' });
    expect(r.status).not.toBe(0);
    expect(r.reason).toContain('IMAGE_TAG is required');
  });
});

describe('scan-gate.sh', () => {
  const findings = (dir: string, body: unknown) => {
    const file = path.join(dir, 'findings.json');
    fs.writeFileSync(file, JSON.stringify(body));
    return file;
  };
  const scan = (threshold: string, body: unknown) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'findings-'));
    return run('scan-gate.sh', {
      REPOSITORY_NAME: 'images',
      IMAGE_TAG: TAG,
      IMAGE_DIGEST: DIGEST,
      SCAN_SEVERITY_THRESHOLD: threshold,
      STUB_FINDINGS: findings(dir, body),
    });
  };
  const basic = {
    imageScanFindings: {
      findingSeverityCounts: { HIGH: 1, MEDIUM: 2 },
      findings: [
        { name: 'CVE-2026-0001', severity: 'HIGH', attributes: [{ key: 'package_name', value: 'openssl' }] },
        { name: 'CVE-2026-0002', severity: 'MEDIUM', attributes: [{ key: 'package_name', value: 'zlib' }] },
        { name: 'CVE-2026-0003', severity: 'MEDIUM', attributes: [] },
      ],
    },
  };

  // Build runs the pushed commit's code: what it reports is checked against what the tag holds in ECR.
  test('fails when the digest Build reported is not the tag Deploy will deploy, before reading any scan', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'findings-'));
    const r = run('scan-gate.sh', {
      REPOSITORY_NAME: 'images',
      IMAGE_TAG: TAG,
      IMAGE_DIGEST: DIGEST,
      STUB_DIGEST_TAGS: 'clean-1\tbuildcache',
      STUB_FINDINGS: findings(dir, {}),
    });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `scan-gate: ${DIGEST}, which Build reported, is not images:${TAG} (its tags: clean-1\tbuildcache): the gate scans what Deploy will deploy, so it stops here`,
    );
    expect(r.calls.some((c) => c.startsWith('aws ecr describe-image-scan-findings'))).toBe(false);
  });

  test('passes when no finding reaches the threshold', () => {
    const r = scan('CRITICAL', basic);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('scan-gate: no findings at or above CRITICAL');
  });

  test('fails on a scan over the threshold, listing the findings', () => {
    const r = scan('HIGH', basic);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('HIGH\tCVE-2026-0001\topenssl');
    expect(r.stderr).not.toContain('CVE-2026-0002');
    expect(r.reason).toBe(`scan-gate: 1 finding(s) at or above HIGH (HIGH: 1) in ${DIGEST}`);
  });

  test('counts every severity at or above the threshold', () => {
    const r = scan('MEDIUM', basic);
    expect(r.reason).toBe(`scan-gate: 3 finding(s) at or above MEDIUM (HIGH: 1, MEDIUM: 2) in ${DIGEST}`);
  });

  // Basic scanning's UNDEFINED: common on Debian images, and basic scanning has no way to accept one, so blocking on it
  // would stop every build; it is listed as a warning (see the comment in scan-gate.sh).
  const undefinedFinding = {
    imageScanFindings: {
      findingSeverityCounts: { UNDEFINED: 1, LOW: 1 },
      findings: [
        { name: 'CVE-2026-0004', severity: 'UNDEFINED', attributes: [{ key: 'package_name', value: 'libc6' }] },
        { name: 'CVE-2026-0005', severity: 'LOW', attributes: [{ key: 'package_name', value: 'zlib' }] },
      ],
    },
  };

  test('lists a basic finding without a severity (UNDEFINED) as a warning, and passes when nothing else reaches the threshold', () => {
    const r = scan('CRITICAL', undefinedFinding);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      'scan-gate: WARNING: basic scanning left 1 finding(s) UNDEFINED (unrated by the distribution); they do not block',
    );
    expect(r.stderr).toContain('  UNDEFINED\tCVE-2026-0004\tlibc6');
  });

  test('fails on the rated findings at the threshold, and still lists the UNDEFINED one as a warning', () => {
    const r = scan('LOW', undefinedFinding);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('  UNDEFINED\tCVE-2026-0004\tlibc6');
    expect(r.reason).toBe(`scan-gate: 1 finding(s) at or above LOW (LOW: 1) in ${DIGEST}`);
  });

  test('fails closed on a finding that carries no severity field at all', () => {
    const r = scan('CRITICAL', { imageScanFindings: { findings: [{ name: 'CVE-2026-0006', attributes: [] }] } });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(`scan-gate: 1 finding(s) at or above CRITICAL (no severity: 1) in ${DIGEST}`);
  });

  test('reads enhanced (Inspector) findings too', () => {
    const r = scan('CRITICAL', {
      imageScanFindings: {
        findingSeverityCounts: { CRITICAL: 1 },
        enhancedFindings: [
          {
            severity: 'CRITICAL',
            packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2026-9999', vulnerablePackages: [{ name: 'gunicorn' }] },
          },
        ],
      },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CRITICAL\tCVE-2026-9999\tgunicorn');
  });

  const gate = (env: Record<string, string>, body: unknown = { imageScanFindings: {} }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'findings-'));
    return run('scan-gate.sh', {
      REPOSITORY_NAME: 'images',
      IMAGE_TAG: TAG,
      IMAGE_DIGEST: DIGEST,
      SCAN_SEVERITY_THRESHOLD: 'HIGH',
      SCAN_POLL_SECONDS: '0',
      STUB_FINDINGS: findings(dir, body),
      ...env,
    });
  };
  const scansOf = (r: Run) => r.calls.filter((c) => c.startsWith('aws ecr describe-image-scan-findings'));

  test("reads the tag's digest, then the registry's scanning configuration, and never uses the image-scan-complete waiter", () => {
    const r = gate({});
    expect(r.status).toBe(0);
    expect(r.calls[0]).toBe(
      `aws ecr describe-images --repository-name images --image-ids imageDigest=${DIGEST} --query imageDetails[0].imageTags --output text`,
    );
    expect(r.calls[1]).toBe('aws ecr get-registry-scanning-configuration --output json');
    expect(r.calls.some((c) => c.startsWith('aws ecr wait'))).toBe(false);
  });

  test('says that basic scanning checks operating-system packages only', () => {
    const r = gate({ STUB_SCAN_TYPE: 'BASIC' });
    expect(r.stdout).toContain(
      "scan-gate: the registry uses BASIC scanning, which covers operating-system packages only: vulnerabilities in the app's " +
        'Python packages (Flask, gunicorn, app/requirements.txt) are NOT checked; turn on enhanced scanning (Amazon Inspector) to gate them too',
    );
  });

  test('waits while the basic scan has not started or is in progress', () => {
    const r = gate({ STUB_SCAN_STATES: 'NOT_STARTED,IN_PROGRESS,COMPLETE' });
    expect(r.status).toBe(0);
    expect(scansOf(r)).toHaveLength(3);
  });

  test('fails when a basic scan reads COMPLETE but never gets a completion time (findings not yet there)', () => {
    const r = gate({ STUB_SCAN_STATES: 'COMPLETE_NO_TIME', SCAN_TIMEOUT_SECONDS: '0' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `scan-gate: the findings of ${DIGEST} were still unknown after 0s (ECR: COMPLETE); failing closed: re-run this stage once the scan has finished`,
    );
  });

  // Every status under basic scanning, and one under enhanced: the same check runs in both.
  test.each([
    ['FAILED', 'BASIC'],
    ['UNSUPPORTED_IMAGE', 'BASIC'],
    ['FINDINGS_UNAVAILABLE', 'BASIC'],
    ['SCAN_ELIGIBILITY_EXPIRED', 'BASIC'],
    ['LIMIT_EXCEEDED', 'BASIC'],
    ['SCAN_ELIGIBILITY_EXPIRED', 'ENHANCED'],
  ])('fails closed when the scan ends %s (%s scanning)', (state, type) => {
    const r = gate({ STUB_SCAN_TYPE: type, STUB_SCAN_STATES: state });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `scan-gate: the scan of ${DIGEST} ended ${state} (stub ${state}): its findings are unknown, so the gate fails closed`,
    );
  });

  test('fails when the scan has not finished at the timeout, within the timeout and not a poll interval later', () => {
    const started = Date.now();
    const r = gate({ STUB_SCAN_STATES: 'IN_PROGRESS', SCAN_TIMEOUT_SECONDS: '2', SCAN_POLL_SECONDS: '60' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `scan-gate: the findings of ${DIGEST} were still unknown after 2s (ECR: IN_PROGRESS); failing closed: re-run this stage once the scan has finished`,
    );
    expect(Date.now() - started).toBeLessThan(15000);
  });

  describe('enhanced scanning (Amazon Inspector)', () => {
    const ENHANCED = { STUB_SCAN_TYPE: 'ENHANCED', STUB_SCAN_STATES: 'ACTIVE' };
    const inspectorFindings = (body: unknown) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'inspector-')), 'findings.json');
      fs.writeFileSync(file, JSON.stringify(body));
      return file;
    };

    test('passes a continuously scanned (ACTIVE, never COMPLETE) image once Inspector has scanned it', () => {
      const r = gate({ ...ENHANCED, STUB_COVERAGE_STATES: 'NONE,PENDING,SCANNED' });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(
        'scan-gate: the registry uses ENHANCED scanning (Amazon Inspector, CONTINUOUS_SCAN): operating-system and programming-language packages',
      );
      expect(r.calls.filter((c) => c.startsWith('aws inspector2 list-coverage'))).toHaveLength(3);
      expect(r.stdout).toContain(`scan-gate: no findings at or above HIGH in ${DIGEST}`);
    });

    test("reads Inspector's findings for this digest, and fails on those over the threshold or without a severity (UNTRIAGED)", () => {
      const r = gate({
        ...ENHANCED,
        STUB_INSPECTOR_FINDINGS: inspectorFindings({
          findings: [
            {
              severity: 'HIGH',
              title: 'CVE-2026-1111 - gunicorn',
              packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2026-1111', vulnerablePackages: [{ name: 'gunicorn' }] },
            },
            {
              severity: 'LOW',
              title: 'CVE-2026-2222 - flask',
              packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2026-2222' },
            },
            { severity: 'UNTRIAGED', title: 'CVE-2026-3333' },
          ],
        }),
      });
      expect(r.status).toBe(1);
      const list = r.calls.find((c) => c.startsWith('aws inspector2 list-findings'));
      expect(list).toContain(`"ecrImageHash":[{"comparison":"EQUALS","value":"${DIGEST}"}]`);
      expect(list).toContain('"findingStatus":[{"comparison":"EQUALS","value":"ACTIVE"}]');
      expect(r.stderr).toContain('HIGH\tCVE-2026-1111\tgunicorn');
      expect(r.stderr).toContain('UNTRIAGED\tCVE-2026-3333\t');
      expect(r.stderr).not.toContain('CVE-2026-2222');
      expect(r.reason).toBe(`scan-gate: 2 finding(s) at or above HIGH (HIGH: 1, no severity: 1) in ${DIGEST}`);
    });

    test('fails closed when Inspector does not scan the image', () => {
      const r = gate({ ...ENHANCED, STUB_COVERAGE_STATES: 'INACTIVE:UNSUPPORTED_OS' });
      expect(r.status).toBe(1);
      expect(r.reason).toBe(
        `scan-gate: Inspector does not scan ${DIGEST} (UNSUPPORTED_OS): its findings are unknown, so the gate fails closed`,
      );
    });

    test('fails when Inspector has not scanned the image by the timeout', () => {
      const r = gate({ ...ENHANCED, STUB_COVERAGE_STATES: 'PENDING', SCAN_TIMEOUT_SECONDS: '0' });
      expect(r.status).toBe(1);
      expect(r.reason).toBe(
        `scan-gate: the findings of ${DIGEST} were still unknown after 0s (ECR: ACTIVE; Inspector: ACTIVE PENDING_INITIAL_SCAN); ` +
          'failing closed: re-run this stage once the scan has finished',
      );
      expect(r.calls.some((c) => c.startsWith('aws inspector2 list-findings'))).toBe(false);
    });

    test('fails when no scanning rule covers the repository', () => {
      const r = gate({ ...ENHANCED, STUB_SCAN_FILTER: 'other-*' });
      expect(r.status).toBe(1);
      expect(r.reason).toBe(
        'scan-gate: the registry uses ENHANCED scanning, but none of its scanning rules matches repository images, ' +
          'so Inspector never scans its images; add the repository to a rule',
      );
    });
  });

  test('fails when the threshold is not a severity', () => {
    const r = scan('SEVERE', basic);
    expect(r.status).toBe(1);
    expect(r.reason).toBe("scan-gate: SCAN_SEVERITY_THRESHOLD 'SEVERE' is not one of LOW, MEDIUM, HIGH, CRITICAL");
  });
});

describe('deploy.sh', () => {
  const DEPLOY_ENV = {
    SERVICE_STACK_NAME: 'fargate-app-dev-service',
    STACK_ROLE_ARN: 'arn:aws:iam::123456789012:role/image-deploy',
    IMAGE_TAG: TAG,
    IMAGE_DIGEST: DIGEST,
    REPOSITORY_NAME: 'images',
    ENV_NAME: 'dev',
  };
  const MARKER = `deployed-dev-${TAG}`;
  const OTHER_DIGEST = `sha256:${'0'.repeat(63)}1`;

  test('fails before any change when the tag no longer holds the image ScanGate passed', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, IMAGE_DIGEST: OTHER_DIGEST });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `deploy: images:${TAG} is now ${DIGEST}, not the ${OTHER_DIGEST} that ScanGate passed; nothing changed`,
    );
    expect(r.calls.some((c) => c.startsWith('aws cloudformation update-stack'))).toBe(false);
  });

  test('fails when the marker tag already sits on another image, saying the running one is unprotected', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_MARKER_EXISTS: 'tag', STUB_MARKER_DIGEST: OTHER_DIGEST });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `deploy: fargate-app-dev-service runs ${TAG} (${DIGEST}), but ${MARKER} is on another image (${OTHER_DIGEST}), so ECR may expire the running one: delete that tag and re-run this stage`,
    );
  });

  test('changes only the ImageTag parameter, on the previous template, with the image-deploy role', () => {
    const r = run('deploy.sh', DEPLOY_ENV);
    expect(r.status).toBe(0);
    const update = r.calls.find((c) => c.startsWith('aws cloudformation update-stack'));
    expect(update).toBe(
      'aws cloudformation update-stack --stack-name fargate-app-dev-service --use-previous-template ' +
        '--role-arn arn:aws:iam::123456789012:role/image-deploy ' +
        `--parameters ParameterKey=BootstrapVersion,UsePreviousValue=true ParameterKey=ImageTag,ParameterValue=${TAG} ` +
        '--capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND',
    );
    expect(r.stdout).toContain(`deploy: fargate-app-dev-service now runs ${TAG}`);
  });

  test('waits for the update to complete', () => {
    const r = run('deploy.sh', DEPLOY_ENV);
    expect(r.calls).toContain('aws cloudformation wait stack-update-complete --stack-name fargate-app-dev-service');
  });

  test('fails when the deploy rolls back, naming the cause', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_ROLLBACK: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `deploy: the update of fargate-app-dev-service to ${TAG} failed and ended UPDATE_ROLLBACK_COMPLETE: ` +
        'WebService1B2C3D4E\tECS Deployment Circuit Breaker was triggered',
    );
  });

  test('succeeds when the stack already runs the tag', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_NO_CHANGE: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`deploy: fargate-app-dev-service already runs ${TAG}`);
  });

  describe('says what made reading the stack fail', () => {
    test.each([
      ['not-found', 'deploy: stack fargate-app-dev-service was not found; deploy it first with: npx cdk deploy --all'],
      [
        'no-region',
        'deploy: could not read stack fargate-app-dev-service: no AWS region is set (AWS_REGION or AWS_DEFAULT_REGION): ' +
          'You must specify a region. You can also configure your region by running "aws configure".',
      ],
      [
        'no-credentials',
        'deploy: could not read stack fargate-app-dev-service: no AWS credentials were found: ' +
          'Unable to locate credentials. You can configure credentials by running "aws configure".',
      ],
      [
        'denied',
        'deploy: could not read stack fargate-app-dev-service: access denied; the Deploy role needs cloudformation:DescribeStacks on it: ' +
          'An error occurred (AccessDenied) when calling the DescribeStacks operation: User: arn:aws:sts::123456789012:assumed-role/deploy/x ' +
          'is not authorized to perform: cloudformation:DescribeStacks on resource: arn:aws:cloudformation:eu-west-1:123456789012:stack/fargate-app-dev-service/* ' +
          'because no identity-based policy allows the cloudformation:DescribeStacks action',
      ],
      [
        'expired',
        'deploy: could not read stack fargate-app-dev-service: the AWS credentials are expired or invalid: ' +
          'An error occurred (ExpiredToken) when calling the DescribeStacks operation: The security token included in the request is expired',
      ],
      [
        'throttled',
        "deploy: could not read stack fargate-app-dev-service: AWS throttled the request even after the CLI's retries; run the stage again: " +
          'An error occurred (Throttling) when calling the DescribeStacks operation (reached max retries: 2): Rate exceeded',
      ],
    ])('fails when describe-stacks fails (%s), naming that cause', (failure, reason) => {
      const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_DESCRIBE_FAILS: failure });
      expect(r.status).toBe(1);
      expect(r.reason).toBe(reason);
      expect(r.calls.some((c) => c.startsWith('aws cloudformation update-stack') || c.startsWith('aws ecr put-image'))).toBe(
        false,
      );
    });
  });

  test('tags the image as deployed, with its own manifest byte for byte and its digest, once the stack runs it', () => {
    const r = run('deploy.sh', DEPLOY_ENV);
    expect(r.status).toBe(0);
    const put = r.calls.findIndex((c) => c.startsWith('aws ecr put-image'));
    expect(r.calls[put]).toMatch(
      new RegExp(
        `^aws ecr put-image --repository-name images --image-tag ${MARKER} --image-digest ${DIGEST} ` +
          '--image-manifest file://\\S+ --image-manifest-media-type application/vnd.oci.image.index.v1\\+json$',
      ),
    );
    expect(fs.readFileSync(path.join(r.dir, 'put-manifest'), 'utf8')).toBe(
      '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json"\n}\n',
    );
    expect(put).toBeGreaterThan(
      r.calls.indexOf('aws cloudformation wait stack-update-complete --stack-name fargate-app-dev-service'),
    );
    expect(r.stdout).toContain(`deploy: images@${DIGEST} is tagged ${MARKER}, so the lifecycle policy keeps it`);
  });

  test.each(['ImageAlreadyExistsException', 'ImageTagAlreadyExistsException'])(
    'succeeds when the image already carries the marker (a redeploy answered %s)',
    (error) => {
      const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_MARKER_EXISTS: error === 'ImageTagAlreadyExistsException' ? 'tag' : '1' });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`deploy: fargate-app-dev-service now runs ${TAG}`);
    },
  );

  test('fails when the marker cannot be added, saying the image runs unprotected', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_PUT_FAILS: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(
      `deploy: fargate-app-dev-service runs ${TAG}, but tagging it ${MARKER} failed, so ECR may expire it: ` +
        'An error occurred (AccessDeniedException) when calling the PutImage operation: not authorized to perform: ecr:PutImage',
    );
  });

  test('marks nothing when the update rolls back, so failed attempts take no place among the deployed images', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_ROLLBACK: '1' });
    expect(r.status).toBe(1);
    expect(r.calls.some((c) => c.startsWith('aws ecr put-image'))).toBe(false);
  });

  test('fails when the image is no longer in ECR, before changing the stack', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_IMAGE_GONE: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe(`deploy: image tag ${TAG} is not in ECR repository images (ImageNotFound); nothing changed`);
    expect(r.calls.some((c) => c.startsWith('aws cloudformation update-stack'))).toBe(false);
  });

  test("never changes a service at or above its scaling floor: the count stays autoscaling's", () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_MIN_CAPACITY: '2', STUB_DESIRED_COUNT: '5' });
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => c.startsWith('aws ecs update-service'))).toBe(false);
  });

  test("raises the service to its scaling floor on the first image, when ImageTag was 'no-image'", () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_PREVIOUS_TAG: 'no-image', STUB_MIN_CAPACITY: '2', STUB_DESIRED_COUNT: '0' });
    expect(r.status).toBe(0);
    expect(r.calls).toContain(
      'aws application-autoscaling describe-scalable-targets --service-namespace ecs --resource-ids service/app-cluster/app-service ' +
        '--scalable-dimension ecs:service:DesiredCount --query ScalableTargets[0].MinCapacity --output text',
    );
    const update = r.calls.filter((c) => c.startsWith('aws ecs update-service'));
    expect(update).toEqual(['aws ecs update-service --cluster app-cluster --service app-service --desired-count 2']);
    expect(r.calls.indexOf(update[0])).toBeGreaterThan(
      r.calls.indexOf('aws cloudformation wait stack-update-complete --stack-name fargate-app-dev-service'),
    );
    expect(r.stdout).toContain('deploy: raised app-service from 0 to its scaling floor of 2 task(s)');
  });

  test('raises a service left at zero by an earlier, interrupted first deploy, even when the stack needs no update', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_NO_CHANGE: '1', STUB_MIN_CAPACITY: '1', STUB_DESIRED_COUNT: '0' });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('aws ecs update-service'))).toEqual([
      'aws ecs update-service --cluster app-cluster --service app-service --desired-count 1',
    ]);
  });

  test('leaves the desired count alone on the first image when it already reaches the floor', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_PREVIOUS_TAG: 'no-image', STUB_MIN_CAPACITY: '2', STUB_DESIRED_COUNT: '3' });
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => c.startsWith('aws ecs update-service'))).toBe(false);
  });
});
