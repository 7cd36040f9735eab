// The engine of `rondo bench`: opens the clients, preloads, warms up, then
// measures, each client doing one operation at a time, chosen and keyed by
// its own seeded PRNG. Latencies of successes go into HDR histograms per
// operation and per one-second interval; errors are counted apart.
import { setMaxListeners } from 'node:events';
import { AbortedError, PeerUnreachableError } from '../core/errors.js';
import { IntervalSeries, OpStats } from './histogram.js';
import { createRng, deriveSeed, keyName, keyPicker, type KeyPicker, type Rng } from './keys.js';
import type { BenchResult, Driver, DriverClient, OpName, OpOutcome, TimelinePoint, WorkloadSpec } from './types.js';
import { OP_NAMES, mixTable } from './workload.js';

/** Preload puts in flight at once, unless RunOptions.preloadConcurrency says otherwise. */
export const PRELOAD_CONCURRENCY_DEFAULT = 64;
/** Clients connecting at once: enough to start fast, few enough not to flood a listen backlog. */
export const CONNECT_BATCH = 256;
/** Above this share of one core, the generator may be what limits the throughput. */
export const GENERATOR_CPU_PCT_WARN = 70;
/** A measured phase shorter than this gives noisy figures: say so. */
export const MEASURED_SEC_WARN = 3;
const PROGRESS_INTERVAL_MS = 1000;
const TICK_LAG_MS = 5;

export type BenchPhase = 'preload' | 'warmup' | 'measure';

/** What the progress line shows, once a second. */
export interface BenchProgress {
  phase: BenchPhase;
  elapsedSec: number;
  /** Length of a timed phase. */
  totalSec?: number;
  /** Operations done and to do, in a counted phase (preload, or a run by count). */
  done?: number;
  total?: number;
  /** The last whole second. */
  last: TimelinePoint | undefined;
  /** Errors in the phase so far. */
  errors: number;
  /** Generator CPU over the last second, in % of one core. */
  cpuPctOfOneCore: number;
}

export interface RunOptions {
  label: string;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (progress: BenchProgress) => void;
  preloadConcurrency?: number;
  /** Recorded in the result; the driver already knows them. */
  targets?: string[];
  /** Called just before the measured phase starts (after preload and warm-up), e.g. to read the servers' CPU. */
  onMeasureStart?: () => void;
}

interface PhasePlan {
  phase: BenchPhase;
  durationSec?: number;
  count?: number;
}

interface PhaseOutcome {
  stats: OpStats;
  timeline: TimelinePoint[];
  elapsedSec: number;
  cpuPctOfOneCore: number;
  startedAt: Date;
}

/** Everything the client loops share during a run. */
interface RunContext {
  spec: WorkloadSpec;
  signal: AbortSignal;
  value: Buffer;
  pickKey: KeyPicker;
  pickOp: (rng: Rng) => OpName;
  rngs: Rng[];
  onProgress: ((progress: BenchProgress) => void) | undefined;
}

/**
 * A signal of the run's own, following the caller's: every client and every
 * connect attempt listens to it, far more than the 10 listeners Node expects.
 */
