// Shared fixtures for membership tests: a seeded Random and clusters built
// with the pure functions only.
import type { NodeName, Random } from '../../../src/core/env.js';
import { commit, housekeeping, requestJoin, singletonRing, transferKey } from '../../../src/core/membership/index.js';
import type { RingState } from '../../../src/core/membership/index.js';

export const CLUSTER = 'rondo-test';

/** mulberry32: small, seeded, good enough for tests. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (bound: number) => Math.floor(next() * bound) };
}

export function addressOf(name: NodeName): string {
  return `127.0.0.1:${8000 + Number(name.slice(1))}`;
}

export function fresh(self: NodeName, ringSize = 64): RingState {
  return singletonRing({ self, address: addressOf(self), clusterName: CLUSTER, ringSize, targetNVal: 4 });
}

export function join(ring: RingState, node: NodeName, writer: NodeName): RingState {
  return requestJoin(ring, { node, address: addressOf(node), clusterName: CLUSTER }, writer);
}

/** Every receiver reports every pending transfer done; the claimant applies them. */
export function completeTransfers(ring: RingState): RingState {
  const transfersDone = { ...ring.transfersDone };
  for (const t of ring.ownership.pending) transfersDone[transferKey(t.partition, t.to)] = t.epoch;
  return housekeeping({ ...ring, transfersDone }, ring.ownership.claimant, { removeExiting: false });
}

/** n1 alone, then `names` join at n1, commit, all transfers done. */
export function cluster(names: NodeName[], ringSize = 64): RingState {
  let ring = fresh('n1', ringSize);
  for (const name of names.filter((n) => n !== 'n1')) ring = join(ring, name, 'n1');
  if (names.length > 1) ring = commit(ring, 'n1').next;
  return completeTransfers(ring);
}
