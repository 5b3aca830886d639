import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { environments } from '../../lib/config';
import { ALB_IDLE_TIMEOUT_SECONDS } from '../../lib/constructs/load-balancer';
import { ROLLOUT } from '../../lib/constructs/web-service';
import { synthesized } from '../helpers';

const APP_DIR = path.join(__dirname, '..', '..', 'app');
const content = fs.readFileSync(path.join(APP_DIR, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(content);
const instructions = dockerfile.getInstructions();
const argDefaults = Object.fromEntries(
  dockerfile.getInitialARGs().map((arg) => [arg.getProperty()?.getName(), arg.getProperty()?.getValue()]),
);
const stageNames = dockerfile.getFROMs().map((f) => f.getBuildStage());

/** The instructions of one build stage, by its name. */
function stage(name: string): Instruction[] {
  const froms = dockerfile.getFROMs();
  const index = froms.findIndex((f) => f.getBuildStage() === name);
  if (index < 0) throw new Error(`no stage ${name}`);
  const start = froms[index].getRange().start.line;
  const end = index + 1 < froms.length ? froms[index + 1].getRange().start.line : Infinity;
  return instructions.filter((i) => i.getRange().start.line >= start && i.getRange().start.line < end);
}
const keyword = (list: Instruction[], word: string) => list.filter((i) => i.getKeyword() === word);
const release = stage('release');

/** FROM's image with ARG defaults substituted. */
function imageOf(from: From): string {
  return (from.getArgumentsContent() ?? '').split(/\s+/)[0].replace(/\$\{?(\w+)\}?/g, (_, name) => argDefaults[name] ?? '');
}
/** The gunicorn config file, evaluated by Python as gunicorn would, with no environment overrides. */
function gunicornSetting(name: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PORT|GUNICORN_|LOG_LEVEL)/.test(k)));
  return execFileSync('python3', ['-c', `exec(open('gunicorn.conf.py').read()); print(${name})`], { cwd: APP_DIR, env, encoding: 'utf8' }).trim();
}

test('the Dockerfile lints clean', () => {
  expect(validate(content)).toEqual([]);
});

