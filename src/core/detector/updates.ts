// The dissemination queue (SWIM section 4.1, memberlist's TransmitLimitedQueue):
// the latest claim per node, each piggybacked a bounded number of times,
// least-sent first. Bounded by the member count + 1 (one entry per node).
import type { NodeName } from '../env.js';
import { assert } from '../errors.js';
import type { SwimUpdate } from './messages.js';

interface Entry {
  update: SwimUpdate;
  transmits: number;
}

export class UpdateQueue {
  private readonly entries = new Map<NodeName, Entry>();

  /** A newer claim about a node replaces the old one and starts its count over. */
  enqueue(update: SwimUpdate): void {
    this.entries.delete(update.node);
    this.entries.set(update.node, { update, transmits: 0 });
  }

  forget(node: NodeName): void {
    this.entries.delete(node);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Up to `count` updates, least transmitted first; spent ones leave the queue. */
  take(count: number, transmitLimit: number, skip: NodeName | undefined): SwimUpdate[] {
    assert(count >= 0 && transmitLimit >= 1, 'take bounds valid');
    if (count === 0) return [];
    const picked = [...this.entries.values()]
      .filter((entry) => entry.update.node !== skip)
      .sort((a, b) => a.transmits - b.transmits)
      .slice(0, count);
    for (const entry of picked) {
      entry.transmits += 1;
      if (entry.transmits >= transmitLimit) this.entries.delete(entry.update.node);
    }
    assert(picked.length <= count, 'never more updates than asked');
    return picked.map((entry) => entry.update);
  }
}
