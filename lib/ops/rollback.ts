import {
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { type EnvironmentConfig, stackNames } from '../config';
import type { Clients } from './clients';
import { EXIT, OpsError } from './errors';
import { repositoryNameOf, requireImage } from './images';
import { previousDeployedTag } from './pipeline';
import { retrying } from './retry';
import { describeStack } from './stack';

export interface RollbackOptions {
  /** The tag to roll back to. Default: the tag of the successful pipeline run before the one that shipped the current tag. */
  readonly to?: string;
  /** Asked before anything changes; false cancels. */
  readonly confirm?: (question: string) => Promise<boolean>;
  readonly log?: (line: string) => void;
  readonly maxWaitSeconds?: number;
  readonly pollSeconds?: number;
}

export interface RollbackResult {
  readonly from: string;
  readonly to: string;
  readonly changed: boolean;
  readonly seconds: number;
}

/**
 * Rolls the service back through the same CloudFormation ImageTag parameter the pipeline sets, after checking that
 * the image exists in ECR. Never touches the ECS service directly, so CloudFormation stays the owner of the image.
 */
export async function rollback(
  clients: Clients,
  config: EnvironmentConfig,
  options: RollbackOptions = {},
): Promise<RollbackResult> {
  const log = options.log ?? (() => undefined);
  const names = stackNames(config);
  const stack = await describeStack(clients, names.service, config.envName);
  if (stack.status.endsWith('_IN_PROGRESS')) {
    throw new OpsError(
      `${names.service} is ${stack.status}: a deploy or rollback is in progress; follow it with \`npm run status -- --env ${config.envName} --watch\` and retry when it settles`,
      EXIT.ROLLBACK_IN_PROGRESS,
    );
  }
  const current = stack.parameters.ImageTag;
  let target = options.to;
  if (!target) {
    const pipeline = await describeStack(clients, names.pipeline, config.envName);
    const previous = await previousDeployedTag(clients, pipeline.outputs.PipelineName, current);
    if (!previous.found) {
      throw new OpsError(
        `${names.service} runs ${current}, which no recent successful run of ${names.pipeline} shipped: pass --to TAG`,
        EXIT.UNKNOWN_TAG,
      );
    }
    target = previous.tag;
    if (!target) {
      throw new OpsError(`no earlier image in ${names.pipeline}'s successful runs: pass --to TAG`, EXIT.UNKNOWN_TAG);
    }
  }
  if (target === current) {
    log(`rollback: ${names.service} already runs ${target}; nothing to do`);
    return { from: current, to: target, changed: false, seconds: 0 };
  }
  const image = await requireImage(clients, repositoryNameOf(stack.outputs.RepositoryUri), target);
  log(`rollback: ${names.service}: ${current} → ${target} (${image.digest})`);
  if (options.confirm && !(await options.confirm(`Roll ${config.envName} back from ${current} to ${target}?`))) {
    throw new OpsError('rollback cancelled; nothing changed', EXIT.FAILED);
  }

  const started = Date.now();
  try {
    await retrying(() =>
      clients.cloudformation.send(
        new UpdateStackCommand({
          StackName: names.service,
          UsePreviousTemplate: true,
          // The Service stack's image-deploy role (lib/constructs/image-deploy-role.ts): CloudFormation changes the
          // image with it, never with the CDK bootstrap's administrator role.
          RoleARN: stack.outputs.ImageDeployRoleArn,
          Parameters: Object.keys(stack.parameters).map((key) =>
            key === 'ImageTag' ? { ParameterKey: key, ParameterValue: target } : { ParameterKey: key, UsePreviousValue: true },
          ),
          Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
        }),
      ),
    );
  } catch (error) {
    if (/is in \w+_IN_PROGRESS state/.test(String((error as Error).message))) {
      throw new OpsError(`${names.service} started another update meanwhile: retry when it settles`, EXIT.ROLLBACK_IN_PROGRESS);
    }
    throw error;
  }
  log(`rollback: CloudFormation is updating ${names.service}; waiting…`);

  try {
    await waitUntilStackUpdateComplete(
      {
        client: clients.cloudformation,
        maxWaitTime: options.maxWaitSeconds ?? 3600,
        minDelay: options.pollSeconds ?? 15,
        maxDelay: Math.max(options.pollSeconds ?? 15, 30),
      },
      { StackName: names.service },
    );
  } catch {
    const { Stacks } = await retrying(() => clients.cloudformation.send(new DescribeStacksCommand({ StackName: names.service })));
    const { StackEvents = [] } = await retrying(() =>
      clients.cloudformation.send(new DescribeStackEventsCommand({ StackName: names.service })),
    );
    const failed = StackEvents.find((e) => e.ResourceStatus === 'UPDATE_FAILED');
    throw new OpsError(
      `the rollback to ${target} failed and ended ${Stacks?.[0]?.StackStatus ?? 'UNKNOWN'}` +
        `${failed ? `: ${failed.LogicalResourceId}: ${failed.ResourceStatusReason}` : ''}; the service still runs ${current}`,
      EXIT.FAILED,
    );
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`rollback: ${names.service} now runs ${target} (${seconds}s)`);
  return { from: current, to: target, changed: true, seconds };
}
