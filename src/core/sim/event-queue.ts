// A binary min-heap of events ordered by (timeMs, sequence). The sequence
// number is assigned at push, so events due at the same virtual time run in
// the order they were scheduled: ties are deterministic.
import { assert } from '../errors.js';

export interface QueuedEvent<T> {
  readonly timeMs: number;
  readonly sequence: number;
  readonly value: T;
}

function before<T>(x: QueuedEvent<T>, y: QueuedEvent<T>): boolean {
  return x.timeMs < y.timeMs || (x.timeMs === y.timeMs && x.sequence < y.sequence);
}

export class EventQueue<T> {
  private readonly heap: QueuedEvent<T>[] = [];
  private sequenceNext = 0;

  get size(): number {
    return this.heap.length;
  }

  push(timeMs: number, value: T): QueuedEvent<T> {
    assert(Number.isFinite(timeMs), 'event time is finite');
    const event: QueuedEvent<T> = { timeMs, sequence: this.sequenceNext++, value };
    this.heap.push(event);
    this.siftUp(this.heap.length - 1);
    return event;
  }

  peek(): QueuedEvent<T> | undefined {
    return this.heap[0];
  }

  pop(): QueuedEvent<T> | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop() as QueuedEvent<T>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.at(i), this.at(parent))) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    const n = this.heap.length;
    while (true) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && before(this.at(left), this.at(smallest))) smallest = left;
      if (right < n && before(this.at(right), this.at(smallest))) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private at(i: number): QueuedEvent<T> {
    return this.heap[i] as QueuedEvent<T>;
  }

  private swap(i: number, j: number): void {
    const tmp = this.at(i);
    this.heap[i] = this.at(j);
    this.heap[j] = tmp;
  }
}
