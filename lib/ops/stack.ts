import { DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import type { Clients } from './clients';
import { retrying } from './retry';
import { EXIT, OpsError } from './errors';

/** What the ops commands read from a deployed stack. */
export interface StackInfo {
  readonly name: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly lastUpdated?: Date;
  readonly parameters: Record<string, string>;
  readonly outputs: Record<string, string>;
}

export function toStackInfo(stack: Stack): StackInfo {
  return {
    name: stack.StackName ?? '',
    status: stack.StackStatus ?? 'UNKNOWN',
    statusReason: stack.StackStatusReason,
    lastUpdated: stack.LastUpdatedTime ?? stack.CreationTime,
    parameters: Object.fromEntries((stack.Parameters ?? []).map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? ''])),
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
  };
}

/** Reads a stack, or throws NOT_DEPLOYED with the command that deploys it. */
export async function describeStack(clients: Clients, stackName: string, envName: string): Promise<StackInfo> {
  try {
    const { Stacks } = await retrying(() => clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName })));
    if (!Stacks?.[0]) throw new Error('does not exist');
    return toStackInfo(Stacks[0]);
  } catch (error) {
    if (/does not exist/.test(String((error as Error).message))) {
      throw new OpsError(`stack ${stackName} is not deployed: run \`npx cdk deploy --all -c env=${envName}\``, EXIT.NOT_DEPLOYED);
    }
    throw error;
  }
}

/** Reads a stack, or returns undefined when it does not exist. */
export async function findStack(clients: Clients, stackName: string): Promise<StackInfo | undefined> {
  try {
    return await describeStack(clients, stackName, '');
  } catch (error) {
    if (error instanceof OpsError && error.exitCode === EXIT.NOT_DEPLOYED) return undefined;
    throw error;
  }
}
