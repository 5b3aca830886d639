import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  DescribeTaskDefinitionCommand,
  paginateListTasks,
} from '@aws-sdk/client-ecs';
import type { Clients } from './clients';
import { retrying } from './retry';
import { EXIT, OpsError } from './errors';

export interface DeploymentInfo {
  readonly status: string;
  readonly rolloutState: string;
  readonly rolloutStateReason?: string;
  readonly running: number;
  readonly desired: number;
  readonly pending: number;
  readonly taskDefinition: string;
  readonly image?: string;
  readonly createdAt?: Date;
}

export interface ServiceInfo {
  readonly cluster: string;
  readonly service: string;
  readonly status: string;
  readonly running: number;
  readonly desired: number;
  readonly pending: number;
  readonly deployments: DeploymentInfo[];
  readonly events: { at?: Date; message: string }[];
  /** Image digests of the running tasks' app containers, with how many tasks run each; undefined when not readable. */
  readonly runningDigests?: Record<string, number>;
}

const CONTAINER = 'app';

/** Reads one part of a report, or records why it could not (see `Reads` in status.ts). Default: rethrow. */
export type PartReader = <T>(part: string, read: () => Promise<T>) => Promise<T | undefined>;

const rethrow: PartReader = (_part, read) => read();

/**
 * The ECS service's rollout state, deployments (with their images), recent events and running digests. The
 * deployments' images ('deployment images') and the running digests ('running tasks') are read through `readPart`,
 * so that a caller can show the service without them when they cannot be read.
 */
export async function describeService(
  clients: Clients,
  cluster: string,
  service: string,
  { eventCount = 5, readPart = rethrow }: { eventCount?: number; readPart?: PartReader } = {},
): Promise<ServiceInfo> {
  const { services } = await retrying(() => clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] })));
  const svc = services?.[0];
  if (!svc || svc.status === 'INACTIVE') {
    throw new OpsError(`ECS service ${service} was not found in cluster ${cluster}`, EXIT.NOT_DEPLOYED);
  }
  const [images, digests] = await Promise.all([
    readPart('deployment images', () => deploymentImages(clients, svc.deployments ?? [])),
    readPart('running tasks', () => runningDigests(clients, cluster, service)),
  ]);
  return {
    cluster,
    service,
    status: svc.status ?? 'UNKNOWN',
    running: svc.runningCount ?? 0,
    desired: svc.desiredCount ?? 0,
    pending: svc.pendingCount ?? 0,
    deployments: (svc.deployments ?? []).map((d) => ({
      status: d.status ?? '',
      rolloutState: d.rolloutState ?? '',
      rolloutStateReason: d.rolloutStateReason,
      running: d.runningCount ?? 0,
      desired: d.desiredCount ?? 0,
      pending: d.pendingCount ?? 0,
      taskDefinition: d.taskDefinition ?? '',
      image: images?.get(d.taskDefinition ?? ''),
      createdAt: d.createdAt,
    })),
    events: (svc.events ?? []).slice(0, eventCount).map((e) => ({ at: e.createdAt, message: e.message ?? '' })),
    runningDigests: digests,
  };
}

/** The app container's image of each deployment's task definition. */
async function deploymentImages(
  clients: Clients,
  deployments: { taskDefinition?: string }[],
): Promise<Map<string, string | undefined>> {
  const images = new Map<string, string | undefined>();
  for (const arn of new Set(deployments.map((d) => d.taskDefinition ?? ''))) {
    if (!arn) continue;
    const { taskDefinition } = await retrying(() => clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })));
    images.set(arn, taskDefinition?.containerDefinitions?.find((c) => c.name === CONTAINER)?.image);
  }
  return images;
}

/** Counts the running tasks of a service by the image digest of their app container (every page of tasks). */
export async function runningDigests(clients: Clients, cluster: string, service: string): Promise<Record<string, number>> {
  const arns: string[] = [];
  for await (const page of paginateListTasks(
    { client: clients.ecs },
    { cluster, serviceName: service, desiredStatus: 'RUNNING' },
  )) {
    arns.push(...(page.taskArns ?? []));
  }
  const counts: Record<string, number> = {};
  for (let i = 0; i < arns.length; i += 100) {
    const { tasks } = await retrying(() =>
      clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) })),
    );
    for (const task of tasks ?? []) {
      if (task.lastStatus !== 'RUNNING') continue;
      const digest = task.containers?.find((c) => c.name === CONTAINER)?.imageDigest ?? 'unknown';
      counts[digest] = (counts[digest] ?? 0) + 1;
    }
  }
  return counts;
}

/** The primary deployment's state, or a summary when there is none. */
export function primary(info: ServiceInfo): DeploymentInfo | undefined {
  return info.deployments.find((d) => d.status === 'PRIMARY');
}
