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
// --sampler perf (Linux, needs `perf`): instead of V8's sampler, which
// measures the main thread's wall time (a main thread waiting for a core
// counts as busy) and sees no other thread, Linux perf samples every thread
// of the nodes while it is on a CPU (`perf record -F 199 -g -e cpu-clock -p
// <the 3 pids>`; the nodes run with --perf-basic-prof-only-functions and
// --interpreted-frames-native-stack so JavaScript frames have names). Every
// sample is CPU time (1/199 s), so roles come straight from the samples, user
// and kernel apart, with GC and JIT compilation on any thread and the LMDB
// writer and other threads as roles of their own (src/bench/perf-samples.ts);
// the sampled total is checked against the processes' CPU time from /proc,
// read by perf's own workload at the start and end of the recorded window.
//
// Output: Markdown on stdout and in <out>/budget.md, every number in
// <out>/budget.json, and each node's .cpuprofile per case (Chrome DevTools
// loads them), or with perf each case's perf.data and its `perf script`
// text (gzip). The cluster and perf are stopped (by PID; the cluster through
// startBenchCluster's stop) however the run ends.
import { Command } from 'commander';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { analyzeProfile, CPU_ROLE_LABELS, CPU_ROLES, mergeBreakdowns, roleBudget, topFunctions, type FunctionTime, type ProfileBreakdown } from '../src/bench/cpu-roles.js';
import { analyzePerfSamples, parsePerfScript, PERF_ROLE_LABELS, PERF_ROLES, perfBudget, samplesToUs, topRows, type PerfBreakdown, type PerfRole, type PerfRow, type PerfThreadBudget } from '../src/bench/perf-samples.js';
import { driverFactory } from '../src/bench/drivers/index.js';
import { preloadKeys, runBench, type BenchProgress } from '../src/bench/runner.js';
import type { BenchResult, OpName, WorkloadSpec } from '../src/bench/types.js';
import { adminCall } from '../src/cli/admin.js';
import type { CpuProfileData } from '../src/core/host/cpu-profiler.js';
import type { AdminReply } from '../src/core/node/admin-messages.js';
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
  .option('--warmup <n>', 'warm-up seconds per case (the JIT compiles the hot path in the first seconds)', '10')
  .option('--wait-quiet <n>', 'before each case, wait up to this many seconds for 3 quiet seconds on the machine (for shared machines; 0: do not wait)', '0')
  .option('--base-port <port>', 'first node\'s node-to-node and admin port (then +1, +2)', String(PORTS_DEFAULT.node))
  .option('--http-base-port <port>', 'first node\'s HTTP API port', String(PORTS_DEFAULT.http))
  .option('--pb-base-port <port>', 'first node\'s PB API port', String(PORTS_DEFAULT.pb))
  .option('--sampler <v8|perf>', 'v8: V8\'s sampling profiler of each main thread (wall time); perf: Linux perf\'s on-CPU samples of every thread (needs perf)', 'v8')
  .option('--out <dir>', 'result folder', `bench-results/cpu-budget-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  .parse();
const opts = program.opts<{ cases: string; seconds: string; warmup: string; waitQuiet: string; basePort: string; httpBasePort: string; pbBasePort: string; sampler: string; out: string }>();
if (opts.sampler !== 'v8' && opts.sampler !== 'perf') throw new Error(`--sampler must be v8 or perf, got "${opts.sampler}"`);
const sampler: Sampler = opts.sampler;
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

type Sampler = 'v8' | 'perf';

interface NodeFigures {
  name: string;
  pid: number;
  wallMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Of one core over the window. */
  cpuPct: number;
  samples: number;
  /** v8: sampled main-thread time that is not '(idle)', and '(idle)'. */
  sampledBusyUs?: number;
  sampledIdleUs?: number;
  /** v8: sampled busy / process CPU: above 1, the samples count time the main thread was not on a CPU. */
  busyOverCpu?: number;
  /** perf: on-CPU samples of every thread, of the main thread, and with a kernel leaf, as CPU µs. */
  sampledUs?: number;
  mainSampledUs?: number;
  kernelSampledUs?: number;
  /** perf: sampled / process CPU (1 within sampling error). */
  sampledOverCpu?: number;
  /** Linux schedstat of the main thread over the window: on a CPU, and runnable but waiting for one. */
  mainThreadCpuUs?: number;
  runQueueWaitUs?: number;
  /** Sampled µs by role (v8: main thread busy time; perf: CPU time of every thread). */
  roles: Partial<Record<PerfRole, number>>;
  /** v8: the node's .cpuprofile; perf: the case's perf.data (all nodes). */
  profileFile: string;
}

interface FunctionRow {
  name: string;
  location: string;
  usPerOp: number;
  /** Of sampled busy time (v8), of all samples (perf). */
  pctOfBusy: number;
}

/** A role's µs per operation. v8: node CPU × the role's share of sampled busy time; perf: straight from the samples, user and kernel apart. */
interface RoleRow {
  role: PerfRole;
  label: string;
  usPerOp: number;
  sampledUsPerOp: number;
  share: number;
  userUsPerOp?: number;
  kernelUsPerOp?: number;
}

interface PerfCaseFigures {
  frequencyHz: number;
  samples: number;
  /** The recorded window, from perf's workload (date before and after its sleep). */
  windowSec: number;
  /** Sampled CPU (all threads) / process CPU (/proc) of the 3 nodes. */
  sampledOverCpu: number;
  /** About 2/√samples: the 95 % band of sampledOverCpu from sampling alone. */
  samplingErrorPct: number;
  threads: PerfThreadBudget[];
  topFirstJs: FunctionRow[];
  /** Samples with no JavaScript frame at all (other threads, the event loop in the kernel, ...). */
  noJsUsPerOp: number;
  perfDataFile: string;
  scriptFile: string;
}

interface CaseBudget {
  case: string;
  sampler: Sampler;
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
    /** v8: sampled main-thread busy time. */
    sampledBusyUs?: number;
    /** v8: cpuUs - sampledBusyUs: an estimate. */
    offMainOrKernelUs?: number;
    /** perf: sampled CPU of every thread; of the main threads; of the others; with a kernel leaf. */
    sampledUs?: number;
    sampledMainUs?: number;
    sampledOtherThreadsUs?: number;
    sampledKernelUs?: number;
    /** Measured (Linux schedstat), when every node gave it: the main thread's CPU, and the rest of the process's. */
    mainThreadCpuUs?: number;
    otherThreadsCpuUs?: number;
    /** The main thread runnable but waiting for a CPU (counted by V8's samples as busy; not by perf's). */
    runQueueWaitUs?: number;
  };
  roles: RoleRow[];
  /** v8: functions by self time; perf: leaf symbols. */
  topSelf: FunctionRow[];
  topInclusiveSrc: FunctionRow[];
  perf?: PerfCaseFigures;
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

/** What every case reports, whatever the sampler. */
function caseHead(c: CaseSpec, bench: BenchResult, load: MachineLoad, nodesCpuUs: number, notes: string[]): Omit<CaseBudget, 'nodes' | 'perOp' | 'roles' | 'topSelf' | 'topInclusiveSrc' | 'notes'> {
  const byOp: CaseBudget['latencyMs']['byOp'] = {};
  for (const [op, s] of Object.entries(bench.ops) as [OpName, BenchResult['ops'][OpName]][]) if (s) byOp[op] = { p50: s.p50Ms, p99: s.p99Ms, count: s.count };
  return {
    case: c.name,
    sampler,
    driver: c.driver,
    mix: c.mix,
    measuredSec: bench.durationSec,
    ops: bench.totalOps,
    errors: bench.errors,
    opsPerSec: bench.opsPerSec,
    latencyMs: { p50: bench.all.p50Ms, p99: bench.all.p99Ms, byOp },
    generatorCpuPctOfOneCore: bench.generator.cpuPctOfOneCore,
    loadAvg1m: load.loadAvg1m,
    ...machineOf(load, nodesCpuUs, notes),
  };
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
  return {
    ...caseHead(c, bench, load, cpuUserUs + cpuSystemUs, notes),
    nodes: figures,
    perOp: { cpuUs: cpuUsPerOp, cpuUserUs: perOp(cpuUserUs), cpuSystemUs: perOp(cpuSystemUs), sampledBusyUs: perOp(merged.busyUs), offMainOrKernelUs: cpuUsPerOp - perOp(merged.busyUs), ...mainThreadPerOp(figures, cpuUsPerOp, perOp) },
    roles: roleBudget(merged, cpuUsPerOp, ops),
    topSelf: functionRows(topFunctions(merged, 'self', TOP_SELF), 'self', ops, merged.busyUs),
    topInclusiveSrc: functionRows(topFunctions(merged, 'inclusive', TOP_INCLUSIVE), 'inclusive', ops, merged.busyUs),
    notes,
  };
}

// --- perf ---

/** perf record's sampling frequency (a prime, so that sampling does not lock on to periodic work). */
const PERF_HZ = 199;
/** Sampled CPU and process CPU further apart than this get a warning. */
const PERF_AGREEMENT_WARN = 0.15;
const TOP_FIRST_JS = 20;
/** Node flags for perf: JIT code's names in /tmp/perf-<pid>.map, and interpreted functions as frames of their own. */
const PERF_NODE_ARGS = ['--perf-basic-prof-only-functions', '--interpreted-frames-native-stack'];
/** perf's workload: the nodes' /proc figures at the start and end of the recorded window, around the sleep. Arguments: before-file after-file seconds pid... */
const PERF_WORKLOAD = 'b=$1; a=$2; s=$3; shift 3; snap() { date +%s%N; for p in "$@"; do grep -H "" /proc/$p/stat /proc/$p/task/*/schedstat 2>/dev/null; done; }; snap "$@" > "$b"; sleep "$s"; snap "$@" > "$a"';

/** A node's figures from /proc at one moment. */
interface ProcFigures {
  /** /proc/<pid>/stat utime and stime, µs. */
  userUs: number;
  systemUs: number;
  /** /proc/<pid>/task/<tid>/schedstat: time on a CPU and waiting for one, µs. */
  threads: Map<number, { runUs: number; waitUs: number }>;
}

interface ProcSnapshot {
  timeNs: bigint;
  procs: Map<number, ProcFigures>;
}

/** The workload's snapshot: `date +%s%N`, then grep -H lines of /proc/<pid>/stat and /proc/<pid>/task/<tid>/schedstat. */
function parseProcSnapshot(text: string): ProcSnapshot {
  const lines = text.split('\n');
  const procs = new Map<number, ProcFigures>();
  const procOf = (pid: number): ProcFigures => {
    let p = procs.get(pid);
    if (p === undefined) procs.set(pid, (p = { userUs: 0, systemUs: 0, threads: new Map() }));
    return p;
  };
  const tickUs = 1e6 / PROC_STAT_TICKS_PER_SEC;
  for (const line of lines.slice(1)) {
    const stat = /^\/proc\/(\d+)\/stat:(.*)$/.exec(line);
    if (stat !== null) {
      // Fields after the command name (in parentheses, which may hold anything): state is field 3, utime 14, stime 15.
      const fields = stat[2]!.slice(stat[2]!.lastIndexOf(')') + 2).split(' ');
      const p = procOf(Number(stat[1]));
      p.userUs = Number(fields[11]) * tickUs;
      p.systemUs = Number(fields[12]) * tickUs;
      continue;
    }
    const sched = /^\/proc\/(\d+)\/task\/(\d+)\/schedstat:(\d+) (\d+)/.exec(line);
    if (sched !== null) procOf(Number(sched[1])).threads.set(Number(sched[2]), { runUs: Number(sched[3]) / 1000, waitUs: Number(sched[4]) / 1000 });
  }
  return { timeNs: BigInt((lines[0] ?? '0').trim() || '0'), procs };
}

/** perf is there and may sample (cpu-clock, call graphs, kernel included), or an Error that says why not. */
function checkPerf(dir: string): void {
  if (process.platform !== 'linux') throw new Error(`--sampler perf needs Linux perf; this is ${process.platform} (use --sampler v8)`);
  const version = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined) {
    const missing = (version.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? '--sampler perf needs Linux perf, and there is no `perf` on PATH: install it (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r)) or use --sampler v8 (the default)' : `--sampler perf: cannot run perf: ${version.error.message}`);
  }
  const probe = join(dir, 'perf-probe.data');
  const record = spawnSync('perf', ['record', '-F', String(PERF_HZ), '-g', '-e', 'cpu-clock', '-o', probe, '--', 'true'], { encoding: 'utf8' });
  rmSync(probe, { force: true });
  if (record.status !== 0) {
    let paranoid = '';
    try {
      paranoid = `; /proc/sys/kernel/perf_event_paranoid is ${readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim()} (sampling other processes with kernel stacks needs -1..1, or root / CAP_PERFMON)`;
    } catch {
      // not readable: say nothing of it
    }
    throw new Error(`--sampler perf: \`perf record -e cpu-clock\` is not permitted or fails here (exit ${record.status ?? record.signal}): ${(record.stderr || record.stdout).trim().split('\n').slice(0, 5).join(' / ')}${paranoid}`);
  }
}

