import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { VERIFY_ENTRY } from '../../lib/constructs/delivery-pipeline';
import { PipelineStep } from '../../lib/constructs/pipeline-step';
import { bundle } from '../../lib/constructs/step-code';

test('bundles bin/verify.ts into one file that runs on its own, without the project or its node_modules', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-alone-'));
  const file = path.join(dir, 'verify.js');
  fs.copyFileSync(bundle(VERIFY_ENTRY), file);
  const r = spawnSync(process.execPath, [file], { cwd: dir, env: { PATH: process.env.PATH }, encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr.split('\n')[0] }).toEqual({
    status: 2,
    stderr: 'error: missing --env, --tag, --digest',
  });
  expect(r.stderr).toContain('usage: npx tsx bin/verify.ts --env NAME --tag TAG --digest sha256:...');
});

test('fails when a Lambda compute step is given more than 15 minutes', () => {
  const stack = new cdk.Stack();
  expect(
    () =>
      new PipelineStep(stack, 'Step', {
        stageName: 'Verify',
        envName: 'dev',
        compute: 'lambda',
        cpuArchitecture: 'ARM64',
        timeout: cdk.Duration.minutes(20),
        buildSpec: { version: '0.2' },
        encryptionKey: new kms.Key(stack, 'Key'),
        logRetention: 7,
      }),
  ).toThrow("PipelineStep Verify: timeout 20 min exceeds Lambda compute's 15 min; use ec2 compute");
});
