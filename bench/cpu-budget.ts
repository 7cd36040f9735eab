// CPU budget per operation: where each microsecond of a get and of a put goes.
//
//   npm run bench:budget                      # all six cases, 10 s each
//   node --import tsx bench/cpu-budget.ts --cases get-pb,put-pb --seconds 5
//
// A fresh 3-node `rondo dev` cluster (LMDB, N=3; R=2 and W=2 asked on every
// request) gets 10,000 keys of 1 KiB over PB. Then, per case: a warm-up with
// the case's driver and mix, then at the same time (a) `admin.cpu-profile` on
// every node for the measured duration (V8 samples of the main thread, and
// process.cpuUsage over the window: all threads, user and system) and (b) the
// in-process load generator (32 clients, uniform keys). Reported per case:
// throughput and latency; node CPU µs per operation (the 3 nodes summed,
// divided by the operations measured), split user / system; the sampled
// main-thread busy time per operation and the rest (an estimate of work off
// the main thread or in the kernel); that CPU split by role (API,
// coordinator, replica, messaging, ...; see src/bench/cpu-roles.ts for the
// rules); the top functions by self and by inclusive time.
//
// Output: Markdown on stdout and in <out>/budget.md, every number in
// <out>/budget.json, and each node's .cpuprofile per case (Chrome DevTools
// loads them). The cluster is stopped (by PID, through startBenchCluster's
// stop) however the run ends.
import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { analyzeProfile, CPU_ROLE_LABELS, CPU_ROLES, mergeBreakdowns, roleBudget, topFunctions, type CpuRole, type FunctionTime, type ProfileBreakdown, type RoleBudget } from '../src/bench/cpu-roles.js';
import { driverFactory } from '../src/bench/drivers/index.js';
import { preloadKeys, runBench, type BenchProgress } from '../src/bench/runner.js';
import type { BenchResult, OpName, WorkloadSpec } from '../src/bench/types.js';
import { adminCall } from '../src/cli/admin.js';
import type { CpuProfileData } from '../src/core/host/cpu-profiler.js';
import { canListen } from '../test/helpers/processes.js';
import { startBenchCluster } from './dev-cluster.js';

/** bench/suite.ts's Rondo ports: node i listens on base + i - 1. */
const PORTS_DEFAULT = { node: 27101, http: 27098, pb: 27087 };
const NODES = 3;
const BUCKET = 'bench';
const RONDO_QUORUMS = { r: '2', w: '2' };
const KEYS = 10_000;
const VALUE_BYTES = 1024;
const CLIENTS = 32;
const SEED = 1;
const OP_TIMEOUT_MS = 5_000;
/** A profile reply may take this long beyond the profile (serialising and sending it under load). */
const PROFILE_REPLY_MARGIN_MS = 60_000;
/** Bounds of the whole run (see main's watchdog). */
const PRELOAD_BOUND_MS = 180_000;
const CASE_SLACK_MS = 30_000;
const TOP_SELF = 20;
const TOP_INCLUSIVE = 15;

interface CaseSpec {
  name: string;
  driver: 'http' | 'pb';
  mix: Partial<Record<OpName, number>>;
}

const CASES: readonly CaseSpec[] = [
  { name: 'get-http', driver: 'http', mix: { get: 100 } },
  { name: 'put-http', driver: 'http', mix: { put: 100 } },
  { name: 'w50-http', driver: 'http', mix: { get: 50, put: 50 } },
  { name: 'get-pb', driver: 'pb', mix: { get: 100 } },
  { name: 'put-pb', driver: 'pb', mix: { put: 100 } },
  { name: 'w50-pb', driver: 'pb', mix: { get: 50, put: 50 } },
];

