/**
 * The AWS calls that project code makes, recorded rather than listed by hand:
 * - the pipeline scripts run with the stub `aws`/`docker`/`curl` of test/pipeline/stubs, once plainly and once per
 *   STUB_* scenario the stubs know, with the environment the synthesized CodeBuild project and pipeline action give them;
 *   every `aws …` and `docker …` line they log is a call;
 * - the ops code (status, rollback, verify) runs against aws-sdk-client-mock clients whose answers come from the same
 *   synthesized stacks; every command sent is a call.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const STUBS = path.join(ROOT, 'test', 'pipeline', 'stubs');

/** One call, as the code made it. */
export interface Call {
  /** What the code ran: a CLI line, or `<Client>.send(<Command>)` with its input. */
  readonly shown: string;
  /** `aws` CLI, `docker` (a registry client) or an SDK command. */
  readonly kind: 'cli' | 'docker' | 'sdk';
  /** For the CLI: the service word (`ecr`) and the words after it; for the SDK: the client's signing name and command. */
  readonly service: string;
  readonly operation: string;
  /** The call's input: SDK input, or the CLI options keyed by their name without dashes. */
  readonly input: Record<string, unknown>;
  /** Where the call came from (script and scenario, or ops scenario). */
  readonly origin: string;
}

/** One script run: its logged lines and how it ended. */
export interface ScriptRun {
  readonly scenario: string;
  readonly status: number | null;
  readonly lines: string[];
  readonly stderr: string;
}

/** The STUB_* switches each stub reads, except the plumbing ones: each is a scenario. */
export function stubScenarios(): Map<string, string[]> {
  const byStub = new Map<string, string[]>();
  for (const f of fs.readdirSync(STUBS)) {
    const names = new Set(fs.readFileSync(path.join(STUBS, f), 'utf8').match(/\bSTUB_[A-Z_]+\b/g) ?? []);
    for (const plumbing of ['STUB_DIR', 'STUB_LOG', 'STUB_FINDINGS']) names.delete(plumbing);
    byStub.set(f, [...names].sort());
  }
  return byStub;
}

function runScript(script: string, env: Record<string, string>, scenario: string): Promise<ScriptRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iam-calls-'));
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(log, '');
  const findings = path.join(dir, 'findings.json');
  fs.writeFileSync(findings, JSON.stringify({ imageScanFindings: { findingSeverityCounts: {}, findings: [] } }));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, script)], {
      cwd: dir,
      env: {
        PATH: `${STUBS}:${process.env.PATH}`,
        HOME: dir,
        STUB_DIR: dir,
        STUB_LOG: log,
        STUB_FINDINGS: findings,
        // The smoke test's waits, shortened: they change no call.
        SMOKE_START_SECONDS: '0',
        SMOKE_STOP_SECONDS: '1',
        ...env,
        ...(scenario === 'plain' ? {} : { [scenario]: '1' }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 20000,
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ scenario, status, lines, stderr });
    });
  });
}

/**
 * Runs a script plainly, then, in parallel, in every scenario of the stubs it called: a switch of a stub the script
 * never runs cannot change what it calls.
 */
export async function scriptRuns(script: string, env: Record<string, string>): Promise<ScriptRun[]> {
  const plain = await runScript(script, env, 'plain');
  const used = new Set(plain.lines.map((l) => l.split(' ')[0]));
  const scenarios = [...stubScenarios()].filter(([stub]) => used.has(stub)).flatMap(([, names]) => names);
  return [plain, ...(await Promise.all(scenarios.map((s) => runScript(script, env, s))))];
}

/** CLI options that only shape the output or the session, never what is called on which resource. */
const CLI_GLOBAL = new Set(['query', 'output', 'region', 'profile', 'no-cli-pager', 'debug', 'endpoint-url']);

/** Parses a logged `aws …` or `docker …` line. The stub logs `$*`, so quoting is lost: option values are re-joined. */
export function parseLine(line: string, origin: string): Call | undefined {
  const words = line.split(' ');
  if (words[0] === 'docker') {
    return { shown: line, kind: 'docker', service: 'docker', operation: words.slice(1, 3).join(' '), input: { words }, origin };
  }
  if (words[0] !== 'aws') return undefined;
  const [, service, ...rest] = words;
  const positional: string[] = [];
  const input: Record<string, unknown> = {};
  let option: string | undefined;
  for (const w of rest) {
    if (w.startsWith('--')) {
      option = w.slice(2);
      input[option] = [];
    } else if (option) {
      (input[option] as string[]).push(w);
    } else {
      positional.push(w);
    }
  }
  for (const g of CLI_GLOBAL) delete input[g];
  return { shown: line, kind: 'cli', service, operation: positional.join(' '), input, origin };
}

/** The calls in the lines logged by a set of script runs. Curl calls are to the app, not AWS. */
export function callsOf(script: string, runs: ScriptRun[]): Call[] {
  return runs.flatMap((r) =>
    r.lines.map((l) => parseLine(l, `${path.basename(script)} (${r.scenario})`)).filter((c): c is Call => !!c),
  );
}

/** What sdkCalls reads of an aws-sdk-client-mock stub. */
interface MockedClient {
  calls(): { args: unknown[] }[];
}

/** The commands sent to a set of mocked clients, as calls. */
export function sdkCalls(mocks: Record<string, MockedClient>, clients: Record<string, any>, origin: string): Call[] {
  return Object.entries(mocks).flatMap(([key, mock]) =>
    mock.calls().map((c) => {
      const command = c.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      const operation = command.constructor.name.replace(/Command$/, '');
      return {
        shown: `${clients[key].constructor.name}.send(${command.constructor.name} ${JSON.stringify(command.input)})`,
        kind: 'sdk' as const,
        service: clients[key].config.defaultSigningName as string,
        operation,
        input: command.input,
        origin,
      };
    }),
  );
}
