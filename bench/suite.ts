// The side-by-side benchmark: the same workloads against Rondo (3 nodes,
// LMDB, fsync on) and the peers a user would pick instead (etcd with 3
// members, Redis, and a bare Node `http` server on a Map as the ceiling for
// any Node server here), one system at a time, then a table of ratios.
//
//   npm run bench:quick              # under 2 minutes: 5 s per workload, wrk for HTTP
//   npm run bench:full               # 20 s per workload, both generators, plus the 1M-key run
//   node --import tsx bench/suite.ts --help
//
// Systems run one after the other, never together: they share the machine's
// cores with the load generator. Every process started is stopped by PID.
// Each measurement also records its servers' CPU per operation (every process
// of the system, all threads, from /proc) over the measured phase.
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { driverFactory } from '../src/bench/drivers/index.js';
import { plotSvg } from '../src/bench/plot.js';
import { formatSummary, summaryCsv } from '../src/bench/report.js';
import { preloadKeys, runBench } from '../src/bench/runner.js';
import type { BenchResult, WorkloadSpec } from '../src/bench/types.js';
import { processCpuSec } from '../src/bench/process-cpu.js';
import { loadWorkload } from '../src/bench/workload.js';
import { runWrk, type WrkKind } from '../src/bench/wrk.js';
import { startBenchCluster } from './dev-cluster.js';
import { startEtcdCluster } from './peers/etcd.js';
import { startNodeStub } from './peers/node-stub.js';
import { startRedis } from './peers/redis.js';
import { ratioTable } from './suite-ratios.js';

const SYSTEMS = ['rondo', 'stub', 'etcd', 'redis'] as const;
type SystemName = (typeof SYSTEMS)[number];

/** One measurement: a workload through one driver (or wrk) against the running system. */
interface Measurement {
  label: string;
  generator: 'node' | 'wrk';
  /** Node driver name, or the wrk script kind. */
  via: string;
  params: Record<string, string>;
}

interface RunningSystem {
  targets: Record<string, string[]>;
  /** Every server process, for their CPU per operation. */
  pids: number[];
  stop(): Promise<void>;
}

// Rondo: N=3 (the default), R=2 and W=2 asked explicitly on every request.
const RONDO_QUORUMS = { r: '2', w: '2' };
const BUCKET = 'bench';
const PORTS = { rondoNode: 27101, rondoHttp: 27098, rondoPb: 27087, stub: 27200, etcd: 27300, redis: 27400 };

const program = new Command()
  .name('bench/suite.ts')
  .option('--quick', 'short workloads (bench/workloads/quick-*.json), wrk only for HTTP', false)
  .option('--systems <list>', `systems to run, comma-separated (${SYSTEMS.join(',')})`, SYSTEMS.join(','))
  .option('--workloads <list>', 'workload names or files (default: w50,w95; quick-w50,quick-w95 with --quick)')
  .option('--with-1m', 'also run Rondo over HTTP on the 1M-key workloads (w50-1m, w95-1m): a long preload', false)
  .option('--redis-fsync <mode>', 'Redis appendfsync: always, everysec or no', 'always')
  .option('--out <dir>', 'result folder', `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}`)
  .option('--seed <n>', 'seed of the key and operation choices', '1')
  .parse();
const opts = program.opts<{ quick: boolean; systems: string; workloads?: string; with1m: boolean; redisFsync: string; out: string; seed: string }>();
const systems = opts.systems.split(',').map((s) => s.trim()) as SystemName[];
for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system "${s}" (known: ${SYSTEMS.join(', ')})`);
if (!['always', 'everysec', 'no'].includes(opts.redisFsync)) throw new Error('--redis-fsync must be always, everysec or no');
const workloads = (opts.workloads ?? (opts.quick ? 'quick-w50,quick-w95' : 'w50,w95')).split(',').map((w) => loadWorkload(w.trim()));
const seed = Number(opts.seed);
mkdirSync(opts.out, { recursive: true });

/** What each system is measured with. Quick runs measure HTTP with wrk only (the cheap generator). */
function measurementsOf(system: SystemName): Measurement[] {
  const both = !opts.quick;
  switch (system) {
    case 'rondo':
      return [
        { label: 'rondo http (wrk)', generator: 'wrk', via: 'riak-http', params: RONDO_QUORUMS },
        ...(both ? [{ label: 'rondo http (node)', generator: 'node' as const, via: 'http', params: RONDO_QUORUMS }] : []),
        { label: 'rondo pb (node)', generator: 'node', via: 'pb', params: RONDO_QUORUMS },
      ];
    case 'stub':
      return [
        { label: 'node stub (wrk)', generator: 'wrk', via: 'riak-http', params: {} },
        ...(both ? [{ label: 'node stub (node)', generator: 'node' as const, via: 'http', params: {} }] : []),
      ];
    case 'etcd':
      return [
        { label: 'etcd (wrk)', generator: 'wrk', via: 'etcd', params: {} },
        ...(both ? [{ label: 'etcd (node)', generator: 'node' as const, via: 'etcd', params: {} }] : []),
      ];
    case 'redis':
      return [{ label: 'redis (node)', generator: 'node', via: 'redis', params: {} }];
  }
}

async function start(system: SystemName): Promise<RunningSystem> {
  switch (system) {
    case 'rondo': {
      const cluster = await startBenchCluster({ basePort: PORTS.rondoNode, httpBasePort: PORTS.rondoHttp, pbBasePort: PORTS.rondoPb });
      const ports = (base: number): string[] => [0, 1, 2].map((i) => `127.0.0.1:${base + i}`);
      const pids = await Promise.all(ports(PORTS.rondoHttp).map(nodePid));
      return { targets: { http: ports(PORTS.rondoHttp), 'riak-http': ports(PORTS.rondoHttp), pb: ports(PORTS.rondoPb) }, pids, stop: () => cluster.stop() };
    }
    case 'stub': {
      const peer = await startNodeStub({ port: PORTS.stub });
      return { targets: { http: peer.targets, 'riak-http': peer.targets }, pids: peer.pids, stop: () => peer.stop() };
    }
    case 'etcd': {
      const peer = await startEtcdCluster({ basePort: PORTS.etcd });
      return { targets: { etcd: peer.targets }, pids: peer.pids, stop: () => peer.stop() };
    }
    case 'redis': {
      const peer = await startRedis({ port: PORTS.redis, fsync: opts.redisFsync as 'always' | 'everysec' | 'no' });
      return { targets: { redis: peer.targets }, pids: peer.pids, stop: () => peer.stop() };
    }
  }
}

/** The driver that preloads a system (the cheapest one that speaks to it). */
const PRELOAD_DRIVER: Record<SystemName, string> = { rondo: 'pb', stub: 'http', etcd: 'etcd', redis: 'redis' };

async function measure(m: Measurement, spec: WorkloadSpec, running: RunningSystem): Promise<BenchResult> {
  const label = `${m.label} ${spec.name}`;
  const measured = { ...spec, preload: false };
  process.stderr.write(`\n== ${label}\n`);
  const targets = running.targets[m.via] as string[];
  let cpuAtStart = 0;
  const onMeasureStart = (): void => void (cpuAtStart = processCpuSec(running.pids));
  const result =
    m.generator === 'wrk'
      ? await runWrk(measured, { label, targets, kind: m.via as WrkKind, bucket: BUCKET, params: m.params, onMeasureStart })
      : await runBench(measured, driverFactory(m.via)({ targets, bucket: BUCKET, timeoutMs: 5_000, params: m.params }), { label, seed, targets, onProgress: progressLine, onMeasureStart });
  const cpuSec = processCpuSec(running.pids) - cpuAtStart;
  result.server = { processes: running.pids.length, cpuSec, cpuUsPerOp: result.totalOps > 0 ? (cpuSec * 1e6) / result.totalOps : 0 };
  return result;
}

/** A Rondo node's process id, from its /stats. */
async function nodePid(httpTarget: string): Promise<number> {
  const stats = (await (await fetch(`http://${httpTarget}/stats`)).json()) as { pid?: unknown };
  if (typeof stats.pid !== 'number') throw new Error(`${httpTarget}/stats has no pid`);
  return stats.pid;
}

