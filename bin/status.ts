#!/usr/bin/env node
// `npm run status -- --env dev [--json] [--watch] [--interval 10]`: what is deployed, and how the rollout is going.
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { checkAccount, createClients } from '../lib/ops/clients';
import { runCommand } from '../lib/ops/cli';
import { EXIT, OpsError } from '../lib/ops/errors';
import { gatherStatus, progressLine, renderStatus, rolloutState } from '../lib/ops/status';

runCommand(async () => {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: 'dev' },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string', default: '10' },
      timeout: { type: 'string', default: '1800' },
    },
  });
  const config = loadConfig(values.env);
  const clients = createClients(config);
  const account = await checkAccount(clients, config);
  const region = await clients.cloudformation.config.region();
  const gather = () => gatherStatus(clients, config, { account, region });

  let report = await gather();
  if (values.watch) {
    const deadline = Date.now() + Number(values.timeout) * 1000;
    console.error(progressLine(report));
    while (rolloutState(report) === 'IN_PROGRESS') {
      if (Date.now() > deadline) throw new OpsError(`the rollout did not settle within ${values.timeout}s`, EXIT.FAILED);
      await new Promise((resolve) => setTimeout(resolve, Number(values.interval) * 1000));
      report = await gather();
      console.error(progressLine(report));
    }
  }
  console.log(values.json ? JSON.stringify(report, null, 2) : renderStatus(report));
  if (values.watch && rolloutState(report) === 'FAILED')
    throw new OpsError('the rollout failed; ECS rolled it back', EXIT.FAILED);
});
