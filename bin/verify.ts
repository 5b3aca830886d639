#!/usr/bin/env node
// The pipeline's Verify step: `npx tsx bin/verify.ts --env dev --tag <sha> --digest sha256:...`
import { loadConfig, stackNames } from '../lib/config';
import { UsageError, runMain, seconds } from '../lib/ops/cli';
import { checkAccount, createClients } from '../lib/ops/clients';
import { verifyDeployment } from '../lib/ops/verify';

const USAGE = `usage: npx tsx bin/verify.ts --env NAME --tag TAG --digest sha256:... [--timeout SECONDS]

The pipeline's Verify step: checks that the Service stack runs TAG, that every running task runs DIGEST, and that
the service answers its health check through the load balancer.

  --env NAME         the environment; required
  --tag TAG          the image tag the Deploy stage set; required
  --digest DIGEST    the image digest the Build stage pushed; required
  --timeout SECONDS  how long to wait for the tasks and the health check (300)
  -h, --help         this text

Exit: 0 verified; 2 usage; 3 no credentials; 4 wrong account or region; 5 not deployed; 9 not verified;
10 network failure.`;

runMain({
  usage: USAGE,
  options: {
    env: { type: 'string' },
    tag: { type: 'string' },
    digest: { type: 'string' },
    timeout: { type: 'string', default: '300' },
  },
  check: (values) => {
    const missing = (['env', 'tag', 'digest'] as const).filter((name) => !values[name]);
    if (missing.length) throw new UsageError(`missing ${missing.map((name) => `--${name}`).join(', ')}`);
    seconds('timeout', values.timeout, 0);
  },
  run: async (values, io) => {
    const config = loadConfig(values.env);
    const clients = createClients(config, { maxAttempts: Number(process.env.AWS_MAX_ATTEMPTS) || undefined });
    await checkAccount(clients, config);
    await verifyDeployment(clients, {
      envName: config.envName,
      stackName: stackNames(config).service,
      imageTag: values.tag!,
      imageDigest: values.digest!,
      healthCheckPath: config.healthCheckPath,
      timeoutSeconds: seconds('timeout', values.timeout, 0),
      log: io.out,
    });
  },
});