const program = new Command()
  .name('bench/cpu-budget.ts')
  .description('node CPU per operation, split by role, on a fresh 3-node cluster')
  .option('--cases <list>', `cases, comma-separated (${CASES.map((c) => c.name).join(',')})`, CASES.map((c) => c.name).join(','))
  .option('--seconds <n>', 'measured (and profiled) seconds per case, 1..120', '10')
  .option('--warmup <n>', 'warm-up seconds per case', '2')
  .option('--wait-quiet <n>', 'before each case, wait up to this many seconds for 3 quiet seconds on the machine (for shared machines; 0: do not wait)', '0')
  .option('--base-port <port>', 'first node\'s node-to-node and admin port (then +1, +2)', String(PORTS_DEFAULT.node))
  .option('--http-base-port <port>', 'first node\'s HTTP API port', String(PORTS_DEFAULT.http))
  .option('--pb-base-port <port>', 'first node\'s PB API port', String(PORTS_DEFAULT.pb))
  .option('--out <dir>', 'result folder', `bench-results/cpu-budget-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  .parse();
const opts = program.opts<{ cases: string; seconds: string; warmup: string; waitQuiet: string; basePort: string; httpBasePort: string; pbBasePort: string; out: string }>();
const PORTS = { node: Number(opts.basePort), http: Number(opts.httpBasePort), pb: Number(opts.pbBasePort) };
for (const [what, port] of Object.entries(PORTS)) if (!Number.isInteger(port) || port < 1024 || port > 65533) throw new Error(`--${what === 'node' ? '' : `${what}-`}base-port must be a port number from 1024 to 65533`);
const cases = opts.cases.split(',').map((name) => {
  const found = CASES.find((c) => c.name === name.trim());
  if (!found) throw new Error(`unknown case "${name}" (known: ${CASES.map((c) => c.name).join(', ')})`);
  return found;
});
const seconds = Number(opts.seconds);
const warmupSec = Number(opts.warmup);
if (!Number.isInteger(seconds) || seconds < 1 || seconds > 120) throw new Error('--seconds must be an integer from 1 to 120');
if (!Number.isFinite(warmupSec) || warmupSec < 0 || warmupSec > 60) throw new Error('--warmup must be 0..60 seconds');
const waitQuietSec = Number(opts.waitQuiet);
if (!Number.isInteger(waitQuietSec) || waitQuietSec < 0 || waitQuietSec > 600) throw new Error('--wait-quiet must be an integer from 0 to 600 seconds');
mkdirSync(opts.out, { recursive: true });

interface NodeTarget {
  name: string;
  address: string;
  clusterSecret: string;
  http: string;
  pb: string;
}

interface NodeFigures {
  name: string;
  pid: number;
  wallMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Of one core over the window. */
  cpuPct: number;
  samples: number;
  sampledBusyUs: number;
  sampledIdleUs: number;
  /** sampled busy / process CPU: above 1, the samples count time the main thread was not on a CPU. */
  busyOverCpu: number;
  /** Linux schedstat of the main thread over the window: on a CPU, and runnable but waiting for one. */
  mainThreadCpuUs?: number;
  runQueueWaitUs?: number;
  roles: Record<CpuRole, number>;
  profileFile: string;
}

interface FunctionRow {
  name: string;
  location: string;
  usPerOp: number;
  pctOfBusy: number;
}

interface CaseBudget {
  case: string;
  driver: string;
  mix: Partial<Record<OpName, number>>;
  measuredSec: number;
  ops: number;
  errors: number;
  opsPerSec: number;
  latencyMs: { p50: number; p99: number; byOp: Partial<Record<OpName, { p50: number; p99: number; count: number }>> };
  generatorCpuPctOfOneCore: number;
  /** 1-minute load average of the machine before and after the measured phase (other work on the machine shows here). */
  loadAvg1m: { before: number; after: number };
  /**
   * Over the measured phase, from /proc/stat (Linux): all cores' busy time; what is left of it after the nodes and this
   * process (the generator): other work on the machine; and steal, time the hypervisor gave the machine's CPUs to others.
   */
  machine?: { busyPctOfOneCore: number; otherPctOfOneCore: number; stealPctOfOneCore: number };
  nodes: NodeFigures[];
  perOp: {
    cpuUs: number;
    cpuUserUs: number;
    cpuSystemUs: number;
    sampledBusyUs: number;
    /** cpuUs - sampledBusyUs: an estimate. */
    offMainOrKernelUs: number;
    /** Measured (Linux schedstat), when every node gave it: the main thread's CPU, and the rest of the process's. */
    mainThreadCpuUs?: number;
    otherThreadsCpuUs?: number;
    /** The main thread runnable but waiting for a CPU (counted by the samples as busy). */
    runQueueWaitUs?: number;
  };
  roles: RoleBudget[];
  topSelf: FunctionRow[];
  topInclusiveSrc: FunctionRow[];
  notes: string[];
}

function readTargets(dir: string): NodeTarget[] {
  return Array.from({ length: NODES }, (_, i) => {
    const config = JSON.parse(readFileSync(join(dir, `n${i + 1}`, 'rondo.json'), 'utf8')) as { name: string; listen: string; clusterSecret: string; httpListen: string; pbListen: string };
    return { name: config.name, address: config.listen, clusterSecret: config.clusterSecret, http: config.httpListen, pb: config.pbListen };
  });
}

function workload(c: CaseSpec, durationSec: number): WorkloadSpec {
  return { name: c.name, keys: KEYS, keyGen: 'uniform', valueBytes: VALUE_BYTES, mix: c.mix, concurrency: CLIENTS, durationSec, warmupSec: 0, preload: false };
}

function progressLine(p: BenchProgress): void {
  if (Math.round(p.elapsedSec) % 5 !== 0) return;
  const last = p.last ? `${p.last.opsPerSec.toFixed(0)} ops/s p99 ${p.last.p99Ms.toFixed(1)} ms` : '';
  const done = p.done !== undefined && p.total !== undefined ? ` ${p.done}/${p.total}` : '';
  process.stderr.write(`  ${p.phase} ${p.elapsedSec.toFixed(0)} s${done} ${last} errors ${p.errors} generator ${p.cpuPctOfOneCore.toFixed(0)}%\n`);
}

function functionRows(list: FunctionTime[], by: 'self' | 'inclusive', ops: number, busyUs: number): FunctionRow[] {
  return list.map((f) => {
    const us = by === 'self' ? f.selfUs : f.inclusiveUs;
    return { name: f.name, location: f.location, usPerOp: ops > 0 ? us / ops : 0, pctOfBusy: busyUs > 0 ? (us / busyUs) * 100 : 0 };
  });
}

function budgetOf(c: CaseSpec, bench: BenchResult, load: MachineLoad, nodes: { target: NodeTarget; data: CpuProfileData; breakdown: ProfileBreakdown; profileFile: string }[]): CaseBudget {
  const ops = bench.totalOps;
  const perOp = (us: number): number => (ops > 0 ? us / ops : 0);
  const merged = mergeBreakdowns(nodes.map((n) => n.breakdown));
  const cpuUserUs = nodes.reduce((s, n) => s + n.data.cpuUserUs, 0);
  const cpuSystemUs = nodes.reduce((s, n) => s + n.data.cpuSystemUs, 0);
  const cpuUsPerOp = perOp(cpuUserUs + cpuSystemUs);
  const notes: string[] = [...bench.notes];
  const figures: NodeFigures[] = nodes.map(({ target, data, breakdown, profileFile }) => {
    const cpuUs = data.cpuUserUs + data.cpuSystemUs;
    const busyOverCpu = cpuUs > 0 ? breakdown.busyUs / cpuUs : 0;
    const main = data.mainThread;
    const waitText = main === undefined ? '' : `; its main thread was on a CPU ${(main.cpuUs / 1000).toFixed(0)} ms and runnable but waiting for one ${(main.runQueueWaitUs / 1000).toFixed(0)} ms (schedstat)`;
    if (busyOverCpu > 1) notes.push(`${target.name}: sampled main-thread busy time (${(breakdown.busyUs / 1000).toFixed(0)} ms) exceeds the whole process's CPU time (${(cpuUs / 1000).toFixed(0)} ms): samples measure wall time, so they also count time the busy main thread waited for a core${waitText}`);
    const windowGap = Math.abs(data.wallMs / 1000 - bench.durationSec) / bench.durationSec;
    if (windowGap > 0.02) notes.push(`${target.name}: profiled ${(data.wallMs / 1000).toFixed(2)} s but the generator measured ${bench.durationSec.toFixed(2)} s`);
    return {
      name: target.name,
      pid: data.pid,
      wallMs: data.wallMs,
      cpuUserUs: data.cpuUserUs,
      cpuSystemUs: data.cpuSystemUs,
      cpuPct: data.wallMs > 0 ? (cpuUs / 1000 / data.wallMs) * 100 : 0,
      samples: breakdown.samples,
      sampledBusyUs: breakdown.busyUs,
      sampledIdleUs: breakdown.idleUs,
      busyOverCpu,
      roles: breakdown.roles,
      profileFile,
      ...(main !== undefined ? { mainThreadCpuUs: main.cpuUs, runQueueWaitUs: main.runQueueWaitUs } : {}),
    };
  });
  const byOp: CaseBudget['latencyMs']['byOp'] = {};
  for (const [op, s] of Object.entries(bench.ops) as [OpName, BenchResult['ops'][OpName]][]) if (s) byOp[op] = { p50: s.p50Ms, p99: s.p99Ms, count: s.count };
  return {
    case: c.name,
    driver: c.driver,
    mix: c.mix,
    measuredSec: bench.durationSec,
    ops,
    errors: bench.errors,
    opsPerSec: bench.opsPerSec,
    latencyMs: { p50: bench.all.p50Ms, p99: bench.all.p99Ms, byOp },
    generatorCpuPctOfOneCore: bench.generator.cpuPctOfOneCore,
    loadAvg1m: load.loadAvg1m,
    ...machineOf(load, cpuUserUs + cpuSystemUs, notes),
    nodes: figures,
    perOp: { cpuUs: cpuUsPerOp, cpuUserUs: perOp(cpuUserUs), cpuSystemUs: perOp(cpuSystemUs), sampledBusyUs: perOp(merged.busyUs), offMainOrKernelUs: cpuUsPerOp - perOp(merged.busyUs), ...mainThreadPerOp(figures, cpuUsPerOp, perOp) },
    roles: roleBudget(merged, cpuUsPerOp, ops),
    topSelf: functionRows(topFunctions(merged, 'self', TOP_SELF), 'self', ops, merged.busyUs),
    topInclusiveSrc: functionRows(topFunctions(merged, 'inclusive', TOP_INCLUSIVE), 'inclusive', ops, merged.busyUs),
    notes,
  };
}

