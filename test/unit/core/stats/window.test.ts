// The /stats sliding windows: counts per second over the last minute, and
// histograms whose percentiles match a sorted reference to the bucket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CountWindow, HistogramWindow, HISTOGRAM_BUCKETS, bucketLowest, bucketOf } from '../../../../src/core/stats/index.js';
import { STATS_HISTOGRAM_VALUE_MAX, STATS_WINDOW_SECONDS } from '../../../../src/core/constants.js';

const T0 = 1_000_000; // a fake clock's start, in ms

test('a count window counts the last minute and the total', () => {
  const w = new CountWindow();
  w.add(T0);
  w.add(T0 + 500, 2);
  w.add(T0 + 30_000);
  assert.equal(w.lastMinute(T0 + 30_000), 4);
  assert.equal(w.total, 4);
  // T0's second leaves the window once 60 seconds have passed since it.
  assert.equal(w.lastMinute(T0 + 59_999), 4);
  assert.equal(w.lastMinute(T0 + 60_000), 1);
  assert.equal(w.lastMinute(T0 + 90_000), 0);
  assert.equal(w.total, 4);
});

test('a count window forgets everything after a long silence and counts anew', () => {
  const w = new CountWindow();
  for (let s = 0; s < STATS_WINDOW_SECONDS; s++) w.add(T0 + s * 1000, 3);
  assert.equal(w.lastMinute(T0 + (STATS_WINDOW_SECONDS - 1) * 1000), 3 * STATS_WINDOW_SECONDS);
  w.add(T0 + 10 * 3_600_000);
  assert.equal(w.lastMinute(T0 + 10 * 3_600_000), 1);
  assert.equal(w.total, 3 * STATS_WINDOW_SECONDS + 1);
});

test('buckets: exact below 32, contiguous, lowest value within 1/32 below', () => {
  for (let v = 0; v < 32; v++) assert.equal(bucketLowest(bucketOf(v)), v);
  let previous = -1;
  for (let b = 0; b < HISTOGRAM_BUCKETS; b++) {
    const low = bucketLowest(b);
    assert.ok(low > previous);
    assert.equal(bucketOf(low), b);
    if (low > 0) assert.equal(bucketOf(low - 1), b - 1);
    previous = low;
  }
  assert.equal(bucketOf(STATS_HISTOGRAM_VALUE_MAX), HISTOGRAM_BUCKETS - 1);
  assert.equal(bucketOf(2 ** 40), HISTOGRAM_BUCKETS - 1);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: STATS_HISTOGRAM_VALUE_MAX }), (v) => {
      const low = bucketLowest(bucketOf(v));
      assert.ok(low <= v && v - low <= v / 32, `${v} -> ${low}`);
    }),
  );
});

test('an empty histogram reports zeros', () => {
  assert.deepEqual(new HistogramWindow().summary(T0), { count: 0, mean: 0, median: 0, p95: 0, p99: 0, max: 0 });
});

test('a histogram forgets values older than a minute', () => {
  const h = new HistogramWindow();
  h.record(T0, 1000);
  h.record(T0 + 20_000, 10);
  assert.equal(h.summary(T0 + 20_000).max, 1000);
  const later = h.summary(T0 + 60_000);
  assert.deepEqual(later, { count: 1, mean: 10, median: 10, p95: 10, p99: 10, max: 10 });
  assert.equal(h.summary(T0 + 80_000).count, 0);
});

/** Nearest-rank percentile of a sorted list. */
function reference(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
}

test('property: percentiles are the bucket of the sorted reference; mean and max exact', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 200_000 }), value: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10_000_000 })) }), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 0, max: 200_000 }),
      (records, extraMs) => {
        const sorted = [...records].sort((a, b) => a.atMs - b.atMs);
        const h = new HistogramWindow();
        for (const r of sorted) h.record(T0 + r.atMs, r.value);
        const nowMs = T0 + (sorted.at(-1)?.atMs ?? 0) + extraMs;
        const nowSecond = Math.floor(nowMs / 1000);
        const inWindow = sorted.filter((r) => Math.floor((T0 + r.atMs) / 1000) > nowSecond - STATS_WINDOW_SECONDS).map((r) => r.value).sort((a, b) => a - b);
        const s = h.summary(nowMs);
        assert.equal(s.count, inWindow.length);
        if (inWindow.length === 0) return;
        const mean = inWindow.reduce((a, b) => a + b, 0) / inWindow.length;
        assert.ok(Math.abs(s.mean - mean) <= 1e-9 * Math.max(1, mean));
        assert.equal(s.max, inWindow.at(-1));
        assert.equal(s.median, bucketLowest(bucketOf(reference(inWindow, 0.5))));
        assert.equal(s.p95, bucketLowest(bucketOf(reference(inWindow, 0.95))));
        assert.equal(s.p99, bucketLowest(bucketOf(reference(inWindow, 0.99))));
      },
    ),
    { numRuns: 300 },
  );
});

test('property: a count window matches counting the records of the last minute', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 200 }), fc.integer({ min: 0, max: 120_000 }), (times, extraMs) => {
      const sorted = [...times].sort((a, b) => a - b);
      const w = new CountWindow();
      for (const t of sorted) w.add(T0 + t);
      const nowMs = T0 + (sorted.at(-1) ?? 0) + extraMs;
      const nowSecond = Math.floor(nowMs / 1000);
      assert.equal(w.lastMinute(nowMs), sorted.filter((t) => Math.floor((T0 + t) / 1000) > nowSecond - STATS_WINDOW_SECONDS).length);
      assert.equal(w.total, sorted.length);
    }),
  );
});
