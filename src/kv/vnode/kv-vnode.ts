// The KV vnode: one partition's objects on a PartitionStore (riak_kv_vnode's
// job). Commands arrive one at a time; every operating error becomes an
// `{ kind: 'error' }` reply with a kv_* code, and only programmer errors
// (assertion failures) throw.
//
// Dots: this vnode's actor id is `${node}/${partition}/${epoch}`. A vnode that
// lost its data must come back with a new epoch, or it would issue dots that
// the other replicas already hold for different writes and those writes would
// be silently dropped. For the same reason a coordinated put on a key whose
// stored bytes are corrupt is refused (kv_corrupt_object), never treated as
// "absent"; a replicated copy or handoff item, which issues no dot, simply
// replaces the corrupt bytes (that is how read repair heals them).
import type { NodeName, Random } from '../../core/env.js';
import { InvalidArgumentError, RondoError } from '../../core/errors.js';
import type { HandoffItem, VnodeBehaviour, VnodeContext, VnodeDirective } from '../../core/vnode/types.js';
import type { IndexEntry, PartitionStore } from '../backend/index.js';
import { HANDOFF_CHANGED_KEYS_MAX, VNODE_FOLD_ROWS_PER_PAGE_MAX } from '../constants.js';
import { CorruptObjectError, PreconditionFailedError } from '../errors.js';
import {
  applyPut, contextOf, decodeObject, describeKey, encodeObject, isTombstone, makeContent, makeTombstone, mergeReplicas,
  newObject, newVtag, nextTimestamp, observeObject, resolve, vvEqual,
} from '../object/index.js';
import type { Content, Hlc, HybridClock, ObjectLimits, ObjectProps, RObject, VersionVector } from '../object/index.js';
import { errorReply } from './commands.js';
import type {
  DeleteCoordinateCommand, GetReply, KeyRef, KvCommand, KvReply, PutCoordinateCommand, PutReplicateCommand, ReapCommand, ReapReply,
  StoredReply,
} from './commands.js';
import { decodeHandoffKey, encodeHandoffKey } from './handoff-key.js';
import { foldBucketsPage, foldKeysPage, indexQueryPage } from './listing.js';
import { checkedObject, liveIndexes, sameKey } from './support.js';

export interface KvVnodeOptions {
  node: NodeName;
  partition: number;
  store: PartitionStore;
  clock: HybridClock;
  /** Wall-clock ms for the HLC (injected: simulated time in tests). */
  wallClockMs: () => number;
  /** Draws vtags. */
  random: Random;
  /** Bumped whenever this vnode starts without its data; part of the actor id. */
  vnodeEpoch: number;
  limits?: Partial<ObjectLimits>;
  /** Rows one listing page may read (default VNODE_FOLD_ROWS_PER_PAGE_MAX). */
  foldRowsPerPageMax?: number;
}

/**
 * Handoff items carry no bucket properties, so they merge causally (every
 * sibling kept). Under last_write_wins the extra siblings are collapsed by the
 * next write and hidden by `resolve` meanwhile.
 */
const HANDOFF_MERGE_PROPS: ObjectProps = { allowMult: true, lastWriteWins: false };

interface Stored {
  object: RObject;
  bytes: Uint8Array;
}

/** What a handoff records about changed keys; undefined when no handoff runs. */
interface ChangeRecord {
  keys: Map<string, KeyRef>;
  overflowed: boolean;
}

export class KvVnode implements VnodeBehaviour<KvCommand, KvReply> {
  readonly #o: KvVnodeOptions;
  /** Times this vnode deleted its data (handoff): each gives it a new actor id, see the top of this file. */
  #drops = 0;
  #changes: ChangeRecord | undefined;

