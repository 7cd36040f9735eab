// Sliding one-minute windows for /stats, as Riak reports them (folsom's
// spiral for counts, a histogram over the last minute for times and sizes).
// Pure: time is passed in (the caller's Env clock), nothing is random, and
// recording allocates nothing: a few typed-array writes per record. Memory is
// fixed at construction: STATS_WINDOW_SECONDS per-second buckets.
//
// - CountWindow: a count per second; `lastMinute` sums the buckets of the
//   last STATS_WINDOW_SECONDS seconds (the current one included), and `total`
//   counts since start.
// - HistogramWindow: per second, a log-linear histogram (HDR-style: 32
//   sub-buckets per power of two) plus the count, sum and max, so the mean and
//   the max (100th percentile) are exact and the median, 95th and 99th are the
//   lower bound of the bucket the true value falls in (at most 1/32 below it;
//   exact below 32). Bounded, deterministic, no sampling.
import { STATS_HISTOGRAM_SUB_BUCKETS, STATS_HISTOGRAM_VALUE_MAX, STATS_WINDOW_SECONDS } from '../constants.js';
import { assert } from '../errors.js';

const SUB_BITS = 5; // log2(STATS_HISTOGRAM_SUB_BUCKETS)
/** Buckets of one second's histogram: values 0..31 exactly, then 32 per power of two up to 2^32. */
export const HISTOGRAM_BUCKETS = (32 - SUB_BITS + 1) * STATS_HISTOGRAM_SUB_BUCKETS;

/** The bucket of a value (non-negative, rounded down, capped at STATS_HISTOGRAM_VALUE_MAX). */
export function bucketOf(value: number): number {
  const v = value >= STATS_HISTOGRAM_VALUE_MAX ? STATS_HISTOGRAM_VALUE_MAX : value > 0 ? value >>> 0 : 0;
  if (v < STATS_HISTOGRAM_SUB_BUCKETS) return v;
  const exponent = 31 - Math.clz32(v);
  return (exponent - SUB_BITS + 1) * STATS_HISTOGRAM_SUB_BUCKETS + ((v >>> (exponent - SUB_BITS)) - STATS_HISTOGRAM_SUB_BUCKETS);
}

/** The smallest value of a bucket (what a percentile in it reports). */
export function bucketLowest(bucket: number): number {
  assert(Number.isInteger(bucket) && bucket >= 0 && bucket < HISTOGRAM_BUCKETS, 'bucket in range');
  if (bucket < STATS_HISTOGRAM_SUB_BUCKETS) return bucket;
  const exponent = Math.floor(bucket / STATS_HISTOGRAM_SUB_BUCKETS) + SUB_BITS - 1;
  const mantissa = (bucket % STATS_HISTOGRAM_SUB_BUCKETS) + STATS_HISTOGRAM_SUB_BUCKETS;
  return mantissa * 2 ** (exponent - SUB_BITS);
}

