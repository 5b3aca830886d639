/**
 * Every template this project synthesizes: each shipped environment, as `cdk synth` writes it, and the variants the stack
 * tests build (test/stacks/*.test.ts), through `buildApp` with cdk.json's context as test/helpers.ts `synth()` does.
 * The templates tier's global setup (global-setup.ts) synthesizes them all once; test files read them here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { buildApp } from '../../lib/app';
import { type EnvironmentConfig, environments } from '../../lib/config';
import { DEV } from '../config-fixtures';
import { CDK_CONTEXT, configWith } from '../helpers';

/** One synthesized cloud assembly. */
export interface Target {
  /** `dev`, `prod`, or the variant's name. */
  readonly name: string;
  /** The cloud assembly directory. */
  readonly dir: string;
  /** The absolute paths of its templates. */
  readonly templates: string[];
}

/**
 * The variants the stack tests (test/stacks/service-stack.test.ts, pipeline-stack.test.ts) synthesize and assert on: the
 * fixture `dev` (test/config-fixtures.ts) with the features the shipped environments leave off.
 */
export const VARIANTS: Record<string, () => EnvironmentConfig> = {
  // service-stack.test.ts: a domain, blue/green, x86_64, a non-default port, an alarm email, variables and secrets.
  'dev+domain+blue-green+x86+port9000+secrets': () =>
    configWith(DEV, {
      domain: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com', recordName: 'app.example.com' },
      allowPlainHttp: undefined,
      production: true,
      minCapacity: 2,
      removalPolicy: 'retain',
      useFargateSpot: false,
      deploymentStrategy: 'BLUE_GREEN',
      cpuArchitecture: 'X86_64',
      containerPort: 9000,
      alarmEmail: 'ops@example.com',
      environment: { FEATURE_X: 'on' },
      secrets: { DATABASE_URL: 'orders/database-url', API_KEY: 'orders/api:key' },
    }),
  // pipeline-stack.test.ts: a CodeConnections source on x86_64.
  'dev+connection-source+x86': () =>
    configWith(DEV, {
      cpuArchitecture: 'X86_64',
      pipeline: {
        source: {
          kind: 'connection',
          connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
          owner: 'acme',
          repo: 'web',
          branch: 'release',
          filePaths: ['app/**', 'lib/pipeline/**'],
        },
      },
    }),
};

function templatesIn(dir: string): string[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no templates in ${dir}`);
  return files;
}

/** A synthesized cloud assembly that the global setup left: a shipped environment or a variant. */
export function target(name: string): Target {
  const variable = name in VARIANTS ? 'VARIANTS_DIR' : 'SYNTH_DIR';
  const dir = process.env[variable];
  if (!dir)
    throw new Error(`${variable} is not set: run these tests through \`npm run test:templates\`, whose global setup synthesizes`);
  const cliFile = path.join(dir, `${name}.cli.json`);
  if (!fs.existsSync(cliFile)) throw new Error(`${name} was not synthesized: run these tests through \`npm run test:templates\``);
  const cli = JSON.parse(fs.readFileSync(cliFile, 'utf8'));
  if (cli.status !== 0) throw new Error(`synthesis of ${name} failed: ${cli.stderr}`);
  return { name, dir: path.join(dir, name), templates: templatesIn(path.join(dir, name)) };
}

/** Synthesizes a configuration through `buildApp`, with cdk.json's context, into `outdir`. */
export function synthesizeVariant(config: EnvironmentConfig, outdir: string): void {
  const app = new cdk.App({ context: CDK_CONTEXT, outdir });
  buildApp(app, config);
  app.synth();
}

/** The names of every target: each shipped environment, then each variant. */
export const TARGET_NAMES = [...Object.keys(environments), ...Object.keys(VARIANTS)];
