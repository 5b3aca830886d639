import {
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import type { Clients } from './clients';
import { retrying } from './retry';

export interface ExecutionInfo {
  readonly id: string;
  readonly status: string;
  readonly startedAt?: Date;
  readonly trigger?: string;
  readonly commit?: string;
  /** The last stage the execution reached, with that stage's result. */
  readonly stage?: string;
  readonly stageStatus?: string;
  /** The image tag its Build stage produced. */
  readonly imageTag?: string;
}

/** The most recent executions of a pipeline, newest first, each with its last stage and image tag. */
export async function recentExecutions(clients: Clients, pipelineName: string, count = 5): Promise<ExecutionInfo[]> {
  const { pipelineExecutionSummaries = [] } = await retrying(() =>
    clients.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: count })),
  );
  return Promise.all(pipelineExecutionSummaries.slice(0, count).map((e) => describeExecution(clients, pipelineName, e)));
}

async function describeExecution(
  clients: Clients,
  pipelineName: string,
  summary: PipelineExecutionSummary,
): Promise<ExecutionInfo> {
  const id = summary.pipelineExecutionId ?? '';
  const actions = [];
  let nextToken: string | undefined;
  do {
    const page = await retrying(() =>
      clients.codepipeline.send(
        new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId: id }, nextToken }),
      ),
    );
    actions.push(...(page.actionExecutionDetails ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const latest = [...actions].sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0))[0];
  const build = actions.find((a) => a.stageName === 'Build');
  return {
    id,
    status: summary.status ?? 'Unknown',
    startedAt: summary.startTime,
    trigger: summary.trigger?.triggerType,
    commit: summary.sourceRevisions?.[0]?.revisionId,
    stage: latest?.stageName,
    stageStatus: latest?.status,
    imageTag: build?.output?.outputVariables?.IMAGE_TAG,
  };
}

/**
 * The release before `current`: the image tag of the newest successful pipeline execution that is older than the
 * newest successful execution which shipped `current`, and shipped a different tag.
 *
 * "Before the current one", not "the newest that differs": after a rollback from v3 to v2 the history still reads
 * v3, v2, v1, and the newest tag other than v2 is v3, the release that was just rolled back. Walking back from the
 * current tag's own run makes a second rollback go to v1, and a rollback after `--to v2` go to the release before v2.
 *
 * `found` says whether `current` was among the executions read (at most 8 pages of 25); when it was not, there is
 * no "before" to speak of, and `tag` is undefined.
 */
export async function previousDeployedTag(
  clients: Clients,
  pipelineName: string,
  current: string,
): Promise<{ tag?: string; found: boolean }> {
  let nextToken: string | undefined;
  let pages = 0;
  let found = false;
  do {
    const page = await retrying(() =>
      clients.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: 25, nextToken })),
    );
    for (const summary of page.pipelineExecutionSummaries ?? []) {
      if (summary.status !== 'Succeeded') continue;
      const { imageTag } = await describeExecution(clients, pipelineName, summary);
      if (imageTag === current) found = true;
      else if (found && imageTag) return { tag: imageTag, found };
    }
    nextToken = page.nextToken;
  } while (nextToken && ++pages < 8);
  return { found };
}
