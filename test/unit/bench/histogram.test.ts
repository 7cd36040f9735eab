// HDR summaries against known data, the encode/decode round trip, and the
// one-second intervals of the timeline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntervalSeries, OpStats, decodeHistogram, encodeHistogram, newLatencyHistogram, recordLatencyMs, summarize } from '../../../src/bench/histogram.js';

/** Within HDR's 3 significant digits (0.1%), plus a microsecond of rounding. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${what}: ${actual}, expected ${expected}`);
}

describe('bench histograms', () => {
  it('summarises 1..10,000 µs into known percentiles, in ms', () => {
    const h = newLatencyHistogram();
    for (let us = 1; us <= 10_000; us++) recordLatencyMs(h, us / 1000);
    const s = summarize(h, 3);
    assert.equal(s.count, 10_000);
    assert.equal(s.errors, 3);
    near(s.p50Ms, 5, 'p50');
    near(s.p95Ms, 9.5, 'p95');
    near(s.p99Ms, 9.9, 'p99');
    near(s.p999Ms, 9.99, 'p99.9');
    near(s.maxMs, 10, 'max');
    near(s.meanMs, 5.0005, 'mean');
  });

  it('an empty histogram summarises to zeros, not NaN', () => {
    const s = summarize(newLatencyHistogram(), 4);
    assert.deepEqual(s, { count: 0, errors: 4, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
  });

  it('clamps latencies to the trackable range instead of throwing', () => {
    const h = newLatencyHistogram();
    recordLatencyMs(h, 0);
    recordLatencyMs(h, 10 * 60_000);
    assert.equal(h.totalCount, 2);
    near(summarize(h, 0).maxMs, 60_000, 'max clamped to 60 s');
  });

  it('encodes and decodes a histogram without losing counts or percentiles', () => {
    const h = newLatencyHistogram();
    for (let i = 0; i < 5000; i++) recordLatencyMs(h, 0.2 + (i % 97) * 0.13);
    const back = decodeHistogram(encodeHistogram(h));
    assert.equal(back.totalCount, h.totalCount);
    for (const p of [50, 99, 99.9]) assert.equal(back.getValueAtPercentile(p), h.getValueAtPercentile(p));
  });

  it('OpStats keeps successes in histograms and errors apart, per op and overall', () => {
    const stats = new OpStats();
    for (let i = 0; i < 100; i++) stats.record('get', true, 1);
    for (let i = 0; i < 50; i++) stats.record('put', true, 3);
    stats.record('put', false, 999);
    const { all, ops } = stats.summaries(['get', 'put']);
    assert.equal(ops.get?.count, 100);
    assert.equal(ops.put?.count, 50);
    assert.equal(ops.put?.errors, 1);
    near(ops.put?.maxMs ?? 0, 3, 'the error latency is not recorded');
    assert.equal(all.count, 150);
    assert.equal(all.errors, 1);
    assert.equal(decodeHistogram(ops.get?.histogram ?? '').totalCount, 100);
  });

  it('IntervalSeries: one point per second, empty seconds included, a long-enough partial last one', () => {
    const series = new IntervalSeries(1000);
    for (let i = 0; i < 10; i++) series.record(true, 2, 1000 + i * 50); // second 1: 10 ops
    series.record(false, 5, 1999);
    series.rollTo(2500);
    series.record(true, 8, 3100); // second 2 had nothing; second 3 has one op
    const points = series.finish(4500); // [4000, 4500) is empty, so no partial point
    assert.deepEqual(points.map((p) => p.tSec), [1, 2, 3]);
    assert.deepEqual(points.map((p) => p.opsPerSec), [11, 0, 1]);
    assert.equal(points[0]?.errors, 1);
    near(points[0]?.p50Ms ?? 0, 2, 'p50 of second 1');
    assert.equal(points[1]?.p99Ms, 0);
    near(points[2]?.p99Ms ?? 0, 8, 'p99 of second 3');
  });

  it('IntervalSeries: a short run has one partial point with its true rate', () => {
    const series = new IntervalSeries(0);
    for (let i = 0; i < 30; i++) series.record(true, 1, i * 10);
    const points = series.finish(300);
    assert.equal(points.length, 1);
    assert.equal(points[0]?.tSec, 0.3);
    near(points[0]?.opsPerSec ?? 0, 100, 'ops/s of 30 ops in 0.3 s');
  });
});
