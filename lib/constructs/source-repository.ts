import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as cdk from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { ConfigError } from '../config/validate';

/**
 * CloudFormation's limit on the archive that seeds a CodeCommit repository
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codecommit-repository-s3.html:
 * "The file must be less than 20 MB").
 */
export const SEED_LIMIT_BYTES = 20 * 1024 * 1024;

/**
 * The files git tracks in `dir` (its index, the way `git ls-files` lists them), relative to `dir`. Untracked and ignored
 * files (`.env`, `cdk.context.json`, editor folders, …) are never part of the seed.
 */
export function gitTrackedFiles(dir: string): string[] {
  let out: string;
  try {
    out = execFileSync('git', ['ls-files', '-z', '--cached', '--', '.'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const detail = String((error as { stderr?: string }).stderr ?? (error as Error).message)
      .trim()
      .split('\n')[0];
    throw new ConfigError([
      `pipeline.source: the CodeCommit seed is what git tracks in ${dir}, but git could not list it (${detail}); run \`git init && git add -A\` there, or use a connection source`,
    ]);
  }
  // A tracked file deleted from the work tree is not seeded.
  return out.split('\0').filter((f) => f && fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.isFile());
}

/** Copies the tracked files into a fresh directory: the asset then holds exactly those, and nothing else. */
function stageSeed(dir: string, files: string[]): { directory: string; zippedBytes: number } {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'codecommit-seed-'));
  // Synthesis copies the asset into the cloud assembly; the staging copy goes when the process does.
  process.once('exit', () => fs.rmSync(directory, { recursive: true, force: true }));
  // A zip stores each file deflated, plus about 100 bytes of headers per entry: close enough to check the limit.
  let zippedBytes = 22;
  for (const file of files) {
    const target = path.join(directory, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(dir, file), target);
    zippedBytes += zlib.deflateRawSync(fs.readFileSync(target)).length + 2 * file.length + 100;
  }
  return { directory, zippedBytes };
}

export interface SourceRepositoryProps {
  /** The repository name: people type it in `git remote add`. */
  readonly repositoryName: string;
  /** The git work tree whose tracked files become the first commit. */
  readonly seedDirectory: string;
  /** The branch of the first commit. */
  readonly branch: string;
  readonly removalPolicy: cdk.RemovalPolicy;
}

/**
 * A CodeCommit repository seeded on creation with the files git tracks in this project, so that the pipeline has
 * something to build the moment it exists. The seed applies only when the repository is created; later pushes are yours.
 */
export class SourceRepository extends Construct {
  /** The repository. */
  public readonly repository: codecommit.Repository;

  constructor(scope: Construct, id: string, props: SourceRepositoryProps) {
    super(scope, id);
    const files = gitTrackedFiles(props.seedDirectory);
    if (files.length === 0) {
      throw new ConfigError([
        `pipeline.source: the CodeCommit seed is what git tracks in ${props.seedDirectory}, and git tracks nothing there: git add -A`,
      ]);
    }
    const seed = stageSeed(props.seedDirectory, files);
    if (seed.zippedBytes > SEED_LIMIT_BYTES) {
      const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
      throw new ConfigError([
        `pipeline.source: the CodeCommit seed (${files.length} tracked files, about ${mb(seed.zippedBytes)} MB zipped) is over CloudFormation's ${mb(SEED_LIMIT_BYTES)} MB limit; untrack large files, or use a connection source`,
      ]);
    }
    const asset = new s3assets.Asset(this, 'Seed', { path: seed.directory });
    this.repository = new codecommit.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      description: 'Source of the service; every push to the pipeline branch deploys',
      code: codecommit.Code.fromAsset(asset, props.branch),
    });
    this.repository.applyRemovalPolicy(props.removalPolicy);
  }
}
