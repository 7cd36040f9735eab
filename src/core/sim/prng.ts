// Seeded PRNG: sfc32 (small, fast, passes PractRand) seeded through a
// splitmix32-style mixer. `fork(label)` derives a child stream from the
// parent's *seed* and the label only, never from the parent's position, so
// drawing more numbers in one subsystem never shifts another's stream.
import type { Random } from '../env.js';
import { assert } from '../errors.js';

const TWO_POW_32 = 4_294_967_296;
const TWO_POW_53 = 9_007_199_254_740_992;

/** Murmur3 finalizer: a bijective 32-bit avalanche. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over UTF-16 code units; only used to turn fork labels into words. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

export class Prng implements Random {
  /** The two seed words this stream (and its forks) derive from. */
  private seedHigh: number;
  private seedLow: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any safe non-negative integer (53 bits are used). */
  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), 'seed is a safe integer');
    assert(seed >= 0, 'seed is non-negative');
    this.seedHigh = Math.floor(seed / TWO_POW_32) >>> 0;
    this.seedLow = seed >>> 0;
    this.a = this.b = this.c = this.d = 0;
    this.init();
  }

  /** A stream from two explicit 32-bit seed words (what `fork` uses). */
  static fromWords(high: number, low: number): Prng {
    const child = new Prng(0);
    child.seedHigh = high >>> 0;
    child.seedLow = low >>> 0;
    child.init();
    return child;
  }

  /** An independent stream for `label`; the same label always gives the same stream. */
  fork(label: string): Prng {
    const h = hashLabel(label);
    return Prng.fromWords(mix32(this.seedHigh ^ mix32(h + 0x9e3779b9)), mix32(this.seedLow + mix32(h ^ 0x7f4a7c15)));
  }

  private init(): void {
    let s = mix32(this.seedLow ^ 0x6a09e667) ^ mix32(this.seedHigh + 0xbb67ae85);
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return mix32(s);
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix() | 1; // never all-zero
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** sfc32 step: a uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    const value = (high * 67_108_864 + low) / TWO_POW_53;
    assert(value >= 0 && value < 1, 'next() in [0, 1)');
    return value;
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    assert(Number.isSafeInteger(bound), 'bound is a safe integer');
    assert(bound > 0, 'bound is positive');
    return Math.floor(this.next() * bound);
  }

  chance(probability: number): boolean {
    return chance(this, probability);
  }
  between(min: number, max: number): number {
    return between(this, min, max);
  }
  intBetween(min: number, max: number): number {
    return intBetween(this, min, max);
  }
  exponential(mean: number): number {
    return exponential(this, mean);
  }
  logNormal(median: number, sigma: number): number {
    return logNormal(this, median, sigma);
  }
  pick<T>(items: readonly T[]): T {
    return pick(this, items);
  }
  shuffle<T>(items: readonly T[]): T[] {
    return shuffle(this, items);
  }
}

// Helpers over the plain `Random` interface, so code holding only an Env's
// `random` can use them too.

/** True with probability p (p <= 0 never, p >= 1 always, and draws nothing then). */
export function chance(random: Random, probability: number): boolean {
  assert(probability >= 0 && probability <= 1, 'probability in [0, 1]');
  if (probability === 0) return false;
  if (probability === 1) return true;
  return random.next() < probability;
}

/** Uniform real in [min, max). */
export function between(random: Random, min: number, max: number): number {
  assert(min <= max, 'between: min <= max');
  return min + (max - min) * random.next();
}

/** Uniform integer in [min, max], both inclusive. */
export function intBetween(random: Random, min: number, max: number): number {
  assert(Number.isSafeInteger(min) && Number.isSafeInteger(max), 'intBetween: integer bounds');
  assert(min <= max, 'intBetween: min <= max');
  return min + random.int(max - min + 1);
}

/** Exponentially distributed with the given mean (memoryless waits, arrivals). */
export function exponential(random: Random, mean: number): number {
  assert(mean >= 0, 'exponential: mean >= 0');
  return -mean * Math.log(1 - random.next());
}

/** Log-normal with the given median: latency-like, with a long right tail. */
export function logNormal(random: Random, median: number, sigma: number): number {
  assert(median > 0, 'logNormal: median > 0');
  assert(sigma >= 0, 'logNormal: sigma >= 0');
  // Box-Muller; 1 - next() is in (0, 1] so the log is finite.
  const u1 = 1 - random.next();
  const u2 = random.next();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return median * Math.exp(sigma * normal);
}

import { pick, shuffle } from '../random.js';
export { pick, shuffle } from '../random.js';
