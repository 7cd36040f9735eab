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
//
// The hot path does the least it can: a get returns the stored bytes without
// decoding them (the coordinator decodes, and checks, once); a replicated
// object whose clock already covers the stored one is stored as the bytes it
// came in, without a merge or an encode; point commands answer synchronously
// when they do not write.
import type { NodeName, Random } from '../../core/env.js';
import { InvalidArgumentError, RondoError, assert } from '../../core/errors.js';
import type { HandoffItem, VnodeBehaviour, VnodeContext, VnodeDirective } from '../../core/vnode/types.js';
import type { PartitionStore, PutManyEntry, SignalOptions } from '../backend/index.js';
import { HANDOFF_CHANGED_KEYS_MAX, VNODE_FOLD_ROWS_PER_PAGE_MAX, VNODE_PENDING_WRITES_MAX } from '../constants.js';
import { CorruptObjectError, ObjectTooLargeError, PreconditionFailedError } from '../errors.js';
import {
  DEFAULT_OBJECT_LIMITS, absorbs, applyPut, contextOf, decodeObject, describeKey, encodeObject, isTombstone, makeContent, makeTombstone, mergeReplicas,
  newVtag, nextTimestamp, observeObject, resolve, sameBytes, size, vvEqual,
} from '../object/index.js';
import type { Content, Hlc, HybridClock, ObjectLimits, ObjectProps, RObject, VersionVector } from '../object/index.js';
import { errorReply } from './commands.js';
import type {
  DeleteCoordinateCommand, GetReply, KeyRef, KvCommand, KvReply, PutCoordinateCommand, PutReplicateCommand, ReapCommand, ReapReply,
  StoredReply,
} from './commands.js';
import { encodeHandoffKey, handoffKeyNames } from './handoff-key.js';
import { foldBucketsPage, foldKeysPage, indexQueryPage } from './listing.js';
import { liveIndexes } from './support.js';

/** Decoded values are views into bytes that nobody changes (see DecodeOptions). */
const VIEW_VALUES = { viewValues: true } as const;

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
  /** Writes issued and not yet durable (default VNODE_PENDING_WRITES_MAX); at the limit a write waits for the oldest. */
  pendingWritesMax?: number;
  /** Told how many index entries a write stores (Riak's vnode_index_writes), when it stores any. */
  onIndexWrites?: (entries: number) => void;
}

interface PendingWrite {
  /** What the key will hold once durable; undefined: removed. */
  bytes: Uint8Array | undefined;
  durable: Promise<void>;
}

/**
 * Handoff items carry no bucket properties, so they merge causally (every
 * sibling kept). Under last_write_wins the extra siblings are collapsed by the
 * next write and hidden by `resolve` meanwhile.
 */
const HANDOFF_MERGE_PROPS: ObjectProps = { allowMult: true, lastWriteWins: false };


