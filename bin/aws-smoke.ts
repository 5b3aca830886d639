#!/usr/bin/env node
// `npm run test:aws -- --env dev --confirm-account 123456789012`: the first-deploy path in a real account, then its
// teardown. Opt-in, and it costs money: see docs/real-account-test.md.
import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { loadConfig } from '../lib/config';
import { runCommand } from '../lib/ops/cli';
import { createClients } from '../lib/ops/clients';
import { EXIT, OpsError } from '../lib/ops/errors';
import { argsOrExit } from '../lib/ops/smoke/args';
import { spawnProcess } from '../lib/ops/smoke/process';
import { renderSmokeReport } from '../lib/ops/smoke/report';
import { runSmoke } from '../lib/ops/smoke/run';

const parsed = argsOrExit(process.argv.slice(2));
if (typeof parsed === 'number') process.exit(parsed);
const options = parsed;

runCommand(async () => {
  const config = loadConfig(options.env);
  const clients = {
    ...createClients(config),
    codecommit: new CodeCommitClient({
      region: config.region,
      maxAttempts: 8,
      retryMode: 'adaptive',
      credentials: defaultProvider(),
    }),
  };

  // First Ctrl-C: stop the current step and clean up. Second: stop the cleanup too, and say how to finish it.
  const interrupt = new AbortController();
  const stopCleanup = new AbortController();
  process.on('SIGINT', () => {
    if (!interrupt.signal.aborted) {
      console.error('\nsmoke: interrupted: cleaning up (cdk destroy). Press Ctrl-C again to stop the cleanup as well.');
      interrupt.abort();
    } else if (!stopCleanup.signal.aborted) {
      console.error(`\nsmoke: cleanup stopped: finish it with \`npx cdk destroy --all --force -c env=${config.envName}\``);
      stopCleanup.abort();
    }
  });

  const result = await runSmoke(
    {
      clients,
      run: spawnProcess,
      log: (line) => console.log(line),
      signal: interrupt.signal,
      cleanupSignal: stopCleanup.signal,
    },
    {
      config,
      confirmAccount: options.confirmAccount,
      pipelineTimeoutSeconds: options.pipelineTimeoutSeconds,
      verifyTimeoutSeconds: options.verifyTimeoutSeconds,
      pollSeconds: options.pollSeconds,
    },
  );
  console.log(`\n${renderSmokeReport(result)}`);
  if (result.failure) throw result.failure;
  if (result.leftBehind.some((l) => l.type === 'AWS::CloudFormation::Stack')) {
    throw new OpsError('some stacks were not removed: see "Left behind" above', EXIT.FAILED);
  }
}, options.env);
