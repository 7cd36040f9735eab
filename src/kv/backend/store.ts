// PartitionStore over a RowStore: validation first (so bad input writes
// nothing), then one atomic transaction per put/delete holding the object row,
// its index rows and its reverse row. Folds and ranges read in bounded batches
// and resume after the last row seen, so they never materialise a whole
// partition, never pin one long read snapshot, and see a consistent batch.
import { AbortedError, InvalidArgumentError, assert } from '../../core/errors.js';
import { BackendClosedError, IndexInvalidError, ValueTooLargeError } from './errors.js';
import {
  KIND_OBJECT,
  bytesOf,
  decodeIndexRow,
  decodeRow,
  decodeRowList,
  encodeRowList,
  encodeTerm,
  indexKind,
  indexPrefix,
  indexRows,
  objectRow,
  objectRowOf,
  partitionPrefix,
  prefixEnd,
  reverseRow,
  rowPrefix,
  successor,
  validateBucket,
  validateKey,
} from './keys.js';
import { DROP_BATCH_ROWS, INDEX_ENTRIES_PER_OBJECT_MAX, PARTITION_MAX, VALUE_BYTES_MAX } from './limits.js';
import type { Row, RowStore } from './rows.js';
import type {
  FoldBucketsOptions, FoldOptions, IndexEntry, IndexHit, IndexRangeQuery, KeyRow, PartitionStore, PutManyEntry, PutOptions, SignalOptions, StorageStats, StoreKey, StoredBucket, StoredKey,
} from './types.js';

const EMPTY = Buffer.alloc(0);

/** One encoded write of putMany: the object row, and (unless the key has and had no index entries) its index and reverse rows. */
type ManyWrite = { objectKey: Buffer; value: Buffer; reverseKey?: undefined } | { objectKey: Buffer; value: Buffer; indexRows: Buffer[]; reverseKey: Buffer };

/** What the engine shares with its partition views. */
export interface EngineContext {
  rows(partition: number): RowStore;
  stats: StorageStats;
  isClosed(): boolean;
  foldBatchRows: number;
  /** Row values returned by `rows().get` are the engine's own (memory) and must be copied before they leave. */
  readsShareBuffers: boolean;
  /** Told how many index entries a committed write removed (set by onIndexEntriesRemoved). */
  indexEntriesRemoved?: (entries: number) => void;
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('storage operation aborted');
}

export function checkPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > PARTITION_MAX) {
    throw new InvalidArgumentError(`partition ${partition} is not an integer in 0..${PARTITION_MAX}`);
  }
}

/** One PartitionStore per partition, made on first use (both engines share this). */
export function partitionStores(context: EngineContext): (partition: number) => PartitionStore {
  const stores = new Map<number, PartitionStore>();
  return (partition) => {
    checkPartition(partition);
    let store = stores.get(partition);
    if (!store) stores.set(partition, (store = new RowPartitionStore(partition, context)));
    return store;
  };
}

export class RowPartitionStore implements PartitionStore {
  readonly partition: number;
  private readonly context: EngineContext;

  constructor(partition: number, context: EngineContext) {
    checkPartition(partition);
    this.partition = partition;
    this.context = context;
  }

  private rows(signal?: AbortSignal): RowStore {
    if (this.context.isClosed()) throw new BackendClosedError();
    checkSignal(signal);
    return this.context.rows(this.partition);
  }

  async get(k: StoreKey, opts?: SignalOptions): Promise<Uint8Array | undefined> {
    checkSignal(opts?.signal);
    return this.getSync(k);
  }

  getSync(k: StoreKey): Uint8Array | undefined {
    return this.readRow(objectRowOf(k, this.partition));
  }

  keyRow(k: StoreKey): KeyRow {
    return { partition: this.partition, row: objectRowOf(k, this.partition) };
  }

  getRowSync(k: KeyRow): Uint8Array | undefined {
    return this.readRow(this.ownRow(k));
  }

  /** The object row of a KeyRow this store made. */
  private ownRow(k: KeyRow): Buffer {
    assert(k.partition === this.partition && Buffer.isBuffer(k.row), 'a key row is used by the store that made it');
    return k.row;
  }

