#!/usr/bin/env node
// `npm run rollback -- --env prod [--to TAG] [--yes]`: back to the previous (or a given) image, through CloudFormation.
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { checkAccount, createClients } from '../lib/ops/clients';
import { runCommand } from '../lib/ops/cli';
import { rollback } from '../lib/ops/rollback';

runCommand(async () => {
  const { values } = parseArgs({
    options: { env: { type: 'string', default: 'dev' }, to: { type: 'string' }, yes: { type: 'boolean', default: false } },
  });
  const config = loadConfig(values.env);
  const clients = createClients(config);
  await checkAccount(clients, config);
  const confirm =
    values.yes || !process.stdin.isTTY
      ? undefined
      : async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`${question} [y/N] `);
          rl.close();
          return /^y(es)?$/i.test(answer.trim());
        };
  await rollback(clients, config, { to: values.to, confirm, log: (line) => console.log(line) });
});
