#!/usr/bin/env node
// `npm run status -- --env dev [--json] [--watch] [--interval 10] [--timeout 1800]`: what is deployed, and how the
// rollout is going.
import { DEFAULT_ENVIRONMENT, loadConfig } from '../lib/config';
import { runMain, seconds } from '../lib/ops/cli';
import { checkAccount, createClients } from '../lib/ops/clients';
import { EXIT, OpsError } from '../lib/ops/errors';
import { gatherStatus, progressLine, renderStatus, rolloutState } from '../lib/ops/status';

const USAGE = `usage: npm run status -- [--env NAME] [--json] [--watch [--interval SECONDS] [--timeout SECONDS]]

Shows what is deployed in one environment: stacks, image tag and digest, scan findings, rollout, tasks, the last
pipeline runs and the health check. A part that cannot be read (access denied, say) is marked "not readable" with
the reason, and the rest is still shown.

  --env NAME          the environment (${DEFAULT_ENVIRONMENT})
  --json              print the report as JSON
  --watch             follow the rollout, one progress line on stderr per interval, until it settles
  --interval SECONDS  time between checks with --watch (10)
  --timeout SECONDS   give up watching after this long (1800)
  -h, --help          this text

Exit: 0 report shown (even partial); 1 the watched rollout failed or did not settle; 2 usage; 3 no credentials or
access to the service stack denied; 4 wrong account or region; 5 not deployed; 8 throttled; 10 network failure.`;

runMain({
  usage: USAGE,
  options: {
    env: { type: 'string', default: DEFAULT_ENVIRONMENT },
    json: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
    interval: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '1800' },
  },
  check: (values) => {
    seconds('interval', values.interval);
    seconds('timeout', values.timeout);
  },
  run: async (values, io) => {
    const config = loadConfig(values.env);
    const clients = createClients(config, { maxAttempts: Number(process.env.AWS_MAX_ATTEMPTS) || undefined });
    const account = await checkAccount(clients, config);
    const region = await clients.cloudformation.config.region();
    // --watch follows the ECS service: without it there is nothing to watch, so its read failing is a failure.
    const gather = () => gatherStatus(clients, config, { account, region, essential: values.watch ? ['service'] : [] });

    let report = await gather();
    if (values.watch) {
      const interval = seconds('interval', values.interval);
      const deadline = Date.now() + seconds('timeout', values.timeout) * 1000;
      io.err(progressLine(report));
      while (rolloutState(report) === 'IN_PROGRESS') {
        if (Date.now() > deadline) throw new OpsError(`the rollout did not settle within ${values.timeout}s`, EXIT.FAILED);
        await new Promise((resolve) => setTimeout(resolve, interval * 1000));
        report = await gather();
        io.err(progressLine(report));
      }
    }
    io.out(values.json ? JSON.stringify(report, null, 2) : renderStatus(report));
    if (values.watch && rolloutState(report) === 'FAILED')
      throw new OpsError('the rollout failed; ECS rolled it back', EXIT.FAILED);
  },
});