  constructor(options: KvVnodeOptions) {
    if (!Number.isSafeInteger(options.vnodeEpoch) || options.vnodeEpoch < 0) throw new InvalidArgumentError('vnodeEpoch must be a non-negative integer');
    if (options.store.partition !== options.partition) throw new InvalidArgumentError(`store is partition ${options.store.partition}, vnode ${options.partition}`);
    const rows = options.foldRowsPerPageMax;
    if (rows !== undefined && (!Number.isSafeInteger(rows) || rows < 1)) throw new InvalidArgumentError('foldRowsPerPageMax must be a positive integer');
    this.#o = options;
  }

  /**
   * `${node}/${partition}/${epoch}`, plus `.${drops}` once the vnode has
   * dropped its data after a handoff: the counters it issued before live on
   * at the new owner, and reusing them would make new writes look old.
   */
  get actor(): string {
    const base = `${this.#o.node}/${this.#o.partition}/${this.#o.vnodeEpoch}`;
    return this.#drops === 0 ? base : `${base}.${this.#drops}`;
  }

  async handleCommand(command: KvCommand, ctx: VnodeContext): Promise<VnodeDirective<KvReply>> {
    try {
      return { kind: 'reply', reply: await this.#dispatch(command, ctx.signal) };
    } catch (err) {
      if (err instanceof RondoError) return { kind: 'reply', reply: errorReply(err) };
      throw err;
    }
  }

  handleCoverage(command: KvCommand, ctx: VnodeContext): Promise<VnodeDirective<KvReply>> {
    return this.handleCommand(command, ctx);
  }

  #dispatch(c: KvCommand, signal: AbortSignal): Promise<KvReply> {
    switch (c.kind) {
      case 'get':
        return this.#get(c, signal);
      case 'put-coordinate':
        return this.#putCoordinate(c, signal);
      case 'put-replicate':
        return this.#putReplicate(c, signal);
      case 'delete-coordinate':
        return this.#deleteCoordinate(c, signal);
      case 'reap':
        return this.#reap(c, signal);
      case 'fold-keys':
        return foldKeysPage(this.#o.store, c, this.#rowsPerPage, signal);
      case 'fold-buckets':
        return foldBucketsPage(this.#o.store, c, signal);
      case 'index-query':
        return indexQueryPage(this.#o.store, c, this.#rowsPerPage, signal);
      default: {
        const never: never = c;
        throw new InvalidArgumentError(`unknown KV vnode command ${JSON.stringify((never as { kind?: unknown }).kind)}`);
      }
    }
  }

  async #get(c: KeyRef, signal: AbortSignal): Promise<GetReply> {
    const stored = await this.#read(c, signal);
    return stored === undefined ? { kind: 'notfound' } : { kind: 'object', object: stored.object };
  }

  #putCoordinate(c: PutCoordinateCommand, signal: AbortSignal): Promise<StoredReply> {
    return this.#coordinate(c, c.props, c.context, signal, (stored) => {
      if (c.ifNoneMatch === true && stored !== undefined && resolve(stored, c.props).length > 0) {
        throw new PreconditionFailedError(`${describeKey(c)}: if_none_match, but the key has a value`);
      }
      if (c.ifNotModified !== undefined && (stored === undefined || !vvEqual(contextOf(stored), c.ifNotModified))) {
        const why = stored === undefined ? 'the key does not exist' : 'the key was modified since that context';
        throw new PreconditionFailedError(`${describeKey(c)}: if_not_modified, but ${why}`);
      }
      return (lastModified, vtag) => makeContent({ ...c.content, lastModified, vtag, deleted: false });
    });
  }

  #deleteCoordinate(c: DeleteCoordinateCommand, signal: AbortSignal): Promise<StoredReply> {
    return this.#coordinate(c, c.props, c.context, signal, () => makeTombstone);
  }

  /** Read, check conditions (`prepare` throws), stamp, applyPut, write. */
  async #coordinate(
    ref: KeyRef,
    props: ObjectProps,
    context: VersionVector,
    signal: AbortSignal,
    prepare: (stored: RObject | undefined) => (lastModified: Hlc, vtag: string) => Content,
  ): Promise<StoredReply> {
    const stored = (await this.#read(ref, signal))?.object;
    const build = prepare(stored);
    const content = build(nextTimestamp(this.#o.clock, stored, this.#o.wallClockMs()), newVtag(this.#o.random));
    const request = { bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key, context, content };
    const result = applyPut(stored, request, this.actor, props, { limits: this.#o.limits ?? {} });
    if (result.replaced) await this.#write(result.object, undefined, signal);
    return { kind: 'stored', object: result.object, replaced: result.replaced, warnings: result.warnings };
  }

  async #putReplicate(c: PutReplicateCommand, signal: AbortSignal): Promise<StoredReply> {
    const incoming = checkedObject(c.object);
    observeObject(this.#o.clock, incoming, this.#o.wallClockMs());
    const object = await this.#merge(incoming, c.props, signal);
    return { kind: 'stored', object, replaced: true, warnings: [] };
  }

  /** Merges `incoming` into the stored copy (corrupt stored bytes are replaced); writes only if it changed. */
  async #merge(incoming: RObject, props: ObjectProps, signal: AbortSignal): Promise<RObject> {
    const stored = await this.#readOrCorrupt(incoming, signal);
    const base = stored?.object ?? newObject(incoming.bucketType, incoming.bucket, incoming.key);
    const merged = mergeReplicas(base, incoming, props);
    await this.#write(merged, stored?.bytes, signal);
    return merged;
  }

  /** Like #read, but corrupt stored bytes read as absent (for merges, which replace them). */
  async #readOrCorrupt(ref: KeyRef, signal: AbortSignal): Promise<Stored | undefined> {
    try {
      return await this.#read(ref, signal);
    } catch (err) {
      if (err instanceof CorruptObjectError) return undefined;
      throw err;
    }
  }

  async #reap(c: ReapCommand, signal: AbortSignal): Promise<ReapReply> {
    const stored = await this.#read(c, signal);
    if (stored === undefined) return { kind: 'reaped' };
    if (!isTombstone(stored.object)) return { kind: 'kept', reason: 'live' };
    if (!vvEqual(contextOf(stored.object), c.expectedContext)) return { kind: 'kept', reason: 'context_changed' };
    this.#changed(c);
    await this.#o.store.delete(c, { signal });
    return { kind: 'reaped' };
  }

  get #rowsPerPage(): number {
    return this.#o.foldRowsPerPageMax ?? VNODE_FOLD_ROWS_PER_PAGE_MAX;
  }

  async #read(ref: KeyRef, signal: AbortSignal): Promise<Stored | undefined> {
    const bytes = await this.#o.store.get(ref, { signal });
    if (bytes === undefined) return undefined;
    const object = decodeObject(bytes);
    if (object.bucketType !== ref.bucketType || object.bucket !== ref.bucket || object.key !== ref.key) {
      throw new CorruptObjectError(`${describeKey(ref)}: stored object names ${describeKey(object)}`);
    }
    return { object, bytes };
  }

  /** Stores `obj` with the index entries of its live siblings; skips the write when the bytes did not change. */
  async #write(obj: RObject, previous: Uint8Array | undefined, signal: AbortSignal): Promise<void> {
    const bytes = encodeObject(obj);
    if (previous !== undefined && Buffer.from(previous).equals(bytes)) return;
    this.#changed(obj);
    await this.#o.store.put(obj, bytes, liveIndexes(obj), { signal });
  }

  /** Notes a key written or removed while a handoff runs (bounded: on overflow the handoff starts over). */
  #changed(ref: KeyRef): void {
    const record = this.#changes;
    if (record === undefined || record.overflowed) return;
    const id = keyId(ref);
    if (record.keys.has(id)) return;
    if (record.keys.size >= HANDOFF_CHANGED_KEYS_MAX) {
      record.overflowed = true;
      record.keys.clear();
      return;
    }
    record.keys.set(id, { bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key });
  }

  // --- handoff ---

  /** Starts recording changed keys; commands keep running here meanwhile (the manager sends the changes after the fold). */
  handoffStarting(_target: { node: NodeName; partition: number }): Promise<boolean> {
    this.#changes = { keys: new Map(), overflowed: false };
    return Promise.resolve(true);
  }
  handoffCancelled(): Promise<void> {
    this.#changes = undefined;
    return Promise.resolve();
  }
  /** Stops recording; the manager calls `delete` itself once the receiver has everything. */
  handoffFinished(_target: { node: NodeName; partition: number }): Promise<void> {
    this.#changes = undefined;
    return Promise.resolve();
  }

  /** Stored bytes as they are; a corrupt item is refused by the receiver with kv_corrupt_object. */
  async *foldHandoffItems(signal: AbortSignal): AsyncIterable<HandoffItem> {
    for await (const { key, value } of this.#o.store.foldObjects({ signal })) {
      yield { key: encodeHandoffKey(key), value: new Uint8Array(value) };
    }
  }

  async takeHandoffChanges(max: number): Promise<HandoffItem[] | 'lost'> {
    const record = this.#changes;
    if (record === undefined || record.overflowed) return 'lost';
    const items: HandoffItem[] = [];
    for (const [id, ref] of record.keys) {
      if (items.length >= max) break;
      record.keys.delete(id);
      const bytes = await this.#o.store.get(ref);
      if (bytes === undefined) continue; // reaped: the receiver's tombstone is reaped by its own delete_mode
      items.push({ key: encodeHandoffKey({ bucketType: ref.bucketType, bucket: Buffer.from(ref.bucket, 'utf8'), key: Buffer.from(ref.key, 'utf8') }), value: bytes });
    }
    return items;
  }

  /**
   * Merges a batch like replicated puts (causally, see HANDOFF_MERGE_PROPS).
   * Every item is checked before anything is written, so a corrupt item
   * (kv_corrupt_object) changes nothing. Items of one key merge first; the
   * writes are issued together so the engine commits them in one batch.
   */
  async handleHandoffData(items: readonly HandoffItem[]): Promise<void> {
    const byKey = new Map<string, { object: RObject; bytes: Uint8Array | undefined }>();
    for (const item of items) {
      const key = decodeHandoffKey(item.key);
      const object = decodeObject(item.value);
      if (!sameKey(key, object)) throw new CorruptObjectError(`handoff item: key does not match its object ${describeKey(object)}`);
      const id = keyId(object);
      const seen = byKey.get(id);
      byKey.set(id, seen === undefined ? { object, bytes: item.value } : { object: mergeReplicas(seen.object, object, HANDOFF_MERGE_PROPS), bytes: undefined });
    }
    const signal = new AbortController().signal;
    const writes: { key: KeyRef; value: Uint8Array; indexes: IndexEntry[] }[] = [];
    for (const { object, bytes } of byKey.values()) {
      observeObject(this.#o.clock, object, this.#o.wallClockMs());
      const stored = await this.#readOrCorrupt(object, signal);
      // Nothing here yet: the sender's bytes are stored as they are (already checked by decoding).
      const merged = stored === undefined ? object : mergeReplicas(stored.object, object, HANDOFF_MERGE_PROPS);
      const value = stored === undefined && bytes !== undefined ? bytes : encodeObject(merged);
      if (stored !== undefined && Buffer.from(stored.bytes).equals(value)) continue;
      writes.push({ key: merged, value, indexes: liveIndexes(merged) });
    }
    for (const w of writes) this.#changed(w.key);
    await this.#o.store.putMany(writes, { signal }); // one transaction for the batch
  }

  async handoffSize(): Promise<number> {
    return this.#o.store.countObjects();
  }

  isEmpty(): Promise<boolean> {
    return this.#o.store.isEmpty();
  }
  async delete(): Promise<void> {
    this.#drops++;
    await this.#o.store.drop();
  }
  /** The store belongs to the node's engine, which closes it. */
  terminate(): Promise<void> {
    return Promise.resolve();
  }
}

/** One string per key, for maps of keys. */
function keyId(ref: KeyRef): string {
  return `${ref.bucketType}\u0000${ref.bucket}\u0000${ref.key}`;
}