/** Linux reports /proc/stat in USER_HZ ticks, 100 a second on every common build. */
const PROC_STAT_TICKS_PER_SEC = 100;
/** Other work on the machine above this share of one core during a case gets a note. */
const OTHER_LOAD_NOTE_PCT = 15;

/** Hypervisor steal above this share of one core during a case gets a note. */
const STEAL_NOTE_PCT = 5;

interface MachineTimes {
  /** user, nice, system, irq, softirq of all cores. */
  busyUs: number;
  stealUs: number;
}

interface MachineLoad {
  loadAvg1m: CaseBudget['loadAvg1m'];
  machine: MachineTimes | undefined;
  selfCpuUs: number;
  wallMs: number;
}

/** CPU time of the whole machine so far (all cores), µs; undefined without /proc/stat. */
function machineTimes(): MachineTimes | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
    if (fields[0] !== 'cpu') return undefined;
    const [user, nice, system, , , irq, softirq, steal] = fields.slice(1).map(Number);
    const us = (ticks: number): number => (ticks * 1e6) / PROC_STAT_TICKS_PER_SEC;
    return { busyUs: us([user, nice, system, irq, softirq].reduce<number>((sum, x) => sum + (x ?? 0), 0)), stealUs: us(steal ?? 0) };
  } catch {
    return undefined;
  }
}

