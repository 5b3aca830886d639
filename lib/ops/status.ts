import { type EnvironmentConfig, stackNames } from '../config';
import type { Clients } from './clients';
import { EXIT, OpsError, describeError } from './errors';
import { probeHealth } from './health';
import { findImage, type ImageInfo, repositoryNameOf } from './images';
import { type ExecutionInfo, recentExecutions } from './pipeline';
import { describeService, type PartReader, primary, type ServiceInfo } from './service';
import { findStack, type StackInfo } from './stack';

/** The parts of a report that are read separately, in the order they are shown. */
export const PARTS = [
  'registry stack',
  'pipeline stack',
  'image',
  'service',
  'deployment images',
  'running tasks',
  'pipeline runs',
] as const;
export type Part = (typeof PARTS)[number];

export interface StatusReport {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  readonly stacks: { name: string; status: string; lastUpdated?: Date }[];
  readonly imageTag?: string;
  readonly image?: ImageInfo;
  readonly service?: ServiceInfo;
  /** Undefined when the pipeline runs are not readable. */
  readonly executions?: ExecutionInfo[];
  readonly url?: string;
  readonly health?: { status: number | string; ok: boolean };
  /** Each part that could not be read, with the reason (`AccessDeniedException: …`), in the order of PARTS. */
  readonly unreadable: { part: Part; reason: string }[];
}

export interface StatusOptions {
  readonly account: string;
  readonly region: string;
  readonly fetch?: typeof fetch;
  /**
   * Parts whose read failing fails the whole report (`--watch` needs 'service'). The Service stack is always
   * essential: it holds the image tag, and the names of everything else.
   * @default - none: every part that cannot be read is marked, and the rest is shown
   */
  readonly essential?: readonly Part[];
}

/** Reads parts, recording each one that fails instead of failing the report (unless the part is essential). */
class Reads {
  readonly unreadable = new Map<Part, string>();
  constructor(private readonly essential: readonly Part[]) {}

  readonly read = async <T>(part: Part, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      if (this.essential.includes(part)) throw error;
      this.unreadable.set(part, describeError(error));
      return undefined;
    }
  };

  list(): { part: Part; reason: string }[] {
    return PARTS.filter((p) => this.unreadable.has(p)).map((part) => ({ part, reason: this.unreadable.get(part)! }));
  }
}

/**
 * Everything `npm run status` shows about one environment, as much of it as can be read. Throws when the Service
 * stack cannot be read (NOT_DEPLOYED when it does not exist), or when an essential part cannot.
 */
export async function gatherStatus(clients: Clients, config: EnvironmentConfig, options: StatusOptions): Promise<StatusReport> {
  const names = stackNames(config);
  const reads = new Reads(options.essential ?? []);
  const [registry, service, pipeline] = await Promise.all([
    reads.read('registry stack', () => findStack(clients, names.registry)),
    findStack(clients, names.service),
    reads.read('pipeline stack', () => findStack(clients, names.pipeline)),
  ]);
  if (!service) {
    throw new OpsError(
      `'${config.envName}' is not deployed (no stack ${names.service}): run \`npx cdk deploy --all -c env=${config.envName}\``,
      EXIT.NOT_DEPLOYED,
    );
  }
  const stackStatus = (part: Part, info?: StackInfo) =>
    reads.unreadable.has(part) ? 'NOT READABLE' : (info?.status ?? 'NOT_DEPLOYED');
  const stacks = [
    { name: names.registry, status: stackStatus('registry stack', registry), lastUpdated: registry?.lastUpdated },
    { name: names.service, status: service.status, lastUpdated: service.lastUpdated },
    { name: names.pipeline, status: stackStatus('pipeline stack', pipeline), lastUpdated: pipeline?.lastUpdated },
  ];

  const imageTag = service.parameters.ImageTag;
  const repositoryUri = service.outputs.RepositoryUri;
  const fetchFn = options.fetch ?? fetch;
  const url = service.outputs.ServiceUrl;
  const pipelineName = pipeline?.outputs.PipelineName;
  const [image, serviceInfo, executions, health] = await Promise.all([
    imageTag && repositoryUri
      ? reads.read('image', () => findImage(clients, repositoryNameOf(repositoryUri), imageTag))
      : undefined,
    reads.read('service', () =>
      describeService(clients, service.outputs.ClusterName, service.outputs.ServiceName, { readPart: reads.read as PartReader }),
    ),
    reads.unreadable.has('pipeline stack')
      ? undefined
      : pipelineName
        ? reads.read('pipeline runs', () => recentExecutions(clients, pipelineName))
        : [],
    url ? probeHealth(fetchFn, `${url}${config.healthCheckPath}`) : undefined,
  ]);
  if (reads.unreadable.has('pipeline stack')) {
    reads.unreadable.set('pipeline runs', `the pipeline's name comes from stack ${names.pipeline}, which is not readable`);
  }
  return {
    env: config.envName,
    account: options.account,
    region: options.region,
    stacks,
    imageTag,
    image,
    service: serviceInfo,
    executions,
    url,
    health,
    unreadable: reads.list(),
  };
}