  private readRow(row: Buffer): Uint8Array | undefined {
    const rows = this.rows();
    this.context.stats.gets += 1;
    // LMDB copies the value out of the map, the memory engine hands out its
    // own row: copy only that one. Either way callers get a plain Uint8Array.
    const value = rows.get(row);
    if (value === undefined) return undefined;
    return this.context.readsShareBuffers ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  put(k: StoreKey, value: Uint8Array, indexes: readonly IndexEntry[], opts?: PutOptions): Promise<void> {
    if (indexes.length === 0 && opts?.previousHadIndexes === false) return this.putObjectRow(k, value, opts);
    if (value.byteLength > VALUE_BYTES_MAX) return Promise.reject(new ValueTooLargeError(`value is ${value.byteLength} bytes; the limit is ${VALUE_BYTES_MAX}`));
    // Copied now, as putObjectRow does: the caller may reuse its buffer before the async commit runs.
    return this.putMany([{ key: k, value: Buffer.from(value), indexes }], opts);
  }

  /** A put whose key had and gets no index entries: one row, no reverse row to read or remove. */
  private async putObjectRow(k: StoreKey, value: Uint8Array, opts: SignalOptions): Promise<void> {
    const row = objectRowOf(k, this.partition);
    if (value.byteLength > VALUE_BYTES_MAX) throw new ValueTooLargeError(`value is ${value.byteLength} bytes; the limit is ${VALUE_BYTES_MAX}`);
    const rows = this.rows(opts.signal);
    this.context.stats.puts += 1;
    // Copied now: the caller may reuse its buffer before the async commit runs.
    await rows.putRow(row, Buffer.from(value));
  }

  async putMany(entries: readonly PutManyEntry[], opts?: SignalOptions): Promise<void> {
    // Everything is checked and encoded before the transaction: bad input writes nothing.
    const writes = entries.map((entry): ManyWrite => {
      const { key, value, indexes } = entry;
      if (value.byteLength > VALUE_BYTES_MAX) throw new ValueTooLargeError(`value is ${value.byteLength} bytes; the limit is ${VALUE_BYTES_MAX}`);
      if (indexes.length > INDEX_ENTRIES_PER_OBJECT_MAX) {
        throw new IndexInvalidError(`${indexes.length} index entries; the limit is ${INDEX_ENTRIES_PER_OBJECT_MAX}`);
      }
      // Not copied (see PartitionStore.putMany): the commit reads the caller's bytes.
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      const objectKey = entry.row === undefined ? objectRowOf(key, this.partition) : this.ownRow(entry.row);
      // No index entries before or after: the object row alone, no reverse row to read or remove (as `put` does).
      if (indexes.length === 0 && entry.previousHadIndexes === false) return { objectKey, value: bytes };
      const encoded = validateKey(key);
      return { objectKey, value: bytes, indexRows: indexRows(this.partition, encoded, indexes), reverseKey: reverseRow(encoded, this.partition) };
    });
    if (writes.length === 0) return;
    const rows = this.rows(opts?.signal);
    this.context.stats.puts += writes.length;
    await rows.transact((txn) => {
      for (const w of writes) {
        if (w.reverseKey !== undefined) {
          const old = txn.get(w.reverseKey);
          if (old !== undefined) {
            const oldRows = decodeRowList(old);
            for (const row of oldRows) txn.remove(row);
            this.removedIndexEntries(oldRows.filter((row) => !w.indexRows.some((kept) => kept.equals(row))).length);
          }
          for (const row of w.indexRows) txn.put(row, EMPTY);
          if (w.indexRows.length > 0) txn.put(w.reverseKey, encodeRowList(w.indexRows));
          else if (old !== undefined) txn.remove(w.reverseKey);
        }
        txn.put(w.objectKey, w.value);
      }
    });
  }

  async delete(k: StoreKey, opts?: SignalOptions): Promise<void> {
    const encoded = validateKey(k);
    const objectKey = objectRow(encoded, this.partition);
    const reverseKey = reverseRow(encoded, this.partition);
    const rows = this.rows(opts?.signal);
    this.context.stats.deletes += 1;
    await rows.transact((txn) => {
      const old = txn.get(reverseKey);
      if (old !== undefined) {
        const oldRows = decodeRowList(old);
        for (const row of oldRows) txn.remove(row);
        txn.remove(reverseKey);
        this.removedIndexEntries(oldRows.length);
      }
      if (txn.get(objectKey) !== undefined) txn.remove(objectKey);
    });
  }

  private removedIndexEntries(entries: number): void {
    if (entries === 0) return;
    this.context.stats.indexEntriesRemoved += entries;
    this.context.indexEntriesRemoved?.(entries);
  }

  /** Streams rows in [start, end) batch by batch, resuming after the last row. */
  private async *scan(start: Buffer, end: Buffer, keysOnly: boolean, signal?: AbortSignal): AsyncGenerator<Row> {
    let from = start;
    while (Buffer.compare(from, end) < 0) {
      const batch = this.rows(signal).scan({ start: from, end, limit: this.context.foldBatchRows, keysOnly });
      this.context.stats.scanBatches += 1;
      for (const row of batch) {
        checkSignal(signal);
        this.context.stats.rowsScanned += 1;
        yield row;
      }
      if (batch.length < this.context.foldBatchRows) return;
      from = successor(batch[batch.length - 1]!.key);
    }
  }

  private objectRange(opts: FoldOptions | undefined): [Buffer, Buffer] {
    if (opts?.bucket !== undefined && opts.bucketType === undefined) throw new InvalidArgumentError('a bucket filter needs its bucketType');
    if ((opts?.after !== undefined || opts?.from !== undefined) && opts.bucket === undefined) throw new InvalidArgumentError('a fold starting at a key needs its bucket');
    const scope = opts?.bucketType === undefined ? undefined : validateBucket(opts.bucketType, opts.bucket);
    const prefix = rowPrefix(this.partition, KIND_OBJECT, scope?.type, scope?.bucket);
    let start = opts?.from === undefined ? prefix : Buffer.concat([prefix, bytesOf(opts.from)]);
    // The key is the row's last part, so prefix + key + 0x00 is the first row after it.
    const after = opts?.after === undefined ? undefined : successor(Buffer.concat([prefix, bytesOf(opts.after)]));
    if (after !== undefined && Buffer.compare(after, start) > 0) start = after;
    return [start, prefixEnd(prefix)];
  }

  async *foldKeys(opts?: FoldOptions): AsyncGenerator<StoredKey> {
    const [start, end] = this.objectRange(opts);
    for await (const row of this.scan(start, end, true, opts?.signal)) yield decodeRow(row.key);
  }

  async *foldObjects(opts?: FoldOptions): AsyncGenerator<{ key: StoredKey; value: Uint8Array }> {
    const [start, end] = this.objectRange(opts);
    // An engine that hands out its own row buffers (memory) gets them copied; LMDB's rows are fresh copies already,
    // so their values and the key's parts (views into the row key) are the caller's own as they are.
    const copy = this.context.readsShareBuffers;
    for await (const row of this.scan(start, end, false, opts?.signal)) {
      yield copy ? { key: decodeRow(row.key), value: new Uint8Array(row.value) } : { key: decodeRow(row.key, true), value: row.value };
    }
  }

  async *foldBuckets(opts?: FoldBucketsOptions): AsyncGenerator<StoredBucket> {
    const scope = opts?.bucketType === undefined ? undefined : validateBucket(opts.bucketType);
    const prefix = rowPrefix(this.partition, KIND_OBJECT, scope?.type);
    const end = prefixEnd(prefix);
    let from = prefix;
    if (opts?.after !== undefined) {
      if (scope !== undefined && opts.after.bucketType !== opts.bucketType) throw new InvalidArgumentError('after names a bucket of another bucketType');
      const after = validateBucket(opts.after.bucketType, opts.after.bucket);
      const resume = prefixEnd(rowPrefix(this.partition, KIND_OBJECT, after.type, after.bucket));
      if (Buffer.compare(resume, from) > 0) from = resume;
    }
    // One single-row seek per bucket, then jump past every row of that bucket.
    while (Buffer.compare(from, end) < 0) {
      const [row] = this.rows(opts?.signal).scan({ start: from, end, limit: 1, keysOnly: true });
      this.context.stats.scanBatches += 1;
      if (row === undefined) return;
      this.context.stats.rowsScanned += 1;
      const { bucketType, bucket } = decodeRow(row.key);
      yield { bucketType, bucket };
      from = prefixEnd(rowPrefix(this.partition, KIND_OBJECT, Buffer.from(bucketType, 'utf8'), Buffer.from(bucket)));
    }
  }

  async *indexRange(q: IndexRangeQuery): AsyncGenerator<IndexHit> {
    const scope = validateBucket(q.bucketType, q.bucket);
    const kind = indexKind(q.index);
    const prefix = indexPrefix(this.partition, scope.type, scope.bucket!, q.index);
    let start: Buffer = Buffer.concat([prefix, encodeTerm(kind, q.index, q.start)]);
    const end = prefixEnd(Buffer.concat([prefix, encodeTerm(kind, q.index, q.end ?? q.start)]));
    if (q.startAfterKey !== undefined) {
      const resume = Buffer.concat([prefix, encodeTerm(kind, q.index, q.startAfterTerm ?? q.start), bytesOf(q.startAfterKey)]);
      if (Buffer.compare(successor(resume), start) > 0) start = successor(resume);
    }
    for await (const row of this.scan(start, end, true, q.signal)) {
      assert(row.key.subarray(0, prefix.length).equals(prefix), 'range stays inside its index');
      yield decodeIndexRow(kind, row.key, prefix.length);
    }
  }

  async countObjects(): Promise<number> {
    const prefix = rowPrefix(this.partition, KIND_OBJECT);
    return this.rows().count({ start: prefix, end: prefixEnd(prefix) });
  }

  async isEmpty(): Promise<boolean> {
    const prefix = partitionPrefix(this.partition);
    return this.rows().scan({ start: prefix, end: prefixEnd(prefix), limit: 1, keysOnly: true }).length === 0;
  }

  async drop(): Promise<void> {
    const prefix = partitionPrefix(this.partition);
    const end = prefixEnd(prefix);
    for (;;) {
      const batch = this.rows().scan({ start: prefix, end, limit: DROP_BATCH_ROWS, keysOnly: true });
      if (batch.length === 0) return;
      this.context.stats.rowsScanned += batch.length;
      await this.rows().transact((txn) => {
        for (const row of batch) txn.remove(row.key);
      });
    }
  }
}
