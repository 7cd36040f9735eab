// Results out: CSV (a run's timeline; a summary row per run) and text tables
// for the terminal; and results back in from their JSON files.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import type { BenchResult, LatencySummary } from './types.js';

const TIMELINE_HEADER = ['t_sec', 'ops_per_sec', 'errors', 'p50_ms', 'p99_ms'];
const SUMMARY_HEADER = ['label', 'driver', 'workload', 'ops_per_sec', 'p50_ms', 'p95_ms', 'p99_ms', 'p999_ms', 'max_ms', 'errors', 'generator_cpu_pct', 'server_cpu_us_per_op'];

/** A CSV field: quoted when it holds a comma, quote or line break. */
function csvField(value: string | number): string {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: string[], rows: (string | number)[][]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** The timeline of one run: one row per second of the measured phase. */
export function toCsv(result: BenchResult): string {
  return csv(
    TIMELINE_HEADER,
    result.timeline.map((p) => [p.tSec, round(p.opsPerSec, 1), p.errors, round(p.p50Ms, 3), round(p.p99Ms, 3)]),
  );
}

/** One row per run: overall throughput and latency. */
export function summaryCsv(results: BenchResult[]): string {
  return csv(
    SUMMARY_HEADER,
    results.map((r) => [
      r.label, r.driver, r.workload.name, round(r.opsPerSec, 1), round(r.all.p50Ms, 3), round(r.all.p95Ms, 3), round(r.all.p99Ms, 3), round(r.all.p999Ms, 3), round(r.all.maxMs, 3), r.errors,
      round(r.generator.cpuPctOfOneCore, 1), r.server === undefined ? '' : round(r.server.cpuUsPerOp, 1),
    ]),
  );
}

/** Columns padded to their widest cell; the first `textColumns` left-aligned, the rest (numbers) right-aligned. */
export function formatTable(header: string[], rows: string[][], textColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** A number for a table: fixed digits, '-' when not a number. */
export function cell(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function latencyCells(s: LatencySummary): string[] {
  return [cell(s.p50Ms, 2), cell(s.p95Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.maxMs, 2)];
}

/** One run: a header line, a row per operation and one for all, then the notes. */
export function formatResult(result: BenchResult): string {
  const spec = result.workload;
  const mix = Object.entries(spec.mix).map(([op, weight]) => `${op}=${weight}`).join(',');
  const head = `${result.label}: ${result.driver} driver, workload ${spec.name} (${spec.keys} keys ${spec.keyGen}, ${spec.valueBytes} B, ${mix}, ${spec.concurrency} clients), ${cell(result.durationSec, 1)} s measured\n`;
  const rows = Object.entries(result.ops).map(([op, s]) => [op, String(s.count + s.errors), cell((s.count + s.errors) / result.durationSec, 0), ...latencyCells(s), String(s.errors)]);
  rows.push(['all', String(result.totalOps), cell(result.opsPerSec, 0), ...latencyCells(result.all), String(result.errors)]);
  const table = formatTable(['op', 'ops', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors'], rows);
  const footer = `generator (${result.generator.tool}): ${cell(result.generator.cpuPctOfOneCore, 0)}% of one core\n`;
  return head + table + footer + result.notes.map((note) => `note: ${note}\n`).join('');
}

/** Several runs side by side, one row each. */
export function formatSummary(results: BenchResult[]): string {
  const rows = results.map((r) => [
    r.label, r.driver, r.workload.name, cell(r.opsPerSec, 0), ...latencyCells(r.all), String(r.errors), cell(r.generator.cpuPctOfOneCore, 0), r.server === undefined ? '' : cell(r.server.cpuUsPerOp, 0),
  ]);
  return formatTable(['label', 'driver', 'workload', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'gen CPU %', 'server CPU µs/op'], rows, 3);
}

/** Reads a result file written by `rondo bench run --out` (or by another tool that follows BenchResult). */
export function readResult(path: string): BenchResult {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`${path}: cannot read a bench result: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = raw as Partial<BenchResult> | null;
  if (typeof result !== 'object' || result === null || result.version !== 1) throw new InvalidArgumentError(`${path}: not a bench result (expected "version": 1)`);
  for (const field of ['label', 'driver', 'workload', 'all', 'ops', 'timeline', 'generator', 'notes'] as const) {
    if (result[field] === undefined) throw new InvalidArgumentError(`${path}: bench result without "${field}"`);
  }
  return result as BenchResult;
}
