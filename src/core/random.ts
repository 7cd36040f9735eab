// Helpers over the injected Random, shared by protocol cores and the simulator.
import type { Random } from './env.js';
import { assert } from './errors.js';

/** A shuffled copy (Fisher-Yates) drawn from `random`. */
export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

export function pick<T>(random: Random, items: readonly T[]): T {
  assert(items.length > 0, 'pick: non-empty');
  return items[random.int(items.length)] as T;
}
