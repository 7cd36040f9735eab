// A balanced, spaced assignment built from scratch, used for a fresh claim
// and as claim's last resort. Balance and spacing hold by construction (see
// stripePattern); relabelling to match the current owners keeps movement low.
import { assert } from '../errors.js';

/**
 * Symbols 0..members-1 over `ringSize` positions: symbol s appears q + 1
 * times if s < r else q (ringSize = q * members + r). Lay the symbols out in
 * order, each repeated by its count, into C = ceil(ringSize / members) chunks
 * column by column (item t goes to chunk t mod C, slot t div C), then
 * concatenate the chunks. Consecutive copies of a symbol sit in consecutive
 * chunks, so they are a chunk length (>= floor(ringSize / C)) apart; that is
 * >= spacing whenever C <= floor(ringSize / spacing) (see feasibleSpacing).
 */
export function stripePattern(ringSize: number, members: number): Int32Array {
  const base = Math.floor(ringSize / members);
  const extra = ringSize % members;
  const chunks = Math.ceil(ringSize / members);
  const chunkStart: number[] = [];
  let offset = 0;
  for (let j = 0; j < chunks; j++) {
    chunkStart.push(offset);
    offset += Math.ceil((ringSize - j) / chunks);
  }
  assert(offset === ringSize, 'chunks cover the ring');
  const pattern = new Int32Array(ringSize).fill(-1);
  let t = 0;
  for (let symbol = 0; symbol < members; symbol++) {
    const count = symbol < extra ? base + 1 : base;
    for (let copy = 0; copy < count; copy++, t++) {
      const position = (chunkStart[t % chunks] as number) + Math.floor(t / chunks);
      assert(pattern[position] === -1, 'each position filled once');
      pattern[position] = symbol;
    }
  }
  assert(t === ringSize, 'every position filled');
  return pattern;
}

const ROTATIONS_MAX = 128; // bounds the relabelling search: ringSize * 128 steps at most

/**
 * Re-stripe: the pattern, rotated and with symbols mapped to members so that
 * as many partitions as possible keep their current owner (greedy matching
 * on overlap, tried for up to ROTATIONS_MAX rotations).
 */
export function restripe(current: Int32Array, members: number): Int32Array {
  const ringSize = current.length;
  const pattern = stripePattern(ringSize, members);
  const rotations = Math.min(ringSize, ROTATIONS_MAX);
  const step = ringSize / rotations;
  let best: Int32Array | null = null;
  let bestKept = -1;
  for (let k = 0; k < rotations; k++) {
    const rotation = k * step;
    const { mapping, kept } = matchSymbols(current, pattern, rotation, members);
    if (kept > bestKept) {
      bestKept = kept;
      best = new Int32Array(ringSize);
      for (let p = 0; p < ringSize; p++) best[p] = mapping[pattern[(p + rotation) % ringSize] as number] as number;
    }
  }
  assert(best !== null, 'at least one rotation tried');
  return best;
}

function matchSymbols(
  current: Int32Array,
  pattern: Int32Array,
  rotation: number,
  members: number,
): { mapping: Int32Array; kept: number } {
  const ringSize = current.length;
  const overlap = new Map<number, number>(); // key symbol * members + member
  for (let p = 0; p < ringSize; p++) {
    const member = current[p] as number;
    if (member < 0) continue;
    const key = (pattern[(p + rotation) % ringSize] as number) * members + member;
    overlap.set(key, (overlap.get(key) ?? 0) + 1);
  }
  const pairs = [...overlap.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const mapping = new Int32Array(members).fill(-1);
  const taken = new Uint8Array(members);
  let kept = 0;
  for (const [key, count] of pairs) {
    const symbol = Math.floor(key / members);
    const member = key % members;
    if (mapping[symbol] !== -1 || taken[member] === 1) continue;
    mapping[symbol] = member;
    taken[member] = 1;
    kept += count;
  }
  let nextMember = 0;
  for (let symbol = 0; symbol < members; symbol++) {
    if (mapping[symbol] !== -1) continue;
    while (taken[nextMember] === 1) nextMember++;
    mapping[symbol] = nextMember;
    taken[nextMember] = 1;
  }
  return { mapping, kept };
}
