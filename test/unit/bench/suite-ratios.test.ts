// The side-by-side run's ratio table against the hot-path issue's targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ratioTable } from '../../../bench/suite-ratios.js';
import type { BenchResult } from '../../../src/bench/types.js';
import { fakeResult } from './fixtures.js';

function result(label: string, workload: string, opsPerSec: number, p99Ms: number, cpuUsPerOp?: number): BenchResult {
  const r = fakeResult({ label: `${label} ${workload}`, opsPerSec, scale: 1 });
  r.workload = { ...r.workload, name: workload };
  r.all = { ...r.all, p99Ms };
  if (cpuUsPerOp !== undefined) r.server = { processes: 3, cpuSec: (cpuUsPerOp * r.totalOps) / 1e6, cpuUsPerOp };
  return r;
}

const row = (table: string, text: string): string => table.split('\n').find((line) => line.includes(text)) ?? '';

test('ratios, p99 and server CPU per operation are checked against the targets, and 10k vs 1M keys', () => {
  const table = ratioTable([
    result('rondo http (wrk)', 'w50', 6_000, 12, 240),
    result('etcd (wrk)', 'w50', 3_000, 20, 400),
    result('rondo pb (node)', 'w50', 6_600, 18),
    result('rondo http (wrk)', 'w95', 5_000, 30, 300),
    result('etcd (wrk)', 'w95', 4_000, 15),
    result('rondo http (wrk)', 'w50-1m', 5_400, 14),
  ]);
  assert.match(row(table, '| w50 | Rondo HTTP / etcd (3 members, fsync)'), /2\.00× \| ≥ 1\.5× \| yes \|$/);
  assert.match(row(table, '| w95 | Rondo HTTP / etcd (3 members, fsync)'), /1\.25× \| ≥ 1\.5× \| no \|$/);
  assert.match(row(table, '| w50 | Rondo PB / Rondo HTTP (wrk)'), /1\.10× \| ≥ 1\.2× \| no \|$/);
  assert.match(row(table, '| w50 | rondo http (wrk) p99'), /12\.0 ms .*≤ 15 ms \| yes \|$/);
  assert.match(row(table, '| w50 | rondo pb (node) p99'), /18\.0 ms .*≤ 15 ms \| no \|$/);
  assert.match(row(table, '| w95 | rondo http (wrk) p99'), /30\.0 ms \| {2}\| {2}\| {2}\| {2}\|$/, 'no p99 target for W95');
  assert.match(row(table, '| w50 | rondo http (wrk): server CPU'), /240 µs .*≤ 250 µs \| yes \|$/);
  assert.match(row(table, '| w50 | etcd (wrk): server CPU'), /400 µs \| {2}\| {2}\| {2}\| {2}\|$/, 'etcd shown, no target');
  assert.match(row(table, '| w50 → w50-1m'), /-10\.0% \| within ±15% \| yes \|$/);
});