/** Point commands neither read nor wait long enough to need cancelling: they get no signal (and no AbortController). */
const NO_SIGNAL: SignalOptions = {};

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
  /**
   * Writes issued and not yet durable, by key, oldest first (bounded by
   * pendingWritesMax). Commands read through it, so the next command on this
   * vnode need not wait for the previous one's fsync: writes close together
   * share one commit, and a read is never queued behind a write's fsync.
   * Replies that report what is here wait for its durability (see Pending).
   */
  readonly #pending = new Map<string, PendingWrite>();
  readonly #objectBytesMax: number;

  constructor(options: KvVnodeOptions) {
    if (!Number.isSafeInteger(options.vnodeEpoch) || options.vnodeEpoch < 0) throw new InvalidArgumentError('vnodeEpoch must be a non-negative integer');
    if (options.store.partition !== options.partition) throw new InvalidArgumentError(`store is partition ${options.store.partition}, vnode ${options.partition}`);
    const rows = options.foldRowsPerPageMax;
    if (rows !== undefined && (!Number.isSafeInteger(rows) || rows < 1)) throw new InvalidArgumentError('foldRowsPerPageMax must be a positive integer');
    this.#o = options;
    this.#objectBytesMax = options.limits?.objectBytesMax ?? DEFAULT_OBJECT_LIMITS.objectBytesMax;
    assert(Number.isSafeInteger(this.#objectBytesMax) && this.#objectBytesMax > 0, 'objectBytesMax is a positive integer');
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

  /** Writes issued and not yet durable (for `rondo admin vnode-status`). */
  get pendingWrites(): number {
    return this.#pending.size;
  }

  handleCommand(command: KvCommand, ctx: VnodeContext): VnodeDirective<KvReply> | Promise<VnodeDirective<KvReply>> {
    let reply: KvReply | Promise<KvReply>;
    try {
      reply = this.#dispatch(command, ctx);
    } catch (err) {
      return errorDirective(err);
    }
    return reply instanceof Promise ? reply.then(replyDirective, errorDirective) : { kind: 'reply', reply };
  }

  handleCoverage(command: KvCommand, ctx: VnodeContext): VnodeDirective<KvReply> | Promise<VnodeDirective<KvReply>> {
    return this.handleCommand(command, ctx);
  }

  #dispatch(c: KvCommand, ctx: VnodeContext): KvReply | Promise<KvReply> {
    switch (c.kind) {
      case 'get':
        return this.#get(c);
      case 'put-coordinate':
        return this.#putCoordinate(c);
      case 'put-replicate':
        return this.#putReplicate(c);
      case 'delete-coordinate':
        return this.#deleteCoordinate(c);
      case 'reap':
        return this.#reap(c);
      case 'fold-keys':
        return foldKeysPage(this.#o.store, c, this.#rowsPerPage, ctx.signal);
      case 'fold-buckets':
        return foldBucketsPage(this.#o.store, c, ctx.signal);
      case 'index-query':
        return indexQueryPage(this.#o.store, c, this.#rowsPerPage, ctx.signal);
      default: {
        const never: never = c;
        throw new InvalidArgumentError(`unknown KV vnode command ${JSON.stringify((never as { kind?: unknown }).kind)}`);
      }
    }
  }

  /** The stored bytes, undecoded: the coordinator decodes them and checks they name this key. */
  #get(c: KeyRef): GetReply {
    const { bytes, durable } = this.#readBytes(c);
    const reply: GetReply = bytes === undefined ? { kind: 'notfound' } : { kind: 'object', bytes };
    if (durable !== undefined) reply.durable = durable;
    return reply;
  }

  #putCoordinate(c: PutCoordinateCommand): StoredReply | Promise<StoredReply> {
    return this.#coordinate(c, c.props, c.context, (stored) => {
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

  #deleteCoordinate(c: DeleteCoordinateCommand): StoredReply | Promise<StoredReply> {
    return this.#coordinate(c, c.props, c.context, () => makeTombstone);
  }

  /** Read, check conditions (`prepare` throws), stamp, applyPut, write; the reply does not wait for durability (see Pending). */
  #coordinate(
    ref: KeyRef,
    props: ObjectProps,
    context: VersionVector,
    prepare: (stored: RObject | undefined) => (lastModified: Hlc, vtag: string) => Content,
  ): StoredReply | Promise<StoredReply> {
    if (this.#pending.size >= this.#pendingWritesMax) return this.#afterOldestWrite().then(() => this.#coordinate(ref, props, context, prepare));
    const read = this.#readBytes(ref);
    const stored = read.bytes === undefined ? undefined : this.#decode(ref, read.bytes);
    const build = prepare(stored);
    const content = build(nextTimestamp(this.#o.clock, stored, this.#o.wallClockMs()), newVtag(this.#o.random));
    const request = { bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key, context, content };
    const result = applyPut(stored, request, this.actor, props, { limits: this.#o.limits ?? {} });
    if (!result.replaced) {
      assert(stored !== undefined && read.bytes !== undefined, 'only a stored newer value keeps a write from replacing it');
      const kept: StoredReply = { kind: 'stored', replaced: false, warnings: result.warnings, bytes: read.bytes, object: stored };
      if (read.durable !== undefined) kept.durable = read.durable;
      return kept;
    }
    const bytes = encodeObject(result.object);
    this.#checkObjectBytes(result.object, bytes, 'the write');
    const durable = this.#write(result.object, bytes, previousIndexes(stored, read.durable));
    return { kind: 'stored', replaced: true, warnings: result.warnings, bytes, object: result.object, durable };
  }

  /**
   * A replica's copy: stored as its bytes when nothing is stored, when the
   * same bytes are stored already (nothing to write), or when its clock
   * absorbs the stored one; otherwise merged and encoded. A copy, or a merge,
   * above objectBytesMax is refused (kv_object_too_large) and nothing is
   * stored: replicas diverged (siblings written on both sides of a
   * partition), and their union is larger than any one write may make it.
   */
  #putReplicate(c: PutReplicateCommand): StoredReply | Promise<StoredReply> {
    if (this.#pending.size >= this.#pendingWritesMax) return this.#afterOldestWrite().then(() => this.#putReplicate(c));
    const incoming = c.object ?? decodeObject(c.bytes, VIEW_VALUES); // a received message's bytes
    this.#checkObjectBytes(incoming, c.bytes, 'the replicated copy');
    observeObject(this.#o.clock, incoming, this.#o.wallClockMs());
    const read = this.#readBytes(incoming);
    const storedBytes = read.bytes;
    if (storedBytes !== undefined && sameBytes(storedBytes, c.bytes)) return pendingOn({ kind: 'stored', replaced: true, warnings: [] }, read.durable);
    const stored = storedBytes === undefined ? undefined : this.#decodeOrCorrupt(incoming, storedBytes);
    if (stored === undefined) {
      // Nothing (or corrupt bytes, whose index entries are unknown) is stored.
      const durable = this.#write(incoming, c.bytes, storedBytes === undefined && read.durable === undefined ? false : undefined);
      return { kind: 'stored', replaced: true, warnings: [], durable };
    }
    const previousHadIndexes = previousIndexes(stored, read.durable);
    if (!c.props.lastWriteWins && absorbs(incoming.clock, stored.clock)) {
      return { kind: 'stored', replaced: true, warnings: [], durable: this.#write(incoming, c.bytes, previousHadIndexes) };
    }
    const merged = mergeReplicas(stored, incoming, c.props);
    const bytes = encodeObject(merged);
    // What is stored may already cover the copy: nothing to write.
    if (sameBytes(bytes, storedBytes as Uint8Array)) return pendingOn({ kind: 'stored', replaced: true, warnings: [], bytes }, read.durable);
    this.#checkObjectBytes(merged, bytes, 'merging the replicated copy with the stored one');
    return { kind: 'stored', replaced: true, warnings: [], bytes, durable: this.#write(merged, bytes, previousHadIndexes) };
  }

  /**
   * An object a write stores encodes to at most objectBytesMax (applyPut's
   * approximate check comes first), so the messages that carry it between
   * nodes fit a frame (OBJECT_BYTES_MAX_CEILING). Throws ObjectTooLargeError.
   */
  #checkObjectBytes(obj: RObject, bytes: Uint8Array, what: string): void {
    const max = this.#objectBytesMax;
    if (bytes.byteLength <= max) return;
    throw new ObjectTooLargeError(
      `${describeKey(obj)}: ${what} would make the object ${bytes.byteLength} bytes with ${size(obj.clock)} sibling(s) (max ${max}); nothing was stored`,
      bytes.byteLength,
      max,
    );
  }

  /** The stored object, or undefined when its bytes are corrupt (a merge replaces them). */
  #decodeOrCorrupt(ref: KeyRef, bytes: Uint8Array): RObject | undefined {
    try {
      return this.#decode(ref, bytes);
    } catch (err) {
      if (err instanceof CorruptObjectError) return undefined;
      throw err;
    }
  }

  #reap(c: ReapCommand): ReapReply | Promise<ReapReply> {
    const read = this.#readBytes(c);
    if (read.bytes === undefined) return pendingOn({ kind: 'reaped' }, read.durable);
    const stored = this.#decode(c, read.bytes);
    if (!isTombstone(stored)) return pendingOn({ kind: 'kept', reason: 'live' }, read.durable);
    if (!vvEqual(contextOf(stored), c.expectedContext)) return pendingOn({ kind: 'kept', reason: 'context_changed' }, read.durable);
    this.#changed(c);
    return { kind: 'reaped', durable: this.#track(c, undefined, this.#o.store.delete(c, NO_SIGNAL)) };
  }

  get #rowsPerPage(): number {
    return this.#o.foldRowsPerPageMax ?? VNODE_FOLD_ROWS_PER_PAGE_MAX;
  }

  get #pendingWritesMax(): number {
    return this.#o.pendingWritesMax ?? VNODE_PENDING_WRITES_MAX;
  }

  /**
   * The key's bytes as this vnode's commands must see them: a write issued
   * but not yet durable first (with its durability), else the engine's.
   */
  #readBytes(ref: KeyRef): { bytes: Uint8Array | undefined; durable?: Promise<void> } {
    const pending = this.#pending.get(keyId(ref));
    if (pending !== undefined) return { bytes: pending.bytes, durable: pending.durable };
    return { bytes: this.#o.store.getSync(ref) };
  }

  #decode(ref: KeyRef, bytes: Uint8Array): RObject {
    const object = decodeObject(bytes, VIEW_VALUES); // #readBytes hands out owned bytes (getSync copies where the engine shares)
    if (object.bucketType !== ref.bucketType || object.bucket !== ref.bucket || object.key !== ref.key) {
      throw new CorruptObjectError(`${describeKey(ref)}: stored object names ${describeKey(object)}`);
    }
    return object;
  }

  /** Issues the write of `bytes` (the encoding of `obj`) with the index entries of its live siblings; resolves once durable. */
  #write(obj: RObject, bytes: Uint8Array, previousHadIndexes: boolean | undefined): Promise<void> {
    this.#changed(obj);
    const indexes = liveIndexes(obj);
    if (indexes.length > 0) this.#o.onIndexWrites?.(indexes.length);
    const written = this.#o.store.put(obj, bytes, indexes, previousHadIndexes === undefined ? NO_SIGNAL : { previousHadIndexes });
    return this.#track(obj, bytes, written);
  }

  /** Holds an issued write (undefined bytes: a removal) in the overlay of pending writes until the engine settles it. */
  #track(ref: KeyRef, bytes: Uint8Array | undefined, written: Promise<void>): Promise<void> {
    const id = keyId(ref);
    const entry: PendingWrite = { bytes, durable: written };
    this.#pending.set(id, entry);
    const settled = (): void => {
      if (this.#pending.get(id) === entry) this.#pending.delete(id);
    };
    written.then(settled, settled);
    return written;
  }

  /** Waits until the oldest pending write settled (the overlay is bounded). */
  #afterOldestWrite(): Promise<void> {
    const oldest = this.#pending.values().next().value as PendingWrite;
    return oldest.durable.then(noop, noop);
  }

  /** Waits until every write issued so far settled: handoff and drops read and write the engine directly. */
  async #quiesce(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending.values()].map((p) => p.durable));
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

  /**
   * Stored bytes as they are (the fold's values are the item's own, not
   * copied again); a corrupt item is refused by the receiver with
   * kv_corrupt_object.
   */
  async *foldHandoffItems(signal: AbortSignal): AsyncIterable<HandoffItem> {
    await this.#quiesce();
    for await (const { key, value } of this.#o.store.foldObjects({ signal })) {
      yield { key: encodeHandoffKey(key), value };
    }
  }

  async takeHandoffChanges(max: number): Promise<HandoffItem[] | 'lost'> {
    await this.#quiesce();
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
   * Handoff moves what replicas already hold, so it refuses nothing for its
   * size: a refused item would stall the transfer for good. A merge above
   * objectBytesMax is kept; a read of it through another node may then fail
   * with message_too_large, and the next write to the key is refused until
   * its siblings are resolved.
   */
  async handleHandoffData(items: readonly HandoffItem[]): Promise<void> {
    await this.#quiesce();
    const byKey = new Map<string, { object: RObject; bytes: Uint8Array | undefined }>();
    for (const item of items) {
      // The one full check of the item: its object decodes (and validates), and its key names that object.
      const object = decodeObject(item.value);
      if (!handoffKeyNames(item.key, object)) throw new CorruptObjectError(`handoff item: key does not match its object ${describeKey(object)}`);
      const id = keyId(object);
      const seen = byKey.get(id);
      byKey.set(id, seen === undefined ? { object, bytes: item.value } : { object: mergeReplicas(seen.object, object, HANDOFF_MERGE_PROPS), bytes: undefined });
    }
    const writes: PutManyEntry[] = [];
    const wallMs = this.#o.wallClockMs();
    const store = this.#o.store;
    for (const { object, bytes } of byKey.values()) {
      observeObject(this.#o.clock, object, wallMs);
      const row = store.keyRow(object); // read and written below: encoded once
      const storedBytes = store.getRowSync(row);
      const storedObject = storedBytes === undefined ? undefined : this.#decodeOrCorrupt(object, storedBytes);
      if (storedObject === undefined) {
        // Nothing (or corrupt bytes) here: the sender's bytes are stored as they are, already checked by decoding.
        // With nothing stored (the overlay is quiesced: the engine is the truth) there are no old index entries to
        // remove; the entries of corrupt bytes are unknown, so the engine reads them.
        const noPrevious: { previousHadIndexes?: boolean } = storedBytes === undefined ? { previousHadIndexes: false } : {};
        writes.push({ key: object, row, value: bytes ?? encodeObject(object), indexes: liveIndexes(object), ...noPrevious });
        continue;
      }
      assert(storedBytes !== undefined, 'a stored object has stored bytes');
      // The sender's copy covers what is stored: its bytes as they are, like a replicated put (no merge, no encode).
      const value = bytes !== undefined && absorbs(object.clock, storedObject.clock) ? bytes : undefined;
      const merged = value === undefined ? mergeReplicas(storedObject, object, HANDOFF_MERGE_PROPS) : object;
      const encoded = value ?? encodeObject(merged);
      if (sameBytes(storedBytes, encoded)) continue;
      writes.push({ key: merged, row, value: encoded, indexes: liveIndexes(merged), previousHadIndexes: hasLiveIndexes(storedObject) });
    }
    for (const w of writes) this.#changed(w.key as RObject);
    // One transaction for the batch. The values (views into the batch as it arrived, or fresh encodings) stay as they are.
    await store.putMany(writes, NO_SIGNAL);
  }

  async handoffSize(): Promise<number> {
    await this.#quiesce();
    return this.#o.store.countObjects();
  }

  async isEmpty(): Promise<boolean> {
    await this.#quiesce();
    return this.#o.store.isEmpty();
  }
  async delete(): Promise<void> {
    await this.#quiesce();
    this.#drops++;
    await this.#o.store.drop();
  }
  /** The store belongs to the node's engine, which closes it; writes already issued settle first. */
  terminate(): Promise<void> {
    return this.#quiesce();
  }
}

/** One string per key, for maps of keys. */
function keyId(ref: KeyRef): string {
  return `${ref.bucketType}\u0000${ref.bucket}\u0000${ref.key}`;
}

function replyDirective(reply: KvReply): VnodeDirective<KvReply> {
  return { kind: 'reply', reply };
}

/** Operating errors become error replies; programmer errors (not RondoErrors) propagate to the host. */
function errorDirective(err: unknown): VnodeDirective<KvReply> {
  if (err instanceof RondoError) return { kind: 'reply', reply: errorReply(err) };
  throw err;
}

function hasLiveIndexes(obj: RObject): boolean {
  return liveIndexes(obj).length > 0;
}

function noop(): void {}

/** Attaches the durability of what a reply reports, when that is a pending write. */
function pendingOn<R extends StoredReply | ReapReply>(reply: R, durable: Promise<void> | undefined): R {
  if (durable !== undefined) (reply as R & { durable?: Promise<void> }).durable = durable;
  return reply;
}

/**
 * Whether the previous object had index entries, for the engine's single-row
 * write: unknown when that object is a write not yet durable (should it fail,
 * the engine's copy is another one).
 */
function previousIndexes(previous: RObject | undefined, pending: Promise<void> | undefined): boolean | undefined {
  if (pending !== undefined) return undefined;
  return previous === undefined ? false : hasLiveIndexes(previous);
}
