import type { z } from 'zod';
import { environmentSchema, REMOVED_KEYS } from './schema';
import type { EnvironmentConfig } from './types';

export {
  FARGATE_MEMORY_BY_CPU,
  LOG_RETENTION_DAYS,
  MEMORY_SHARE_FOR_GUNICORN,
  MIB_PER_GUNICORN_PROCESS,
  RESERVED_VARIABLES,
} from './schema';

/** A configuration that cannot be deployed. Its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const ENV_KEY = /^[a-z][a-z0-9]{1,15}$/;

function show(value: unknown): string {
  // Escaped, so that a value with a line break still gives one line.
  if (typeof value === 'string') return `'${JSON.stringify(value).slice(1, -1)}'`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return String(value);
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

/** Edit distance, to suggest the key a misspelt one meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** The keys the object at `path` of `schema` accepts. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[], value: unknown): string[] {
  let node: any = schema;
  let current: any = value;
  for (const key of path) {
    node = unwrap(node);
    if (node?._zod.def.type === 'union' || node?._zod.def.type === 'discriminatedUnion') node = pickOption(node, current);
    node = node?._zod.def.shape?.[key];
    current = current?.[key];
  }
  node = unwrap(node);
  if (node?._zod.def.options) node = pickOption(node, current);
  return Object.keys(node?._zod.def.shape ?? {});
}
function unwrap(node: any): any {
  while (node && ['optional', 'nullable', 'default', 'readonly'].includes(node._zod.def.type)) node = node._zod.def.innerType;
  return node;
}
function pickOption(union: any, value: any): any {
  const options: any[] = union._zod.def.options;
  return options.find((o) => o._zod.def.shape?.kind?._zod.def.values?.includes(value?.kind)) ?? options[0];
}

/** One line per problem: `env.field: <value> is not valid; <what is allowed>`. */
function linesOf(name: string, issues: readonly z.core.$ZodIssue[], value: unknown): string[] {
  const lines = new Map<string, string>();
  for (const issue of issues) {
    const at = (path: readonly PropertyKey[]) => [name, ...path.map((k) => JSON.stringify(String(k)).slice(1, -1))].join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(environmentSchema, issue.path, value);
      for (const key of issue.keys) {
        const field = at([...issue.path, key]);
        const received = (issue.input as Record<string, unknown> | undefined)?.[key];
        if (issue.path.length === 0 && Object.hasOwn(REMOVED_KEYS, key)) {
          lines.set(field, `${field}: ${show(received)} is not valid; ${REMOVED_KEYS[key]}`);
          continue;
        }
        const near = known.filter((k) => distance(k, key) <= 2).sort((a, b) => distance(a, key) - distance(b, key))[0];
        const hint = near ? `did you mean '${near}'? ` : '';
        const where = issue.path.length === 0 ? 'an environment' : `'${issue.path.join('.')}'`;
        lines.set(
          field,
          `${field}: ${show(received)} is not valid; ${show(key)} is not a key of ${where}; ${hint}the keys are ${known.join(', ')}`,
        );
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A record's key: its own issue carries the message.
      const field = at(issue.path);
      if (!lines.has(field))
        lines.set(field, `${field}: ${show(issue.input)} is not valid; ${issue.issues[0]?.message ?? issue.message}`);
      continue;
    }
    const field = at(issue.path);
    // A discriminated union reports the whole object at its discriminator's path: show the discriminator.
    const last = issue.path[issue.path.length - 1];
    const input =
      issue.code === 'invalid_union' && typeof issue.input === 'object' && issue.input !== null && last !== undefined
        ? (issue.input as Record<PropertyKey, unknown>)[last]
        : issue.input;
    // The first problem of a field says the most; later ones (a range after a type) repeat it.
    if (!lines.has(field)) lines.set(field, `${field}: ${show(input)} is not valid; ${issue.message}`);
  }
  return [...lines.values()];
}

/** The problems of one environment's configuration, one line each; empty when it is valid. */
export function problemsOf(name: string, config: unknown): string[] {
  const result = environmentSchema.safeParse(config, { reportInput: true });
  const problems = result.success ? [] : linesOf(name, result.error.issues, config);
  const envName = (config as { envName?: unknown } | null)?.envName;
  if (
    typeof config === 'object' &&
    config !== null &&
    envName !== name &&
    !problems.some((p) => p.startsWith(`${name}.envName:`))
  ) {
    problems.unshift(`${name}.envName: ${show(envName)} is not valid; it must equal the environment's key '${name}'`);
  }
  if (!ENV_KEY.test(name)) {
    problems.unshift(
      `${name}: '${name}' is not a valid environment name; use 2-16 lower-case letters and digits, starting with a letter`,
    );
  }
  return problems;
}

/**
 * Checks one environment's configuration and throws a `ConfigError` listing every problem.
 * Each line names `env.field`, the value received and what is allowed.
 */
export function validateConfig(name: string, config: EnvironmentConfig): EnvironmentConfig {
  const problems = problemsOf(name, config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Checks every environment at once, and throws one `ConfigError` listing the problems of all of them. */
export function validateEnvironments(all: Readonly<Record<string, unknown>>): void {
  const problems = Object.entries(all).flatMap(([name, config]) => problemsOf(name, config));
  if (Object.keys(all).length === 0) problems.push('environments: {} is not valid; configure at least one environment');
  if (problems.length > 0) throw new ConfigError(problems);
}
