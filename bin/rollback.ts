#!/usr/bin/env node
// `npm run rollback -- --env prod [--to TAG] [--yes]`: back to the previous (or a given) image, through CloudFormation.
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { checkAccount, createClients } from '../lib/ops/clients';
import { runCommand } from '../lib/ops/cli';
import { EXIT, OpsError } from '../lib/ops/errors';
import { rollback } from '../lib/ops/rollback';

runCommand(async () => {
  const { values } = parseArgs({
    options: { env: { type: 'string', default: 'dev' }, to: { type: 'string' }, yes: { type: 'boolean', default: false } },
  });
  const config = loadConfig(values.env);
  // Checked before any AWS call. Without a terminal (CI, ssh without a tty, </dev/null) nobody can answer the
  // question, and going ahead unasked would roll back prod on a typo: only an explicit --yes may skip it.
  if (!values.yes && !process.stdin.isTTY) {
    throw new OpsError(
      'rollback asks before it changes anything, but stdin is not a terminal: run it from a terminal, or pass --yes to roll back without asking; nothing changed',
      EXIT.USAGE,
    );
  }
  const clients = createClients(config);
  await checkAccount(clients, config);
  const confirm = values.yes
    ? undefined
    : async (question: string) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`${question} [y/N] `);
        rl.close();
        return /^y(es)?$/i.test(answer.trim());
      };
  await rollback(clients, config, { to: values.to, confirm, log: (line) => console.log(line) });
});
