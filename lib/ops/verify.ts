import type { Clients } from './clients';
import { retrying } from './retry';
import { EXIT, OpsError } from './errors';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { probeHealth } from './health';
import { runningDigests } from './service';
import { describeStack } from './stack';

export interface VerifyOptions {
  readonly envName: string;
  readonly stackName: string;
  readonly imageTag: string;
  readonly imageDigest: string;
  readonly healthCheckPath: string;
  /** How long to wait for the tasks and the health check. */
  readonly timeoutSeconds?: number;
  readonly pollSeconds?: number;
  readonly fetch?: typeof fetch;
  readonly log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checks that a deploy took: the stack runs the tag, every running task runs the pushed digest, and the service URL
 * answers the health check with 200. Throws OpsError(VERIFY_FAILED) with a one-line reason otherwise.
 */
export async function verifyDeployment(clients: Clients, options: VerifyOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const timeout = options.timeoutSeconds ?? 300;
  const poll = options.pollSeconds ?? 10;
  const fetchFn = options.fetch ?? fetch;
  const deadline = Date.now() + timeout * 1000;
  // Waits one poll interval, or less when the deadline comes first: the last check happens at the deadline, not after it.
  const pause = () => sleep(Math.max(0, Math.min(poll * 1000, deadline - Date.now())));

  const stack = await describeStack(clients, options.stackName, options.envName);
  const deployed = stack.parameters.ImageTag;
  if (deployed !== options.imageTag) {
    throw new OpsError(`${options.stackName} runs image tag ${deployed}, not ${options.imageTag}`, EXIT.VERIFY_FAILED);
  }
  const cluster = stack.outputs.ClusterName;
  const service = stack.outputs.ServiceName;
  const url = `${stack.outputs.ServiceUrl}${options.healthCheckPath}`;

  // Every running task on the new digest, at the desired count (old tasks may still be draining for a moment).
  for (;;) {
    const { services } = await retrying(() => clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] })));
    const desired = services?.[0]?.desiredCount ?? 0;
    const digests = await runningDigests(clients, cluster, service);
    const total = Object.values(digests).reduce((a, b) => a + b, 0);
    const onNew = digests[options.imageDigest] ?? 0;
    if (total > 0 && onNew === total && total >= desired) {
      log(`verify: ${onNew}/${desired} running task(s) run ${options.imageDigest}`);
      break;
    }
    if (Date.now() >= deadline) {
      const others = Object.entries(digests)
        .filter(([d]) => d !== options.imageDigest)
        .map(([d, n]) => `${n} on ${d}`);
      throw new OpsError(
        `${onNew} of ${total} running task(s) (desired ${desired}) run ${options.imageDigest}${others.length ? ` (${others.join(', ')})` : ''} after ${timeout}s`,
        EXIT.VERIFY_FAILED,
      );
    }
    await pause();
  }

  for (;;) {
    // A probe that hangs gives up at the deadline too (at least 1 s, so the last probe still has a chance).
    const { status, ok } = await probeHealth(fetchFn, url, Math.max(1000, Math.min(5000, deadline - Date.now())));
    if (ok) {
      log(`verify: ${url} answered 200`);
      return;
    }
    if (Date.now() >= deadline) {
      throw new OpsError(`${url} answered ${status}, not 200, after ${timeout}s`, EXIT.VERIFY_FAILED);
    }
    await pause();
  }
}
