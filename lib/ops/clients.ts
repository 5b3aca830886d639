import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
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

/**
 * Clients for one environment: its configured region (else the usual AWS_REGION / profile chain), and adaptive
 * retries so that throttling is retried before it is reported.
 */
export function createClients(config: EnvironmentConfig): Clients {
  const options = { region: config.region, maxAttempts: 8, retryMode: 'adaptive' as const, credentials: defaultProvider() };
  return {
    cloudformation: new CloudFormationClient(options),
    ecs: new ECSClient(options),
    ecr: new ECRClient(options),
    codepipeline: new CodePipelineClient(options),
    sts: new STSClient(options),
  };
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
