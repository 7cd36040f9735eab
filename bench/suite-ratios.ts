// The ratio table of a side-by-side run (bench/suite.ts): Rondo against each
// peer on the same workload and generator, with the benchmark issue's targets.
import type { BenchResult } from '../src/bench/types.js';

interface Comparison {
  what: string;
  rondo: string;
  peer: string;
  /** Minimum Rondo/peer throughput ratio per workload kind, when the issue sets one. */
  target?: { w50?: number; w95?: number };
}

// The hot-path issue's targets: W50 and W95 at least 1.5x etcd with fsync,
// PB at least 1.2x HTTP, W50 p99 at most 15 ms, node CPU per W50 operation
// at most 250 µs, and flat from 10k to 1M keys.
const COMPARISONS: Comparison[] = [
  { what: 'Rondo HTTP / etcd (3 members, fsync)', rondo: 'rondo http (wrk)', peer: 'etcd (wrk)', target: { w50: 1.5, w95: 1.5 } },
  { what: 'Rondo HTTP (node) / etcd (node)', rondo: 'rondo http (node)', peer: 'etcd (node)', target: { w50: 1.5, w95: 1.5 } },
  { what: 'Rondo PB / Rondo HTTP (node generator)', rondo: 'rondo pb (node)', peer: 'rondo http (node)', target: { w50: 1.2, w95: 1.2 } },
  { what: 'Rondo PB / Rondo HTTP (wrk)', rondo: 'rondo pb (node)', peer: 'rondo http (wrk)', target: { w50: 1.2, w95: 1.2 } },
  { what: 'Rondo HTTP / bare Node stub', rondo: 'rondo http (wrk)', peer: 'node stub (wrk)' },
  { what: 'Rondo PB / Redis', rondo: 'rondo pb (node)', peer: 'redis (node)' },
  { what: 'Rondo HTTP (node) / stub (node)', rondo: 'rondo http (node)', peer: 'node stub (node)' },
];

const P99_TARGET_MS: Partial<Record<'w50' | 'w95', number>> = { w50: 15 };
const CPU_PER_OP_TARGET_US: Partial<Record<'w50' | 'w95', number>> = { w50: 250 };
const KEYSPACE_SPREAD_MAX = 0.15;

/** "w50", "quick-w50", "w50-1m" → "w50". */
function kindOf(workload: string): 'w50' | 'w95' | undefined {
  const m = /w(50|95)/.exec(workload);
  return m ? (`w${m[1]}` as 'w50' | 'w95') : undefined;
}

function find(results: BenchResult[], system: string, workload: string): BenchResult | undefined {
  return results.find((r) => r.label === `${system} ${workload}`);
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

export function ratioTable(results: BenchResult[]): string {
  const lines = ['| workload | comparison | Rondo ops/s | peer ops/s | ratio | target | met |', '|---|---|---:|---:|---:|---|---|'];
  const workloads = [...new Set(results.map((r) => r.workload.name))];
  for (const workload of workloads) {
    const kind = kindOf(workload);
    for (const c of COMPARISONS) {
      const a = find(results, c.rondo, workload);
      const b = find(results, c.peer, workload);
      if (!a || !b) continue;
      const ratio = a.opsPerSec / b.opsPerSec;
      const target = kind ? c.target?.[kind] : undefined;
      const targetText = target === undefined ? '' : target >= 1 ? `≥ ${target}×` : `≥ ${(target * 100).toFixed(0)}%`;
      const met = target === undefined ? '' : ratio >= target ? 'yes' : 'no';
      const ratioText = ratio >= 1 || target === undefined || target >= 1 ? `${ratio.toFixed(2)}×` : `${(ratio * 100).toFixed(0)}%`;
      lines.push(`| ${workload} | ${c.what} | ${fmt(a.opsPerSec)} | ${fmt(b.opsPerSec)} | ${ratioText} | ${targetText} | ${met} |`);
    }
    const p99Target = kind === undefined ? undefined : P99_TARGET_MS[kind];
    const cpuTarget = kind === undefined ? undefined : CPU_PER_OP_TARGET_US[kind];
    for (const system of ['rondo http (wrk)', 'rondo pb (node)', 'rondo http (node)']) {
      const r = find(results, system, workload);
      if (!r) continue;
      lines.push(`| ${workload} | ${system} p99 | ${r.all.p99Ms.toFixed(1)} ms |  |  | ${p99Target === undefined ? '' : `≤ ${p99Target} ms`} | ${p99Target === undefined ? '' : r.all.p99Ms <= p99Target ? 'yes' : 'no'} |`);
    }
    for (const system of ['rondo http (wrk)', 'rondo pb (node)', 'rondo http (node)', 'etcd (wrk)', 'node stub (wrk)']) {
      const r = find(results, system, workload);
      if (r?.server === undefined) continue;
      const rondo = system.startsWith('rondo');
      const target = rondo ? cpuTarget : undefined;
      lines.push(`| ${workload} | ${system}: server CPU per operation (${r.server.processes} processes) | ${fmt(r.server.cpuUsPerOp)} µs |  |  | ${target === undefined ? '' : `≤ ${target} µs`} | ${target === undefined ? '' : r.server.cpuUsPerOp <= target ? 'yes' : 'no'} |`);
    }
  }
  // Throughput from 10k to 1M keys, same generator and workload kind.
  for (const kind of ['w50', 'w95']) {
    const small = find(results, 'rondo http (wrk)', kind);
    const big = find(results, 'rondo http (wrk)', `${kind}-1m`);
    if (!small || !big) continue;
    const change = big.opsPerSec / small.opsPerSec - 1;
    lines.push(`| ${kind} → ${kind}-1m | Rondo HTTP, 1M keys / 10k keys | ${fmt(big.opsPerSec)} | ${fmt(small.opsPerSec)} | ${(change * 100).toFixed(1)}% | within ±${KEYSPACE_SPREAD_MAX * 100}% | ${Math.abs(change) <= KEYSPACE_SPREAD_MAX ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}
