#!/usr/bin/env node
// `npm run rollback -- --env prod [--to TAG] [--yes]`: back to the previous (or a given) image, through CloudFormation.
import { createInterface } from 'node:readline/promises';
import { DEFAULT_ENVIRONMENT, loadConfig } from '../lib/config';
import { runMain } from '../lib/ops/cli';
import { checkAccount, createClients } from '../lib/ops/clients';
import { EXIT, OpsError } from '../lib/ops/errors';
import { rollback } from '../lib/ops/rollback';

const USAGE = `usage: npm run rollback -- [--env NAME] [--to TAG] [--yes]

Rolls the environment back to the image of the successful pipeline run before the one that shipped the running tag
(or to --to TAG), through the Service stack's ImageTag parameter, and waits for CloudFormation.

  --env NAME   the environment (${DEFAULT_ENVIRONMENT})
  --to TAG     the image tag to roll back to (default: the release before the running one)
  -y, --yes    do not ask; without a terminal, rollback refuses unless --yes is given
  -h, --help   this text

Exit: 0 rolled back (or nothing to do); 1 failed or cancelled; 2 usage, or no terminal and no --yes; 3 no
credentials; 4 wrong account or region; 5 not deployed; 6 unknown tag; 7 an update is in progress; 8 throttled;
10 network failure.`;

runMain({
  usage: USAGE,
  options: {
    env: { type: 'string', default: DEFAULT_ENVIRONMENT },
    to: { type: 'string' },
    yes: { type: 'boolean', short: 'y', default: false },
  },
  run: async (values, io) => {
    const config = loadConfig(values.env);
    // Checked before any AWS call. Without a terminal (CI, ssh without a tty, </dev/null) nobody can answer the
    // question, and going ahead unasked would roll back prod on a typo: only an explicit --yes may skip it.
    if (!values.yes && !process.stdin.isTTY) {
      throw new OpsError(
        'rollback asks before it changes anything, but stdin is not a terminal: run it from a terminal, or pass --yes to roll back without asking; nothing changed',
        EXIT.USAGE,
      );
    }
    const clients = createClients(config, { maxAttempts: Number(process.env.AWS_MAX_ATTEMPTS) || undefined });
    await checkAccount(clients, config);
    const confirm = values.yes
      ? undefined
      : async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`${question} [y/N] `);
          rl.close();
          return /^y(es)?$/i.test(answer.trim());
        };
    await rollback(clients, config, { to: values.to, confirm, log: io.out });
  },
});
