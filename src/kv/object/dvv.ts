// Dotted version vector sets (Preguiça, Baquero, Almeida, Fonte, Gonçalves,
// "Dotted Version Vectors: Efficient Causality Tracking for Distributed
// Key-Value Stores", 2012; Riak 2's dvvset.erl). One clock per key records
// what each actor (a vnode) has seen and which values are still live, each
// value tagged with the dot (actor, counter) of the event that wrote it.
//
// Differences from dvvset.erl, on purpose:
// - Each value carries its dot explicitly instead of being implied by its
//   position in a contiguous list. Same meaning for every history Riak
//   produces, but sync is then plainly "keep a dot if both sides have it, or
//   if the other side never saw it", which is what the lattice laws need.
// - No anonymous (dotless) values: in Rondo every value enters through
//   `update` at a coordinating vnode and so always has a dot. dvvset keeps
//   them for clocks built client-side with new/1, which Rondo never does.
//
// Values are compared only through their dots; two values with one dot are
// the same write (a replica never issues a dot twice), so T needs no equality.
// Precondition callers must keep: an actor id is never reused after its data
// is lost (put an epoch in the vnode id), or it would issue dots again.
import { assert } from '../../core/errors.js';

/** What a client echoes back: per actor, the highest counter seen. Sorted by actor. */
export type VersionVector = [actor: string, counter: number][];
export type Dot = [actor: string, counter: number];

export interface DvvEntry<T> {
  actor: string;
  /** Every event of this actor up to counter has been seen. */
  counter: number;
  /** Live values written by this actor, newest (highest dot) first; each dot <= counter. */
  values: [dot: number, value: T][];
}

/** Entries sorted by actor, one per actor. Treat as immutable. */
export interface DvvSet<T> {
  entries: DvvEntry<T>[];
}

export function emptyClock<T>(): DvvSet<T> {
  return { entries: [] };
}

// --- version vectors ---

/** The counter `vv` holds for `actor` (0 when absent). */
export function vvGet(vv: VersionVector, actor: string): number {
  for (const [a, n] of vv) if (a === actor) return n;
  return 0;
}

/** a <= b: everything a has seen, b has seen. */
export function vvLeq(a: VersionVector, b: VersionVector): boolean {
  return a.every(([actor, n]) => n <= vvGet(b, actor));
}

/** a has seen everything b has. */
export function vvEqual(a: VersionVector, b: VersionVector): boolean {
  return vvLeq(a, b) && vvLeq(b, a);
}

export function vvDescends(a: VersionVector, b: VersionVector): boolean {
  return vvLeq(b, a);
}

/** Pointwise maximum, sorted by actor. */
export function vvMerge(a: VersionVector, b: VersionVector): VersionVector {
  const max = new Map<string, number>();
  for (const [actor, n] of [...a, ...b]) max.set(actor, Math.max(n, max.get(actor) ?? 0));
  return [...max].filter(([, n]) => n > 0).sort(byActor);
}

/** Whether `vv` covers the event `dot`. */
export function vvCovers(vv: VersionVector, [actor, counter]: Dot): boolean {
  return vvGet(vv, actor) >= counter;
}

