// The storage interface every engine implements. Keys and values are opaque
// bytes here; the object codec lives above. One engine per node, namespaced by
// partition: a vnode works on its own PartitionStore view (Riak keeps one
// backend per vnode; one LMDB environment per node keeps one file and one
// write lock instead of ring-size many).

/** Input key. Strings are encoded as UTF-8. */
export interface StoreKey {
  bucketType: string;
  bucket: Uint8Array | string;
  key: Uint8Array | string;
}
/** Key as returned by folds: bucket and key always as bytes. */
export interface StoredKey {
  bucketType: string;
  bucket: Uint8Array;
  key: Uint8Array;
}
/** A secondary index entry: `_bin` terms are strings, `_int` terms safe integers. */
export interface IndexEntry {
  index: string;
  value: string | number;
}
export interface SignalOptions {
  signal?: AbortSignal;
}
export interface PutOptions extends SignalOptions {
  /**
   * The caller knows the key's stored object had no index entries (or that
   * nothing is stored). With no new entries either, the put is a single row
   * write with no read of the old index rows. Default: unknown.
   */
  previousHadIndexes?: boolean;
}
/**
 * A key validated and encoded by one PartitionStore (`keyRow`), so that a
 * batch which reads a key and then writes it encodes it once. Opaque: only
 * the store that made it reads it.
 */
export interface KeyRow {
  readonly partition: number;
  readonly row: Uint8Array;
}
/** One write of `putMany`. */
export interface PutManyEntry {
  key: StoreKey;
  /** `key` as this store encoded it (keyRow), when the caller has it. */
  row?: KeyRow;
  value: Uint8Array;
  indexes: readonly IndexEntry[];
  /** As PutOptions.previousHadIndexes, for this key: false with no new entries makes it a single row write. Default: unknown. */
  previousHadIndexes?: boolean;
}
export interface FoldOptions extends SignalOptions {
  bucketType?: string;
  /** Requires bucketType. */
  bucket?: Uint8Array | string;
  /** Start at this key, inclusive (a seek); requires bucket. */
  from?: Uint8Array | string;
  /** Resume strictly after this key (a seek, not a skip); requires bucket. With `from`, the later bound wins. */
  after?: Uint8Array | string;
}
/** A bucket as returned by `foldBuckets`. */
export interface StoredBucket {
  bucketType: string;
  bucket: Uint8Array;
}
export interface FoldBucketsOptions extends SignalOptions {
  bucketType?: string;
  /** Resume strictly after this bucket (with bucketType set, it must be of that type). */
  after?: { bucketType: string; bucket: Uint8Array | string };
}
export interface IndexRangeQuery extends SignalOptions {
  bucketType: string;
  bucket: Uint8Array | string;
  index: string;
  start: string | number;
  /** Inclusive; equality query when absent. */
  end?: string | number;
  /** Pagination: resume strictly after (startAfterTerm ?? start, startAfterKey). */
  startAfterKey?: Uint8Array | string;
  startAfterTerm?: string | number;
}
export interface IndexHit {
  term: string | number;
  key: Uint8Array;
}

export interface PartitionStore {
  readonly partition: number;
  get(k: StoreKey, opts?: SignalOptions): Promise<Uint8Array | undefined>;
  /** The same read, synchronously (both engines read synchronously; the vnode's get path uses this). */
  getSync(k: StoreKey): Uint8Array | undefined;
  /** Validates and encodes a key for this store (throws KeyInvalidError, as a read or write of it would). */
  keyRow(k: StoreKey): KeyRow;
  /** getSync of a key this store encoded. */
  getRowSync(row: KeyRow): Uint8Array | undefined;
  /** Atomically writes the value and replaces the key's index entries; resolves when durable per the engine's sync policy. */
  put(k: StoreKey, value: Uint8Array, indexes: readonly IndexEntry[], opts?: PutOptions): Promise<void>;
  /**
   * Several puts in one atomic transaction (handoff batches); all are checked
   * before anything is written. Unlike put, the values are not copied: they
   * must not change until the returned promise settles.
   */
  putMany(entries: readonly PutManyEntry[], opts?: SignalOptions): Promise<void>;
  /** Atomically removes the object and its index entries; absent keys are fine. */
  delete(k: StoreKey, opts?: SignalOptions): Promise<void>;
  /** Ordered by the row layout (see keys.ts), streamed in batches. */
  foldKeys(opts?: FoldOptions): AsyncIterable<StoredKey>;
  foldObjects(opts?: FoldOptions): AsyncIterable<{ key: StoredKey; value: Uint8Array }>;
  /** Distinct buckets holding at least one object, in row order; one seek per bucket, whatever its key count. */
  foldBuckets(opts?: FoldBucketsOptions): AsyncIterable<StoredBucket>;
  /** Ordered by (term, key): `_int` numerically, `_bin` by UTF-8 bytes. */
  indexRange(q: IndexRangeQuery): AsyncIterable<IndexHit>;
  /** Objects stored (not index rows). */
  countObjects(): Promise<number>;
  isEmpty(): Promise<boolean>;
  /** Deletes every row of this partition (after handoff). Batched, so not atomic as a whole. */
  drop(): Promise<void>;
}

export interface StorageStats {
  engine: 'memory' | 'lmdb';
  gets: number;
  puts: number;
  deletes: number;
  /** Rows read by folds, ranges and drops: lets tests prove folds stream. */
  rowsScanned: number;
  /** Scan batches issued. */
  scanBatches: number;
  /** Index entries removed (by overwrites that dropped them, and by deletes); Riak's vnode_index_deletes. */
  indexEntriesRemoved: number;
}

export interface StorageEngine {
  readonly name: 'memory' | 'lmdb';
  partition(p: number): PartitionStore;
  /** Partitions that hold any row, ascending. */
  partitions(): Promise<number[]>;
  /** Waits until every acknowledged write is on disk (forces a flush when syncWrites=false). */
  sync(): Promise<void>;
  close(): Promise<void>;
  stats(): StorageStats;
  /** Call `listener` with the number of index entries each committed write removed (one listener; for /stats). */
  onIndexEntriesRemoved(listener: (entries: number) => void): void;
}
