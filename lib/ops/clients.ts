import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { HandlerExecutionContext } from '@aws-sdk/types';
import type { EnvironmentConfig } from '../config';
import { retrying } from './retry';
import { EXIT, OpsError } from './errors';

/** The AWS clients the ops commands use. Tests pass mocked ones. */
export interface Clients {
  readonly cloudformation: CloudFormationClient;
  readonly ecs: ECSClient;
  readonly ecr: ECRClient;
  readonly codepipeline: CodePipelineClient;
  readonly sts: STSClient;
}

export interface ClientOptions {
  /**
   * Attempts per AWS call, the first included. The entry points pass AWS_MAX_ATTEMPTS, which the SDK would read
   * itself if the clients did not set a value.
   * @default 8
   */
  readonly maxAttempts?: number;
}

/**
 * Clients for one environment: its configured region (else the usual AWS_REGION / profile chain), and adaptive
 * retries so that throttling is retried before it is reported. Every failed call is labelled with its operation and
 * endpoint, so that a network failure can say which call failed and where it went.
 */
export function createClients(config: EnvironmentConfig, clientOptions: ClientOptions = {}): Clients {
  const options = {
    region: config.region,
    maxAttempts: clientOptions.maxAttempts ?? 8,
    retryMode: 'adaptive' as const,
    credentials: defaultProvider(),
  };
  return {
    cloudformation: labelled(new CloudFormationClient(options)),
    ecs: labelled(new ECSClient(options)),
    ecr: labelled(new ECRClient(options)),
    codepipeline: labelled(new CodePipelineClient(options)),
    sts: labelled(new STSClient(options)),
  };
}

/** Adds `$call: { operation, endpoint }` to every error a client's command throws (read by `explain`). */
function labelled<C extends { middlewareStack: { add: (...args: any[]) => void } }>(client: C): C {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: HandlerExecutionContext) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === 'object' && !('$call' in error)) {
          const operation = `${(context.clientName ?? '').replace(/Client$/, '')} ${(context.commandName ?? '').replace(/Command$/, '')}`;
          // endpointV2 is resolved during serialization, so it is known by the time an error comes back this far.
          const endpoint = context.endpointV2?.url?.origin ?? 'endpoint not resolved';
          Object.defineProperty(error, '$call', { value: { operation: operation.trim(), endpoint }, enumerable: false });
        }
        throw error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'opsErrorContext' },
  );
  return client;
}

/** Checks that the credentials work and belong to the environment's account (when it names one). */
export async function checkAccount(clients: Clients, config: EnvironmentConfig): Promise<string> {
  // Credentials first: without them, nothing else matters (and the region may come from the same profile).
  await clients.sts.config.credentials();
  const identity = await retrying(() => clients.sts.send(new GetCallerIdentityCommand({})));
  const account = identity.Account ?? '';
  if (config.account && account !== config.account) {
    throw new OpsError(
      `these credentials are for account ${account}, but '${config.envName}' lives in ${config.account}: switch AWS_PROFILE`,
      EXIT.WRONG_ACCOUNT,
    );
  }
  const region = await clients.sts.config.region();
  if (config.region && region !== config.region) {
    throw new OpsError(
      `region ${region} is not '${config.envName}''s region ${config.region}: set AWS_REGION=${config.region}`,
      EXIT.WRONG_ACCOUNT,
    );
  }
  return account;
}