/** The perf record running now, if any: stopped by its PID when the run is interrupted. */
let perfRunning: ChildProcess | undefined;

function stopPerf(): void {
  if (perfRunning !== undefined && perfRunning.exitCode === null && perfRunning.signalCode === null) perfRunning.kill('SIGINT');
}

/** `perf record` of the nodes for `seconds` (its workload snapshots /proc around its sleep); resolves when perf has written its data. */
function perfRecord(pids: number[], dataFile: string, beforeFile: string, afterFile: string, signal: AbortSignal): Promise<void> {
  const args = ['record', '-F', String(PERF_HZ), '-g', '-e', 'cpu-clock', '-p', pids.join(','), '-o', dataFile, '--no-buildid', '--', 'sh', '-c', PERF_WORKLOAD, 'sh', beforeFile, afterFile, String(seconds), ...pids.map(String)];
  return new Promise<void>((resolvePromise, reject) => {
    const perf = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    perfRunning = perf;
    let stderr = '';
    perf.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const onAbort = (): void => stopPerf();
    signal.addEventListener('abort', onAbort, { once: true });
    perf.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    perf.once('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      perfRunning = undefined;
      if (code === 0) resolvePromise();
      else reject(new Error(`perf record ended with ${code ?? sig}: ${stderr.trim().split('\n').slice(-5).join(' / ')}`));
    });
  });
}

