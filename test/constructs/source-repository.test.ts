import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { SourceRepository, gitTrackedFiles } from '../../lib/constructs/source-repository';

/** A git work tree with some files tracked and others (secrets, local state) only on disk. */
function workTree(files: Record<string, string | Buffer>, tracked: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['add', '--', ...tracked], { cwd: dir });
  return dir;
}

/** The files of the seed asset that synthesis wrote into the cloud assembly. */
function seedOf(dir: string): string[] {
  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'Seed');
  new SourceRepository(stack, 'Source', {
    repositoryName: 'demo',
    seedDirectory: dir,
    branch: 'main',
    removalPolicy: cdk.RemovalPolicy.DESTROY,
  });
  const assembly = app.synth();
  const assetDir = fs.readdirSync(assembly.directory).find((f) => f.startsWith('asset.'));
  if (!assetDir) throw new Error('no asset in the cloud assembly');
  const list = (d: string, prefix = ''): string[] =>
    fs
      .readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? list(path.join(d, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
  return list(path.join(assembly.directory, assetDir)).sort();
}

test('seeds the repository with exactly what git tracks: no .env, cdk.context.json or editor state', () => {
  const dir = workTree(
    {
      'app/app.py': 'print(1)\n',
      'README.md': '# x\n',
      '.env': 'DATABASE_PASSWORD=hunter2\n',
      'cdk.context.json': '{"account": "123456789012"}\n',
      '.idea/workspace.xml': '<x/>\n',
    },
    ['app/app.py', 'README.md'],
  );
  expect(seedOf(dir)).toEqual(['README.md', 'app/app.py']);
});

test('lists the tracked files of a work tree, and only those', () => {
  const dir = workTree({ 'a.txt': 'a', 'b.txt': 'b' }, ['a.txt']);
  expect(gitTrackedFiles(dir)).toEqual(['a.txt']);
});

test('fails when the directory is not a git work tree, saying what to do', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nogit-'));
  expect(() => gitTrackedFiles(dir)).toThrow(
    /pipeline\.source: the CodeCommit seed is what git tracks in .*; run `git init && git add -A` there/,
  );
});

test("fails when the seed is over CloudFormation's 20 MB archive limit", () => {
  const dir = workTree({ 'big.bin': crypto.randomBytes(21 * 1024 * 1024), 'a.txt': 'a' }, ['big.bin', 'a.txt']);
  expect(() => seedOf(dir)).toThrow(
    /^pipeline\.source: the CodeCommit seed \(2 tracked files, about 21\.0 MB zipped\) is over CloudFormation's 20\.0 MB limit/,
  );
});