function progressLine(p: { phase: string; elapsedSec: number; last?: { opsPerSec: number; p99Ms: number } | undefined; errors: number; cpuPctOfOneCore: number }): void {
  if (Math.round(p.elapsedSec) % 5 !== 0) return;
  const last = p.last ? `${p.last.opsPerSec.toFixed(0)} ops/s p99 ${p.last.p99Ms.toFixed(1)} ms` : '';
  process.stderr.write(`  ${p.phase} ${p.elapsedSec.toFixed(0)} s ${last} errors ${p.errors} generator ${p.cpuPctOfOneCore.toFixed(0)}%\n`);
}

async function runSystem(system: SystemName, specs: WorkloadSpec[], results: BenchResult[], onlyVia?: string): Promise<void> {
  process.stderr.write(`\n##### ${system}: starting\n`);
  const running = await start(system);
  try {
    // Workloads that share a key space share one preload.
    const preloaded = new Set<string>();
    for (const spec of specs) {
      const shape = `${spec.keys}/${spec.valueBytes}`;
      if (spec.preload && !preloaded.has(shape)) {
        const via = PRELOAD_DRIVER[system];
        const driver = driverFactory(via)({ targets: running.targets[via] as string[], bucket: BUCKET, timeoutMs: 10_000, params: system === 'rondo' ? RONDO_QUORUMS : {} });
        const t0 = performance.now();
        const { failed } = await preloadKeys(spec, driver, { label: `${system} preload`, seed, onProgress: progressLine });
        if (failed > 0) throw new Error(`${system}: ${failed} of ${spec.keys} preload puts failed`);
        process.stderr.write(`${system}: preloaded ${spec.keys} keys of ${spec.valueBytes} B in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        preloaded.add(shape);
      }
      for (const m of measurementsOf(system)) {
        if (onlyVia !== undefined && m.via !== onlyVia) continue;
        const result = await measure(m, spec, running);
        results.push(result);
        writeFileSync(join(opts.out, `${result.label.replace(/[^a-z0-9-]+/gi, '_')}.json`), `${JSON.stringify(result, null, 1)}\n`);
        process.stderr.write(`${formatSummary([result])}\n`);
      }
    }
  } finally {
    await running.stop();
  }
}

const results: BenchResult[] = [];
const startedMs = performance.now();
for (const system of systems) await runSystem(system, workloads, results);
if (opts.with1m && systems.includes('rondo')) await runSystem('rondo', ['w50-1m', 'w95-1m'].map((w) => loadWorkload(w)), results, 'riak-http');

const table = formatSummary(results);
const ratios = ratioTable(results);
writeFileSync(join(opts.out, 'summary.csv'), summaryCsv(results));
writeFileSync(join(opts.out, 'summary.txt'), `${table}\n\n${ratios}\n`);
for (const spec of workloads) {
  const ofSpec = results.filter((r) => r.workload.name === spec.name);
  writeFileSync(join(opts.out, `plot-${spec.name}.svg`), plotSvg(ofSpec, `${spec.name}: throughput and latency over time`));
}
process.stdout.write(`\n${table}\n\n${ratios}\n\nResults, CSV and plots in ${opts.out} (${((performance.now() - startedMs) / 1000).toFixed(0)} s in all)\n`);
