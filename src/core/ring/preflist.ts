// Preference lists. As in riak_core, a key belongs to the partitions that
// FOLLOW its hash: the first is the first partition whose start is greater
// than the hash, i.e. (partitionOf(hash) + 1) % ringSize, then the next n - 1
// around the ring. Keeping riak's convention keeps our placement comparable
// with riak's (riak_core_ring:responsible_index).
import type { NodeName } from '../env.js';
import { assert, InvalidArgumentError } from '../errors.js';
import { partitionOf } from './hash.js';

export interface PreflistEntry {
  /** The preference partition this entry serves (for a fallback: the one it stands in for). */
  partition: number;
  node: NodeName;
  /** True when `node` owns `partition`; false for a fallback (sloppy quorum). */
  primary: boolean;
}

function validateN(n: number, ringSize: number): void {
  if (!Number.isInteger(n) || n < 1 || n > ringSize) {
    throw new InvalidArgumentError(`n must be an integer in 1..${ringSize}, got ${n}`);
  }
}

/** The first preference partition of a key whose hash lies in partition `hashPartition`. */
export function firstPreference(hashPartition: number, ringSize: number): number {
  return (hashPartition + 1) % ringSize;
}

/** The n partitions that follow `hash`, in preference order. */
export function primaryPartitions(hash: bigint, n: number, ringSize: number): number[] {
  return partitionsFrom(firstPreference(partitionOf(hash, ringSize), ringSize), n, ringSize);
}

/** `first` and the n - 1 partitions after it, around the ring. */
export function partitionsFrom(first: number, n: number, ringSize: number): number[] {
  validateN(n, ringSize);
  const result: number[] = [];
  for (let k = 0; k < n; k++) result.push((first + k) % ringSize);
  return result;
}

/**
 * Up to n entries, one per preference partition. An up owner serves its
 * partition as primary. A down owner's partition gets a fallback: the up node
 * used least so far, ties broken by the order met walking the ring from just
 * beyond the n preference partitions. So fallbacks are distinct from each
 * other and from the primaries whenever enough up nodes exist, and reuse is
 * spread evenly when they do not. With no node up the entry is omitted.
 */
export function preflist(
  owners: readonly NodeName[],
  hash: bigint,
  n: number,
  upNodes: ReadonlySet<NodeName>,
): PreflistEntry[] {
  return preflistFrom(owners, firstPreference(partitionOf(hash, owners.length), owners.length), n, upNodes);
}

/** preflist() for the key whose first preference partition is `first` (see firstPreference). */
export function preflistFrom(
  owners: readonly NodeName[],
  first: number,
  n: number,
  upNodes: ReadonlySet<NodeName>,
): PreflistEntry[] {
  const ringSize = owners.length;
  const partitions = partitionsFrom(first, n, ringSize);
  const entries: PreflistEntry[] = [];
  const uses = new Map<NodeName, number>();
  const down: number[] = [];
  for (const partition of partitions) {
    const node = owners[partition];
    assert(node !== undefined, 'every partition has an owner');
    if (upNodes.has(node)) {
      entries.push({ partition, node, primary: true });
      uses.set(node, (uses.get(node) ?? 0) + 1);
    } else {
      down.push(partition);
    }
  }
  if (down.length === 0) return entries;
  const candidates = fallbackCandidates(owners, partitions, upNodes);
  if (candidates.length === 0) return entries;
  for (const partition of down) {
    let best = candidates[0];
    for (const candidate of candidates) {
      if ((uses.get(candidate) ?? 0) < (uses.get(best as NodeName) ?? 0)) best = candidate;
    }
    assert(best !== undefined, 'a fallback candidate exists');
    entries.push({ partition, node: best, primary: false });
    uses.set(best, (uses.get(best) ?? 0) + 1);
  }
  assert(entries.length <= n, 'at most n entries');
  return entries;
}

/** Distinct up owners in ring order, starting just beyond the preference partitions. */
function fallbackCandidates(
  owners: readonly NodeName[],
  partitions: readonly number[],
  upNodes: ReadonlySet<NodeName>,
): NodeName[] {
  const ringSize = owners.length;
  const start = ((partitions[0] ?? 0) + partitions.length) % ringSize;
  const seen = new Set<NodeName>();
  const result: NodeName[] = [];
  for (let k = 0; k < ringSize; k++) {
    const node = owners[(start + k) % ringSize];
    if (node !== undefined && upNodes.has(node) && !seen.has(node)) {
      seen.add(node);
      result.push(node);
    }
  }
  return result;
}