function runSignal(outer: AbortSignal | undefined, listenersMax: number): { signal: AbortSignal; dispose: () => void } {
  const inner = new AbortController();
  setMaxListeners(listenersMax, inner.signal);
  const follow = (): void => inner.abort(outer?.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener('abort', follow, { once: true });
  return { signal: inner.signal, dispose: () => outer?.removeEventListener('abort', follow) };
}

/** Aborts surface as AbortedError (a RondoError: the CLI exits 2 with its message). */
function throwIfAborted(signal: AbortSignal, when: string): void {
  if (signal.aborted) throw new AbortedError(`bench run aborted ${when}`);
}

function listenersMax(spec: WorkloadSpec, opts: RunOptions): number {
  return spec.concurrency + (opts.preloadConcurrency ?? PRELOAD_CONCURRENCY_DEFAULT) + CONNECT_BATCH + 16;
}

export async function runBench(spec: WorkloadSpec, driver: Driver, opts: RunOptions): Promise<BenchResult> {
  const { signal, dispose } = runSignal(opts.signal, listenersMax(spec, opts));
  let clients: DriverClient[] = [];
  const closeAll = (): void => clients.forEach((client) => client.close());
  try {
    throwIfAborted(signal, 'before it started');
    clients = await openClients(driver, spec.concurrency, signal);
    signal.addEventListener('abort', closeAll, { once: true });
    const ctx = runContext(spec, opts, signal);
    const notes: string[] = [`seed ${opts.seed}`];
    if (spec.preload) {
      const failed = await preload(driver, ctx, opts.preloadConcurrency ?? PRELOAD_CONCURRENCY_DEFAULT);
      if (failed > 0) notes.push(`preload: ${failed} of ${spec.keys} puts failed`);
    }
    if (spec.warmupSec > 0) await runPhase(clients, ctx, { phase: 'warmup', durationSec: spec.warmupSec });
    opts.onMeasureStart?.();
    const measured = await runPhase(clients, ctx, spec.count !== undefined ? { phase: 'measure', count: spec.count } : { phase: 'measure', durationSec: spec.durationSec });
    return benchResult(spec, driver, opts, measured, notes);
  } finally {
    signal.removeEventListener('abort', closeAll);
    closeAll();
    dispose();
  }
}

/**
 * Only the preload of a workload: every key once, in order. For suites where
 * several workloads share one key space and so one preload.
 */
export async function preloadKeys(spec: WorkloadSpec, driver: Driver, opts: RunOptions): Promise<{ failed: number; elapsedSec: number }> {
  const { signal, dispose } = runSignal(opts.signal, listenersMax(spec, opts));
  try {
    throwIfAborted(signal, 'before the preload');
    const startMs = performance.now();
    const failed = await preload(driver, runContext(spec, opts, signal), opts.preloadConcurrency ?? PRELOAD_CONCURRENCY_DEFAULT);
    return { failed, elapsedSec: (performance.now() - startMs) / 1000 };
  } finally {
    dispose();
  }
}

function runContext(spec: WorkloadSpec, opts: RunOptions, signal: AbortSignal): RunContext {
  const mix = mixTable(spec.mix);
  const lastOp = mix.ops[mix.ops.length - 1]!;
  return {
    spec,
    signal,
    value: valueBytes(spec.valueBytes, opts.seed),
    pickKey: keyPicker(spec.keyGen, spec.keys),
    pickOp: (rng) => {
      const draw = rng() * mix.total;
      for (let i = 0; i < mix.ops.length; i++) if (draw < mix.cumulative[i]!) return mix.ops[i]!;
      return lastOp;
    },
    rngs: Array.from({ length: spec.concurrency }, (_, i) => createRng(deriveSeed(opts.seed, i))),
    onProgress: opts.onProgress,
  };
}

/** Seeded, incompressible bytes: a store that compresses gets no free ride. */
function valueBytes(length: number, seed: number): Buffer {
  const rng = createRng(deriveSeed(seed, -1));
  const value = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) value[i] = Math.floor(rng() * 256);
  return value;
}

/** Opens clients 0..count-1; on any failure closes those opened and throws naming the cause. */
async function openClients(driver: Driver, count: number, signal: AbortSignal): Promise<DriverClient[]> {
  const clients: DriverClient[] = [];
  for (let base = 0; base < count; base += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - base) }, (_, i) => driver.connect(base + i, signal));
    const settled = await Promise.allSettled(batch);
    for (const result of settled) if (result.status === 'fulfilled') clients.push(result.value);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) {
      clients.forEach((client) => client.close());
      throwIfAborted(signal, 'while connecting');
      const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      throw new PeerUnreachableError(`${driver.name} driver: a client could not connect: ${reason}`);
    }
  }
  return clients;
}

/** Writes every key once, in order, with clients of its own; returns how many puts failed. */
async function preload(driver: Driver, ctx: RunContext, concurrency: number): Promise<number> {
  const keys = ctx.spec.keys;
  const clients = await openClients(driver, Math.min(concurrency, keys), ctx.signal);
  const closeAll = (): void => clients.forEach((client) => client.close());
  ctx.signal.addEventListener('abort', closeAll, { once: true });
  const startMs = performance.now();
  const series = new IntervalSeries(startMs);
  let next = 0;
  let failed = 0;
  const stopTicker = progressTicker(ctx, 'preload', { startMs, endMs: Infinity }, series, () => ({ done: next, total: keys, errors: failed }));
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (!ctx.signal.aborted && next < keys) {
          const key = keyName(next++);
          const t0 = performance.now();
          const outcome = await doOp(client, 'put', key, ctx.value);
          const t1 = performance.now();
          if (outcome === 'error') failed++;
          series.record(outcome !== 'error', t1 - t0, t1);
        }
      }),
    );
  } finally {
    stopTicker();
    ctx.signal.removeEventListener('abort', closeAll);
    closeAll();
  }
  throwIfAborted(ctx.signal, 'during the preload');
  return failed;
}

