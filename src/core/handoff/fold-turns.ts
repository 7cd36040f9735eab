// One fold reads at a time on a node. Folds run on the node's one main
// thread, so two at once only interleave their batches: both finish late,
// together, and their receivers then apply everything while the sender
// idles. One after the other, each fold is done sooner and the next
// transfer's start, and the last one's acknowledgements and finish, overlap
// with data moving. A fold that must wait for its receiver (its window of
// unacknowledged batches is full) gives its turn up meanwhile, so a slow
// receiver never holds up transfers to others. Turns go in request order.
import { assert } from '../errors.js';

export class FoldTurns {
  private holder: object | undefined;
  private readonly waiting: { who: object; grant: () => void }[] = [];

  /** Resolves once `who` holds the turn. */
  acquire(who: object): Promise<void> {
    assert(this.holder !== who && !this.waiting.some((w) => w.who === who), 'a fold asks for its turn once');
    if (this.holder === undefined) {
      this.holder = who;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ who, grant: resolve }));
  }

  /** Gives the turn up, or stops waiting for it; nothing if `who` neither holds nor waits. */
  release(who: object): void {
    const at = this.waiting.findIndex((w) => w.who === who);
    if (at >= 0) {
      this.waiting.splice(at, 1);
      return;
    }
    if (this.holder !== who) return;
    const next = this.waiting.shift();
    this.holder = next?.who;
    next?.grant();
  }

  /** Folds waiting for a turn (for failure reports). */
  get queued(): number {
    return this.waiting.length;
  }
}