function byActor(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

// --- clocks ---

/** The causal context a reader gets: everything this clock has seen. */
export function join<T>(clock: DvvSet<T>): VersionVector {
  return clock.entries.map((e): [string, number] => [e.actor, e.counter]);
}

/** Live values, by actor then newest first. */
export function values<T>(clock: DvvSet<T>): T[] {
  const out: T[] = [];
  for (const e of clock.entries) for (const pair of e.values) out.push(pair[1]);
  return out;
}

/** Whether some live value satisfies `test` (no array built: the per-request checks use this). */
export function someValue<T>(clock: DvvSet<T>, test: (value: T) => boolean): boolean {
  for (const e of clock.entries) for (const pair of e.values) if (test(pair[1])) return true;
  return false;
}

/** Live values with the dot that wrote each. */
export function valuesWithDots<T>(clock: DvvSet<T>): [Dot, T][] {
  return clock.entries.flatMap((e) => e.values.map(([n, v]): [Dot, T] => [[e.actor, n], v]));
}

/** Number of live values (siblings). */
export function size<T>(clock: DvvSet<T>): number {
  let n = 0;
  for (const e of clock.entries) n += e.values.length;
  return n;
}

/**
 * The coordinating replica's event: drop every live value `context` covers,
 * remember everything `context` has seen (so a covered value arriving later
 * by replication is dropped too), and add `value` with the fresh dot
 * (actor, max(local, context) + 1). Returns the clock and the new dot.
 */
export function updateWithDot<T>(clock: DvvSet<T>, context: VersionVector, value: T, actor: string): { clock: DvvSet<T>; dot: Dot } {
  assert(actor.length > 0, 'actor id is non-empty');
  const discarded = discard(clock, context);
  let dot: Dot | undefined;
  const entries = discarded.entries.map((e) => {
    if (e.actor !== actor) return e;
    dot = [actor, e.counter + 1];
    return { actor, counter: e.counter + 1, values: [[e.counter + 1, value], ...e.values] as [number, T][] };
  });
  if (dot === undefined) {
    dot = [actor, 1];
    entries.push({ actor, counter: 1, values: [[1, value]] });
    entries.sort((a, b) => byActor([a.actor, 0], [b.actor, 0]));
  }
  return { clock: { entries }, dot };
}

export function update<T>(clock: DvvSet<T>, context: VersionVector, value: T, actor: string): DvvSet<T> {
  return updateWithDot(clock, context, value, actor).clock;
}

/** Drop the live values `context` covers and raise counters to what it has seen. */
export function discard<T>(clock: DvvSet<T>, context: VersionVector): DvvSet<T> {
  const byName = new Map(clock.entries.map((e) => [e.actor, e]));
  for (const [actor, seen] of context) {
    assert(Number.isSafeInteger(seen) && seen >= 0, 'context counters are non-negative integers');
    const e = byName.get(actor);
    if (e === undefined) {
      if (seen > 0) byName.set(actor, { actor, counter: seen, values: [] });
    } else if (seen > 0) {
      byName.set(actor, { actor, counter: Math.max(e.counter, seen), values: e.values.filter(([n]) => n > seen) });
    }
  }
  return { entries: [...byName.values()].sort((a, b) => byActor([a.actor, 0], [b.actor, 0])) };
}

/**
 * Merge two replicas' clocks of one key: a value survives if both sides hold
 * it, or if the other side has never seen its dot. A join-semilattice:
 * commutative, associative, idempotent.
 */
export function sync<T>(a: DvvSet<T>, b: DvvSet<T>): DvvSet<T> {
  const out: DvvEntry<T>[] = [];
  let i = 0;
  let j = 0;
  while (i < a.entries.length || j < b.entries.length) {
    const ea = a.entries[i];
    const eb = b.entries[j];
    if (eb === undefined || (ea !== undefined && ea.actor < eb.actor)) {
      out.push(ea as DvvEntry<T>);
      i++;
    } else if (ea === undefined || eb.actor < ea.actor) {
      out.push(eb);
      j++;
    } else {
      out.push(syncEntry(ea, eb));
      i++;
      j++;
    }
  }
  return { entries: out };
}

/**
 * Whether sync(a, b) is b itself (same actors, counters and dots): merging a
 * into b changes nothing. What a replica asks of a replicated object before
 * storing its bytes as they came, instead of merging and encoding anew.
 */
export function absorbs<T>(b: DvvSet<T>, a: DvvSet<T>): boolean {
  let j = 0;
  for (const ea of a.entries) {
    while (j < b.entries.length && (b.entries[j] as DvvEntry<T>).actor < ea.actor) j++;
    const eb = b.entries[j];
    if (eb === undefined || eb.actor !== ea.actor || ea.counter > eb.counter) return false; // sync would add to b
    // Every dot of a is <= eb.counter: kept only where b holds it too. A dot of
    // b that a has seen (<= ea.counter) but dropped is dropped by sync.
    for (const [n] of eb.values) if (n <= ea.counter && !ea.values.some(([m]) => m === n)) return false;
  }
  return true;
}

function syncEntry<T>(a: DvvEntry<T>, b: DvvEntry<T>): DvvEntry<T> {
  const inB = new Set(b.values.map(([n]) => n));
  const inA = new Set(a.values.map(([n]) => n));
  const kept = [
    ...a.values.filter(([n]) => n > b.counter || inB.has(n)),
    ...b.values.filter(([n]) => n > a.counter && !inA.has(n)),
  ];
  kept.sort((x, y) => y[0] - x[0]);
  return { actor: a.actor, counter: Math.max(a.counter, b.counter), values: kept };
}

/** Checks the invariants decode and tests rely on; returns a reason or undefined. */
export function clockProblem<T>(clock: DvvSet<T>): string | undefined {
  let previous: string | undefined;
  for (const e of clock.entries) {
    if (typeof e.actor !== 'string' || e.actor.length === 0) return 'empty actor id';
    if (previous !== undefined && !(previous < e.actor)) return `actors not strictly sorted at ${JSON.stringify(e.actor)}`;
    previous = e.actor;
    if (!Number.isSafeInteger(e.counter) || e.counter < 1) return `bad counter ${e.counter} for ${e.actor}`;
    let last = e.counter + 1;
    for (const [n] of e.values) {
      if (!Number.isSafeInteger(n) || n < 1 || n >= last) return `dots of ${e.actor} not strictly descending within 1..${e.counter}`;
      last = n;
    }
  }
  return undefined;
}
