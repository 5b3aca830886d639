#!/usr/bin/env node
// The pipeline's Verify step: `npx tsx bin/verify.ts --env dev --tag <sha> --digest sha256:...`
import { parseArgs } from 'node:util';
import { loadConfig, stackNames } from '../lib/config';
import { checkAccount, createClients } from '../lib/ops/clients';
import { runCommand } from '../lib/ops/cli';
import { verifyDeployment } from '../lib/ops/verify';

runCommand(async () => {
  const { values } = parseArgs({
    options: {
      env: { type: 'string' },
      tag: { type: 'string' },
      digest: { type: 'string' },
      timeout: { type: 'string', default: '300' },
    },
  });
  if (!values.env || !values.tag || !values.digest) {
    throw new Error('usage: verify --env NAME --tag TAG --digest sha256:...');
  }
  const config = loadConfig(values.env);
  const clients = createClients(config);
  await checkAccount(clients, config);
  await verifyDeployment(clients, {
    envName: config.envName,
    stackName: stackNames(config).service,
    imageTag: values.tag,
    imageDigest: values.digest,
    healthCheckPath: config.healthCheckPath,
    timeoutSeconds: Number(values.timeout),
    log: (line) => console.log(line),
  });
});