function machineDelta(before: MachineTimes | undefined, after: MachineTimes | undefined): MachineTimes | undefined {
  return before === undefined || after === undefined ? undefined : { busyUs: after.busyUs - before.busyUs, stealUs: after.stealUs - before.stealUs };
}

function machineOf(load: MachineLoad, nodesCpuUs: number, notes: string[]): Pick<CaseBudget, 'machine'> {
  if (load.machine === undefined || load.wallMs <= 0) return {};
  const pctOfCore = (us: number): number => (us / 1000 / load.wallMs) * 100;
  const otherPct = pctOfCore(Math.max(0, load.machine.busyUs - nodesCpuUs - load.selfCpuUs));
  const stealPct = pctOfCore(load.machine.stealUs);
  if (otherPct > OTHER_LOAD_NOTE_PCT) notes.push(`other work on the machine (not the nodes, not the load generator) used about ${otherPct.toFixed(0)}% of a core during this case: the nodes competed for the cores with it, which lowers throughput and raises latency and the main threads' wait for a CPU`);
  if (stealPct > STEAL_NOTE_PCT) notes.push(`the hypervisor took (steal) about ${stealPct.toFixed(0)}% of a core from this machine during this case`);
  return { machine: { busyPctOfOneCore: pctOfCore(load.machine.busyUs), otherPctOfOneCore: otherPct, stealPctOfOneCore: stealPct } };
}

