import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { EXIT, OpsError } from '../../lib/ops/errors';
import { verifyDeployment } from '../../lib/ops/verify';
import { DIGEST, OLD_DIGEST, OLD_TAG, TAG, URL, ecsService, mockedClients, serviceStack, stackResolves } from './fixtures';

const ok = (async () => ({ status: 200 })) as unknown as typeof fetch;
const options = {
  envName: 'dev',
  stackName: 'fargate-app-dev-service',
  imageTag: TAG,
  imageDigest: DIGEST,
  healthCheckPath: '/health',
  pollSeconds: 0,
  timeoutSeconds: 0,
};

async function failure(promise: Promise<unknown>): Promise<OpsError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError);
    return error as OpsError;
  }
  throw new Error('expected a failure');
}

test('passes when every running task runs the digest and /health answers 200', async () => {
  const { mocks, clients } = mockedClients();
  stackResolves(mocks, serviceStack(TAG));
  ecsService(mocks, [DIGEST, DIGEST, DIGEST]);
  const lines: string[] = [];
  const urls: string[] = [];
  const fetchSpy = (async (url: string) => (urls.push(url), { status: 200 })) as unknown as typeof fetch;
  await verifyDeployment(clients, { ...options, fetch: fetchSpy, log: (l) => lines.push(l) });
  expect(lines).toContain(`verify: 3/3 running task(s) run ${DIGEST}`);
  expect(urls).toEqual([`${URL}/health`]);
  expect(mocks.ecs.commandCalls(ListTasksCommand)).toHaveLength(2); // both pages read
});

test('fails when the stack runs another tag', async () => {
  const { mocks, clients } = mockedClients();
  stackResolves(mocks, serviceStack(OLD_TAG));
  const error = await failure(verifyDeployment(clients, { ...options, fetch: ok }));
  expect(error.message).toBe(`fargate-app-dev-service runs image tag ${OLD_TAG}, not ${TAG}`);
  expect(error.exitCode).toBe(EXIT.VERIFY_FAILED);
});

test('fails when some running tasks still run the old digest', async () => {
  const { mocks, clients } = mockedClients();
  stackResolves(mocks, serviceStack(TAG));
  ecsService(mocks, [DIGEST, OLD_DIGEST]);
  const error = await failure(verifyDeployment(clients, { ...options, fetch: ok }));
  expect(error.message).toBe(`1 of 2 running task(s) (desired 2) run ${DIGEST} (1 on ${OLD_DIGEST}) after 0s`);
});

test('fails when the health check does not answer 200', async () => {
  const { mocks, clients } = mockedClients();
  stackResolves(mocks, serviceStack(TAG));
  ecsService(mocks, [DIGEST]);
  const bad = (async () => ({ status: 503 })) as unknown as typeof fetch;
  const error = await failure(verifyDeployment(clients, { ...options, fetch: bad }));
  expect(error.message).toBe(`${URL}/health answered 503, not 200, after 0s`);
});

test('fails with the deploy command when the stack does not exist', async () => {
  const { mocks, clients } = mockedClients();
  mocks.cloudformation
    .on(DescribeStacksCommand)
    .rejects(Object.assign(new Error('Stack with id fargate-app-dev-service does not exist'), { name: 'ValidationError' }));
  const error = await failure(verifyDeployment(clients, { ...options, fetch: ok }));
  expect(error.message).toBe('stack fargate-app-dev-service is not deployed: run `npx cdk deploy --all -c env=dev`');
  expect(error.exitCode).toBe(EXIT.NOT_DEPLOYED);
});

describe('the timeout bounds the whole wait', () => {
  // A 10 s poll interval against a 1 s timeout: the command must give up at the deadline, not one interval after it.
  const slow = { ...options, pollSeconds: 10, timeoutSeconds: 1 };
  const BOUND_MS = 2500;

  test('fails when the tasks never run the digest, at the timeout and not a poll interval later', async () => {
    const { mocks, clients } = mockedClients();
    stackResolves(mocks, serviceStack(TAG));
    ecsService(mocks, [OLD_DIGEST]);
    const started = Date.now();
    const error = await failure(verifyDeployment(clients, { ...slow, fetch: ok }));
    const elapsed = Date.now() - started;
    expect(error.message).toBe(`0 of 1 running task(s) (desired 1) run ${DIGEST} (1 on ${OLD_DIGEST}) after 1s`);
    expect(elapsed).toBeLessThan(BOUND_MS);
  }, 20000);

  test('fails when /health never answers 200, at the timeout and not a poll interval later', async () => {
    const { mocks, clients } = mockedClients();
    stackResolves(mocks, serviceStack(TAG));
    ecsService(mocks, [DIGEST]);
    const bad = (async () => ({ status: 503 })) as unknown as typeof fetch;
    const started = Date.now();
    const error = await failure(verifyDeployment(clients, { ...slow, fetch: bad }));
    const elapsed = Date.now() - started;
    expect(error.message).toBe(`${URL}/health answered 503, not 200, after 1s`);
    expect(elapsed).toBeLessThan(BOUND_MS);
  }, 20000);

  test("fails when /health hangs, at the timeout and not after the probe's own 5 s", async () => {
    const { mocks, clients } = mockedClients();
    stackResolves(mocks, serviceStack(TAG));
    ecsService(mocks, [DIGEST]);
    // Never answers; gives up only when its signal aborts, as fetch does.
    const hang = ((_url: string, init: RequestInit) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      )) as unknown as typeof fetch;
    const started = Date.now();
    const error = await failure(verifyDeployment(clients, { ...slow, fetch: hang }));
    const elapsed = Date.now() - started;
    expect(error.message).toMatch(new RegExp(`^${URL}/health answered .*, not 200, after 1s$`));
    expect(elapsed).toBeLessThan(BOUND_MS);
  }, 20000);
});
