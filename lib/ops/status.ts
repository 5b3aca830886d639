import { type EnvironmentConfig, stackNames } from '../config';
import type { Clients } from './clients';
import { EXIT, OpsError } from './errors';
import { probeHealth } from './health';
import { findImage, type ImageInfo, repositoryNameOf } from './images';
import { type ExecutionInfo, recentExecutions } from './pipeline';
import { describeService, primary, type ServiceInfo } from './service';
import { findStack } from './stack';

export interface StatusReport {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  readonly stacks: { name: string; status: string; lastUpdated?: Date }[];
  readonly imageTag?: string;
  readonly image?: ImageInfo;
  readonly service?: ServiceInfo;
  readonly executions: ExecutionInfo[];
  readonly url?: string;
  readonly health?: { status: number | string; ok: boolean };
}

export interface StatusOptions {
  readonly account: string;
  readonly region: string;
  readonly fetch?: typeof fetch;
}

/** Everything `npm run status` shows about one environment. Throws NOT_DEPLOYED when the Service stack is missing. */
export async function gatherStatus(clients: Clients, config: EnvironmentConfig, options: StatusOptions): Promise<StatusReport> {
  const names = stackNames(config);
  const [registry, service, pipeline] = await Promise.all([
    findStack(clients, names.registry),
    findStack(clients, names.service),
    findStack(clients, names.pipeline),
  ]);
  if (!service) {
    throw new OpsError(
      `'${config.envName}' is not deployed (no stack ${names.service}): run \`npx cdk deploy --all -c env=${config.envName}\``,
      EXIT.NOT_DEPLOYED,
    );
  }
  const stacks = [
    { name: names.registry, info: registry },
    { name: names.service, info: service },
    { name: names.pipeline, info: pipeline },
  ].map(({ name, info }) => ({ name, status: info?.status ?? 'NOT_DEPLOYED', lastUpdated: info?.lastUpdated }));

  const imageTag = service.parameters.ImageTag;
  const repositoryUri = service.outputs.RepositoryUri;
  const fetchFn = options.fetch ?? fetch;
  const url = service.outputs.ServiceUrl;
  const [image, serviceInfo, executions, health] = await Promise.all([
    imageTag && repositoryUri ? findImage(clients, repositoryNameOf(repositoryUri), imageTag) : Promise.resolve(undefined),
    describeService(clients, service.outputs.ClusterName, service.outputs.ServiceName),
    pipeline?.outputs.PipelineName ? recentExecutions(clients, pipeline.outputs.PipelineName) : Promise.resolve([]),
    url ? probeHealth(fetchFn, `${url}${config.healthCheckPath}`) : Promise.resolve(undefined),
  ]);
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

/** The human-readable report. */
export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  out.push(`Environment ${r.env}  (account ${r.account}, ${r.region})`, '');
  out.push(
    'Stacks',
    table([['STACK', 'STATUS', 'UPDATED'], ...r.stacks.map((s) => [s.name, s.status, when(s.lastUpdated)])]),
    '',
  );

  out.push('Image');
  if (!r.imageTag || r.imageTag === 'no-image') {
    out.push('  no image deployed yet: the first pipeline run ships one');
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
    );
    const digests = Object.entries(s.runningDigests);
    if (digests.length) out.push(`  running digests: ${digests.map(([d, n]) => `${n} × ${short(d, 19)}`).join(', ')}`);
    if (s.events.length) {
      out.push('  recent events:');
      for (const e of s.events) out.push(`    ${when(e.at)}  ${e.message}`);
    }
    out.push('');
  }

  out.push('Pipeline');
  if (r.executions.length === 0) {
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
