// Coverage plans (riak_core_coverage_plan's job): which vnodes to ask so that a
// query over all keys (key listing, secondary indexes) sees every key exactly
// once. A key whose preference list starts at partition k lives in keyspace k;
// partition p holds keyspaces p, p-1, ..., p-n+1 (mod ring size). Only up
// primaries are used, as in Riak: a fallback holds only what it was handed
// recently, so it cannot answer for a whole keyspace.
import type { NodeName } from '../env.js';
import { assert, InsufficientVnodesForCoverageError, InvalidArgumentError } from '../errors.js';
import { primaryPartitions } from '../ring/preflist.js';

export interface CoverageVnode {
  partition: number;
  node: NodeName;
  /** Absent: the vnode returns everything it holds. Present: only keys of these keyspaces (ascending). */
  keyspaces?: number[];
}
export interface CoveragePlan {
  vnodes: CoverageVnode[];
}
export interface CoveragePlanOptions {
  /** owners[p] owns partition p; the ring size is owners.length. */
  owners: readonly NodeName[];
  nVal: number;
  up: ReadonlySet<NodeName>;
  /** 0..ringSize-1, drawn at random by the caller so successive plans spread load. */
  offset: number;
}

/** Keyspaces held by `partition`: itself and the nVal - 1 before it. */
export function keyspacesHeld(partition: number, nVal: number, ringSize: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < nVal; i++) out.push((partition - i + ringSize) % ringSize);
  return out;
}

/** The keyspace of a key hash: its first preference partition. */
export function keyspaceOf(hash: bigint, ringSize: number): number {
  return primaryPartitions(hash, 1, ringSize)[0]!;
}

function validate(o: CoveragePlanOptions): void {
  const ringSize = o.owners.length;
  if (ringSize < 1) throw new InvalidArgumentError('a coverage plan needs a ring with at least one partition');
  if (!Number.isInteger(o.nVal) || o.nVal < 1 || o.nVal > ringSize) throw new InvalidArgumentError(`nVal must be an integer in 1..${ringSize}, got ${o.nVal}`);
  if (!Number.isInteger(o.offset) || o.offset < 0 || o.offset >= ringSize) throw new InvalidArgumentError(`offset must be an integer in 0..${ringSize - 1}, got ${o.offset}`);
}

/** Throws naming every keyspace none of whose nVal holders is up. */
function checkCoverable(o: CoveragePlanOptions, usable: readonly boolean[]): void {
  const ringSize = o.owners.length;
  const lost: string[] = [];
  for (let keyspace = 0; keyspace < ringSize; keyspace++) {
    const holders = primaryHolders(keyspace, o.nVal, ringSize);
    if (holders.some((p) => usable[p])) continue;
    lost.push(`${keyspace} (partitions ${holders.map((p) => `${p}@${o.owners[p]}`).join(', ')})`);
  }
  if (lost.length === 0) return;
  const shown = lost.slice(0, 8).join('; ') + (lost.length > 8 ? `; and ${lost.length - 8} more` : '');
  throw new InsufficientVnodesForCoverageError(`${lost.length} of ${ringSize} keyspaces have no up primary (n_val ${o.nVal}): ${shown}`);
}

function primaryHolders(keyspace: number, nVal: number, ringSize: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < nVal; i++) out.push((keyspace + i) % ringSize);
  return out;
}

/**
 * The fewest up primaries covering every keyspace, each keyspace answered by
 * exactly one of them. Riak's greedy set cover can take one vnode too many
 * (Q=8, n=3, partitions 0 and 4 down: 4 instead of 3); circular arcs allow an
 * exact answer as cheaply. Some chosen vnode holds keyspace `offset`; for each
 * of its (at most nVal) up holders, cover the rest of the circle, which is a
 * line, by the classic interval greedy (from the first uncovered keyspace take
 * the up holder reaching farthest), which is optimal; keep the smallest plan
 * (ties: the first holder from `offset`). With every node up this gives
 * ceil(ringSize / nVal) vnodes with at most one filtered. A random offset
 * rotates the plan, spreading load over the ring.
 */
export function coveragePlan(o: CoveragePlanOptions): CoveragePlan {
  validate(o);
  const ringSize = o.owners.length;
  const usable = o.owners.map((node) => o.up.has(node));
  checkCoverable(o, usable);
  let best: Answer[] | undefined;
  for (const first of primaryHolders(o.offset, o.nVal, ringSize)) {
    if (!usable[first]) continue;
    const plan = coverFrom(first, o.nVal, usable);
    if (best === undefined || plan.length < best.length) best = plan;
  }
  assert(best !== undefined, 'a coverable ring has an up holder of every keyspace');
  const vnodes = best
    .sort((a, b) => a.partition - b.partition)
    .map(({ partition, keyspaces }): CoverageVnode => {
      const node = o.owners[partition]!;
      return keyspaces.length === o.nVal ? { partition, node } : { partition, node, keyspaces: keyspaces.sort((a, b) => a - b) };
    });
  assert(vnodes.length >= Math.ceil(ringSize / o.nVal), 'no plan beats the counting bound');
  return { vnodes };
}

interface Answer {
  partition: number;
  keyspaces: number[];
}

/** `first` answers for all it holds; the remaining ringSize - nVal keyspaces after it are covered left to right. */
function coverFrom(first: number, nVal: number, usable: readonly boolean[]): Answer[] {
  const ringSize = usable.length;
  const plan: Answer[] = [{ partition: first, keyspaces: keyspacesHeld(first, nVal, ringSize) }];
  const remaining = ringSize - nVal;
  for (let done = 0; done < remaining; ) {
    const from = first + 1 + done; // first uncovered keyspace (not yet reduced mod ringSize)
    let reach = nVal - 1;
    while (reach >= 0 && !usable[(from + reach) % ringSize]) reach -= 1;
    assert(reach >= 0, 'every keyspace has an up holder (checked before)');
    const answered = Math.min(reach + 1, remaining - done);
    plan.push({ partition: (from + reach) % ringSize, keyspaces: Array.from({ length: answered }, (_, i) => (from + i) % ringSize) });
    done += answered;
  }
  assert(plan.length <= ringSize, 'each step covers a new keyspace');
  return plan;
}
