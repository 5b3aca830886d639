import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/** Where a step's code lands in the build container: /tmp is the one writable place on CodeBuild's Lambda compute. */
export const STEP_CODE_DIR = '/tmp/pipeline-step';
/** The project environment variables that carry the code's location and digest. */
export const STEP_CODE_URL_VARIABLE = 'STEP_CODE_URL';
export const STEP_CODE_SHA256_VARIABLE = 'STEP_CODE_SHA256';

export interface StepCodeProps {
  /** A shell script under lib/pipeline/ (run with bash), or a TypeScript entry point under bin/ (bundled, run with node). */
  readonly entry: string;
}

const bundles = new Map<string, string>();
/**
 * Bundles a bin/ entry point with esbuild (a devDependency, the version tsx runs on) into one file, once per process. The
 * step then runs it with the image's Node.js: no `npm ci` of the project on every run.
 */
export function bundle(entry: string): string {
  const cached = bundles.get(entry);
  if (cached) return cached;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'step-code-'));
  const outfile = path.join(outdir, `${path.basename(entry, '.ts')}.js`);
  const esbuild: typeof import('esbuild') = require('esbuild');
  esbuild.buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    // The Lambda compute image's Node.js (LinuxArmLambdaBuildImage.AMAZON_LINUX_2023_NODE_22).
    target: 'node22',
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'error',
  });
  bundles.set(entry, outfile);
  return outfile;
}

/**
 * One pipeline step's code, shipped as an S3 asset of the pipeline stack (DESIGN §5.6). The buildspec downloads it,
 * checks its SHA-256 against the digest synthesized next to it, and runs it: the pushed commit can change what Build
 * and the tests do, never what Deploy or the scan gate run.
 */
export class StepCode extends Construct {
  /** The file as the step runs it. */
  public readonly fileName: string;
  /** The SHA-256 of the file (hex). */
  public readonly sha256: string;
  /** The project environment variables the commands read. */
  public readonly environment: Record<string, string>;
  private readonly asset: s3assets.Asset;
  private readonly runner: string;

  constructor(scope: Construct, id: string, props: StepCodeProps) {
    super(scope, id);
    const script = props.entry.endsWith('.sh');
    const file = script ? props.entry : bundle(props.entry);
    this.fileName = path.basename(file);
    this.runner = script ? 'bash' : 'node';
    this.sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    this.asset = new s3assets.Asset(this, 'Asset', { path: file });
    this.environment = {
      [STEP_CODE_URL_VARIABLE]: this.asset.s3ObjectUrl,
      [STEP_CODE_SHA256_VARIABLE]: this.sha256,
    };
  }

  /** The local path of the code in the build container. */
  public get localPath(): string {
    return `${STEP_CODE_DIR}/${this.fileName}`;
  }

  /** Buildspec commands that fetch the code, check it, and run it with `args`. */
  public commands(args = ''): string[] {
    return [
      `aws s3 cp --only-show-errors "$${STEP_CODE_URL_VARIABLE}" ${this.localPath}`,
      `echo "$${STEP_CODE_SHA256_VARIABLE}  ${this.localPath}" | sha256sum --check --strict --quiet`,
      `${this.runner} ${this.localPath}${args ? ` ${args}` : ''}`,
    ];
  }

  /**
   * Lets the step's role read the code: that one object of the CDK bootstrap's asset bucket (named by its content hash),
   * not the bucket. `aws s3 cp` of one object calls GetObject and HeadObject, which s3:GetObject covers
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
   */
  public grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)],
      }),
    );
  }
}