/** A timed or counted phase over the run's clients. */
async function runPhase(clients: DriverClient[], ctx: RunContext, plan: PhasePlan): Promise<PhaseOutcome> {
  const stats = new OpStats();
  const startedAt = new Date();
  const cpuBefore = process.cpuUsage();
  const startMs = performance.now();
  const series = new IntervalSeries(startMs);
  const endMs = plan.durationSec !== undefined ? startMs + plan.durationSec * 1000 : Infinity;
  // A timed phase attributes ops that end after its end to its last instant, so the
  // timeline ends on time instead of with a sliver of a second.
  const lastInstantMs = endMs - 1e-3;
  const count = plan.count ?? Infinity;
  let issued = 0;
  let errors = 0;
  const stopTicker = progressTicker(ctx, plan.phase, { startMs, endMs }, series, () => ({ totalSec: plan.durationSec, done: plan.count === undefined ? undefined : issued, total: plan.count, errors }));
  try {
    await Promise.all(
      clients.map(async (client, index) => {
        const rng = ctx.rngs[index]!;
        while (!ctx.signal.aborted && issued < count && performance.now() < endMs) {
          issued++;
          const op = ctx.pickOp(rng);
          const key = keyName(ctx.pickKey(rng));
          const t0 = performance.now();
          const outcome = await doOp(client, op, key, ctx.value);
          const t1 = performance.now();
          const ok = outcome !== 'error';
          if (!ok) errors++;
          stats.record(op, ok, t1 - t0);
          series.record(ok, t1 - t0, t1 < endMs ? t1 : lastInstantMs);
        }
      }),
    );
  } finally {
    stopTicker();
  }
  throwIfAborted(ctx.signal, `during the ${plan.phase}`);
  const finishedMs = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedSec = (finishedMs - startMs) / 1000;
  return { stats, startedAt, elapsedSec, timeline: series.finish(Math.min(finishedMs, endMs)), cpuPctOfOneCore: cpuPct(cpu, elapsedSec) };
}

/** One operation; a driver that throws (at once or later) instead of answering 'error' still gets an outcome. */
async function doOp(client: DriverClient, op: OpName, key: string, value: Buffer): Promise<OpOutcome> {
  try {
    return await (op === 'get' ? client.get(key) : client.put(key, value));
  } catch {
    return 'error';
  }
}

function cpuPct(cpu: NodeJS.CpuUsage, elapsedSec: number): number {
  return elapsedSec > 0 ? ((cpu.user + cpu.system) / 1e6 / elapsedSec) * 100 : 0;
}

/**
 * Closes the intervals of a phase once a second and reports them. Ticks are
 * aimed a little after each whole second of the phase (timers may fire a
 * millisecond early), so the second just ended is always closed. Returns a stop function.
 */
function progressTicker(ctx: RunContext, phase: BenchPhase, { startMs, endMs }: { startMs: number; endMs: number }, series: IntervalSeries, counts: () => Pick<BenchProgress, 'totalSec' | 'done' | 'total' | 'errors'>): () => void {
  let cpuBefore = process.cpuUsage();
  let lastTickMs = startMs;
  let tick = 1;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(onTick, Math.max(0, startMs + tick * PROGRESS_INTERVAL_MS + TICK_LAG_MS - performance.now()));
    timer.unref();
  };
  const onTick = (): void => {
    const nowMs = performance.now();
    series.rollTo(Math.min(nowMs, endMs)); // a timed phase's timeline ends at its end, however late the stragglers
    const cpu = process.cpuUsage(cpuBefore);
    cpuBefore = process.cpuUsage();
    const cpuPctOfOneCore = cpuPct(cpu, (nowMs - lastTickMs) / 1000);
    lastTickMs = nowMs;
    tick = Math.floor((nowMs - startMs) / PROGRESS_INTERVAL_MS) + 1;
    ctx.onProgress?.({ phase, elapsedSec: (nowMs - startMs) / 1000, last: series.points[series.points.length - 1], cpuPctOfOneCore, ...counts() });
    schedule();
  };
  schedule();
  return () => clearTimeout(timer);
}

function benchResult(spec: WorkloadSpec, driver: Driver, opts: RunOptions, measured: PhaseOutcome, notes: string[]): BenchResult {
  const ops = OP_NAMES.filter((op) => (spec.mix[op] ?? 0) > 0);
  const { all, ops: perOp } = measured.stats.summaries(ops);
  const totalOps = all.count + all.errors;
  const opsPerSec = measured.elapsedSec > 0 ? totalOps / measured.elapsedSec : 0;
  const cpuPctOfOneCore = measured.cpuPctOfOneCore;
  if (cpuPctOfOneCore > GENERATOR_CPU_PCT_WARN) notes.push(`generator used ${cpuPctOfOneCore.toFixed(0)}% of one core: it may be the bottleneck`);
  if (all.errors > 0) notes.push(`${all.errors} errors (${((all.errors / totalOps) * 100).toFixed(2)}% of operations)`);
  if (measured.elapsedSec < MEASURED_SEC_WARN) notes.push(`the measured phase lasted ${measured.elapsedSec.toFixed(2)} s: too short for stable figures`);
  return {
    version: 1,
    label: opts.label,
    driver: driver.name,
    targets: opts.targets ?? [],
    workload: spec,
    startedAt: measured.startedAt.toISOString(),
    durationSec: measured.elapsedSec,
    totalOps,
    opsPerSec,
    errors: all.errors,
    all,
    ops: perOp,
    timeline: measured.timeline,
    generator: { tool: 'node', cpuPctOfOneCore },
    notes,
  };
}
