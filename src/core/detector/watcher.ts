// Synchronous fan-out of detector changes to whoever cares (coordinators pick
// up/down replicas, handoff starts when a node comes back). Pure: no I/O.
// Nodes never reported down count as up, matching the detector, where ring
// members start alive.
import type { NodeName } from '../env.js';
import { assert } from '../errors.js';
import type { DetectorChange } from './swim.js';

export type WatchListener = (ev: DetectorChange) => void;

export class NodeWatcher {
  private readonly down = new Set<NodeName>();
  private readonly known = new Set<NodeName>();
  private readonly listeners = new Set<WatchListener>();

  /** Record changes and notify listeners, in order, only for real transitions. */
  apply(changes: readonly DetectorChange[]): void {
    for (const change of changes) {
      this.known.add(change.node);
      const wasUp = !this.down.has(change.node);
      if (wasUp === change.up) continue;
      if (change.up) this.down.delete(change.node);
      else this.down.add(change.node);
      assert(this.down.has(change.node) !== change.up, 'state follows the change');
      // Copy: a listener may unsubscribe (itself or others) while we iterate.
      for (const listener of [...this.listeners]) listener({ node: change.node, up: change.up });
    }
  }

  /** The ring's members (call with the list given to the detector); forgets the rest. */
  setMembers(names: readonly NodeName[]): void {
    this.known.clear();
    for (const name of names) this.known.add(name);
    for (const node of [...this.down]) if (!this.known.has(node)) this.down.delete(node);
  }

  isUp(node: NodeName): boolean {
    return !this.down.has(node);
  }

  /** Members (and nodes seen in changes) currently up, plus `self`, which is up by definition. */
  upNodes(self: NodeName): Set<NodeName> {
    const up = new Set<NodeName>([self]);
    for (const node of this.known) if (!this.down.has(node)) up.add(node);
    return up;
  }

  /** Returns the unsubscribe function. */
  on(listener: WatchListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
