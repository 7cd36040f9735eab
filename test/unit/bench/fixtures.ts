// Bench results made by hand, for the report, plot and compare tests.
import type { BenchResult, LatencySummary, TimelinePoint } from '../../../src/bench/types.js';

export function summary(scale: number, count = 1000, errors = 0): LatencySummary {
  return { count, errors, meanMs: 1.1 * scale, p50Ms: 1 * scale, p95Ms: 2 * scale, p99Ms: 4 * scale, p999Ms: 8 * scale, maxMs: 16 * scale };
}

export function timeline(seconds: number, opsPerSec: number, p50Ms: number): TimelinePoint[] {
  return Array.from({ length: seconds }, (_, i) => ({ tSec: i + 1, opsPerSec: opsPerSec + (i % 2) * 100, errors: i === 1 ? 2 : 0, p50Ms, p99Ms: p50Ms * 4 }));
}

export function fakeResult(opts: { label: string; opsPerSec: number; scale: number; seconds?: number; withTimeline?: boolean }): BenchResult {
  const seconds = opts.seconds ?? 5;
  return {
    version: 1,
    label: opts.label,
    driver: 'http',
    targets: ['127.0.0.1:8098'],
    workload: { name: 'w50', keys: 10_000, keyGen: 'uniform', valueBytes: 1024, mix: { get: 50, put: 50 }, concurrency: 32, durationSec: seconds, warmupSec: 2, preload: true },
    startedAt: '2024-01-01T00:00:00.000Z',
    durationSec: seconds,
    totalOps: opts.opsPerSec * seconds,
    opsPerSec: opts.opsPerSec,
    errors: 2,
    all: summary(opts.scale, opts.opsPerSec * seconds - 2, 2),
    ops: { get: summary(opts.scale, (opts.opsPerSec * seconds) / 2 - 2, 2), put: summary(opts.scale * 2, (opts.opsPerSec * seconds) / 2, 0) },
    timeline: opts.withTimeline === false ? [] : timeline(seconds, opts.opsPerSec, opts.scale),
    generator: { tool: opts.withTimeline === false ? 'wrk' : 'node', cpuPctOfOneCore: 40 },
    notes: [],
  };
}
