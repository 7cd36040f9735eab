// The last `max` (sender, request id) pairs a node delivered, to drop a
// duplicate the network delivers again. Oldest first out; bounded.
import type { NodeName } from '../../core/env.js';
import { assert } from '../../core/errors.js';

export class SeenRequests {
  private readonly max: number;
  private readonly bySender = new Map<NodeName, Set<number>>();
  /** Delivery order, for eviction: entries before `head` are gone. */
  private order: { from: NodeName; reqId: number }[] = [];
  private head = 0;
  private count = 0;

  constructor(max: number) {
    assert(Number.isSafeInteger(max) && max > 0, 'seen-request window is a positive integer');
    this.max = max;
  }

  get size(): number {
    return this.count;
  }

  /** False when this (sender, reqId) was delivered before (a duplicate); remembers it otherwise. */
  firstDelivery(from: NodeName, reqId: number): boolean {
    let seen = this.bySender.get(from);
    if (seen === undefined) this.bySender.set(from, (seen = new Set()));
    if (seen.has(reqId)) return false;
    seen.add(reqId);
    this.order.push({ from, reqId });
    this.count++;
    if (this.count > this.max) this.evictOldest();
    assert(this.count <= this.max, 'seen-request window is bounded');
    return true;
  }

  private evictOldest(): void {
    const oldest = this.order[this.head];
    assert(oldest !== undefined, 'an entry to evict');
    this.head++;
    this.count--;
    const seen = this.bySender.get(oldest.from);
    seen?.delete(oldest.reqId);
    if (seen?.size === 0) this.bySender.delete(oldest.from);
    if (this.head >= this.max) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
