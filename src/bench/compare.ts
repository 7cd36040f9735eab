// Two results side by side: every figure of a, of b, the ratio b/a and the
// change in percent, overall and per operation. Differences between the two
// workloads are listed first: a comparison across workloads is rarely fair.
import { cell, formatTable } from './report.js';
import type { BenchResult, LatencySummary, OpName, WorkloadSpec } from './types.js';

export interface ComparisonRow {
  /** 'all' or an operation. */
  scope: string;
  metric: string;
  a: number;
  b: number;
  /** b / a; NaN when a is 0. */
  ratio: number;
  /** (b - a) / a in percent; NaN when a is 0. */
  changePct: number;
}

export interface Comparison {
  labelA: string;
  labelB: string;
  rows: ComparisonRow[];
  /** Workload fields that differ, e.g. "keys: 10000 vs 1000000". */
  workloadDifferences: string[];
}

function row(scope: string, metric: string, a: number, b: number): ComparisonRow {
  const ratio = a !== 0 ? b / a : NaN;
  return { scope, metric, a, b, ratio, changePct: (ratio - 1) * 100 };
}

function latencyRows(scope: string, a: LatencySummary | undefined, b: LatencySummary | undefined): ComparisonRow[] {
  const get = (s: LatencySummary | undefined, pick: (s: LatencySummary) => number): number => (s ? pick(s) : NaN);
  return [
    row(scope, 'p50 ms', get(a, (s) => s.p50Ms), get(b, (s) => s.p50Ms)),
    row(scope, 'p95 ms', get(a, (s) => s.p95Ms), get(b, (s) => s.p95Ms)),
    row(scope, 'p99 ms', get(a, (s) => s.p99Ms), get(b, (s) => s.p99Ms)),
    row(scope, 'p99.9 ms', get(a, (s) => s.p999Ms), get(b, (s) => s.p999Ms)),
    row(scope, 'max ms', get(a, (s) => s.maxMs), get(b, (s) => s.maxMs)),
    row(scope, 'errors', get(a, (s) => s.errors), get(b, (s) => s.errors)),
  ];
}

/** Operations per second of one kind: its count (successes and errors) over the measured time. */
function opRate(result: BenchResult, op: OpName): number {
  const s = result.ops[op];
  return s && result.durationSec > 0 ? (s.count + s.errors) / result.durationSec : NaN;
}

export function workloadDifferences(a: WorkloadSpec, b: WorkloadSpec): string[] {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof WorkloadSpec)[];
  return fields.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f])).map((f) => `${f}: ${JSON.stringify(a[f])} vs ${JSON.stringify(b[f])}`);
}

export function compareResults(a: BenchResult, b: BenchResult): Comparison {
  const rows = [row('all', 'ops/s', a.opsPerSec, b.opsPerSec), ...latencyRows('all', a.all, b.all), row('all', 'generator CPU %', a.generator.cpuPctOfOneCore, b.generator.cpuPctOfOneCore)];
  const ops = [...new Set([...Object.keys(a.ops), ...Object.keys(b.ops)])] as OpName[];
  for (const op of ops) rows.push(row(op, 'ops/s', opRate(a, op), opRate(b, op)), ...latencyRows(op, a.ops[op], b.ops[op]));
  return { labelA: a.label, labelB: b.label, rows, workloadDifferences: workloadDifferences(a.workload, b.workload) };
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value > 0 ? '+' : ''}${value.toFixed(1)}%` : '-';
}

export function formatComparison(comparison: Comparison): string {
  const header = `a: ${comparison.labelA}\nb: ${comparison.labelB}\n`;
  const differences = comparison.workloadDifferences.map((d) => `warning: workloads differ: ${d}\n`).join('');
  const table = formatTable(
    ['scope', 'metric', 'a', 'b', 'b/a', 'change'],
    comparison.rows.map((r) => {
      const digits = r.metric.endsWith(' ms') ? 2 : 0;
      return [r.scope, r.metric, cell(r.a, digits), cell(r.b, digits), cell(r.ratio, 3), signed(r.changePct)];
    }),
    2,
  );
  return header + differences + table;
}
