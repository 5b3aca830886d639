import type { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { type EnvironmentConfig, stackNames } from '../../config';
import { type Clients, checkAccount } from '../clients';
import { EXIT, OpsError, explain } from '../errors';
import { findImage, repositoryNameOf } from '../images';
import { rollback } from '../rollback';
import { describeStack, findStack } from '../stack';
import { gatherStatus, renderStatus, rolloutState } from '../status';
import { verifyDeployment } from '../verify';
import { type Sleep, realSleep, waitForExecution } from './executions';
import { type Leftover, leftoversOf } from './leftovers';
import type { ProcessRunner } from './process';
import { branchHead, pushSmokeCommit, repositoryNameFromCloneUrl } from './source';

/** The clients of the ops commands, plus CodeCommit for the push. */
export interface SmokeClients extends Clients {
  readonly codecommit: CodeCommitClient;
}

export interface SmokeDeps {
  readonly clients: SmokeClients;
  /** Runs `npx cdk …`. */
  readonly run: ProcessRunner;
  readonly log: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default - a real, abortable timer */
  readonly sleep?: Sleep;
  /** @default - the global fetch */
  readonly fetch?: typeof fetch;
  /** Aborted on the first Ctrl-C: the current step stops and cleanup starts. */
  readonly signal?: AbortSignal;
  /** Aborted on a second Ctrl-C: it stops `cdk destroy` too. */
  readonly cleanupSignal?: AbortSignal;
}

export interface SmokeOptions {
  readonly config: EnvironmentConfig;
  /** The account the user confirmed; it must be the credentials' account. */
  readonly confirmAccount: string;
  /** The longest wait for one pipeline run, and for one rollback's stack update. @default 2400 */
  readonly pipelineTimeoutSeconds?: number;
  /** The longest wait for the tasks and the health check after a deploy or rollback. @default 600 */
  readonly verifyTimeoutSeconds?: number;
  /** Polling interval of the pipeline wait, verify and the rollback waiter. @default 15 */
  readonly pollSeconds?: number;
  /** Names this run in the pushed commit. @default - the start time */
  readonly runId?: string;
}

export type StepStatus = 'ok' | 'failed' | 'interrupted' | 'skipped';

export interface StepResult {
  readonly name: string;
  readonly status: StepStatus;
  readonly seconds: number;
  readonly detail?: string;
}

export interface SmokeResult {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  readonly steps: StepResult[];
  /** From the push to the pipeline run's success (CodePipeline's own end time). */
  readonly pushToLiveSeconds?: number;
  /** What the run could not remove, with the commands to delete it. */
  readonly leftBehind: Leftover[];
  /** The first failure, if any. */
  readonly failure?: OpsError;
}

/** The steps of a run, in order. Cleanup steps run whatever happened before them. */
export const STEPS = [
  'deploy',
  'first pipeline run',
  'push',
  'pipeline run of the push',
  'verify',
  'status',
  'rollback',
  'roll forward',
] as const;
export const CLEANUP_STEPS = ['inventory', 'destroy', 'check removal'] as const;

/**
 * Checks everything that can be checked before anything is created. Throws OpsError (USAGE) when the run must not
 * start: the environment holds production data, the credentials are not for the confirmed account, or the
 * environment's stacks exist already (the run would destroy them).
 */
export async function preflight(
  clients: Clients,
  config: EnvironmentConfig,
  confirmAccount: string,
): Promise<{ account: string; region: string }> {
  // The configuration's explicit flag; retained repositories would also outlive the destroy at the end.
  if (config.production || config.removalPolicy === 'retain') {
    throw new OpsError(
      `'${config.envName}' holds production data (production: ${config.production}, removalPolicy '${config.removalPolicy}'); the smoke test deploys and destroys its environment: run it with a disposable one such as --env dev`,
      EXIT.USAGE,
    );
  }
  const account = await checkAccount(clients, config);
  if (account !== confirmAccount) {
    throw new OpsError(
      `these credentials are for account ${account}, not ${confirmAccount}: pass --confirm-account ${account} to run there, or switch AWS_PROFILE`,
      EXIT.USAGE,
    );
  }
  const names = Object.values(stackNames(config));
  const existing = (await Promise.all(names.map((name) => findStack(clients, name)))).filter((s) => s !== undefined);
  if (existing.length > 0) {
    throw new OpsError(
      `${existing.map((s) => `${s.name} (${s.status})`).join(', ')} already exist in ${account}; the smoke test would destroy them: ` +
        `run it with an environment that is not deployed, or remove them first with \`npx cdk destroy --all -c env=${config.envName}\``,
      EXIT.USAGE,
    );
  }
  return { account, region: (await clients.sts.config.region()) ?? '' };
}

class Interrupted extends OpsError {
  constructor() {
    super('interrupted (Ctrl-C)', 130);
  }
}

/**
 * Runs `work`, unless `signal` aborts first: then rejects with Interrupted at once. The abandoned work goes on in the
 * background (a waiter polling, say) and its outcome is dropped; the process exits after the cleanup.
 */
function unlessAborted<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(new Interrupted());
  const running = work();
  if (!signal) return running;
  running.catch(() => undefined); // an abandoned step's failure is not news
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The whole first-deploy path in a real account, then its teardown. Never throws after preflight: failures are in
 * the result, and cleanup runs whatever happened (try/finally).
 */
export async function runSmoke(deps: SmokeDeps, options: SmokeOptions): Promise<SmokeResult> {
  const { clients, log, signal } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? realSleep;
  const config = options.config;
  const env = config.envName;
  const names = stackNames(config);
  const poll = options.pollSeconds ?? 15;
  const verifyTimeout = options.verifyTimeoutSeconds ?? 600;
  const runId = options.runId ?? new Date(now()).toISOString();

  const { account, region } = await preflight(clients, config, options.confirmAccount);
  log(`smoke: '${env}' in account ${account} (${region}), run ${runId}`);

  const steps: StepResult[] = [];
  let failure: OpsError | undefined;

  // Each step stops on its own signal: the main steps on the first Ctrl-C, the cleanup steps only on a second one.
  async function step<T>(name: string, work: () => Promise<T>, stepSignal: AbortSignal | undefined): Promise<T> {
    log(`smoke: ${name}…`);
    const started = now();
    const seconds = () => Math.round((now() - started) / 1000);
    try {
      const value = await unlessAborted(work, stepSignal);
      steps.push({ name, status: 'ok', seconds: seconds() });
      return value;
    } catch (error) {
      const reason = explain(error, env);
      steps.push({
        name,
        status: error instanceof Interrupted ? 'interrupted' : 'failed',
        seconds: seconds(),
        detail: reason.message,
      });
      failure ??= reason;
      throw reason;
    }
  }

  const cdk = async (args: string[], what: string, runSignal?: AbortSignal) => {
    const code = await deps.run('npx', ['cdk', ...args, '-c', `env=${env}`], { signal: runSignal });
    if (code !== 0) throw new OpsError(`\`npx cdk ${args[0]}\` ${what} exited with ${code}`, EXIT.FAILED);
  };

  const digestOf = async (tag: string): Promise<string> => {
    const service = await describeStack(clients, names.service, env);
    const image = await findImage(clients, repositoryNameOf(service.outputs.RepositoryUri ?? ''), tag);
    if (!image) throw new OpsError(`image ${tag} is not in ECR after its pipeline run`, EXIT.UNKNOWN_TAG);
    return image.digest;
  };
  const verify = async (tag: string, digest: string) =>
    verifyDeployment(clients, {
      envName: env,
      stackName: names.service,
      imageTag: tag,
      imageDigest: digest,
      healthCheckPath: config.healthCheckPath,
      timeoutSeconds: verifyTimeout,
      pollSeconds: poll,
      fetch: deps.fetch,
      log,
    });
  const waitOptions = {
    timeoutSeconds: options.pipelineTimeoutSeconds ?? 2400,
    pollSeconds: poll,
    sleep,
    now,
    signal,
    log,
  };

  let pushToLiveSeconds: number | undefined;
  let leftBehind: Leftover[];
  let deployStarted = false;
  try {
    const main = <T>(name: string, work: () => Promise<T>) => step(name, work, signal);
    await main('deploy', () => {
      deployStarted = true;
      return cdk(['deploy', '--all', '--require-approval', 'never'], 'for the first deploy', signal);
    });

    // The pipeline starts on creation and builds the seed commit: that image is the rollback target, and waiting
    // for it keeps the push's own run from queueing behind it, so the push-to-live measurement is the push's alone.
    const branch = config.pipeline.source.branch;
    const { firstTag, pipelineName, repository } = await main('first pipeline run', async () => {
      const registry = await describeStack(clients, names.registry, env);
      const pipeline = await describeStack(clients, names.pipeline, env);
      const repo = repositoryNameFromCloneUrl(registry.outputs.SourceCloneUrl);
      const seed = await branchHead(clients.codecommit, repo, branch);
      await waitForExecution(clients, pipeline.outputs.PipelineName ?? '', seed, waitOptions);
      return { firstTag: seed, pipelineName: pipeline.outputs.PipelineName ?? '', repository: repo };
    });

    const pushed = await main('push', () => pushSmokeCommit(clients.codecommit, repository, branch, runId));
    const pushedAt = now();
    log(`smoke: pushed ${pushed.commitId} onto ${pushed.parent} (${repository} ${branch})`);

    const run = await main('pipeline run of the push', () =>
      waitForExecution(clients, pipelineName, pushed.commitId, waitOptions),
    );
    // CodePipeline's end time, not our polling's: the measurement does not depend on the poll interval.
    pushToLiveSeconds = Math.round(((run.endTime?.getTime() ?? now()) - pushedAt) / 1000);

    const newTag = pushed.commitId;
    const [firstDigest, newDigest] = await main('verify', async () => {
      const digests = [await digestOf(firstTag), await digestOf(newTag)];
      await verify(newTag, digests[1]);
      return digests;
    });

    await main('status', async () => {
      const report = await gatherStatus(clients, config, { account, region, fetch: deps.fetch });
      log(renderStatus(report));
      if (report.imageTag !== newTag || rolloutState(report) !== 'COMPLETED' || !report.health?.ok) {
        throw new OpsError(
          `status shows tag ${report.imageTag}, rollout ${rolloutState(report)}, health ${report.health?.status ?? '-'}; expected ${newTag}, COMPLETED, 200`,
          EXIT.VERIFY_FAILED,
        );
      }
    });

    const rollbackOptions = { log, pollSeconds: poll, maxWaitSeconds: options.pipelineTimeoutSeconds ?? 2400 };
    await main('rollback', async () => {
      await rollback(clients, config, { ...rollbackOptions, to: firstTag });
      await verify(firstTag, firstDigest);
    });
    await main('roll forward', async () => {
      await rollback(clients, config, { ...rollbackOptions, to: newTag });
      await verify(newTag, newDigest);
    });
  } catch (error) {
    failure ??= explain(error, env);
  } finally {
    leftBehind = await cleanup();
  }

  async function cleanup(): Promise<Leftover[]> {
    for (const name of STEPS) {
      if (!steps.some((s) => s.name === name)) steps.push({ name, status: 'skipped', seconds: 0 });
    }
    // Interrupted before `cdk deploy` started: nothing was created, so there is nothing to destroy.
    if (!deployStarted) {
      for (const name of CLEANUP_STEPS) steps.push({ name, status: 'skipped', seconds: 0 });
      return [];
    }
    const cleanupSignal = deps.cleanupSignal;
    const retained: Leftover[] = [];
    const absorb = async (name: string, work: () => Promise<void>) => {
      try {
        await step(name, work, cleanupSignal);
      } catch {
        // Recorded in `steps` and `failure`; cleanup goes on.
      }
    };
    await absorb('inventory', async () => {
      for (const name of Object.values(names)) {
        if (await findStack(clients, name)) retained.push(...(await leftoversOf(clients, name)));
      }
    });
    await absorb('destroy', () => cdk(['destroy', '--all', '--force'], 'for the teardown', cleanupSignal));
    const stacks: Leftover[] = [];
    await absorb('check removal', async () => {
      for (const name of Object.values(names)) {
        const stack = await findStack(clients, name);
        if (stack) {
          stacks.push({
            stack: name,
            logicalId: '-',
            type: 'AWS::CloudFormation::Stack',
            physicalId: name,
            reason: `still ${stack.status} after cdk destroy`,
          });
        }
      }
    });
    return [...stacks, ...retained];
  }

  return { env, account, region, steps, pushToLiveSeconds, leftBehind, failure };
}
