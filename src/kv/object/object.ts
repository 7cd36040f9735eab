// A stored key: its siblings and their clock, and the operations the vnode and
// the coordinators use on it. Pure: time and randomness come in as arguments.
//
// Three modes, chosen by bucket properties:
// - allow_mult=true: causal. A put drops exactly what its context covers;
//   concurrent writes are siblings; readers see all of them.
// - allow_mult=false: causal storage, one answer. A put also drops everything
//   the coordinating replica holds (its write is stamped after all of it, see
//   nextTimestamp), which keeps sibling counts small when clients write
//   without a context; concurrent writes through different replicas stay
//   siblings until `resolve` picks the newest (HLC, then vtag). Merges do not
//   pick: picking inside a merge is not associative when a put's context
//   covers a value newer than the put itself.
// - last_write_wins=true: no causality. A put replaces the stored object iff
//   its timestamp is >= the stored winner's; merges keep only the newest.
//   What LWW can still lose, by design:
//   * of two writes concurrent in real time, the one with the lower HLC,
//     silently, even though both were acknowledged;
//   * a write that really came later but was stamped by a node whose clock
//     runs behind another writer's by up to the skew between them (HLCs order
//     writes that saw each other, not independent ones);
//   * anything written in the next maxDriftMs after a write from a node
//     whose clock runs fast by up to maxDriftMs (more is refused, see hlc.ts);
//   * a put that loses the comparison is acknowledged (replaced=false) and
//     dropped.
import { assert } from '../../core/errors.js';
import { OBJECT_BYTES_MAX, OBJECT_BYTES_WARN, SIBLINGS_MAX, SIBLINGS_WARN } from '../constants.js';
import { ObjectTooLargeError, TooManySiblingsError } from '../errors.js';
import { approximateContentBytes, compareContents, validateContent } from './content.js';
import type { Content } from './content.js';
import { emptyClock, join, size, someValue, sync, updateWithDot, valuesWithDots, vvMerge } from './dvv.js';
import type { Dot, DvvSet, VersionVector } from './dvv.js';
import { compareHlc } from './hlc.js';
import type { Hlc, HybridClock } from './hlc.js';

export interface RObject {
  bucketType: string;
  bucket: string;
  key: string;
  clock: DvvSet<Content>;
}

/** The bucket properties this module reads (Riak's allow_mult, last_write_wins). */
export interface ObjectProps {
  allowMult: boolean;
  lastWriteWins: boolean;
}

export interface ObjectLimits {
  objectBytesWarn: number;
  objectBytesMax: number;
  siblingsWarn: number;
  siblingsMax: number;
}

export const DEFAULT_OBJECT_LIMITS: Readonly<ObjectLimits> = Object.freeze({
  objectBytesWarn: OBJECT_BYTES_WARN,
  objectBytesMax: OBJECT_BYTES_MAX,
  siblingsWarn: SIBLINGS_WARN,
  siblingsMax: SIBLINGS_MAX,
});

export type ObjectWarning =
  | { kind: 'object_bytes'; bytes: number; limitBytes: number; message: string }
  | { kind: 'siblings'; siblings: number; limit: number; message: string };

export interface PutRequest {
  bucketType: string;
  bucket: string;
  key: string;
  /** What the client has seen (decodeContext of X-Riak-Vclock); [] for a blind write. */
  context: VersionVector;
  /** Stamped by the coordinator (nextTimestamp) with a fresh vtag. */
  content: Content;
}

export interface PutResult {
  object: RObject;
  /** False only for LWW when the stored winner is newer: nothing changed. */
  replaced: boolean;
  /** The dot this write got; undefined when not replaced. */
  dot: Dot | undefined;
  warnings: ObjectWarning[];
}

export function newObject(bucketType: string, bucket: string, key: string): RObject {
  return { bucketType, bucket, key, clock: emptyClock() };
}

/** "type/bucket/key", for messages and logs. */
export function describeKey(o: { bucketType: string; bucket: string; key: string }): string {
  return `${o.bucketType}/${o.bucket}/${o.key}`;
}

/** The causal context to hand a reader (encodeContext it for X-Riak-Vclock). */
export function contextOf(obj: RObject): VersionVector {
  return join(obj.clock);
}

/**
 * A timestamp for a new write coordinated here: after every stored sibling
 * (so under allow_mult=false and LWW a read-modify-write through this replica
 * wins over what it read, even if our wall clock is behind the writer's).
 * Throws ClockDriftError if a stored sibling is too far in the future.
 */
export function nextTimestamp(clock: HybridClock, stored: RObject | undefined, wallMs: number): Hlc {
  let newest: Hlc | undefined;
  if (stored !== undefined) {
    for (const e of stored.clock.entries) {
      for (const [, c] of e.values) if (newest === undefined || compareHlc(c.meta.lastModified, newest) > 0) newest = c.meta.lastModified;
    }
  }
  return newest === undefined ? clock.now(wallMs) : clock.observe(newest, wallMs);
}

/** A replica taking in an object from a peer: refuses far-future timestamps, advances the clock. */
export function observeObject(clock: HybridClock, obj: RObject, wallMs: number): void {
  // Every timestamp is checked before any is observed: a refused object moves no clock.
  for (const e of obj.clock.entries) for (const [, c] of e.values) clock.checkDrift(c.meta.lastModified, wallMs);
  for (const e of obj.clock.entries) for (const [, c] of e.values) clock.observe(c.meta.lastModified, wallMs);
}

/**
 * The coordinating replica's write. Validates the content, applies the mode's
 * rule (see the top of this file), then checks the limits on the result:
 * throws ObjectTooLargeError / TooManySiblingsError, or returns warnings.
 */
