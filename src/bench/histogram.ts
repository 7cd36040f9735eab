// Latency histograms (HDR, microseconds) and what a run reads out of them:
// per-operation summaries, and one-second intervals for the timeline.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { LatencySummary, OpName, TimelinePoint } from './types.js';

/** Latencies above this (60 s) are recorded as this: no operation should be that slow, and HDR needs a bound. */
export const LATENCY_US_MAX = 60_000_000;

export function newLatencyHistogram(): Histogram {
  // The JS implementation (no WebAssembly): nothing to initialise, and fast enough at these rates.
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_US_MAX, numberOfSignificantValueDigits: 3 });
}

/** Records one latency given in milliseconds (performance.now() differences). */
export function recordLatencyMs(histogram: Histogram, latencyMs: number): void {
  const us = Math.round(latencyMs * 1000);
  histogram.recordValue(us < 1 ? 1 : us > LATENCY_US_MAX ? LATENCY_US_MAX : us);
}

const usToMs = (us: number): number => us / 1000;

export function emptySummary(errors = 0): LatencySummary {
  return { count: 0, errors, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
}

/** Summary of a histogram of successful operations, in ms; `errors` is counted apart. */
export function summarize(histogram: Histogram, errors: number): LatencySummary {
  if (histogram.totalCount === 0) return emptySummary(errors);
  return {
    count: histogram.totalCount,
    errors,
    meanMs: usToMs(histogram.mean),
    p50Ms: usToMs(histogram.getValueAtPercentile(50)),
    p95Ms: usToMs(histogram.getValueAtPercentile(95)),
    p99Ms: usToMs(histogram.getValueAtPercentile(99)),
    p999Ms: usToMs(histogram.getValueAtPercentile(99.9)),
    maxMs: usToMs(histogram.maxValue),
  };
}

export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded);
}

/** Latencies and errors of each operation kind over a phase. */
export class OpStats {
  readonly histograms = new Map<OpName, Histogram>();
  readonly errors = new Map<OpName, number>();

  record(op: OpName, ok: boolean, latencyMs: number): void {
    if (ok) {
      let histogram = this.histograms.get(op);
      if (!histogram) this.histograms.set(op, (histogram = newLatencyHistogram()));
      recordLatencyMs(histogram, latencyMs);
    } else {
      this.errors.set(op, (this.errors.get(op) ?? 0) + 1);
    }
  }

  /** Per op (with its encoded histogram) and all ops together. */
  summaries(ops: readonly OpName[]): { all: LatencySummary; ops: Partial<Record<OpName, LatencySummary & { histogram?: string }>> } {
    const all = newLatencyHistogram();
    let allErrors = 0;
    const perOp: Partial<Record<OpName, LatencySummary & { histogram?: string }>> = {};
    for (const op of ops) {
      const histogram = this.histograms.get(op) ?? newLatencyHistogram();
      const errors = this.errors.get(op) ?? 0;
      all.add(histogram);
      allErrors += errors;
      perOp[op] = { ...summarize(histogram, errors), histogram: encodeHistogram(histogram) };
    }
    return { all: summarize(all, allErrors), ops: perOp };
  }
}

/** A last, partial interval shorter than this is left out of the timeline (its ops still count): too short for a rate. */
export const PARTIAL_INTERVAL_MS_MIN = 100;

/**
 * One-second intervals of a phase, for the timeline and the progress line.
 * An interval is closed when time passes its end, whether an operation
 * completes after it (record) or the ticker says so (rollTo): a second in
 * which nothing completed still gets its point, with zero ops.
 */
export class IntervalSeries {
  readonly points: TimelinePoint[] = [];
  private readonly histogram = newLatencyHistogram();
  private ops = 0;
  private errors = 0;
  /** Intervals closed so far; the open one ends at startMs + (closed + 1) * intervalMs. */
  private closed = 0;
  private intervalEndMs: number;

  constructor(
    private readonly startMs: number,
    private readonly intervalMs = 1000,
  ) {
    this.intervalEndMs = startMs + intervalMs;
  }

  /** `nowMs` is when the operation completed (performance.now()). */
  record(ok: boolean, latencyMs: number, nowMs: number): void {
    if (nowMs >= this.intervalEndMs) this.rollTo(nowMs);
    this.ops++;
    if (ok) recordLatencyMs(this.histogram, latencyMs);
    else this.errors++;
  }

  /** Closes every interval that ended at or before `nowMs`. */
  rollTo(nowMs: number): void {
    while (nowMs >= this.intervalEndMs) this.close(this.intervalMs);
  }

  /** Closes the last, partial interval at `endMs` (if long enough, or the only one) and returns the timeline. */
  finish(endMs: number): TimelinePoint[] {
    this.rollTo(endMs);
    const partialMs = endMs - (this.intervalEndMs - this.intervalMs);
    if (this.ops > 0 && partialMs > 0 && (partialMs >= PARTIAL_INTERVAL_MS_MIN || this.points.length === 0)) this.close(partialMs);
    return this.points;
  }

  private close(lengthMs: number): void {
    const tSec = (this.closed * this.intervalMs + lengthMs) / 1000;
    this.points.push({
      tSec: Math.round(tSec * 1000) / 1000,
      opsPerSec: this.ops / (lengthMs / 1000),
      errors: this.errors,
      p50Ms: this.histogram.totalCount > 0 ? usToMs(this.histogram.getValueAtPercentile(50)) : 0,
      p99Ms: this.histogram.totalCount > 0 ? usToMs(this.histogram.getValueAtPercentile(99)) : 0,
    });
    this.histogram.reset();
    this.ops = 0;
    this.errors = 0;
    this.closed++;
    this.intervalEndMs = this.startMs + (this.closed + 1) * this.intervalMs;
  }
}