test('every base image is on ECR Public, pinned to an exact version or digest, never latest', () => {
  for (const from of dockerfile.getFROMs()) {
    const image = imageOf(from);
    if (stageNames.includes(image)) continue; // an earlier stage of this file
    expect(image).toMatch(/^public\.ecr\.aws\/docker\/library\//);
    expect(image).not.toMatch(/:latest\b/);
    expect(image).toMatch(/(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/);
  }
});

test('the base image is Python 3.12 slim', () => {
  expect(argDefaults.PYTHON_IMAGE).toMatch(/\/python:3\.12\.\d+-slim/);
});

test('has deps, test and release stages, and release depends on the test stage passing', () => {
  expect(stageNames).toEqual(expect.arrayContaining(['deps', 'test', 'release']));
  expect(keyword(stage('test'), 'RUN').map((i) => i.getArgumentsContent()).join('\n')).toContain('pytest');
  const lines = content.split('\n');
  expect(keyword(release, 'COPY').some((i) => /--from=test\b/.test(lines[i.getRange().start.line]))).toBe(true);
});

test('release runs as a non-root user', () => {
  const users = keyword(release, 'USER');
  expect(users.length).toBeGreaterThan(0);
  const user = (users[users.length - 1].getArgumentsContent() ?? '').split(':')[0];
  expect(['', '0', 'root']).not.toContain(user);
});

test('release sets PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE', () => {
  const env = keyword(stage('base'), 'ENV').map((i) => i.getArgumentsContent()).join(' ');
  expect(env).toMatch(/PYTHONUNBUFFERED=1/);
  expect(env).toMatch(/PYTHONDONTWRITEBYTECODE=1/);
});

test('release installs no build tools', () => {
  const runs = keyword(release, 'RUN').map((i) => i.getArgumentsContent()).join('\n');
  expect(runs).not.toMatch(/apt-get|apk add|gcc|build-essential|pip install/);
});

test('CMD is exec-form and starts gunicorn with the config file', () => {
  const cmds = keyword(release, 'CMD');
  const cmd = cmds[cmds.length - 1];
  expect(cmd.getArgumentsContent()?.trim().startsWith('[')).toBe(true);
  expect(JSON.parse(cmd.getArgumentsContent()!)).toEqual(['gunicorn', '--config', 'gunicorn.conf.py', 'service.wsgi:app']);
});

test('HEALTHCHECK uses Python in exec form', () => {
  const check = keyword(release, 'HEALTHCHECK')[0].getArgumentsContent() ?? '';
  expect(check).toMatch(/CMD \["python", /);
  expect(check).not.toMatch(/curl|wget/);
});

test('no ADD of a URL', () => {
  for (const add of keyword(instructions, 'ADD')) expect(add.getArgumentsContent()).not.toMatch(/https?:\/\//);
});

test('has a .dockerignore that keeps local state out of the build context', () => {
  const ignore = fs.readFileSync(path.join(APP_DIR, '.dockerignore'), 'utf8');
  expect(ignore).toMatch(/\.venv/);
  expect(ignore).toMatch(/__pycache__/);
});

/**
 * '' when every place names the same port; otherwise one line that names each file and what it says, so that a
 * mismatch reads as more than "Expected: 8080 / Received: 9000".
 */
function portDisagreement(places: Record<string, string>): string {
  if (new Set(Object.values(places)).size <= 1) return '';
  const said = Object.entries(places).map(([place, value]) => `${place} says ${value}`);
  return `the port differs: ${said.join('; ')}. Make them agree (docs/fork-guide.md, recipe 2 "Change the port")`;
}

test('fails when the configuration and the Dockerfile disagree on the port, naming both files', () => {
  expect(portDisagreement({ 'app/Dockerfile EXPOSE': '8080', 'lib/config/environments.ts dev.containerPort': '8080' })).toBe('');
  expect(portDisagreement({ 'app/Dockerfile EXPOSE': '8080', 'lib/config/environments.ts dev.containerPort': '9000' })).toBe(
    'the port differs: app/Dockerfile EXPOSE says 8080; lib/config/environments.ts dev.containerPort says 9000. ' +
      'Make them agree (docs/fork-guide.md, recipe 2 "Change the port")',
  );
});

describe('the image, the gunicorn config and the task definition agree', () => {
  const exposed = keyword(release, 'EXPOSE')[0].getArgumentsContent() ?? '';
  const envPort = /PORT=(\d+)/.exec(keyword(release, 'ENV').map((i) => i.getArgumentsContent()).join(' '))?.[1] ?? '(none)';

  test('EXPOSE, the image PORT and gunicorn bind are the same port', () => {
    const bind = gunicornSetting('bind');
    expect(bind).toMatch(/^0\.0\.0\.0:\d+$/); // every interface of the container: the load balancer is outside it
    expect(
      portDisagreement({
        'app/Dockerfile EXPOSE': exposed,
        'app/Dockerfile ENV PORT': envPort,
        "app/gunicorn.conf.py's default bind": bind.split(':')[1],
      }),
    ).toBe('');
  });

  test.each(Object.keys(environments))('%s task definition uses that port', (env) => {
    const container = Object.values<any>(synthesized(env).template('service').findResources('AWS::ECS::TaskDefinition'))[0]
      .Properties.ContainerDefinitions[0];
    const configured = `lib/config/environments.ts ${env}.containerPort (the synthesized task definition's`;
    expect(
      portDisagreement({
        'app/Dockerfile EXPOSE': exposed,
        [`${configured} port mapping)`]: String(container.PortMappings[0].ContainerPort),
        [`${configured} PORT variable)`]: container.Environment.find((e: any) => e.Name === 'PORT')?.Value ?? '(none)',
      }),
    ).toBe('');
    expect(container.Environment).toContainEqual({ Name: 'GUNICORN_WORKERS', Value: String(environments[env].gunicornWorkers) });
    expect(container.Environment.map((e: any) => e.Name)).not.toContain('APP_TEST_ROUTES');
  });

  /** The timeouts the synthesized service template sets, read from the resources themselves. */
  const deployed = (env: string) => {
    const t = synthesized(env).template('service');
    const one = (type: string) => Object.values<any>(t.findResources(type))[0].Properties;
    const attribute = (props: any, key: string) =>
      Number((props.LoadBalancerAttributes ?? props.TargetGroupAttributes).find((a: any) => a.Key === key).Value);
    return {
      albIdleTimeout: attribute(one('AWS::ElasticLoadBalancingV2::LoadBalancer'), 'idle_timeout.timeout_seconds'),
      deregistrationDelay: attribute(one('AWS::ElasticLoadBalancingV2::TargetGroup'), 'deregistration_delay.timeout_seconds'),
      stopTimeout: one('AWS::ECS::TaskDefinition').ContainerDefinitions[0].StopTimeout,
    };
  };

  test.each(Object.keys(environments))("%s: gunicorn keep-alive outlives the deployed ALB's idle timeout", (env) => {
    expect(Number(gunicornSetting('keepalive'))).toBeGreaterThan(deployed(env).albIdleTimeout);
    expect(deployed(env).albIdleTimeout).toBe(ALB_IDLE_TIMEOUT_SECONDS);
  });

  test.each(Object.keys(environments))("%s: gunicorn's graceful timeout ends before the task's stop timeout", (env) => {
    expect(Number(gunicornSetting('graceful_timeout'))).toBeLessThan(deployed(env).stopTimeout);
    expect(deployed(env).stopTimeout).toBe(ROLLOUT.stopTimeoutSeconds);
  });

  test.each(Object.keys(environments))(
    '%s: a draining target finishes its requests before ECS stops the task (deregistration delay, then stop timeout)',
    (env) => {
      // ECS stops the task only after the target group has drained it; the drain covers requests the ALB already sent,
      // and the stop timeout then covers gunicorn's graceful shutdown.
      const { deregistrationDelay, stopTimeout } = deployed(env);
      expect(deregistrationDelay).toBeGreaterThan(0);
      expect(deregistrationDelay).toBeLessThanOrEqual(60);
      expect(Number(gunicornSetting('graceful_timeout'))).toBeLessThan(stopTimeout);
    },
  );

  test('gunicorn keeps worker heartbeats on /dev/shm, off the read-only root filesystem', () => {
    expect(gunicornSetting('worker_tmp_dir')).toBe('/dev/shm');
  });
});
