import { PUSH_TO_LIVE_MODEL_MINUTES } from './model';
import { deleteCommands, deletionOrder, describeLeftover } from './leftovers';
import type { SmokeResult } from './run';

/** `75` → `1m 15s`. */
export function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** The measured push-to-live next to the model in docs/cost-and-speed.md. */
export function modelComparison(seconds: number, model = PUSH_TO_LIVE_MODEL_MINUTES): string {
  const minutes = seconds / 60;
  const verdict =
    minutes < model.min ? 'faster than the model' : minutes > model.max ? 'SLOWER than the model' : 'within the model';
  const range = model.min === model.max ? `${model.min}` : `${model.min}–${model.max}`;
  return `push to live: ${duration(seconds)} measured; modelled ${range} min (${model.source}): ${verdict}`;
}

/** The end-of-run report: each step's result and duration, push-to-live against the model, and what is left. */
export function renderSmokeReport(r: SmokeResult): string {
  const out: string[] = [];
  out.push(`Smoke test of '${r.env}' in account ${r.account} (${r.region}): ${r.failure ? 'FAILED' : 'passed'}`, '');
  const width = Math.max(...r.steps.map((s) => s.name.length), 4);
  out.push(`  ${'STEP'.padEnd(width)}  RESULT       DURATION`);
  for (const s of r.steps) {
    out.push(`  ${s.name.padEnd(width)}  ${s.status.padEnd(11)}  ${s.status === 'skipped' ? '-' : duration(s.seconds)}`);
    if (s.detail) out.push(`  ${' '.repeat(width)}  ${s.detail}`);
  }
  const total = r.steps.reduce((sum, s) => sum + s.seconds, 0);
  out.push(`  ${'total'.padEnd(width)}  ${''.padEnd(11)}  ${duration(total)}`, '');
  out.push(
    r.pushToLiveSeconds === undefined
      ? 'push to live: not measured (the run stopped before it)'
      : modelComparison(r.pushToLiveSeconds),
  );
  out.push('');
  if (r.leftBehind.length === 0) {
    out.push('Left behind: nothing found.');
  } else {
    out.push(`Left behind (${r.leftBehind.length}): delete these when you no longer need them, in this order:`);
    for (const l of deletionOrder(r.leftBehind)) {
      out.push(`  ${describeLeftover(l)}`);
      for (const c of deleteCommands(l, r.region)) out.push(`    ${c}`);
    }
  }
  return out.join('\n');
}