const execFileAsync = promisify(execFile);

/** `perf script` of a recording: the text parsePerfScript reads, and perf's warnings. */
async function perfScript(dataFile: string): Promise<{ text: string; warnings: string[] }> {
  const { stdout, stderr } = await execFileAsync('perf', ['script', '-i', dataFile, '-F', 'pid,tid,ip,sym,dso'], { maxBuffer: 1 << 30, encoding: 'utf8' });
  return { text: stdout, warnings: stderr.split('\n').filter((l) => /warning|lost/i.test(l)) };
}

function perfFunctionRows(rows: PerfRow[]): FunctionRow[] {
  return rows.map((r) => ({ name: r.name, location: r.location, usPerOp: r.usPerOp, pctOfBusy: r.share * 100 }));
}

function perfBudgetOf(c: CaseSpec, bench: BenchResult, load: MachineLoad, run: { targets: NodeTarget[]; pids: number[]; before: ProcSnapshot; after: ProcSnapshot; breakdown: PerfBreakdown; perfDataFile: string; scriptFile: string; warnings: string[] }): CaseBudget {
  const ops = bench.totalOps;
  const perOp = (us: number): number => (ops > 0 ? us / ops : 0);
  const sampledUs = (n: number): number => samplesToUs(n, PERF_HZ);
  const notes: string[] = [...bench.notes, ...run.warnings.map((w) => `perf: ${w.trim()}`)];
  const windowSec = Number(run.after.timeNs - run.before.timeNs) / 1e9;
  const windowGap = Math.abs(windowSec - bench.durationSec) / bench.durationSec;
  if (windowGap > 0.02) notes.push(`perf recorded ${windowSec.toFixed(2)} s but the generator measured ${bench.durationSec.toFixed(2)} s`);
  const b = run.breakdown;
  const figures: NodeFigures[] = run.targets.map((target, i) => {
    const pid = run.pids[i]!;
    const before = run.before.procs.get(pid);
    const after = run.after.procs.get(pid);
    if (before === undefined || after === undefined) throw new Error(`no /proc figures of ${target.name} (pid ${pid}): did it exit?`);
    const cpuUserUs = after.userUs - before.userUs;
    const cpuSystemUs = after.systemUs - before.systemUs;
    const counts = b.processes.get(pid);
    const mainBefore = before.threads.get(pid);
    const mainAfter = after.threads.get(pid);
    const cpuUs = cpuUserUs + cpuSystemUs;
    const procSampled = sampledUs(counts?.samples ?? 0);
    const roles = Object.fromEntries(PERF_ROLES.map((r) => [r, sampledUs(counts?.roles[r] ?? 0)])) as Record<PerfRole, number>;
    return {
      name: target.name,
      pid,
      wallMs: windowSec * 1000,
      cpuUserUs,
      cpuSystemUs,
      cpuPct: windowSec > 0 ? (cpuUs / 1e6 / windowSec) * 100 : 0,
      samples: counts?.samples ?? 0,
      sampledUs: procSampled,
      mainSampledUs: sampledUs(counts?.mainSamples ?? 0),
      kernelSampledUs: sampledUs(counts?.kernelSamples ?? 0),
      sampledOverCpu: cpuUs > 0 ? procSampled / cpuUs : 0,
      roles,
      profileFile: run.perfDataFile,
      ...(mainBefore !== undefined && mainAfter !== undefined ? { mainThreadCpuUs: mainAfter.runUs - mainBefore.runUs, runQueueWaitUs: mainAfter.waitUs - mainBefore.waitUs } : {}),
    };
  });
  const cpuUserUs = figures.reduce((s, n) => s + n.cpuUserUs, 0);
  const cpuSystemUs = figures.reduce((s, n) => s + n.cpuSystemUs, 0);
  const cpuUsPerOp = perOp(cpuUserUs + cpuSystemUs);
  const budget = perfBudget(b, PERF_HZ, ops);
  const mainSamples = b.threads.main.user + b.threads.main.kernel;
  const sampledOverCpu = cpuUserUs + cpuSystemUs > 0 ? sampledUs(b.samples) / (cpuUserUs + cpuSystemUs) : 0;
  const samplingErrorPct = b.samples > 0 ? (2 / Math.sqrt(b.samples)) * 100 : 100;
  if (Math.abs(sampledOverCpu - 1) > PERF_AGREEMENT_WARN) {
    notes.push(
      `WARNING: perf's samples come to ${f1(budget.usPerOp)} µs/op but the processes used ${f1(cpuUsPerOp)} µs/op of CPU (/proc), ${((sampledOverCpu - 1) * 100).toFixed(0)}% apart, more than ${PERF_AGREEMENT_WARN * 100}% (sampling alone explains about ±${samplingErrorPct.toFixed(0)}%): lost samples, threads perf did not follow, or a window mismatch`,
    );
  }
  for (const n of figures) {
    if (n.mainThreadCpuUs === undefined || n.mainThreadCpuUs <= 0) continue;
    const ratio = n.mainSampledUs! / n.mainThreadCpuUs;
    const err = n.mainSampledUs! > 0 ? 2 / Math.sqrt(n.mainSampledUs! / samplesToUs(1, PERF_HZ)) : 1;
    if (Math.abs(ratio - 1) > Math.max(PERF_AGREEMENT_WARN, err)) notes.push(`${n.name}: main-thread samples (${f0(n.mainSampledUs! / 1000)} ms) and its schedstat CPU (${f0(n.mainThreadCpuUs / 1000)} ms) differ by ${((ratio - 1) * 100).toFixed(0)}%`);
  }
  const otherSamples = b.samples - mainSamples;
  const schedMain = mainThreadPerOp(figures, cpuUsPerOp, perOp);
  return {
    ...caseHead(c, bench, load, cpuUserUs + cpuSystemUs, notes),
    nodes: figures,
    perOp: {
      cpuUs: cpuUsPerOp,
      cpuUserUs: perOp(cpuUserUs),
      cpuSystemUs: perOp(cpuSystemUs),
      sampledUs: budget.usPerOp,
      sampledMainUs: perOp(sampledUs(mainSamples)),
      sampledOtherThreadsUs: perOp(sampledUs(otherSamples)),
      sampledKernelUs: budget.kernelUsPerOp,
      ...schedMain,
    },
    roles: budget.roles.map((r) => ({ role: r.role, label: r.label, usPerOp: r.usPerOp, sampledUsPerOp: r.usPerOp, share: r.share, userUsPerOp: r.userUsPerOp, kernelUsPerOp: r.kernelUsPerOp })),
    topSelf: perfFunctionRows(topRows(b.leaves, b.samples, PERF_HZ, ops, TOP_SELF)),
    topInclusiveSrc: perfFunctionRows(topRows(b.inclusiveSrc, b.samples, PERF_HZ, ops, TOP_INCLUSIVE)),
    perf: {
      frequencyHz: PERF_HZ,
      samples: b.samples,
      windowSec,
      sampledOverCpu,
      samplingErrorPct,
      threads: budget.threads,
      topFirstJs: perfFunctionRows(topRows(b.firstJs, b.samples, PERF_HZ, ops, TOP_FIRST_JS)),
      noJsUsPerOp: perOp(sampledUs(b.noJs)),
      perfDataFile: run.perfDataFile,
      scriptFile: run.scriptFile,
    },
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

async function runCase(c: CaseSpec, targets: NodeTarget[], pids: number[], signal: AbortSignal): Promise<CaseBudget> {
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
  const perfFiles = { data: join(opts.out, `${c.name}.perf.data`), before: join(opts.out, `${c.name}.proc-before.txt`), after: join(opts.out, `${c.name}.proc-after.txt`) };
  const sampling: Promise<unknown>[] =
    sampler === 'perf'
      ? [perfRecord(pids, perfFiles.data, perfFiles.before, perfFiles.after, signal)]
      : targets.map((t) => adminCall({ address: t.address, clusterSecret: t.clusterSecret, timeoutMs: durationMs + PROFILE_REPLY_MARGIN_MS }, { type: 'admin.cpu-profile', durationMs }));
  const measuring = runBench(workload(c, seconds), driver, { label: c.name, seed: SEED, signal, targets: targets.map((t) => t.address), onProgress: progressLine });
  // Wait for all of them even when one fails (unless the run is aborted: then the cluster's stop ends the profiles, and perf is stopped).
  const [benchOutcome, ...samplingOutcomes] = await unlessAborted(Promise.allSettled([measuring, ...sampling]), signal);
  if (benchOutcome!.status === 'rejected') throw benchOutcome!.reason;
  const failed = samplingOutcomes.find((o) => o.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const bench = (benchOutcome as PromiseFulfilledResult<BenchResult>).value;
  const loadAfter = loadavg()[0]!;
  const machineAfter = machineTimes();
  const self = process.cpuUsage(selfBefore);
  const wallMs = performance.now() - wallBefore;
  bench.notes.push(...quietNotes);
  const load: MachineLoad = { loadAvg1m: { before: loadBefore, after: loadAfter }, machine: machineDelta(machineBefore, machineAfter), selfCpuUs: self.user + self.system, wallMs };
  let budget: CaseBudget;
  if (sampler === 'perf') {
    const { text, warnings } = await perfScript(perfFiles.data);
    const scriptFile = `${c.name}.perf-script.txt.gz`;
    writeFileSync(join(opts.out, scriptFile), gzipSync(text));
    const breakdown = analyzePerfSamples(parsePerfScript(text), { mainPids: pids });
    const snapshot = (file: string): ProcSnapshot => parseProcSnapshot(readFileSync(file, 'utf8'));
    budget = perfBudgetOf(c, bench, load, { targets, pids, before: snapshot(perfFiles.before), after: snapshot(perfFiles.after), breakdown, perfDataFile: `${c.name}.perf.data`, scriptFile, warnings });
  } else {
    const nodes = samplingOutcomes.map((o, i) => {
      const target = targets[i]!;
      const data = (o as PromiseFulfilledResult<AdminReply>).value.data as CpuProfileData;
      const profileFile = `${c.name}-${target.name}.cpuprofile`;
      writeFileSync(join(opts.out, profileFile), JSON.stringify(data.profile));
      return { target, data, breakdown: analyzeProfile(data.profile), profileFile };
    });
    budget = budgetOf(c, bench, load, nodes);
  }
  process.stderr.write(`${c.name}: ${budget.opsPerSec.toFixed(0)} ops/s, node CPU ${budget.perOp.cpuUs.toFixed(0)} µs/op${budget.perOp.sampledUs !== undefined ? `, perf samples ${budget.perOp.sampledUs.toFixed(0)} µs/op` : ''}\n`);
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

/** The case's heading and throughput line. */
function caseHeadMarkdown(b: CaseBudget): string[] {
  const lat = Object.entries(b.latencyMs.byOp)
    .map(([op, l]) => `${op} p50 ${f2(l.p50)} / p99 ${f2(l.p99)} ms`)
    .join('; ');
  return [
    `## ${b.case} (${b.driver}, ${mixText(b.mix)}; sampler ${b.sampler})`,
    '',
    `${f0(b.opsPerSec)} ops/s over ${f1(b.measuredSec)} s (${b.ops} operations, ${b.errors} errors); p50 ${f2(b.latencyMs.p50)} ms, p99 ${f2(b.latencyMs.p99)} ms${Object.keys(b.latencyMs.byOp).length > 1 ? ` (${lat})` : ''}; load generator ${f0(b.generatorCpuPctOfOneCore)}% of one core; machine load average (1 min) ${f2(b.loadAvg1m.before)} before, ${f2(b.loadAvg1m.after)} after${b.machine ? `; machine CPU ${f0(b.machine.busyPctOfOneCore)}% of one core, of which other work (not the nodes, not the generator) about ${f0(b.machine.otherPctOfOneCore)}%; hypervisor steal ${f0(b.machine.stealPctOfOneCore)}% of one core` : ''}.`,
    '',
  ];
}

function functionTable(rows: FunctionRow[], place: string, share: string): string {
  return table(['#', 'function', place, 'µs/op', share], rows.map((f, i) => [String(i + 1), `\`${f.name}\``, f.location, f2(f.usPerOp), f1(f.pctOfBusy)]), 3);
}

function caseMarkdown(b: CaseBudget): string {
  return b.sampler === 'perf' ? perfCaseMarkdown(b) : v8CaseMarkdown(b);
}

function v8CaseMarkdown(b: CaseBudget): string {
  const lines = [
    ...caseHeadMarkdown(b),
    `Node CPU per operation (3 nodes summed): **${f1(b.perOp.cpuUs)} µs** = user ${f1(b.perOp.cpuUserUs)} + system ${f1(b.perOp.cpuSystemUs)}. Sampled main-thread busy: ${f1(b.perOp.sampledBusyUs!)} µs/op; off the main thread or in the kernel (estimate: node CPU − sampled busy): ${f1(b.perOp.offMainOrKernelUs!)} µs/op.${
      b.perOp.mainThreadCpuUs !== undefined ? ` Measured by the kernel (schedstat): main thread on a CPU ${f1(b.perOp.mainThreadCpuUs)} µs/op, other threads ${f1(b.perOp.otherThreadsCpuUs!)} µs/op; the main thread waited for a CPU ${f1(b.perOp.runQueueWaitUs!)} µs/op.` : ''
    }`,
    '',
    table(
      ['node', 'CPU % of a core', 'user ms', 'system ms', 'main thread on CPU ms', 'main thread waiting for a CPU ms', 'sampled busy ms', 'sampled idle ms', 'busy / CPU', 'samples'],
      b.nodes.map((n) => [n.name, f0(n.cpuPct), f0(n.cpuUserUs / 1000), f0(n.cpuSystemUs / 1000), n.mainThreadCpuUs === undefined ? '–' : f0(n.mainThreadCpuUs / 1000), n.runQueueWaitUs === undefined ? '–' : f0(n.runQueueWaitUs / 1000), f0(n.sampledBusyUs! / 1000), f0(n.sampledIdleUs! / 1000), f2(n.busyOverCpu!), String(n.samples)]),
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
    functionTable(b.topSelf, 'file:line', '% of busy'),
    '',
    `Top ${TOP_INCLUSIVE} functions in src/ by inclusive time (sampled µs/op; nested, so they do not add up):`,
    '',
    functionTable(b.topInclusiveSrc, 'file:line', '% of busy'),
  ];
  if (b.notes.length > 0) lines.push('', 'Notes:', '', ...b.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function perfCaseMarkdown(b: CaseBudget): string {
  const p = b.perf!;
  const o = b.perOp;
  const agree = Math.abs(p.sampledOverCpu - 1) <= PERF_AGREEMENT_WARN;
  const within = Math.abs(p.sampledOverCpu - 1) * 100 <= p.samplingErrorPct;
  const lines = [
    ...caseHeadMarkdown(b),
    `Node CPU per operation (3 nodes summed, /proc over perf's window of ${f2(p.windowSec)} s): **${f1(o.cpuUs)} µs** = user ${f1(o.cpuUserUs)} + system ${f1(o.cpuSystemUs)}. perf's on-CPU samples (cpu-clock, ${p.frequencyHz} Hz, every thread; ${p.samples} samples): **${f1(o.sampledUs!)} µs/op**, ${f2(p.sampledOverCpu)} × node CPU (sampling alone gives about ±${f1(p.samplingErrorPct)}%): ${
      agree ? (within ? 'they agree within sampling error.' : 'they agree within 15%, a little beyond sampling error alone.') : '**they differ by more than 15%: see the warning below.**'
    } Of the samples: main threads ${f1(o.sampledMainUs!)} µs/op, other threads ${f1(o.sampledOtherThreadsUs!)} µs/op; in the kernel ${f1(o.sampledKernelUs!)} µs/op.${
      o.mainThreadCpuUs !== undefined ? ` Measured by the kernel (schedstat): main threads on a CPU ${f1(o.mainThreadCpuUs)} µs/op, other threads ${f1(o.otherThreadsCpuUs!)} µs/op; main threads runnable but waiting for a CPU ${f1(o.runQueueWaitUs!)} µs/op (not counted by these samples).` : ''
    }`,
    '',
    table(
      ['node', 'pid', 'CPU % of a core', 'user ms', 'system ms', 'sampled ms (all threads)', 'sampled / CPU', 'main thread on CPU ms (schedstat)', 'main thread sampled ms', 'main thread waiting for a CPU ms', 'kernel, % of samples', 'samples'],
      b.nodes.map((n) => [
        n.name,
        String(n.pid),
        f0(n.cpuPct),
        f0(n.cpuUserUs / 1000),
        f0(n.cpuSystemUs / 1000),
        f0(n.sampledUs! / 1000),
        f2(n.sampledOverCpu!),
        n.mainThreadCpuUs === undefined ? '–' : f0(n.mainThreadCpuUs / 1000),
        f0(n.mainSampledUs! / 1000),
        n.runQueueWaitUs === undefined ? '–' : f0(n.runQueueWaitUs / 1000),
        n.sampledUs! > 0 ? f0((n.kernelSampledUs! / n.sampledUs!) * 100) : '–',
        String(n.samples),
      ]),
    ),
    '',
    'By thread (a sample off the main thread goes by what it was doing: GC, JIT compilation, LMDB, or other):',
    '',
    table(
      ['thread', 'threads seen', 'µs/op', 'user', 'kernel', 'share of samples'],
      p.threads.map((t) => [t.label, String(t.threads), f1(t.usPerOp), f1(t.userUsPerOp), f1(t.kernelUsPerOp), pct(t.share)]),
    ),
    '',
    'By role (sampled CPU µs/op = samples ÷ frequency ÷ operations; user / kernel by the leaf frame):',
    '',
    table(
      ['role', 'µs/op', 'user', 'kernel', 'share of samples'],
      b.roles.map((r) => [r.label, f1(r.usPerOp), f1(r.userUsPerOp ?? 0), f1(r.kernelUsPerOp ?? 0), pct(r.share)]),
    ),
    '',
    `Top ${TOP_SELF} leaf symbols (sampled µs/op, all 3 nodes, every thread; JS frames by function, any tier):`,
    '',
    functionTable(b.topSelf, 'file:line:column / dso', '% of samples'),
    '',
    `Top ${TOP_FIRST_JS} first JavaScript frames from the leaf (sampled µs/op; native code, kernel included, counted in the JS function that called it; samples with no JS frame: ${f1(p.noJsUsPerOp)} µs/op):`,
    '',
    functionTable(p.topFirstJs, 'file:line:column', '% of samples'),
    '',
    `Top ${TOP_INCLUSIVE} functions in src/ by inclusive time (sampled µs/op; nested, so they do not add up):`,
    '',
    functionTable(b.topInclusiveSrc, 'file:line:column', '% of samples'),
  ];
  if (b.notes.length > 0) lines.push('', 'Notes:', '', ...b.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function reportMarkdown(budgets: CaseBudget[], context: string): string {
  return sampler === 'perf' ? perfReportMarkdown(budgets, context) : v8ReportMarkdown(budgets, context);
}

function machineCells(b: CaseBudget): string[] {
  return [b.machine === undefined ? '–' : f0(b.machine.otherPctOfOneCore), b.machine === undefined ? '–' : f0(b.machine.stealPctOfOneCore)];
}

const OTHER_WORK_BULLET =
  '- **other work / steal**: over each measured phase (/proc/stat), CPU used on the machine by anything but the 3 nodes and the load generator, and time the hypervisor took from the machine; the cores are shared, so a case with either well above 0 is disturbed (lower ops/s, higher latency, and more CPU per operation).';

/** The first columns of both samplers' summary tables: the case, its throughput and latency, the machine, and node CPU per operation. */
const SUMMARY_LEAD_HEADERS = ['case', 'sampler', 'ops/s', 'p50 ms', 'p99 ms', 'other work on the machine, % of a core', 'steal, % of a core', 'node CPU µs/op', 'user', 'system'];

function summaryLeadCells(b: CaseBudget): string[] {
  return [b.case, b.sampler, f0(b.opsPerSec), f2(b.latencyMs.p50), f2(b.latencyMs.p99), ...machineCells(b), f1(b.perOp.cpuUs), f1(b.perOp.cpuUserUs), f1(b.perOp.cpuSystemUs)];
}

function v8ReportMarkdown(budgets: CaseBudget[], context: string): string {
  const roleCols = CPU_ROLES.map((r) => CPU_ROLE_LABELS[r]);
  const summary = table(
    [...SUMMARY_LEAD_HEADERS, 'sampled busy', 'off main / kernel (est.)', 'main thread (schedstat)', 'other threads (schedstat)', ...roleCols],
    budgets.map((b) => [
      ...summaryLeadCells(b),
      f1(b.perOp.sampledBusyUs!),
      f1(b.perOp.offMainOrKernelUs!),
      b.perOp.mainThreadCpuUs === undefined ? '–' : f1(b.perOp.mainThreadCpuUs),
      b.perOp.otherThreadsCpuUs === undefined ? '–' : f1(b.perOp.otherThreadsCpuUs),
      ...CPU_ROLES.map((r) => f1(b.roles.find((x) => x.role === r)!.usPerOp)),
    ]),
    2,
  );
  return [
    '# Rondo CPU budget per operation',
    '',
    context,
    '',
    OTHER_WORK_BULLET,
    "- **sampler v8**: V8's sampling profiler of each node's main thread (`admin cpu-profile`); `--sampler perf` samples every thread on a CPU instead.",
    '- **node CPU µs/op**: process.cpuUsage (user + system, every thread) of the 3 node processes over the profiled window, summed, ÷ operations the generator measured.',
    '- **sampled busy**: main-thread samples that are not `(idle)` (V8 sampling profiler, every 500 µs). Samples measure wall time, so a busy main thread waiting for a core still counts.',
    '- **off main / kernel (est.)**: node CPU − sampled busy. An estimate: libuv and LMDB threads, GC helper threads and kernel time not seen by the samples; negative when the samples count waiting time (see busy / CPU per node).',
    "- **main thread / other threads (schedstat)**: measured by Linux per thread (/proc/<pid>/task/<pid>/schedstat, user + kernel): the main thread's CPU time, and the rest of the process's (node CPU − main thread).",
    "- **roles**: each sample goes to the first Rondo frame from the leaf that a rule in src/bench/cpu-roles.ts matches (libraries, Node internals, src/kv/object, src/core/errors.ts, src/core/host are passed over to their caller); role µs/op = node CPU µs/op × the role's share of sampled busy time.",
    '',
    'Node CPU µs/op by role:',
    '',
    summary,
    '',
    ...budgets.map((b) => `${caseMarkdown(b)}\n`),
  ].join('\n');
}

function perfReportMarkdown(budgets: CaseBudget[], context: string): string {
  const summary = table(
    [...SUMMARY_LEAD_HEADERS, 'sampled µs/op', 'sampled / CPU', 'main threads (sampled)', 'other threads (sampled)', 'kernel (sampled)', ...PERF_ROLES.map((r) => PERF_ROLE_LABELS[r])],
    budgets.map((b) => [
      ...summaryLeadCells(b),
      f1(b.perOp.sampledUs!),
      f2(b.perf!.sampledOverCpu),
      f1(b.perOp.sampledMainUs!),
      f1(b.perOp.sampledOtherThreadsUs!),
      f1(b.perOp.sampledKernelUs!),
      ...PERF_ROLES.map((r) => f1(b.roles.find((x) => x.role === r)?.usPerOp ?? 0)),
    ]),
    2,
  );
  return [
    '# Rondo CPU budget per operation',
    '',
    context,
    '',
    OTHER_WORK_BULLET,
    `- **sampler perf**: Linux perf's on-CPU samples of every thread of the 3 nodes (\`perf record -F ${PERF_HZ} -g -e cpu-clock -p <pids>\`; the nodes run with ${PERF_NODE_ARGS.join(' ')} so JavaScript frames have names). A sample is taken only on a CPU, so each stands for 1/${PERF_HZ} s of CPU time, user or kernel, on any thread; a thread waiting for a core is not sampled.`,
    "- **node CPU µs/op**: /proc/<pid>/stat utime + stime (every thread) of the 3 node processes over perf's window (read by perf's own workload as it starts and ends), summed, ÷ operations the generator measured.",
    `- **sampled µs/op**: samples ÷ ${PERF_HZ} Hz ÷ operations. It should agree with node CPU within sampling error (about ±2/√samples); a case more than ${PERF_AGREEMENT_WARN * 100}% apart gets a warning. **sampled / CPU** is their ratio.`,
    '- **main / other threads, kernel (sampled)**: samples of the main threads (tid = pid) and of the rest; samples whose leaf frame is kernel code.',
    "- **roles**: main-thread samples go to the first frame from the leaf that a rule in src/bench/cpu-roles.ts matches (the same rules as the v8 sampler, on JavaScript frames named by the perf map); GC and JIT compilation frames are roles of their own on any thread; samples of other threads are the LMDB writer (LMDB's addon, mdb_*, kernel fsync), GC, JIT, or other threads; see src/bench/perf-samples.ts. Role µs/op come straight from the samples.",
    '',
    'Sampled CPU µs/op by role:',
    '',
    summary,
    '',
    ...budgets.map((b) => `${caseMarkdown(b)}\n`),
  ].join('\n');
}

/** Each node's process id (admin node-info). */
async function nodePids(targets: NodeTarget[]): Promise<number[]> {
  return Promise.all(
    targets.map(async (t) => {
      const reply = await adminCall({ address: t.address, clusterSecret: t.clusterSecret, timeoutMs: 10_000 }, { type: 'admin.node-info' });
      const pid = (reply.data as { pid?: unknown } | undefined)?.pid;
      if (typeof pid !== 'number') throw new Error(`${t.name} did not say its pid`);
      return pid;
    }),
  );
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
  const context = `${startedAt.toISOString()}, commit ${gitRevision()}, Node ${process.version}, ${cpus().length} cores (shared by the 3 nodes and the load generator). A fresh 3-node \`rondo dev\` cluster (LMDB), N=3, R=2 and W=2 on every request; ${KEYS.toLocaleString('en-US')} keys of ${VALUE_BYTES} B preloaded over PB; ${CLIENTS} clients, uniform keys; per case ${warmupSec} s of warm-up, then ${seconds} s measured while ${sampler === 'perf' ? `perf samples every thread of every node on a CPU (cpu-clock, ${PERF_HZ} Hz, call graphs)` : "V8's profiler samples every node's main thread"}.`;
  const budgets: CaseBudget[] = [];
  // A hard bound on the whole run: past it, the load stops and the cluster is stopped.
  const deadlineMs = PRELOAD_BOUND_MS + cases.length * ((waitQuietSec + warmupSec + seconds) * 1000 + PROFILE_REPLY_MARGIN_MS + CASE_SLACK_MS);
  const watchdog = setTimeout(() => abort.abort(new Error(`the run took over ${Math.round(deadlineMs / 1000)} s`)), deadlineMs);
  watchdog.unref();
  const writeReport = (): string => {
    const markdown = reportMarkdown(budgets, context);
    writeFileSync(join(opts.out, 'budget.md'), markdown);
    writeFileSync(join(opts.out, 'budget.json'), `${JSON.stringify({ version: 1, sampler, startedAt: startedAt.toISOString(), context, seconds, warmupSec, cases: budgets }, null, 1)}\n`);
    return markdown;
  };
  if (sampler === 'perf') checkPerf(opts.out);
  const taken = await portsInUse();
  if (taken.length > 0) throw new Error(`port(s) ${taken.join(', ')} in use (another benchmark or cluster running?); stop it or pick others with --base-port, --http-base-port, --pb-base-port`);
  process.stderr.write(`starting a 3-node cluster (ports ${PORTS.node}.., HTTP ${PORTS.http}.., PB ${PORTS.pb}..)\n`);
  const cluster = await startBenchCluster({ basePort: PORTS.node, httpBasePort: PORTS.http, pbBasePort: PORTS.pb, ...(sampler === 'perf' ? { nodeArgs: PERF_NODE_ARGS } : {}) });
  const pids: number[] = [];
  try {
    const targets = readTargets(cluster.dir);
    pids.push(...(await nodePids(targets)));
    const preloadDriver = driverFactory('pb')({ targets: targets.map((t) => t.pb), bucket: BUCKET, timeoutMs: 10_000, params: RONDO_QUORUMS });
    const t0 = performance.now();
    const { failed } = await preloadKeys({ ...workload(CASES[0]!, 1), mix: { put: 100 }, preload: true }, preloadDriver, { label: 'preload', seed: SEED, signal: abort.signal, onProgress: progressLine });
    if (failed > 0) throw new Error(`${failed} of ${KEYS} preload puts failed`);
    process.stderr.write(`preloaded ${KEYS} keys of ${VALUE_BYTES} B in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const c of cases) {
      budgets.push(await runCase(c, targets, pids, abort.signal));
      writeReport();
    }
  } finally {
    clearTimeout(watchdog);
    stopPerf();
    await cluster.stop();
    // The nodes' perf maps (--perf-basic-prof-only-functions writes /tmp/perf-<pid>.map; perf script has read them).
    if (sampler === 'perf') for (const pid of pids) rmSync(`/tmp/perf-${pid}.map`, { force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  process.stdout.write(`${writeReport()}\nReport, numbers and profiles in ${opts.out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/cpu-budget.ts: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
