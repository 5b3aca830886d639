import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as os from 'node:os';
import { AccessDeniedException, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { STSClient } from '@aws-sdk/client-sts';
import { CredentialsProviderError } from '@smithy/core/config';
import { DEV } from '../config-fixtures';
import { createClients } from '../../lib/ops/clients';
import { EXIT, OpsError, describeError, explain } from '../../lib/ops/errors';

const dev = { ...DEV, region: 'eu-west-1', account: undefined };
const ONE_LINE = /^[^\n]+$/;

/** Runs `body` with these environment variables set (undefined: unset), then puts them back. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(vars);
  try {
    return await body();
  } finally {
    set(saved);
  }
}

const FAKE = { AWS_ACCESS_KEY_ID: 'AKIAFAKE', AWS_SECRET_ACCESS_KEY: 'fake', AWS_PROFILE: undefined };

describe('network failures', () => {
  // Node's own network errors come from outside jest's sandbox, where they are not `instanceof Error`; the SDK's retry
  // middleware then wraps them ("AWS SDK error wrapper for …"), which it never does in a real process. So real refused
  // and cut connections are tested through the entry points (cli.test.ts), and here with their exact shapes.
  test('every failed call is labelled with its operation and endpoint (real client, local endpoint)', async () => {
    const server = http.createServer((req, res) =>
      req.resume().on('end', () => {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'denied' }));
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const error = await withEnv({ ...FAKE, AWS_ENDPOINT_URL: url }, () =>
        createClients(dev, { maxAttempts: 1 })
          .ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['s'] }))
          .catch((e: unknown) => e),
      );
      expect(error).toBeInstanceOf(AccessDeniedException);
      expect((error as { $call?: unknown }).$call).toEqual({ operation: 'ECS DescribeServices', endpoint: url });
      // Not enumerable: --json output and test equality stay as the SDK made them.
      expect(Object.keys(error as object)).not.toContain('$call');
      // A network failure of that call would then read:
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
        code: 'ECONNREFUSED',
        $call: (error as { $call: unknown }).$call,
      });
      expect(explain(refused, 'dev').message).toMatch(
        new RegExp(`^ECS DescribeServices \\(${url.replace(/\./g, '\\.')}\\) failed: connect ECONNREFUSED 127\\.0\\.0\\.1:9: `),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  // Shapes copied from what @smithy/node-http-handler rejects with (see the comment in lib/ops/errors.ts).
  test.each([
    [
      'an unknown host',
      Object.assign(new Error('getaddrinfo ENOTFOUND sts.eu-wst-1.amazonaws.com'), {
        errno: -3008,
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname: 'sts.eu-wst-1.amazonaws.com',
      }),
      /^an AWS call failed: getaddrinfo ENOTFOUND sts\.eu-wst-1\.amazonaws\.com: that host name does not resolve; check that you are online and that the region is right \(AWS_REGION, or `region` for 'dev' in lib\/config\/environments\.ts\)/,
    ],
    [
      'no DNS answer (offline)',
      Object.assign(new Error('getaddrinfo EAI_AGAIN sts.eu-west-1.amazonaws.com'), {
        code: 'EAI_AGAIN',
        syscall: 'getaddrinfo',
      }),
      /^an AWS call failed: getaddrinfo EAI_AGAIN sts\.eu-west-1\.amazonaws\.com: that host name does not resolve/,
    ],
    [
      'a connect timeout (ETIMEDOUT, renamed TimeoutError)',
      Object.assign(new Error('connect ETIMEDOUT 52.94.0.1:443'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        syscall: 'connect',
      }),
      /^an AWS call failed: connect ETIMEDOUT 52\.94\.0\.1:443: the connection timed out or was cut/,
    ],
    [
      "the handler's own connection timeout",
      Object.assign(
        new Error(
          '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 5000 ms.',
        ),
        { name: 'TimeoutError' },
      ),
      /^an AWS call failed: @smithy\/node-http-handler - the request socket did not establish a connection .*: the connection timed out or was cut/,
    ],
    [
      'no route',
      Object.assign(new Error('connect ENETUNREACH 52.94.0.1:443'), { code: 'ENETUNREACH', syscall: 'connect' }),
      /^an AWS call failed: connect ENETUNREACH 52\.94\.0\.1:443: no route to AWS; check that you are online/,
    ],
  ])('%s: one line with a next step, exit NETWORK', (_what, error, message) => {
    const explained = explain(error, 'dev');
    expect(explained.exitCode).toBe(EXIT.NETWORK);
    expect(explained.message).toMatch(ONE_LINE);
    expect(explained.message).toMatch(message);
    expect(explained.message).toMatch(/`aws sts get-caller-identity`/);
  });
});

describe('credentials and region', () => {
  test('no credentials at all: the provider chain gives up', () => {
    // The exact error the default chain throws (@aws-sdk/credential-provider-node).
    const error = new CredentialsProviderError('Could not load credentials from any providers', { tryNextLink: false });
    expect(explain(error, 'dev')).toEqual(
      new OpsError(
        'no AWS credentials found: run `aws sso login` (or `aws configure`), or set AWS_PROFILE, then retry',
        EXIT.NO_CREDENTIALS,
      ),
    );
  });

  test('an expired SSO session: the provider says so, and the next step follows', () => {
    // As @aws-sdk/credential-provider-sso words it.
    const error = new CredentialsProviderError(
      "The SSO session associated with this profile has expired. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
      { tryNextLink: false },
    );
    expect(explain(error, 'dev')).toEqual(
      new OpsError(
        "AWS credentials could not be loaded: The SSO session associated with this profile has expired. To refresh this SSO session run 'aws sso login' with the corresponding profile; fix AWS_PROFILE or run `aws sso login`, then check with `aws sts get-caller-identity`",
        EXIT.NO_CREDENTIALS,
      ),
    );
  });

  test('no region anywhere: the SDK refuses, and the message says where to set one', async () => {
    const home = path.join(os.tmpdir(), 'no-such-home');
    const error = await withEnv(
      {
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: path.join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
      },
      () => new STSClient({}).config.region().catch((e: unknown) => e),
    );
    expect(explain(error, 'dev')).toEqual(
      new OpsError("no AWS region: set AWS_REGION, or `region` for 'dev' in lib/config/environments.ts", EXIT.NO_CREDENTIALS),
    );
  });
});

test('describeError keeps one line and names the error once', () => {
  expect(describeError(Object.assign(new Error('denied\nmore'), { name: 'AccessDeniedException' }))).toBe(
    'AccessDeniedException: denied',
  );
  expect(describeError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }))).toBe(
    'connect ECONNREFUSED 10.0.0.1:443',
  );
  expect(describeError(new OpsError('as is', EXIT.FAILED))).toBe('as is');
});
