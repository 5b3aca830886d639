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

  test('waits for the scan to complete first', () => {
    const r = scan('CRITICAL', { imageScanFindings: {} });
    expect(r.status).toBe(0);
    expect(r.calls[0]).toBe(`aws ecr wait image-scan-complete --repository-name images --image-id imageDigest=${DIGEST}`);
  });

  test('fails when the threshold is not a severity', () => {
    const r = scan('SEVERE', basic);
    expect(r.status).toBe(1);
    expect(r.reason).toBe("scan-gate: SCAN_SEVERITY_THRESHOLD 'SEVERE' is not one of LOW, MEDIUM, HIGH, CRITICAL");
  });
});

describe('deploy.sh', () => {
  const DEPLOY_ENV = { SERVICE_STACK_NAME: 'fargate-app-dev-service', IMAGE_TAG: TAG };

  test('changes only the ImageTag parameter, on the previous template', () => {
    const r = run('deploy.sh', DEPLOY_ENV);
    expect(r.status).toBe(0);
    const update = r.calls.find((c) => c.startsWith('aws cloudformation update-stack'));
    expect(update).toBe(
      'aws cloudformation update-stack --stack-name fargate-app-dev-service --use-previous-template ' +
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

  test('fails when the stack is not deployed', () => {
    const r = run('deploy.sh', { ...DEPLOY_ENV, STUB_NO_STACK: '1' });
    expect(r.status).toBe(1);
    expect(r.reason).toBe('deploy: stack fargate-app-dev-service was not found; deploy it first with: npx cdk deploy --all');
  });

  test('never calls the ECS API', () => {
    expect(run('deploy.sh', DEPLOY_ENV).calls.some((c) => c.startsWith('aws ecs'))).toBe(false);
  });
});
