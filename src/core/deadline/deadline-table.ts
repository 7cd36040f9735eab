// Many deadlines on one Env timer. The hot path arms a deadline per request
// and per vnode command and clears almost every one a few milliseconds later;
// a Node timer (and a RealEnv map entry) per deadline cost more than the work
// they guard. Here a deadline is an entry in a binary min-heap and the Env
// timer is armed only for the earliest one. Removal is lazy (the entry is
// forgotten, its heap slot skipped when it surfaces); the heap is rebuilt
// from the live entries once dead slots outnumber them, so its size stays
// within HEAP_SLACK_FACTOR x live + HEAP_SLACK_MIN slots.
import type { Env, TimerId } from '../env.js';
import { assert } from '../errors.js';

/** Dead heap slots tolerated per live entry before the heap is compacted. */
export const HEAP_SLACK_FACTOR = 2;
/** Dead heap slots always tolerated (small tables never compact). */
export const HEAP_SLACK_MIN = 64;

export type DeadlineId = number;

type TimerEnv = Pick<Env, 'nowMs' | 'setTimer' | 'clearTimer'>;

interface Slot {
  deadlineMs: number;
  id: DeadlineId;
}

export class DeadlineTable {
  private readonly env: TimerEnv;
  private readonly live = new Map<DeadlineId, () => void>();
  private heap: Slot[] = [];
  private nextId = 1;
  private timer: TimerId | undefined;
  /** Deadline the armed timer fires at (Infinity when none is armed). */
  private armedForMs = Infinity;
  private firing = false;

  constructor(env: TimerEnv) {
    this.env = env;
  }

  /** Entries not yet expired or removed. */
  get size(): number {
    return this.live.size;
  }

  /** Call `onExpire` once, `delayMs` from now, unless removed first. */
  add(delayMs: number, onExpire: () => void): DeadlineId {
    assert(Number.isFinite(delayMs) && delayMs >= 0, 'deadline delay is a non-negative number');
    const id = this.nextId++;
    const deadlineMs = this.env.nowMs() + delayMs;
    this.live.set(id, onExpire);
    this.push({ deadlineMs, id });
    if (!this.firing && deadlineMs < this.armedForMs) this.arm(deadlineMs);
    return id;
  }

  /** Forget a deadline; a no-op when it already expired or was removed. */
  remove(id: DeadlineId): void {
    if (!this.live.delete(id)) return;
    if (this.live.size === 0) {
      this.heap = [];
      this.disarm();
    } else if (this.heap.length > HEAP_SLACK_FACTOR * this.live.size + HEAP_SLACK_MIN) {
      this.compact();
    }
  }

  /** Forget every deadline without calling any. */
  clear(): void {
    this.live.clear();
    this.heap = [];
    this.disarm();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedForMs = Infinity;
    this.firing = true;
    try {
      const nowMs = this.env.nowMs();
      for (let top = this.heap[0]; top !== undefined && top.deadlineMs <= nowMs; top = this.heap[0]) {
        this.pop();
        const onExpire = this.live.get(top.id);
        if (onExpire === undefined) continue; // removed earlier
        this.live.delete(top.id);
        onExpire();
      }
    } finally {
      this.firing = false;
      this.skipDead();
      const next = this.heap[0];
      if (next !== undefined) this.arm(next.deadlineMs);
    }
  }

  private arm(deadlineMs: number): void {
    this.disarm();
    this.armedForMs = deadlineMs;
    this.timer = this.env.setTimer(Math.max(0, deadlineMs - this.env.nowMs()), () => this.fire());
  }

  private disarm(): void {
    if (this.timer !== undefined) this.env.clearTimer(this.timer);
    this.timer = undefined;
    this.armedForMs = Infinity;
  }

  /** Drop removed entries from the top, so the timer is armed for a live one. */
  private skipDead(): void {
    for (let top = this.heap[0]; top !== undefined && !this.live.has(top.id); top = this.heap[0]) this.pop();
  }

  private compact(): void {
    const kept = this.heap.filter((slot) => this.live.has(slot.id));
    kept.sort((a, b) => a.deadlineMs - b.deadlineMs); // a sorted array is a valid heap
    this.heap = kept;
    assert(this.heap.length === this.live.size, 'compacted heap holds exactly the live entries');
  }

  private push(slot: Slot): void {
    const heap = this.heap;
    heap.push(slot);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Slot;
      if (p.deadlineMs <= slot.deadlineMs) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = slot;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (heap[right] as Slot).deadlineMs < (heap[left] as Slot).deadlineMs ? right : left;
      if ((heap[child] as Slot).deadlineMs >= last.deadlineMs) break;
      heap[i] = heap[child] as Slot;
      i = child;
    }
    heap[i] = last;
  }
}
