import { ListPipelineExecutionsCommand, type PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import type { Clients } from '../clients';
import { EXIT, OpsError } from '../errors';
import { recentExecutions } from '../pipeline';
import { retrying } from '../retry';

/** Waits without blocking tests: they pass a sleep that returns at once. Rejects when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export interface WaitOptions {
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
  readonly sleep: Sleep;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export interface FinishedExecution {
  readonly id: string;
  readonly startTime?: Date;
  /** When the execution reached Succeeded (CodePipeline's lastUpdateTime). */
  readonly endTime?: Date;
}

const RUNNING = new Set(['InProgress', 'Stopping']);

/** The newest execution whose source revision is `commitId` (it appears once the Source action has run). */
async function findExecution(
  clients: Clients,
  pipelineName: string,
  commitId: string,
): Promise<PipelineExecutionSummary | undefined> {
  const { pipelineExecutionSummaries = [] } = await retrying(() =>
    clients.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: 25 })),
  );
  return pipelineExecutionSummaries.find((e) => (e.sourceRevisions ?? []).some((r) => r.revisionId === commitId));
}

/**
 * Polls until the execution that builds `commitId` succeeds. Throws OpsError when it fails, is stopped or superseded,
 * or has not succeeded within the timeout.
 */
export async function waitForExecution(
  clients: Clients,
  pipelineName: string,
  commitId: string,
  options: WaitOptions,
): Promise<FinishedExecution> {
  const deadline = options.now() + options.timeoutSeconds * 1000;
  let lastState = '';
  for (;;) {
    const execution = await findExecution(clients, pipelineName, commitId);
    const status = execution?.status ?? 'not started';
    if (status !== lastState) {
      options.log?.(`pipeline: ${pipelineName} run for ${commitId.slice(0, 12)}: ${status}`);
      lastState = status;
    }
    if (execution && status === 'Succeeded') {
      return { id: execution.pipelineExecutionId ?? '', startTime: execution.startTime, endTime: execution.lastUpdateTime };
    }
    if (execution && !RUNNING.has(status)) {
      const id = execution.pipelineExecutionId ?? '';
      const detail = (await recentExecutions(clients, pipelineName, 10)).find((e) => e.id === id);
      throw new OpsError(
        `pipeline ${pipelineName} run ${id} for ${commitId} ended ${status}` +
          `${detail?.stage ? ` in ${detail.stage} (${detail.stageStatus ?? '-'})` : ''}: see its log in the console (PipelineConsoleUrl output)`,
        EXIT.FAILED,
      );
    }
    if (options.now() >= deadline) {
      throw new OpsError(
        `pipeline ${pipelineName} has no successful run for ${commitId} after ${options.timeoutSeconds}s (last seen: ${status}); raise --pipeline-timeout if it is still running`,
        EXIT.FAILED,
      );
    }
    await options.sleep(options.pollSeconds * 1000, options.signal);
  }
}