/** Quiet: the whole machine (our idle cluster included) busy less than this share of one core over a second. */
const QUIET_PCT_OF_CORE = 20;
const QUIET_SECONDS = 3;

/** Waits (at most maxSec) until the machine has been quiet QUIET_SECONDS seconds in a row. */
async function waitQuiet(maxSec: number, signal: AbortSignal): Promise<{ waitedSec: number; quiet: boolean }> {
  const started = performance.now();
  let quietFor = 0;
  while (!signal.aborted && performance.now() - started < maxSec * 1000) {
    const before = machineTimes();
    await new Promise((r) => setTimeout(r, 1000));
    const delta = machineDelta(before, machineTimes());
    if (delta === undefined) return { waitedSec: 0, quiet: false };
    quietFor = ((delta.busyUs + delta.stealUs) / 1e6) * 100 < QUIET_PCT_OF_CORE ? quietFor + 1 : 0;
    if (quietFor >= QUIET_SECONDS) return { waitedSec: Math.round((performance.now() - started) / 1000), quiet: true };
  }
  return { waitedSec: Math.round((performance.now() - started) / 1000), quiet: false };
}

/** The promise's outcome, or a rejection as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

function mainThreadPerOp(nodes: NodeFigures[], cpuUsPerOp: number, perOp: (us: number) => number): Pick<CaseBudget['perOp'], 'mainThreadCpuUs' | 'otherThreadsCpuUs' | 'runQueueWaitUs'> {
  if (!nodes.every((n) => n.mainThreadCpuUs !== undefined && n.runQueueWaitUs !== undefined)) return {};
  const main = perOp(nodes.reduce((s, n) => s + n.mainThreadCpuUs!, 0));
  return { mainThreadCpuUs: main, otherThreadsCpuUs: cpuUsPerOp - main, runQueueWaitUs: perOp(nodes.reduce((s, n) => s + n.runQueueWaitUs!, 0)) };
}

async function runCase(c: CaseSpec, targets: NodeTarget[], signal: AbortSignal): Promise<CaseBudget> {
  process.stderr.write(`\n== ${c.name}\n`);
  const quietNotes: string[] = [];
  if (waitQuietSec > 0) {
    const { waitedSec, quiet } = await waitQuiet(waitQuietSec, signal);
    quietNotes.push(quiet ? `waited ${waitedSec} s for a quiet machine before the case` : `the machine was not quiet within ${waitQuietSec} s (--wait-quiet); ran anyway`);
  }
  const driver = driverFactory(c.driver)({ targets: targets.map((t) => (c.driver === 'http' ? t.http : t.pb)), bucket: BUCKET, timeoutMs: OP_TIMEOUT_MS, params: RONDO_QUORUMS });
  if (warmupSec > 0) await runBench(workload(c, warmupSec), driver, { label: `${c.name} warm-up`, seed: SEED, signal, onProgress: progressLine });
  const durationMs = seconds * 1000;
  const loadBefore = loadavg()[0]!;
  const machineBefore = machineTimes();
  const selfBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const profiling = targets.map((t) => adminCall({ address: t.address, clusterSecret: t.clusterSecret, timeoutMs: durationMs + PROFILE_REPLY_MARGIN_MS }, { type: 'admin.cpu-profile', durationMs }));
  const measuring = runBench(workload(c, seconds), driver, { label: c.name, seed: SEED, signal, targets: targets.map((t) => t.address), onProgress: progressLine });
  // Wait for all of them even when one fails (unless the run is aborted: then the cluster's stop ends the profiles).
  const [benchOutcome, ...profileOutcomes] = await unlessAborted(Promise.allSettled([measuring, ...profiling]), signal);
  if (benchOutcome!.status === 'rejected') throw benchOutcome!.reason;
  const failed = profileOutcomes.find((o) => o.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const bench = (benchOutcome as PromiseFulfilledResult<BenchResult>).value;
  const loadAfter = loadavg()[0]!;
  const machineAfter = machineTimes();
  const self = process.cpuUsage(selfBefore);
  const wallMs = performance.now() - wallBefore;
  const nodes = profileOutcomes.map((o, i) => {
    const target = targets[i]!;
    const data = (o as PromiseFulfilledResult<Awaited<(typeof profiling)[number]>>).value.data as CpuProfileData;
    const profileFile = `${c.name}-${target.name}.cpuprofile`;
    writeFileSync(join(opts.out, profileFile), JSON.stringify(data.profile));
    return { target, data, breakdown: analyzeProfile(data.profile), profileFile };
  });
  bench.notes.push(...quietNotes);
  const budget = budgetOf(c, bench, { loadAvg1m: { before: loadBefore, after: loadAfter }, machine: machineDelta(machineBefore, machineAfter), selfCpuUs: self.user + self.system, wallMs }, nodes);
  process.stderr.write(`${c.name}: ${budget.opsPerSec.toFixed(0)} ops/s, node CPU ${budget.perOp.cpuUs.toFixed(0)} µs/op\n`);
  return budget;
}

// --- Markdown ---

const f0 = (x: number): string => x.toFixed(0);
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function table(header: string[], rows: string[][], rightFrom = 1): string {
  const align = header.map((_, i) => (i >= rightFrom ? '---:' : '---'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function mixText(mix: Partial<Record<OpName, number>>): string {
  return Object.entries(mix)
    .map(([op, w]) => `${op}=${w}`)
    .join(',');
}

function caseMarkdown(b: CaseBudget): string {
  const lat = Object.entries(b.latencyMs.byOp)
    .map(([op, l]) => `${op} p50 ${f2(l.p50)} / p99 ${f2(l.p99)} ms`)
    .join('; ');
  const lines = [
    `## ${b.case} (${b.driver}, ${mixText(b.mix)})`,
    '',
    `${f0(b.opsPerSec)} ops/s over ${f1(b.measuredSec)} s (${b.ops} operations, ${b.errors} errors); p50 ${f2(b.latencyMs.p50)} ms, p99 ${f2(b.latencyMs.p99)} ms${Object.keys(b.latencyMs.byOp).length > 1 ? ` (${lat})` : ''}; load generator ${f0(b.generatorCpuPctOfOneCore)}% of one core; machine load average (1 min) ${f2(b.loadAvg1m.before)} before, ${f2(b.loadAvg1m.after)} after${b.machine ? `; machine CPU ${f0(b.machine.busyPctOfOneCore)}% of one core, of which other work (not the nodes, not the generator) about ${f0(b.machine.otherPctOfOneCore)}%; hypervisor steal ${f0(b.machine.stealPctOfOneCore)}% of one core` : ''}.`,
    '',
    `Node CPU per operation (3 nodes summed): **${f1(b.perOp.cpuUs)} µs** = user ${f1(b.perOp.cpuUserUs)} + system ${f1(b.perOp.cpuSystemUs)}. Sampled main-thread busy: ${f1(b.perOp.sampledBusyUs)} µs/op; off the main thread or in the kernel (estimate: node CPU − sampled busy): ${f1(b.perOp.offMainOrKernelUs)} µs/op.${
      b.perOp.mainThreadCpuUs !== undefined ? ` Measured by the kernel (schedstat): main thread on a CPU ${f1(b.perOp.mainThreadCpuUs)} µs/op, other threads ${f1(b.perOp.otherThreadsCpuUs!)} µs/op; the main thread waited for a CPU ${f1(b.perOp.runQueueWaitUs!)} µs/op.` : ''
    }`,
    '',
    table(
      ['node', 'CPU % of a core', 'user ms', 'system ms', 'main thread on CPU ms', 'main thread waiting for a CPU ms', 'sampled busy ms', 'sampled idle ms', 'busy / CPU', 'samples'],
      b.nodes.map((n) => [n.name, f0(n.cpuPct), f0(n.cpuUserUs / 1000), f0(n.cpuSystemUs / 1000), n.mainThreadCpuUs === undefined ? '–' : f0(n.mainThreadCpuUs / 1000), n.runQueueWaitUs === undefined ? '–' : f0(n.runQueueWaitUs / 1000), f0(n.sampledBusyUs / 1000), f0(n.sampledIdleUs / 1000), f2(n.busyOverCpu), String(n.samples)]),
    ),
    '',
    'By role (µs/op of node CPU = node CPU µs/op × the role\'s share of sampled busy time):',
    '',
    table(
      ['role', 'µs/op (of node CPU)', 'sampled µs/op', 'share of sampled busy'],
      b.roles.map((r) => [r.label, f1(r.usPerOp), f1(r.sampledUsPerOp), pct(r.share)]),
    ),
    '',
    `Top ${TOP_SELF} functions by self time (sampled µs/op, all 3 nodes):`,
    '',
    table(['#', 'function', 'file:line', 'µs/op', '% of busy'], b.topSelf.map((f, i) => [String(i + 1), `\`${f.name}\``, f.location, f2(f.usPerOp), f1(f.pctOfBusy)]), 3),
    '',
    `Top ${TOP_INCLUSIVE} functions in src/ by inclusive time (sampled µs/op; nested, so they do not add up):`,
    '',
    table(['#', 'function', 'file:line', 'µs/op', '% of busy'], b.topInclusiveSrc.map((f, i) => [String(i + 1), `\`${f.name}\``, f.location, f2(f.usPerOp), f1(f.pctOfBusy)]), 3),
  ];
  if (b.notes.length > 0) lines.push('', 'Notes:', '', ...b.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function reportMarkdown(budgets: CaseBudget[], context: string): string {
  const roleCols = CPU_ROLES.map((r) => CPU_ROLE_LABELS[r]);
  const summary = table(
    ['case', 'ops/s', 'p50 ms', 'p99 ms', 'other work on the machine, % of a core', 'steal, % of a core', 'node CPU µs/op', 'user', 'system', 'sampled busy', 'off main / kernel (est.)', 'main thread (schedstat)', 'other threads (schedstat)', ...roleCols],
    budgets.map((b) => [
      b.case,
      f0(b.opsPerSec),
      f2(b.latencyMs.p50),
      f2(b.latencyMs.p99),
      b.machine === undefined ? '–' : f0(b.machine.otherPctOfOneCore),
      b.machine === undefined ? '–' : f0(b.machine.stealPctOfOneCore),
      f1(b.perOp.cpuUs),
      f1(b.perOp.cpuUserUs),
      f1(b.perOp.cpuSystemUs),
      f1(b.perOp.sampledBusyUs),
      f1(b.perOp.offMainOrKernelUs),
      b.perOp.mainThreadCpuUs === undefined ? '–' : f1(b.perOp.mainThreadCpuUs),
      b.perOp.otherThreadsCpuUs === undefined ? '–' : f1(b.perOp.otherThreadsCpuUs),
      ...CPU_ROLES.map((r) => f1(b.roles.find((x) => x.role === r)!.usPerOp)),
    ]),
  );
  return [
    '# Rondo CPU budget per operation',
    '',
    context,
    '',
    '- **other work / steal**: over each measured phase (/proc/stat), CPU used on the machine by anything but the 3 nodes and the load generator, and time the hypervisor took from the machine; the cores are shared, so a case with either well above 0 is disturbed (lower ops/s, higher latency, and more CPU per operation).',
    '- **node CPU µs/op**: process.cpuUsage (user + system, every thread) of the 3 node processes over the profiled window, summed, ÷ operations the generator measured.',
    '- **sampled busy**: main-thread samples that are not `(idle)` (V8 sampling profiler, every 500 µs). Samples measure wall time, so a busy main thread waiting for a core still counts.',
    '- **off main / kernel (est.)**: node CPU − sampled busy. An estimate: libuv and LMDB threads, GC helper threads and kernel time not seen by the samples; negative when the samples count waiting time (see busy / CPU per node).',
    '- **main thread / other threads (schedstat)**: measured by Linux per thread (/proc/<pid>/task/<pid>/schedstat, user + kernel): the main thread\'s CPU time, and the rest of the process\'s (node CPU − main thread).',
    '- **roles**: each sample goes to the first Rondo frame from the leaf that a rule in src/bench/cpu-roles.ts matches (libraries, Node internals, src/kv/object, src/core/errors.ts, src/core/host are passed over to their caller); role µs/op = node CPU µs/op × the role\'s share of sampled busy time.',
    '',
    'Node CPU µs/op by role:',
    '',
    summary,
    '',
    ...budgets.map((b) => `${caseMarkdown(b)}\n`),
  ].join('\n');
}

/** The cluster's ports that something already listens on. */
async function portsInUse(): Promise<number[]> {
  const ports = [PORTS.node, PORTS.http, PORTS.pb].flatMap((base) => Array.from({ length: NODES }, (_, i) => base + i));
  const free = await Promise.all(ports.map((port) => canListen(port)));
  return ports.filter((_, i) => !free[i]);
}

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${rev} (with uncommitted changes)` : rev;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const startedAt = new Date();
  const context = `${startedAt.toISOString()}, commit ${gitRevision()}, Node ${process.version}, ${cpus().length} cores (shared by the 3 nodes and the load generator). A fresh 3-node \`rondo dev\` cluster (LMDB), N=3, R=2 and W=2 on every request; ${KEYS.toLocaleString('en-US')} keys of ${VALUE_BYTES} B preloaded over PB; ${CLIENTS} clients, uniform keys; per case ${warmupSec} s of warm-up, then ${seconds} s measured while every node is profiled.`;
  const budgets: CaseBudget[] = [];
  // A hard bound on the whole run: past it, the load stops and the cluster is stopped.
  const deadlineMs = PRELOAD_BOUND_MS + cases.length * ((waitQuietSec + warmupSec + seconds) * 1000 + PROFILE_REPLY_MARGIN_MS + CASE_SLACK_MS);
  const watchdog = setTimeout(() => abort.abort(new Error(`the run took over ${Math.round(deadlineMs / 1000)} s`)), deadlineMs);
  watchdog.unref();
  const writeReport = (): string => {
    const markdown = reportMarkdown(budgets, context);
    writeFileSync(join(opts.out, 'budget.md'), markdown);
    writeFileSync(join(opts.out, 'budget.json'), `${JSON.stringify({ version: 1, startedAt: startedAt.toISOString(), context, seconds, warmupSec, cases: budgets }, null, 1)}\n`);
    return markdown;
  };
  const taken = await portsInUse();
  if (taken.length > 0) throw new Error(`port(s) ${taken.join(', ')} in use (another benchmark or cluster running?); stop it or pick others with --base-port, --http-base-port, --pb-base-port`);
  process.stderr.write(`starting a 3-node cluster (ports ${PORTS.node}.., HTTP ${PORTS.http}.., PB ${PORTS.pb}..)\n`);
  const cluster = await startBenchCluster({ basePort: PORTS.node, httpBasePort: PORTS.http, pbBasePort: PORTS.pb });
  try {
    const targets = readTargets(cluster.dir);
    const preloadDriver = driverFactory('pb')({ targets: targets.map((t) => t.pb), bucket: BUCKET, timeoutMs: 10_000, params: RONDO_QUORUMS });
    const t0 = performance.now();
    const { failed } = await preloadKeys({ ...workload(CASES[0]!, 1), mix: { put: 100 }, preload: true }, preloadDriver, { label: 'preload', seed: SEED, signal: abort.signal, onProgress: progressLine });
    if (failed > 0) throw new Error(`${failed} of ${KEYS} preload puts failed`);
    process.stderr.write(`preloaded ${KEYS} keys of ${VALUE_BYTES} B in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const c of cases) {
      budgets.push(await runCase(c, targets, abort.signal));
      writeReport();
    }
  } finally {
    clearTimeout(watchdog);
    await cluster.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  process.stdout.write(`${writeReport()}\nReport, numbers and profiles in ${opts.out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/cpu-budget.ts: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
