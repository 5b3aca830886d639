#!/usr/bin/env node
// `npm run model:push-to-live [-- --env dev]`: synthesizes each environment as `cdk synth` does and prints the
// push-to-live model (lib/ops/push-to-live.ts) read from its pipeline and service templates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as cdk from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { environments, loadConfig } from '../lib/config';
import { type PushToLive, pushToLive, renderModelSection } from '../lib/ops/push-to-live';

const { values } = parseArgs({ options: { env: { type: 'string', multiple: true } } });
const context = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
const models: Record<string, PushToLive> = {};
for (const name of values.env ?? Object.keys(environments)) {
  const app = new cdk.App({ context });
  const stacks = buildApp(app, loadConfig(name));
  const assembly = app.synth();
  const template = (stack: cdk.Stack) => assembly.getStackByName(stack.stackName).template;
  models[name] = pushToLive(template(stacks.pipeline), template(stacks.service));
}
console.log(renderModelSection(models));