export function applyPut(
  stored: RObject | undefined,
  incoming: PutRequest,
  actor: string,
  props: ObjectProps,
  options: { limits?: Partial<ObjectLimits> } = {},
): PutResult {
  validateContent(incoming.content);
  const base = stored ?? newObject(incoming.bucketType, incoming.bucket, incoming.key);
  assertSameKey(base, incoming);
  const limits = { ...DEFAULT_OBJECT_LIMITS, ...options.limits };
  let context: VersionVector;
  if (props.lastWriteWins) {
    const winner = newest(base);
    if (winner !== undefined && compareContents(incoming.content, winner) < 0) {
      return { object: base, replaced: false, dot: undefined, warnings: [] };
    }
    context = join(base.clock); // the client's context is ignored: LWW skips causality
  } else if (props.allowMult) {
    context = incoming.context;
  } else {
    context = vvMerge(incoming.context, join(base.clock));
  }
  const { clock, dot } = updateWithDot(base.clock, context, incoming.content, actor);
  const object = { ...base, clock };
  const warnings = checkLimits(object, limits);
  return { object, replaced: true, dot, warnings };
}

/**
 * Merge two copies of one key (replication, read repair, a get coordinator
 * combining replies). Commutative, associative and idempotent in every mode.
 */
export function mergeReplicas(a: RObject, b: RObject, props: ObjectProps): RObject {
  assertSameKey(a, b);
  const merged = { ...a, clock: sync(a.clock, b.clock) };
  return props.lastWriteWins ? collapse(merged) : merged;
}

/**
 * Every sibling, tombstones included, oldest first (HLC, vtag, then dot);
 * the same order on every replica.
 */
export function siblings(obj: RObject): Content[] {
  return valuesWithDots(obj.clock)
    .sort(([da, a], [db, b]) => compareContents(a, b) || compareDots(da, db))
    .map(([, c]) => c);
}

/**
 * What a reader sees. allow_mult=false or LWW: the newest sibling, or [] when
 * it is a tombstone. allow_mult=true: every live sibling (tombstones hidden).
 * [] means "not found"; `isTombstone` tells a deleted key from an absent one.
 */
export function resolve(obj: RObject, props: ObjectProps): Content[] {
  const all = siblings(obj);
  if (props.allowMult && !props.lastWriteWins) return all.filter((c) => !c.meta.deleted);
  const winner = all[all.length - 1];
  return winner === undefined || winner.meta.deleted ? [] : [winner];
}

/** Every sibling is a tombstone (and there is at least one): the key was deleted and may be reaped. */
export function isTombstone(obj: RObject): boolean {
  return size(obj.clock) > 0 && !someValue(obj.clock, (c) => !c.meta.deleted);
}

export function approximateObjectBytes(obj: RObject): number {
  let n = obj.bucketType.length + obj.bucket.length + obj.key.length;
  for (const e of obj.clock.entries) for (const [, c] of e.values) n += approximateContentBytes(c);
  return n + obj.clock.entries.length * 16;
}

/** Throws when `obj` is above a refusal limit; returns warnings for the warning limits. */
export function checkLimits(obj: RObject, limits: ObjectLimits = DEFAULT_OBJECT_LIMITS): ObjectWarning[] {
  assert(limits.objectBytesWarn <= limits.objectBytesMax && limits.siblingsWarn <= limits.siblingsMax, 'limits ordered');
  const name = describeKey(obj);
  const warnings: ObjectWarning[] = [];
  const siblingCount = size(obj.clock);
  if (siblingCount > limits.siblingsMax) {
    throw new TooManySiblingsError(
      `${name}: the write would leave ${siblingCount} siblings (max ${limits.siblingsMax}); ` +
        'read the key and write back with its context to resolve them',
      siblingCount,
      limits.siblingsMax,
    );
  }
  const bytes = approximateObjectBytes(obj);
  if (bytes > limits.objectBytesMax) {
    throw new ObjectTooLargeError(
      `${name}: object would be ${bytes} bytes with ${siblingCount} sibling(s) (max ${limits.objectBytesMax})`,
      bytes,
      limits.objectBytesMax,
    );
  }
  if (siblingCount > limits.siblingsWarn) {
    const message = `${name} has ${siblingCount} siblings (warning above ${limits.siblingsWarn})`;
    warnings.push({ kind: 'siblings', siblings: siblingCount, limit: limits.siblingsWarn, message });
  }
  if (bytes > limits.objectBytesWarn) {
    const message = `${name} is ${bytes} bytes (warning above ${limits.objectBytesWarn})`;
    warnings.push({ kind: 'object_bytes', bytes, limitBytes: limits.objectBytesWarn, message });
  }
  return warnings;
}

/** LWW: keep only the newest sibling; the others' dots stay seen, so they never come back. */
function collapse(obj: RObject): RObject {
  const all = valuesWithDots(obj.clock);
  if (all.length <= 1) return obj;
  all.sort(([da, a], [db, b]) => compareContents(b, a) || compareDots(db, da));
  const [winActor, winCounter] = (all[0] as [Dot, Content])[0];
  const entries = obj.clock.entries.map((e) => ({
    ...e,
    values: e.actor === winActor ? e.values.filter(([n]) => n === winCounter) : [],
  }));
  return { ...obj, clock: { entries } };
}

function newest(obj: RObject): Content | undefined {
  const all = siblings(obj);
  return all[all.length - 1];
}

function compareDots([a, n]: Dot, [b, m]: Dot): number {
  return a < b ? -1 : a > b ? 1 : n - m;
}

function assertSameKey(a: { bucketType: string; bucket: string; key: string }, b: { bucketType: string; bucket: string; key: string }): void {
  assert(a.bucketType === b.bucketType && a.bucket === b.bucket && a.key === b.key, `same key: ${describeKey(a)} vs ${describeKey(b)}`);
}
