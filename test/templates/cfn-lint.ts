/** Runs cfn-lint (aws-cloudformation/cfn-lint, a Python tool) on templates and returns its findings. */
import { spawn, spawnSync } from 'node:child_process';

export const CFN_LINT_INSTALL =
  "cfn-lint is not on PATH, so the template lint cannot run. Install it with 'python3 -m pip install cfn-lint' " +
  "(or 'pipx install cfn-lint'); .ci/run does this. Debian 12 has no cfn-lint package.";

/** One cfn-lint finding, as its JSON formatter writes it. */
export interface CfnLintFinding {
  readonly Rule: { readonly Id: string; readonly ShortDescription: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path: (string | number)[] | null; readonly Start: { readonly LineNumber: number } };
}

/** cfn-lint's version line, or an error that says how to install it: this tier never skips silently. */
export function cfnLintVersion(): string {
  const result = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(`${CFN_LINT_INSTALL} (${result.error?.message ?? result.stderr})`);
  return result.stdout.trim();
}

/**
 * Lints templates in one cfn-lint process. cfn-lint exits non-zero whenever it reports anything, so success is judged
 * from its JSON output; anything it prints that is not that JSON (a crash, a usage error) fails.
 */
export function cfnLint(templates: readonly string[]): Promise<CfnLintFinding[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--format', 'json', '--', ...templates]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => reject(new Error(`${CFN_LINT_INSTALL} (${e.message})`)));
    child.on('close', (status) => {
      // Exit codes are a bit mask: 2 errors, 4 warnings, 8 informational. Anything else (1) is cfn-lint failing.
      if (status === null || (status & 1) !== 0 || status > 14) {
        reject(new Error(`cfn-lint failed (exit ${status}): ${stderr}${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as CfnLintFinding[]);
      } catch {
        reject(new Error(`cfn-lint printed no JSON (exit ${status}): ${stderr}${stdout}`));
      }
    });
  });
}
