/**
 * `npm run test:container [-- ENV]`: the container tier (DESIGN §12). It builds the project's real `app/Dockerfile`
 * with a real engine (podman) against a stand-in for the Python base image, runs the pytest suite in the image's
 * `test` stage, then runs the `release` image the way the synthesized ECS task definition of ENV (default `dev`) says
 * Fargate will, and checks it from outside.
 *
 * The stand-in base is Debian bookworm with Debian's Python, Flask, gunicorn and pytest (there is no PyPI or Docker Hub
 * here), made with mmdebstrap and cached as a podman image and a tarball under ~/.cache/fargate-app-standin, keyed by
 * its package list. The Dockerfile's test-only DEPS_SOURCE=base switch points its dependency step at those packages.
 *
 * Prints one line per check and a closing `N passed, N failed` line; exits non-zero on any failure.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');
const APP_DIR = path.join(ROOT, 'app');

/** The stand-in base: what the Dockerfile needs from `python:3.12-slim`, from Debian packages. */
const STANDIN = {
  suite: 'bookworm',
  variant: 'minbase',
  // python-is-python3: the Dockerfile calls `python`; passwd: it runs groupadd and useradd.
  packages: ['python3', 'python3-venv', 'python-is-python3', 'python3-flask', 'gunicorn', 'python3-pytest', 'passwd'],
};
const CACHE_DIR = path.join(os.homedir(), '.cache', 'fargate-app-standin');
const IMAGE = 'localhost/fargate-app-rehearsal';
/** The image tag the template's `ImageTag` parameter resolves to here. */
const TEST_TAG = 'rehearsal';
const REQUIRED_COMMANDS: Record<string, string> = { podman: 'podman', mmdebstrap: 'mmdebstrap', runc: 'runc' };
const CATATONIT = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];
const APT_INSTALL = 'apt-get install -y --no-install-recommends podman mmdebstrap runc catatonit';

// ---- reporting ------------------------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
function report(ok: boolean, name: string, detail = ''): boolean {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && detail.trim() ? `\n${indent(detail)}` : ''}`);
  return ok;
}
const indent = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
const tail = (text: string, lines = 25) => text.trim().split('\n').slice(-lines).join('\n');
function finish(): never {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// ---- podman ---------------------------------------------------------------------------------------------------
/**
 * Every podman call. This machine's podman needs the runc runtime (its default runtime fails here) and explicit ulimits
 * within the process's hard limits: podman's defaults fail with "setrlimit: operation not permitted". Overlay storage
 * works here (measured), so the storage driver is podman's default.
 */
const PODMAN_GLOBAL = ['--runtime', 'runc'];
function hardLimit(flag: string): number {
  return Number(spawnSync('bash', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).stdout.trim()) || 1024;
}
// runc here refused nproc above 32768 although `ulimit -Hu` says 96364; gunicorn needs a handful of processes.
const ULIMITS = [
  '--ulimit',
  `nofile=${Math.min(hardLimit('n'), 65535)}:${Math.min(hardLimit('n'), 65535)}`,
  '--ulimit',
  `nproc=${Math.min(hardLimit('u'), 4096)}:${Math.min(hardLimit('u'), 4096)}`,
];

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}
function podman(args: string[], input?: string): Result {
  const r = spawnSync('podman', [...PODMAN_GLOBAL, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}
const podmanAsync = (args: string[]) => promisify(execFile)('podman', [...PODMAN_GLOBAL, ...args], { encoding: 'utf8' });
function must(args: string[]): string {
  const r = podman(args);
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed:\n${tail(r.stderr)}`);
  return r.stdout.trim();
}
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

// ---- 1. prerequisites -----------------------------------------------------------------------------------------
function checkPrerequisites(): string | undefined {
  const missing = Object.entries(REQUIRED_COMMANDS)
    .filter(([command]) => spawnSync('bash', ['-c', `command -v ${command}`]).status !== 0)
    .map(([, pkg]) => pkg);
  const catatonit = CATATONIT.find((p) => fs.existsSync(p));
  if (!catatonit) missing.push('catatonit');
  report(
    missing.length === 0,
    'prerequisites: podman, mmdebstrap, runc and catatonit are installed',
    missing.length ? `missing: ${missing.join(', ')}; install them with:\n${APT_INSTALL}` : '',
  );
  return missing.length ? undefined : catatonit;
}

