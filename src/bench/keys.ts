// Seeded randomness and key choice for `rondo bench`. Every draw in the hot
// loop comes from a seeded PRNG, never Math.random, so `--seed` reproduces a
// run's sequence of operations and keys (per client).
import type { WorkloadSpec } from './types.js';

/** A uniform draw in [0, 1). */
export type Rng = () => number;

/** mulberry32: 32 bits of state, a few integer ops per draw; plenty for load generation. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A seed for stream `index` of a run (one per client), decorrelated from its neighbours. */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export type KeyGenName = WorkloadSpec['keyGen'];
export const KEY_GENERATORS: readonly KeyGenName[] = ['uniform', 'pareto', 'sequential'];

/** Picks the index of the next key, in [0, keys). Shared by all clients of a run. */
export type KeyPicker = (rng: Rng) => number;

/** basho_bench's pareto_int shape: with the mean at 20% of the key space, ~80% of draws fall in its first 20%. */
export const PARETO_SHAPE = 1.5;

export function keyPicker(kind: KeyGenName, keys: number): KeyPicker {
  if (!Number.isSafeInteger(keys) || keys < 1) throw new Error(`keys must be a positive integer, got ${keys}`);
  switch (kind) {
    case 'uniform':
      return (rng) => Math.floor(rng() * keys);
    case 'pareto':
      return paretoPicker(keys);
    case 'sequential': {
      // One counter for the whole run: clients take turns walking the key space.
      let next = 0;
      return () => {
        const index = next;
        next = next + 1 === keys ? 0 : next + 1;
        return index;
      };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown key generator ${String(never)}`);
    }
  }
}

/**
 * basho_bench's pareto_int(MaxKey): a Lomax (Pareto II) draw
 *   x = floor((U^(-1/shape) - 1) * mean * (shape - 1)),  U uniform in (0, 1],
 * with mean = 0.2 * keys and shape = 1.5, so P(x < 0.2 * keys) = 1 - 3^-1.5 ≈ 0.81.
 * basho_bench clamps the ~2.7% of draws beyond the key space to MaxKey, which
 * makes the last key a hot spot; here they wrap (x mod keys) instead, which keeps
 * the hot keys at the low end (k0, k1, ...) and adds ~1 point to their share.
 */
function paretoPicker(keys: number): KeyPicker {
  const scale = keys * 0.2 * (PARETO_SHAPE - 1);
  const exponent = -1 / PARETO_SHAPE;
  return (rng) => {
    const u = 1 - rng(); // in (0, 1]: never 0, so the power is finite
    const x = Math.floor((Math.pow(u, exponent) - 1) * scale);
    return x < keys ? x : x % keys;
  };
}

/** The key string of index n, as every driver and the preload use it. */
export function keyName(index: number): string {
  return `k${index}`;
}