/** A rollout has settled when one deployment is left and it has completed (or failed). */
export function rolloutState(report: StatusReport): 'COMPLETED' | 'FAILED' | 'IN_PROGRESS' {
  const deployments = report.service?.deployments ?? [];
  const main = report.service ? primary(report.service) : undefined;
  if (main?.rolloutState === 'FAILED') return 'FAILED';
  if (deployments.length === 1 && main?.rolloutState === 'COMPLETED' && main.running === main.desired) return 'COMPLETED';
  return 'IN_PROGRESS';
}

const when = (d?: Date) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '-');
const short = (s?: string, n = 12) => (s ? (s.length > n ? s.slice(0, n) : s) : '-');

function table(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** `  <part>: not readable: <reason>` for a part that could not be read, else nothing. */
function notReadable(r: StatusReport, part: Part, label: string = part): string[] {
  const entry = r.unreadable.find((u) => u.part === part);
  return entry ? [`  ${label}: not readable: ${entry.reason}`] : [];
}

/** The human-readable report. */
export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  out.push(`Environment ${r.env}  (account ${r.account}, ${r.region})`, '');
  out.push(
    'Stacks',
    table([['STACK', 'STATUS', 'UPDATED'], ...r.stacks.map((s) => [s.name, s.status, when(s.lastUpdated)])]),
    ...notReadable(r, 'registry stack', r.stacks[0].name),
    ...notReadable(r, 'pipeline stack', r.stacks[2].name),
    '',
  );

  out.push('Image');
  if (!r.imageTag || r.imageTag === 'no-image') {
    out.push('  no image deployed yet: the first pipeline run ships one');
  } else if (r.unreadable.some((u) => u.part === 'image')) {
    out.push(`  tag ${r.imageTag}`, ...notReadable(r, 'image', 'digest, scan'));
  } else if (!r.image) {
    out.push(`  tag ${r.imageTag}: not found in ECR`);
  } else {
    const findings = Object.entries(r.image.findings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push(
      table([
        ['tag', r.image.tag],
        ['digest', r.image.digest],
        ['pushed', when(r.image.pushedAt)],
        ['scan', `${r.image.scanStatus ?? '-'}${findings ? `: ${findings}` : ': no findings'}`],
      ]),
    );
  }
  out.push('');

  const s = r.service;
  if (s) {
    out.push(`Service ${s.service}  rollout ${rolloutState(r)}  running ${s.running}/${s.desired}  pending ${s.pending}`);
    out.push(
      table([
        ['DEPLOYMENT', 'ROLLOUT', 'RUNNING', 'IMAGE'],
        ...s.deployments.map((d) => [d.status, d.rolloutState || '-', `${d.running}/${d.desired}`, d.image ?? d.taskDefinition]),
      ]),
      ...notReadable(r, 'deployment images'),
    );
    const digests = Object.entries(s.runningDigests ?? {});
    if (digests.length) out.push(`  running digests: ${digests.map(([d, n]) => `${n} × ${short(d, 19)}`).join(', ')}`);
    out.push(...notReadable(r, 'running tasks', 'running digests'));
    if (s.events.length) {
      out.push('  recent events:');
      for (const e of s.events) out.push(`    ${when(e.at)}  ${e.message}`);
    }
    out.push('');
  } else if (r.unreadable.some((u) => u.part === 'service')) {
    out.push('Service', ...notReadable(r, 'service', 'ECS service'), '');
  }

  out.push('Pipeline');
  if (!r.executions) {
    out.push(...notReadable(r, 'pipeline runs'));
  } else if (r.executions.length === 0) {
    out.push('  no executions');
  } else {
    out.push(
      table([
        ['STARTED', 'STATUS', 'STAGE', 'COMMIT', 'TRIGGER'],
        ...r.executions.map((e) => [
          when(e.startedAt),
          e.status,
          `${e.stage ?? '-'} (${e.stageStatus ?? '-'})`,
          short(e.commit),
          e.trigger ?? '-',
        ]),
      ]),
    );
  }
  out.push('');
  out.push(`URL ${r.url ?? '-'}  health ${r.health ? `${r.health.status}${r.health.ok ? ' ok' : ' FAILING'}` : '-'}`);
  return out.join('\n');
}

/** A one-line progress summary for --watch. */
export function progressLine(r: StatusReport): string {
  const s = r.service;
  if (!s) return 'no service';
  const main = primary(s);
  return `${when(new Date())}  rollout ${rolloutState(r)}  ${s.running}/${s.desired} running, ${s.pending} pending, ${s.deployments.length} deployment(s)${main?.rolloutStateReason ? `: ${main.rolloutStateReason}` : ''}`;
}