// ---- 2. the stand-in base image -------------------------------------------------------------------------------
function standInBase(): string | undefined {
  const key = crypto.createHash('sha256').update(JSON.stringify(STANDIN)).digest('hex').slice(0, 16);
  const image = `localhost/fargate-app-standin:${key}`;
  const tarball = path.join(CACHE_DIR, `${STANDIN.suite}-${key}.tar`);
  const started = Date.now();
  if (podman(['image', 'exists', image]).status === 0) {
    return report(true, `stand-in base ${image}: cached podman image`) ? image : undefined;
  }
  let source = 'cached tarball';
  if (!fs.existsSync(tarball)) {
    source = 'built with mmdebstrap';
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${tarball}.partial`;
    const r = spawnSync(
      'mmdebstrap',
      [
        '--quiet',
        '--format=tar',
        `--variant=${STANDIN.variant}`,
        `--include=${STANDIN.packages.join(',')}`,
        STANDIN.suite,
        partial,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      fs.rmSync(partial, { force: true });
      return void report(false, 'stand-in base: mmdebstrap', tail(`${r.stdout}\n${r.stderr}`));
    }
    fs.renameSync(partial, tarball); // only a complete tarball is ever cached
  }
  const imported = podman(['import', '--quiet', tarball, image]);
  if (imported.status !== 0) return void report(false, `stand-in base: podman import ${tarball}`, tail(imported.stderr));
  report(true, `stand-in base ${image}: ${source} (${seconds(started)}s)`);
  return image;
}

// ---- 3. the template ------------------------------------------------------------------------------------------
type Json = Record<string, any>;
interface Task {
  template: Json;
  taskDefinition: Json;
  container: Json;
}

/** `cdk synth` of one environment, run in the background while the image builds. */
function startSynth(env: string, outdir: string): ChildProcess & { done: Promise<Result> } {
  const child = spawn('npx', ['cdk', 'synth', '-q', '-c', `env=${env}`, '-o', outdir], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return Object.assign(child, { done });
}

function readTask(outdir: string): Task {
  const found: Task[] = [];
  for (const file of fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf8'));
    for (const resource of Object.values<Json>(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::ECS::TaskDefinition') continue;
      const containers: Json[] = resource.Properties.ContainerDefinitions;
      if (containers.length !== 1) throw new Error(`expected one container in the task definition, found ${containers.length}`);
      found.push({ template, taskDefinition: resource.Properties, container: containers[0] });
    }
  }
  if (found.length !== 1) throw new Error(`expected one AWS::ECS::TaskDefinition in ${outdir}, found ${found.length}`);
  return found[0];
}

/** A container-definition value, with the `ImageTag` parameter resolved to the test tag. */
function resolve(value: unknown, template: Json): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const ref = (value as Json)?.Ref;
  if (ref === 'ImageTag') {
    const pattern = template.Parameters?.ImageTag?.AllowedPattern;
    if (pattern && !new RegExp(pattern).test(TEST_TAG)) throw new Error(`test tag ${TEST_TAG} breaks ImageTag's ${pattern}`);
    return TEST_TAG;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} outside AWS`);
}

// ---- 4. running the release image as ECS would --------------------------------------------------------------
interface Run {
  args: string[];
  port: number;
  stopTimeout: number;
  user: string;
  mounts: string[];
  healthCommand: string[];
  healthTimeout: number;
  scratch: string;
}

/**
 * `podman run` arguments for the task definition's one container, read value by value from the template.
 * Fargate's bind volumes: an empty directory, root-owned, mode 0755; but when the image declares a VOLUME at the
 * mount point's containerPath, the image's directory (contents, owner and mode) is copied into the volume:
 * "If the absolute path that's specified in the VOLUME directive is the same as the containerPath that's specified
 * in the task definition, the data in the VOLUME directive path is copied to the data volume."
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html ("Considerations when using bind
 * mounts"). That the directory's owner and mode come with the data is what Docker's VOLUME copy does and what
 * https://github.com/aws/containers-roadmap/issues/863 and #938 discuss for platform 1.4.0; no AWS page says it in so
 * many words, so a run on a real account is the final judge.
 */
function runArguments(task: Task, image: string, catatonit: string): Run {
  const { template, taskDefinition, container } = task;
  const config = JSON.parse(must(['image', 'inspect', '--format', '{{json .Config}}', image]));
  const imageVolumes = Object.keys(config.Volumes ?? {});
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rehearsal-volumes-'));
  const user = container.User ?? config.User ?? '0';
  // The task definition's health check is run below, as ECS runs it; podman's own timer for the image's HEALTHCHECK
  // needs systemd, which this machine's podman cannot reach.
  const args = ['--user', user, '--no-healthcheck'];

  if (container.ReadonlyRootFilesystem) {
    // podman's --read-only also mounts tmpfs on /tmp, /var/tmp and /run unless told not to; Fargate mounts nothing there.
    args.push('--read-only', '--read-only-tmpfs=false');
  }

  const mounts: string[] = [];
  for (const mountPoint of container.MountPoints ?? []) {
    const volume = (taskDefinition.Volumes ?? []).find((v: Json) => v.Name === mountPoint.SourceVolume);
    if (!volume) throw new Error(`mount point ${mountPoint.ContainerPath} names no volume ${mountPoint.SourceVolume}`);
    if (volume.Host || volume.EfsVolumeConfiguration || volume.DockerVolumeConfiguration || volume.ConfiguredAtLaunch) {
      throw new Error(`volume ${volume.Name} is not a Fargate bind volume; this rehearsal only knows those`);
    }
    const dir = path.join(scratch, volume.Name);
    fs.mkdirSync(dir);
    if (imageVolumes.includes(mountPoint.ContainerPath)) {
      copyImageDirectory(image, mountPoint.ContainerPath, dir);
    } else {
      fs.chownSync(dir, 0, 0);
      fs.chmodSync(dir, 0o755);
    }
    const mode = (fs.statSync(dir).mode & 0o7777).toString(8);
    const owner = `${fs.statSync(dir).uid}:${fs.statSync(dir).gid}`;
    mounts.push(
      `${mountPoint.ContainerPath} (${imageVolumes.includes(mountPoint.ContainerPath) ? 'from the image VOLUME, ' : 'empty, '}${owner} ${mode})`,
    );
    args.push('--mount', `type=bind,src=${dir},dst=${mountPoint.ContainerPath}${mountPoint.ReadOnly ? ',ro' : ''}`);
  }

  if (container.LinuxParameters?.InitProcessEnabled) args.push('--init', '--init-path', catatonit);

  for (const { Name, Value } of container.Environment ?? []) args.push('--env', `${Name}=${resolve(Value, template)}`);
  if ((container.Secrets ?? []).length) throw new Error('the container has Secrets, which need AWS; this rehearsal has none');
  // The ONE deviation from the template's environment: the app's test-only /_test/sleep route, for the in-flight
  // request check. The task definition must never set it (test/app/dockerfile.test.ts checks that).
  args.push('--env', 'APP_TEST_ROUTES=1');

  const ports: Json[] = container.PortMappings ?? [];
  if (ports.length !== 1) throw new Error(`expected one port mapping, found ${ports.length}`);
  const port = Number(ports[0].ContainerPort);
  // awsvpc: the task has its own network namespace and the container port is the host port; here it is published on
  // a free loopback port.
  args.push('--publish', `127.0.0.1::${port}/${(ports[0].Protocol ?? 'tcp').toLowerCase()}`);

  const stopTimeout = Number(container.StopTimeout ?? 30); // ECS's default stopTimeout is 30 s
  args.push('--stop-timeout', String(stopTimeout));
  if (taskDefinition.Cpu) args.push('--cpus', String(Number(taskDefinition.Cpu) / 1024));
  if (taskDefinition.Memory) args.push('--memory', `${taskDefinition.Memory}m`);
  for (const u of container.Ulimits ?? []) args.push('--ulimit', `${u.Name}=${u.SoftLimit}:${u.HardLimit}`);
  if (container.WorkingDirectory) args.push('--workdir', container.WorkingDirectory);
  if (container.EntryPoint) args.push('--entrypoint', JSON.stringify(container.EntryPoint));

  const [kind, ...command] = container.HealthCheck?.Command ?? [];
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') throw new Error('the container has no HealthCheck command');
  const healthCommand = kind === 'CMD' ? command : ['/bin/sh', '-c', command.join(' ')];

  return {
    args: [...args, image, ...(container.Command ?? [])],
    port,
    stopTimeout,
    user,
    mounts,
    healthCommand,
    healthTimeout: Number(container.HealthCheck.Timeout ?? 5),
    scratch,
  };
}

/** What ECS does for a VOLUME at a mount point: the image's directory, its owner and mode, copied into the volume. */
function copyImageDirectory(image: string, containerPath: string, dest: string): void {
  const mounted = must(['image', 'mount', image]);
  try {
    const source = path.join(mounted, containerPath);
    const copied = spawnSync('cp', ['-a', `${source}/.`, dest], { encoding: 'utf8' });
    if (copied.status !== 0) throw new Error(`could not copy ${containerPath} from the image: ${copied.stderr}`);
    const stat = fs.statSync(source);
    fs.chownSync(dest, stat.uid, stat.gid);
    fs.chmodSync(dest, stat.mode & 0o7777);
  } finally {
    podman(['image', 'unmount', image]);
  }
}

function get(port: number, urlPath: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs in the container, as its user, like an ECS health check or `ecs execute-command`. */
function exec(name: string, command: string[], timeoutSeconds = 20): Result {
  const r = spawnSync('podman', [...PODMAN_GLOBAL, 'exec', name, ...command], {
    encoding: 'utf8',
    timeout: timeoutSeconds * 1000,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** Python run inside the container with the image's interpreter; prints one line. */
const TEMPFILE_PY = `
import os, tempfile
with tempfile.NamedTemporaryFile() as f:
    f.write(b"x"); f.flush()
    print(f"created {f.name} in {tempfile.gettempdir()}")
`;
/** Every module the app imports must load from bytecode compiled at build time: the root filesystem is read-only. */
const BYTECODE_PY = `
import importlib.util, os, sys
import service.wsgi  # what each gunicorn worker imports
missing = []
for name, module in sorted(sys.modules.items()):
    source = getattr(module, "__file__", None)
    if not source or not source.endswith(".py"):
        continue
    cached = importlib.util.cache_from_source(source)
    try:
        with open(cached, "rb") as f:
            header = f.read(16)
        st = os.stat(source)
        flags = int.from_bytes(header[4:8], "little")
        fresh = flags != 0 or (int.from_bytes(header[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                               and int.from_bytes(header[12:16], "little") == st.st_size & 0xFFFFFFFF)
    except OSError:
        fresh = False
    if not fresh:
        missing.append(source)
print(f"{len(missing)} of the imported modules have no up-to-date bytecode" + (": " + ", ".join(missing[:8]) if missing else ""))
sys.exit(1 if missing else 0)
`;

async function rehearse(run: Run): Promise<void> {
  const name = `fargate-app-rehearsal-${process.pid}`;
  const started = podman(['run', '--detach', '--name', name, ...ULIMITS, ...run.args]);
  if (!report(started.status === 0, 'the release image starts as the task definition runs it', started.stderr)) return;
  try {
    const hostPort = Number(
      must(['port', name, `${run.port}/tcp`])
        .split('\n')[0]
        .split(':')
        .pop(),
    );
    // Ready: /health answers through the published port (the ALB's path), within the health check's grace.
    const deadline = Date.now() + 45_000;
    let health: { status: number; body: string } | undefined;
    let lastError = '';
    while (Date.now() < deadline) {
      try {
        health = await get(hostPort, '/health', 2000);
        if (health.status === 200) break;
      } catch (error) {
        lastError = String(error);
      }
      if (must(['inspect', '--format', '{{.State.Running}}', name]) !== 'true') break;
      await sleep(500);
    }
    report(
      health?.status === 200 && JSON.parse(health.body).version === TEST_TAG,
      `/health answers 200 through the published port 127.0.0.1:${hostPort} (${health?.body.trim() ?? lastError})`,
      health?.status === 200 ? '' : tail(podman(['logs', name]).stdout + podman(['logs', name]).stderr),
    );

    const check = exec(name, run.healthCommand, run.healthTimeout);
    report(check.status === 0, `the task definition's HealthCheck.Command passes in the container`, tail(check.stderr));

    const processes = must(['top', name, 'user', 'pid', 'args']).split('\n').slice(1);
    const servers = processes.filter((l) => /gunicorn/.test(l));
    report(
      servers.length > 0 && servers.every((l) => !/^root\s/.test(l.trim())),
      `the server runs as non-root (${servers.length} gunicorn processes as ${[...new Set(servers.map((l) => l.trim().split(/\s+/)[0]))].join(', ')}; task user ${run.user})`,
      processes.join('\n'),
    );

    const readOnly = exec(name, ['touch', '/srv/written']);
    report(
      readOnly.status !== 0 && /Read-only file system/.test(readOnly.stderr),
      'the root filesystem is read-only',
      readOnly.stderr,
    );

    const temp = exec(name, ['python', '-c', TEMPFILE_PY]);
    report(
      temp.status === 0,
      `the app user can create a temporary file (${run.mounts.join('; ')})${temp.status === 0 ? `: ${temp.stdout.trim()}` : ''}`,
      tail(temp.stderr, 3),
    );

    const bytecode = exec(name, ['python', '-c', BYTECODE_PY]);
    report(bytecode.status === 0, `bytecode is compiled at build time: ${bytecode.stdout.trim()}`, tail(bytecode.stderr, 5));

    // Stop as ECS does: SIGTERM, then SIGKILL after stopTimeout. A slow request in flight must still complete.
    const slowSeconds = 3;
    const inFlight = get(hostPort, `/_test/sleep?seconds=${slowSeconds}`, (slowSeconds + run.stopTimeout) * 1000).catch(
      (error: Error) => ({ status: 0, body: error.message }),
    );
    await sleep(1000); // the request is now in a worker
    const stopStarted = Date.now();
    await podmanAsync(['stop', '-t', String(run.stopTimeout), name]).catch((error: Error) => error);
    const stopSeconds = (Date.now() - stopStarted) / 1000;
    const slow = await inFlight;
    const exitCode = must(['inspect', '--format', '{{.State.ExitCode}}', name]);
    report(
      stopSeconds < Math.min(slowSeconds + 5, run.stopTimeout) && exitCode === '0',
      `on \`podman stop -t ${run.stopTimeout}\` it exits with 0 in ${stopSeconds.toFixed(1)}s (a ${slowSeconds}s request was in flight)`,
      `exit code ${exitCode}\n${tail(podman(['logs', '--tail', '10', name]).stdout)}`,
    );
    report(slow.status === 200, `the in-flight request completes with ${slow.status} ${slow.body.trim()}`);
  } finally {
    podman(['rm', '--force', name]);
  }
}

// ---- main -------------------------------------------------------------------------------------------------------
/** Each step reports its own check; a step that leaves nothing for the next returns false. */
async function steps(env: string, work: string): Promise<void> {
  const catatonit = checkPrerequisites();
  if (!catatonit) return;

  const synth = startSynth(env, path.join(work, 'cdk.out'));
  try {
    const base = standInBase();
    if (!base) return;

    const build = (target: string, tag: string) =>
      podman([
        'build',
        '--pull=never',
        ...['--format', 'docker'], // as BuildKit writes it: an OCI image config drops HEALTHCHECK
        ...ULIMITS,
        ...['--build-arg', `PYTHON_IMAGE=${base}`, '--build-arg', 'DEPS_SOURCE=base'],
        ...['--target', target, '--tag', `${IMAGE}:${tag}`],
        APP_DIR,
      ]);
    // The test stage: the pytest suite runs inside the image, on the real build context and .dockerignore.
    let started = Date.now();
    const tested = build('test', 'test');
    // buildah reuses the pytest layer when the stand-in and the build context are unchanged, as BuildKit's cache does.
    const cached = /STEP \d+\/\d+: RUN [^\n]*pytest[^\n]*\n(?:[^\n]*\n)?--> Using cache/.test(tested.stdout);
    const summary =
      /^.*\d+ (passed|failed).*$/m.exec(tested.stdout)?.[0].trim() ??
      (cached ? 'cached layer: the suite passed on this same context before' : 'no pytest summary');
    const testOutput = tail(`${tested.stdout}\n${tested.stderr}`, 30);
    if (
      !report(
        tested.status === 0,
        `test stage: the pytest suite passes inside the image (${summary}, ${seconds(started)}s)`,
        testOutput,
      )
    ) {
      return;
    }
    started = Date.now();
    const released = build('release', TEST_TAG);
    if (
      !report(
        released.status === 0,
        `release stage builds (${seconds(started)}s)`,
        tail(`${released.stdout}\n${released.stderr}`),
      )
    )
      return;

    const synthesized = await synth.done;
    if (!report(synthesized.status === 0, `cdk synth -c env=${env}`, tail(synthesized.stderr))) return;
    const run = runArguments(readTask(path.join(work, 'cdk.out')), `${IMAGE}:${TEST_TAG}`, catatonit);
    try {
      await rehearse(run);
    } finally {
      fs.rmSync(run.scratch, { recursive: true, force: true });
    }
  } finally {
    synth.kill();
  }
}

async function main(): Promise<void> {
  const env = process.argv[2] ?? 'dev';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rehearsal-'));
  try {
    await steps(env, work);
  } catch (error) {
    report(false, 'the rehearsal itself', String((error as Error).stack ?? error));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  finish();
}

if (require.main === module) void main();
