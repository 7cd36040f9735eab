// Which partitions this node must hand off, and to whom: a pure function of
// the ring and of which local partitions hold data (riak_core's handoff
// check). Ownership handoffs come from the ring's pending transfers that
// start here, whether or not the partition holds data (an empty partition's
// transfer still has to complete); any other partition holding data that this
// node neither owns nor is about to own holds hinted data (it was a fallback,
// or it kept writes after an ownership change) and goes to the owner.
import type { NodeName } from '../env.js';
import type { RingState } from '../membership/index.js';
import { transferKey } from '../membership/index.js';

export interface WantedTransfer {
  partition: number;
  kind: 'ownership' | 'hinted';
  to: NodeName;
  /** Ownership: the pending transfer's epoch; 0 for hinted. */
  epoch: number;
  /** Ownership: the receiver already reported it done (waiting for the claimant to switch owners). */
  reported: boolean;
}

/** Sorted by partition: ownership first within the node's duties, then hinted. */
export function wantedTransfers(ring: RingState, self: NodeName, partitionsWithData: readonly number[]): WantedTransfer[] {
  const wanted = new Map<number, WantedTransfer>();
  const incoming = new Set<number>();
  for (const t of ring.ownership.pending) {
    if (t.to === self) incoming.add(t.partition);
    if (t.from !== self) continue;
    const reported = (ring.transfersDone[transferKey(t.partition, t.to)] ?? -1) >= t.epoch;
    wanted.set(t.partition, { partition: t.partition, kind: 'ownership', to: t.to, epoch: t.epoch, reported });
  }
  for (const partition of partitionsWithData) {
    if (wanted.has(partition) || incoming.has(partition) || partition >= ring.ringSize) continue;
    const owner = ring.ownership.owners[partition];
    if (owner === undefined || owner === self) continue;
    wanted.set(partition, { partition, kind: 'hinted', to: owner, epoch: 0, reported: false });
  }
  return [...wanted.values()].sort((a, b) => (a.kind === b.kind ? a.partition - b.partition : a.kind === 'ownership' ? -1 : 1));
}