/** Which second a time falls in, and the bucket slot of that second. */
function secondOf(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/**
 * The ring of per-second slots both windows share: `advance` clears the
 * slots of the seconds that passed since the last record (at most all of
 * them, whatever the gap) and returns the slot of `nowMs`'s second.
 */
class SecondRing {
  /** The second the newest slot holds; -Infinity before the first record. */
  private newest = Number.NEGATIVE_INFINITY;

  constructor(private readonly clear: (slot: number) => void) {}

  advance(nowMs: number): number {
    const second = secondOf(nowMs);
    if (second > this.newest) {
      const gap = this.newest === Number.NEGATIVE_INFINITY ? STATS_WINDOW_SECONDS : Math.min(second - this.newest, STATS_WINDOW_SECONDS);
      for (let s = second - gap + 1; s <= second; s++) this.clear(slotOf(s));
      this.newest = second;
    }
    // A time before the newest second (clocks are monotonic; kept for safety) counts in the newest one.
    return slotOf(this.newest);
  }
}

function slotOf(second: number): number {
  const slot = second % STATS_WINDOW_SECONDS;
  return slot < 0 ? slot + STATS_WINDOW_SECONDS : slot;
}

export class CountWindow {
  private readonly counts = new Float64Array(STATS_WINDOW_SECONDS);
  private readonly ring = new SecondRing((slot) => {
    this.counts[slot] = 0;
  });
  private count = 0;

  /** Count `n` (default 1) events at `nowMs`. */
  add(nowMs: number, n = 1): void {
    const slot = this.ring.advance(nowMs);
    this.counts[slot] = (this.counts[slot] as number) + n;
    this.count += n;
  }

  /** Events in the last STATS_WINDOW_SECONDS seconds up to `nowMs`. */
  lastMinute(nowMs: number): number {
    this.ring.advance(nowMs);
    let sum = 0;
    for (let i = 0; i < STATS_WINDOW_SECONDS; i++) sum += this.counts[i] as number;
    return sum;
  }

  /** Events since start. */
  get total(): number {
    return this.count;
  }
}

/** What /stats reports of a histogram: Riak's _mean, _median, _95, _99, _100 (0 when the minute saw nothing). */
export interface HistogramSummary {
  count: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

export class HistogramWindow {
  private readonly buckets = new Uint32Array(STATS_WINDOW_SECONDS * HISTOGRAM_BUCKETS);
  private readonly counts = new Float64Array(STATS_WINDOW_SECONDS);
  private readonly sums = new Float64Array(STATS_WINDOW_SECONDS);
  private readonly maxima = new Float64Array(STATS_WINDOW_SECONDS);
  private readonly ring = new SecondRing((slot) => {
    this.buckets.fill(0, slot * HISTOGRAM_BUCKETS, (slot + 1) * HISTOGRAM_BUCKETS);
    this.counts[slot] = 0;
    this.sums[slot] = 0;
    this.maxima[slot] = 0;
  });
  /** Merged buckets for `summary` (allocated once). */
  private readonly merged = new Float64Array(HISTOGRAM_BUCKETS);

  /** Record one value (negative counts as 0) at `nowMs`. */
  record(nowMs: number, value: number): void {
    const v = value > 0 ? value : 0;
    const slot = this.ring.advance(nowMs);
    const at = slot * HISTOGRAM_BUCKETS + bucketOf(v);
    this.buckets[at] = (this.buckets[at] as number) + 1;
    this.counts[slot] = (this.counts[slot] as number) + 1;
    this.sums[slot] = (this.sums[slot] as number) + v;
    if (v > (this.maxima[slot] as number)) this.maxima[slot] = v;
  }

  /** The last STATS_WINDOW_SECONDS seconds up to `nowMs`. */
  summary(nowMs: number): HistogramSummary {
    this.ring.advance(nowMs);
    let count = 0;
    let sum = 0;
    let max = 0;
    for (let s = 0; s < STATS_WINDOW_SECONDS; s++) {
      count += this.counts[s] as number;
      sum += this.sums[s] as number;
      if ((this.maxima[s] as number) > max) max = this.maxima[s] as number;
    }
    if (count === 0) return { count: 0, mean: 0, median: 0, p95: 0, p99: 0, max: 0 };
    const merged = this.merged;
    merged.fill(0);
    for (let s = 0; s < STATS_WINDOW_SECONDS; s++) {
      if (this.counts[s] === 0) continue;
      const base = s * HISTOGRAM_BUCKETS;
      for (let b = 0; b < HISTOGRAM_BUCKETS; b++) merged[b] = (merged[b] as number) + (this.buckets[base + b] as number);
    }
    return { count, mean: sum / count, median: this.percentile(count, 0.5), p95: this.percentile(count, 0.95), p99: this.percentile(count, 0.99), max };
  }

  /** The lowest value of the bucket holding the value of rank ceil(q * count) (nearest-rank percentile). */
  private percentile(count: number, q: number): number {
    const rank = Math.max(1, Math.ceil(q * count));
    let seen = 0;
    for (let b = 0; b < HISTOGRAM_BUCKETS; b++) {
      seen += this.merged[b] as number;
      if (seen >= rank) return bucketLowest(b);
    }
    throw new Error('assertion failed: the merged buckets hold every counted value');
  }
}
