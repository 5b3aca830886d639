import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';
import { type EnvironmentConfig, environments, validateConfig } from '../lib/config';

/** `cdk.json`'s context (feature flags): a bare `new App()` synthesizes a different template than `cdk synth`. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'),
).context;

export type ConfigOverrides = Partial<Omit<EnvironmentConfig, 'pipeline'>> & {
  pipeline?: Partial<EnvironmentConfig['pipeline']>;
};

/** A configuration (a shipped environment's, by name, or a fixture) with some fields changed, validated like `bin/` does. */
export function configWith(from: string | EnvironmentConfig, overrides: ConfigOverrides = {}): EnvironmentConfig {
  const base = typeof from === 'string' ? environments[from] : from;
  return validateConfig(base.envName, {
    ...base,
    ...overrides,
    pipeline: { ...base.pipeline, ...overrides.pipeline },
  } as EnvironmentConfig);
}

export interface Synthesized {
  /** The stack's template, by stack key. */
  template(stack: keyof ReturnType<typeof buildApp>): Template;
  /** The findings of every validation plugin (cdk-nag packs and CloudFormation validation). */
  readonly validationReport: { pluginReports: unknown[] };
}

/** Synthesizes one environment exactly as `bin/` does: same build function, `cdk.json` context, cdk-nag on. */
export function synth(config: EnvironmentConfig): Synthesized {
  const app = new cdk.App({ context: CDK_CONTEXT });
  const stacks = buildApp(app, config);
  const assembly = app.synth();
  const reportFile = path.join(assembly.directory, 'validation-report.json');
  const validationReport = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
  const templates = new Map<string, Template>();
  return {
    validationReport,
    template(key) {
      if (!templates.has(key)) templates.set(key, Template.fromJSON(assembly.getStackByName(stacks[key].stackName).template));
      return templates.get(key)!;
    },
  };
}

export interface CliSynth {
  /** What `bin/` printed and returned. */
  readonly cli: { status: number | null; stdout: string; stderr: string };
  /** The stack's template, by stack key. */
  template(stack: 'registry' | 'service' | 'pipeline'): Template;
  /** The raw template JSON, by stack key. */
  json(stack: 'registry' | 'service' | 'pipeline'): Record<string, any>;
  /** The cloud assembly manifest's artifact of a stack. */
  artifact(stack: 'registry' | 'service' | 'pipeline'): Record<string, any>;
  readonly validationReport: { pluginReports: unknown[] };
}

/** One shipped environment as `cdk synth` produced it in the global setup (test/setup/global-setup.ts). */
export function synthesized(env: string): CliSynth {
  const dir = process.env.SYNTH_DIR;
  if (!dir) throw new Error('SYNTH_DIR is not set: run the tests through jest, whose global setup synthesizes');
  const outdir = path.join(dir, env);
  const cli = JSON.parse(fs.readFileSync(path.join(dir, `${env}.cli.json`), 'utf8'));
  const config = environments[env];
  const name = (stack: string) => `${config.appName}-${config.envName}-${stack}`;
  const json = (stack: string) => {
    const file = path.join(outdir, `${name(stack)}.template.json`);
    if (!fs.existsSync(file)) throw new Error(`cdk synth of ${env} wrote no ${name(stack)}: ${cli.stderr}`);
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  };
  const reportFile = path.join(outdir, 'validation-report.json');
  return {
    cli,
    json,
    template: (stack) => Template.fromJSON(json(stack)),
    artifact: (stack) => JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')).artifacts[name(stack)],
    validationReport: fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : { pluginReports: [] },
  };
}

/**
 * Evaluates a template's Fn::If/Condition for given parameter values (and pseudo parameters such as `AWS::Region`):
 * what CloudFormation would deploy. A value that resolves to AWS::NoValue comes back as undefined.
 */
export function resolveConditions(
  template: Record<string, any>,
  parameters: Record<string, string>,
): (value: unknown) => unknown {
  const params: Record<string, string> = { 'AWS::Region': 'eu-west-1', 'AWS::Partition': 'aws', ...parameters };
  for (const [name, p] of Object.entries<any>(template.Parameters ?? {})) params[name] = parameters[name] ?? p.Default;
  /** AWS::NoValue drops the property or list item it stands for, as CloudFormation does. */
  const NO_VALUE = Symbol('AWS::NoValue');
  const evalExpr = (e: any): any => {
    if (e === null || typeof e !== 'object') return e;
    if (Array.isArray(e)) return e.map(evalExpr).filter((v) => v !== NO_VALUE);
    if ('Ref' in e && e.Ref === 'AWS::NoValue') return NO_VALUE;
    if ('Ref' in e && e.Ref in params) return params[e.Ref];
    if ('Fn::Equals' in e) return evalExpr(e['Fn::Equals'][0]) === evalExpr(e['Fn::Equals'][1]);
    if ('Fn::Not' in e) return !evalExpr(e['Fn::Not'][0]);
    if ('Fn::And' in e) return e['Fn::And'].every(evalExpr);
    if ('Fn::Or' in e) return e['Fn::Or'].some(evalExpr);
    if ('Condition' in e && Object.keys(e).length === 1) return evalExpr(template.Conditions[e.Condition]);
    if ('Fn::If' in e) {
      const [cond, yes, no] = e['Fn::If'];
      return evalExpr(evalExpr(template.Conditions[cond]) ? yes : no);
    }
    return Object.fromEntries(
      Object.entries(e)
        .map(([k, v]) => [k, evalExpr(v)])
        .filter(([, v]) => v !== NO_VALUE),
    );
  };
  return (value) => {
    const resolved = evalExpr(value);
    return resolved === NO_VALUE ? undefined : resolved;
  };
}
