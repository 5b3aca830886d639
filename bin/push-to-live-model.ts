#!/usr/bin/env node
// `npm run model:push-to-live [-- --env dev] [--write]`: synthesizes each environment as `cdk synth` does and prints the
// push-to-live model (lib/ops/push-to-live.ts) read from its pipeline and service templates. With --write (as
// `npm run docs` runs it) it writes the model into docs/cost-and-speed.md between its markers instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as cdk from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { environments, loadConfig } from '../lib/config';
import { type PushToLive, pushToLive, renderModelSection } from '../lib/ops/push-to-live';

const { values } = parseArgs({ options: { env: { type: 'string', multiple: true }, write: { type: 'boolean' } } });
const context = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
const models: Record<string, PushToLive> = {};
for (const name of values.env ?? Object.keys(environments)) {
  const app = new cdk.App({ context });
  const stacks = buildApp(app, loadConfig(name));
  const assembly = app.synth();
  const template = (stack: cdk.Stack) => assembly.getStackByName(stack.stackName).template;
  models[name] = pushToLive(template(stacks.pipeline), template(stacks.service));
}
const section = renderModelSection(models);
if (!values.write) {
  console.log(section);
} else {
  const file = path.join(__dirname, '..', 'docs', 'cost-and-speed.md');
  const text = fs.readFileSync(file, 'utf8');
  const [begin, end] = ['<!-- push-to-live:begin -->\n', '\n<!-- push-to-live:end -->'];
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`npm run docs: docs/cost-and-speed.md has no ${begin.trim()} … ${end.trim()} section`);
    process.exit(1);
  }
  const updated = `${text.slice(0, from + begin.length)}${section}${text.slice(to)}`;
  if (updated !== text) fs.writeFileSync(file, updated);
  console.log(`docs/cost-and-speed.md: push-to-live model ${updated === text ? 'unchanged' : 'updated'}`);
}
