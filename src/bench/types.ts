// The contract between `rondo bench`'s runner and its drivers. A driver knows
// one protocol (Rondo's HTTP or PB API, etcd's v3 JSON gateway, Redis RESP);
// the runner knows workloads, keys, timing and histograms. Drivers must be
// lean: the load generator shares the machine with what it measures.

/** What one operation came to. `notfound` is a success for a get of a key never written. */
export type OpOutcome = 'ok' | 'notfound' | 'error';

/** Operations a workload mix can name. */
export type OpName = 'get' | 'put';

/** One client: one connection, one operation in flight at a time. */
export interface DriverClient {
  get(key: string): Promise<OpOutcome>;
  put(key: string, value: Buffer): Promise<OpOutcome>;
  close(): void;
}

export interface DriverOptions {
  /** host:port of each server; clients are spread over them round-robin. */
  targets: string[];
  /** Rondo's bucket (HTTP and PB); a key prefix for the peers. */
  bucket: string;
  /** Per-operation deadline; a late reply counts as an error and the client reconnects. */
  timeoutMs: number;
  /** Driver-specific settings, e.g. Rondo's r/w quorums as query or request fields. */
  params: Record<string, string>;
}

export interface Driver {
  readonly name: string;
  /** Opens client `index` (0-based) of the run. */
  connect(index: number, signal: AbortSignal): Promise<DriverClient>;
}

export type DriverFactory = (opts: DriverOptions) => Driver;

/** A workload: what to run, against whatever driver. Standard ones live in bench/workloads/. */
export interface WorkloadSpec {
  name: string;
  /** Size of the key space: keys are `k0` .. `k<keys-1>`. */
  keys: number;
  keyGen: 'uniform' | 'pareto' | 'sequential';
  valueBytes: number;
  /** Relative weights, e.g. { get: 50, put: 50 }. */
  mix: Partial<Record<OpName, number>>;
  concurrency: number;
  /** Exactly one of durationSec and count. */
  durationSec?: number;
  count?: number;
  /** Run this long before recording. */
  warmupSec: number;
  /** Write every key once (sequentially over the key space) before the warm-up. */
  preload: boolean;
}

/** Latencies of one operation kind (or of all), in milliseconds. */
export interface LatencySummary {
  count: number;
  errors: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** One second of the measured phase. */
export interface TimelinePoint {
  tSec: number;
  opsPerSec: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

/** What a run writes to its JSON result file; `rondo bench compare` and `plot` read it back. */
export interface BenchResult {
  version: 1;
  /** e.g. "rondo-http W50". */
  label: string;
  driver: string;
  targets: string[];
  workload: WorkloadSpec;
  /** ISO time the measured phase began. */
  startedAt: string;
  /** Length of the measured phase (warm-up and preload excluded). */
  durationSec: number;
  totalOps: number;
  opsPerSec: number;
  errors: number;
  all: LatencySummary;
  /** Per operation kind; `histogram` is the HDR histogram, compressed and base64 (hdr-histogram-js encode), when the tool had one. */
  ops: Partial<Record<OpName, LatencySummary & { histogram?: string }>>;
  /** Empty when the tool gives no per-second figures (wrk). */
  timeline: TimelinePoint[];
  generator: { tool: 'node' | 'wrk'; cpuPctOfOneCore: number };
  /**
   * The servers' CPU over the measured phase, when the caller could read it
   * (bench/suite.ts: /proc of every server process): µs per operation is
   * the figure to compare between systems.
   */
  server?: { processes: number; cpuSec: number; cpuUsPerOp: number };
  notes: string[];
}
