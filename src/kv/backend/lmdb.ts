// LMDB engine (the durable default): one LMDB environment, i.e. one data file
// `<path>/rondo.mdb` plus its lock file, per node; every partition lives in it
// under its u16 prefix (keys.ts). Keys and values are raw bytes
// (`keyEncoding: 'binary'`, `encoding: 'binary'`), no compression: values are
// already encoded by the object codec and we want byte-exact storage.
//
// Two layouts; a file keeps the one it was made with (options only choose for
// a new file):
// - 'single' (every file made before the value tree existed): the rows are
//   the main database's records, values inline.
// - 'value-tree' (new files): two named databases. `rows` holds the rows, in
//   the same order; a row value of at least valueTreeBytesMin bytes lives in
//   `values` under a sequence number (u64 BE) and the row holds
//   [0x01][sequence u64 BE]; a smaller one is stored as [0x00][value]; an
//   empty one as nothing. Why: rows arrive in key order only by chance, so
//   B-tree splits leave their pages a third to half empty (1 KiB objects:
//   59% fill in 4 KiB pages, 74% in 8 KiB, bench/key-overhead.ts), while
//   new sequence numbers are always the highest, appended (MDB_APPEND) to
//   full pages. A rewrite of a row keeps its sequence number (the value is
//   replaced in place when its size allows), a removal removes both records,
//   and a number freed by a removal is reused, so the value written under it
//   fills the hole the removal left.
//   Writes go through transaction callbacks, which lmdb-js runs in order in
//   the write transaction, so numbers are drawn in the order they are
//   written; reads of a row and its value use one read snapshot.
//
// Durability, exactly as lmdb-js 3.x behaves with these settings:
// - `overlappingSync: false` (lmdb-js turns it on by default on non-Windows):
//   with it on, write promises resolve at commit and the fsync happens later
//   (only `db.flushed` waits for it). Off, a commit includes the fsync.
// - syncWrites=true (default) → `noSync: false`: each `transaction()` promise
//   resolves after LMDB committed and fsync'd the data file, so an awaited
//   put/delete survives a process kill and an OS crash or power loss (as far
//   as the disk honours fsync). lmdb-js batches all writes of one event turn
//   into one transaction, so concurrent puts share one fsync.
// - syncWrites=false → `noSync: true`: the promise resolves at commit. The
//   write survives a killed process (the OS holds the pages) but NOT an OS
//   crash or power loss, and a crash may lose any recent commit. Unsafe; for
//   benchmarks and throwaway clusters. `sync()` forces a flush.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { InvalidArgumentError, assert } from '../../core/errors.js';
import { partitionPrefix } from './keys.js';
import {
  FOLD_BATCH_ROWS_DEFAULT, LMDB_MAP_SIZE_BYTES_DEFAULT, LMDB_PAGE_BYTES_DEFAULT, LMDB_PAGE_BYTES_MAX, LMDB_PAGE_BYTES_MIN, LMDB_FREE_SEQUENCES_MAX, LMDB_VALUE_TREE_BYTES_MIN, PARTITION_MAX,
} from './limits.js';
import type { Row, RowStore, RowTxn } from './rows.js';
import { partitionStores, type EngineContext } from './store.js';
import type { StorageEngine, StorageStats } from './types.js';

export interface LmdbEngineOptions {
  /** Directory holding the environment (created if missing). */
  path: string;
  /** Initial map size (default LMDB_MAP_SIZE_BYTES_DEFAULT); lmdb-js grows it as needed. */
  mapSizeBytes?: number;
  /** Default true. false trades crash durability for speed: see the header comment. */
  syncWrites?: boolean;
  /** Rows per fold batch (default FOLD_BATCH_ROWS_DEFAULT). */
  foldBatchRows?: number;
  /** Page size of a new file (default LMDB_PAGE_BYTES_DEFAULT); an existing file keeps its own. */
  pageSize?: number;
  /** Layout of a new file (default 'value-tree', see the top of this file); an existing file keeps its own. */
  layout?: LmdbLayout;
  /** Layout 'value-tree': row values of at least this many bytes go to the value tree (default LMDB_VALUE_TREE_BYTES_MIN). */
  valueTreeBytesMin?: number;
}

export type LmdbLayout = 'single' | 'value-tree';

export interface LmdbStorageEngine extends StorageEngine {
  /** The file's layout and page size (an existing file's, whatever the options asked). */
  readonly layout: LmdbLayout;
  readonly pageSize: number;
}

type Db = RootDatabase<Buffer, Buffer>;
type NamedDb = Database<Buffer, Buffer>;
/** `sync` exists on lmdb-js databases (it calls mdb_env_sync with force) but is missing from its types. */
type SyncableDb = Db & { sync?: (callback: (error?: Error) => void) => void };

export const LMDB_FILE_NAME = 'rondo.mdb';
/** Named databases of the 'value-tree' layout (lmdb-js stores a name with a trailing NUL in the main database). */
export const LMDB_ROWS_DB = 'rows';
export const LMDB_VALUES_DB = 'values';
const DB_OPTIONS = { keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false } as const;

const NO_VALUE = Buffer.alloc(0);

/** A Buffer over the same bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Layout 'single': rows are the main database's records. */
class LmdbRows implements RowStore {
  private readonly db: Db;
  private readonly txn: RowTxn;

  constructor(db: Db) {
    this.db = db;
    // Inside a transaction callback lmdb-js runs these in the open write transaction.
    this.txn = {
      get: (key) => db.get(key),
      put: (key, value) => {
        db.putSync(key, value);
      },
      remove: (key) => {
        db.removeSync(key);
      },
    };
  }

  get(key: Buffer): Buffer | undefined {
    return this.db.get(key);
  }

  scan(range: { start: Buffer; end: Buffer; limit: number; keysOnly?: boolean }): Row[] {
    assert(range.limit > 0, 'scan limit is positive');
    const out: Row[] = [];
    // Each batch runs to completion synchronously, so the cursor and its read
    // snapshot are released before the caller sees a row. With binary key and
    // value encodings lmdb-js returns every key and value as a fresh copy
    // (Uint8Array.prototype.slice of its read buffer), so they are the rows'
    // own and are not copied again.
    if (range.keysOnly) {
      for (const key of this.db.getKeys({ start: range.start, end: range.end, limit: range.limit })) {
        out.push({ key: asBuffer(key), value: NO_VALUE });
      }
    } else {
      for (const { key, value } of this.db.getRange({ start: range.start, end: range.end, limit: range.limit })) {
        out.push({ key: asBuffer(key), value });
      }
    }
    return out;
  }

  // lmdb-js's plain put: the write thread applies it, no JS callback runs
  // inside the transaction (db.transaction's callbacks do, on the main thread).
  async putRow(key: Buffer, value: Buffer): Promise<void> {
    await this.db.put(key, value);
  }

  count(range: { start: Buffer; end: Buffer }): number {
    return this.db.getCount({ start: range.start, end: range.end });
  }

  async transact(fn: (txn: RowTxn) => void): Promise<void> {
    await this.db.transaction(() => fn(this.txn));
  }
}

const TAG_INLINE = 0x00;
const TAG_REFERENCE = 0x01;
const REFERENCE_BYTES = 9;
const EMPTY = Buffer.alloc(0);

function sequenceKey(sequence: number): Buffer {
  assert(Number.isSafeInteger(sequence) && sequence >= 0, 'sequence numbers are safe integers');
  const key = Buffer.allocUnsafe(8);
  key.writeUInt32BE(Math.floor(sequence / 2 ** 32), 0);
  key.writeUInt32BE(sequence % 2 ** 32, 4);
  return key;
}
function sequenceOf(key: Buffer, at: number): number {
  return key.readUInt32BE(at) * 2 ** 32 + key.readUInt32BE(at + 4);
}

/**
 * Layout 'value-tree' (see the top of this file). Rows and values are ours:
 * a row that is not one of the three forms, or a reference to no value, is a
 * bug or a damaged file, and fails an assertion rather than reading as absent.
 */
class ValueTreeRows implements RowStore {
  private readonly root: Db;
  private readonly rows: NamedDb;
  private readonly values: NamedDb;
  private readonly minBytes: number;
  private readonly txn: RowTxn;
  /** The next sequence number: above every key in `values`. */
  private next: number;
  /**
   * Numbers whose value was removed by a committed transaction, reused
   * (newest first) before drawing a new one: a value written under a freed
   * number fills the hole its removal left in a page of the value tree,
   * where appending would leave that page as empty as the removals made it
   * (LMDB merges a page only below a quarter full). Kept in memory only, at
   * most LMDB_FREE_SEQUENCES_MAX: after a restart new values are appended.
   */
  private readonly free: number[] = [];
  /** Numbers freed by the transaction callback running now; reusable once it commits. */
  private released: number[] | undefined;

  constructor(root: Db, rows: NamedDb, values: NamedDb, minBytes: number) {
    this.root = root;
    this.rows = rows;
    this.values = values;
    this.minBytes = minBytes;
    const [last] = values.getKeys({ reverse: true, limit: 1 });
    this.next = last === undefined ? 1 : sequenceOf(Buffer.from(last), 0) + 1;
    // Inside a transaction callback reads see the open write transaction.
    this.txn = {
      get: (key) => {
        const stored = rows.get(key);
        return stored === undefined ? undefined : this.resolve(stored, undefined);
      },
      put: (key, value) => this.writeRow(key, value),
      remove: (key) => this.removeRow(key),
    };
  }

  /** The value a stored row stands for; `transaction` reads the value in that snapshot. */
  private resolve(stored: Buffer, transaction: Transaction | undefined): Buffer {
    if (stored.length === 0) return EMPTY;
    if (stored[0] === TAG_INLINE) return stored.subarray(1);
    assert(stored[0] === TAG_REFERENCE && stored.length === REFERENCE_BYTES, 'a row holds nothing, an inline value or a reference');
    const value = this.values.get(stored.subarray(1), transaction === undefined ? undefined : { transaction });
    assert(value !== undefined, 'a referenced value exists');
    return value;
  }

  private referenceOf(stored: Buffer | undefined): number | undefined {
    return stored !== undefined && stored.length === REFERENCE_BYTES && stored[0] === TAG_REFERENCE ? sequenceOf(stored, 1) : undefined;
  }

  /** Runs inside a write transaction. The value is written before a new reference to it. */
  private writeRow(key: Buffer, value: Buffer): void {
    const old = this.referenceOf(this.rows.get(key));
    if (value.length >= this.minBytes) {
      if (old !== undefined) {
        assert(this.values.putSync(sequenceKey(old), value), 'a value is rewritten under its sequence number');
        return;
      }
      const reused = this.free.pop();
      const sequence = reused ?? this.next++;
      const reference = Buffer.allocUnsafe(REFERENCE_BYTES);
      reference[0] = TAG_REFERENCE;
      sequenceKey(sequence).copy(reference, 1);
      if (reused === undefined) assert(this.values.putSync(reference.subarray(1), value, { append: true }), 'a new sequence number is the highest');
      else assert(this.values.putSync(reference.subarray(1), value, { noOverwrite: true }), 'a freed sequence number holds no value');
      assert(this.rows.putSync(key, reference), 'a row is written');
      return;
    }
    if (old !== undefined) this.release(old);
    const stored = value.length === 0 ? EMPTY : Buffer.concat([INLINE_PREFIX, value]);
    assert(this.rows.putSync(key, stored), 'a row is written');
  }

  private removeRow(key: Buffer): void {
    const stored = this.rows.get(key);
    if (stored === undefined) return;
    const old = this.referenceOf(stored);
    if (old !== undefined) this.release(old);
    this.rows.removeSync(key);
  }

  private release(sequence: number): void {
    this.values.removeSync(sequenceKey(sequence));
    assert(this.released !== undefined, 'values are removed inside a transaction callback');
    this.released.push(sequence);
  }

  get(key: Buffer): Buffer | undefined {
    // One synchronous turn: lmdb-js reads the row and its value in one read snapshot.
    const stored = this.rows.get(key);
    return stored === undefined ? undefined : this.resolve(stored, undefined);
  }

  scan(range: { start: Buffer; end: Buffer; limit: number; keysOnly?: boolean }): Row[] {
    assert(range.limit > 0, 'scan limit is positive');
    const out: Row[] = [];
    if (range.keysOnly) {
      for (const key of this.rows.getKeys({ start: range.start, end: range.end, limit: range.limit })) {
        out.push({ key: Buffer.from(key), value: EMPTY });
      }
      return out;
    }
    // Rows and their values from one snapshot, released before the caller sees a row.
    const transaction = this.root.useReadTransaction();
    try {
      for (const { key, value } of this.rows.getRange({ start: range.start, end: range.end, limit: range.limit, transaction })) {
        out.push({ key: Buffer.from(key), value: this.resolve(value, transaction) });
      }
    } finally {
      transaction.done();
    }
    return out;
  }

  putRow(key: Buffer, value: Buffer): Promise<void> {
    return this.transact((txn) => txn.put(key, value));
  }

  count(range: { start: Buffer; end: Buffer }): number {
    return this.rows.getCount({ start: range.start, end: range.end });
  }

  async transact(fn: (txn: RowTxn) => void): Promise<void> {
    const released: number[] = [];
    await this.root.transaction(() => {
      // Should lmdb-js run a callback again (a retried transaction), only its last run's removals count.
      released.length = 0;
      this.released = released;
      try {
        fn(this.txn);
      } finally {
        this.released = undefined;
      }
    });
    // Committed: nothing can read these numbers' old values any more but older snapshots, which keep them.
    for (const sequence of released) if (this.free.length < LMDB_FREE_SEQUENCES_MAX) this.free.push(sequence);
  }
}
const INLINE_PREFIX = Buffer.from([TAG_INLINE]);

function checkPageSize(pageSize: number): void {
  if (!Number.isInteger(pageSize) || pageSize < LMDB_PAGE_BYTES_MIN || pageSize > LMDB_PAGE_BYTES_MAX || (pageSize & (pageSize - 1)) !== 0) {
    throw new InvalidArgumentError(`pageSize must be a power of two in ${LMDB_PAGE_BYTES_MIN}..${LMDB_PAGE_BYTES_MAX}, got ${pageSize}`);
  }
}

/** The layout of an existing file; undefined when it holds nothing yet (a new file takes the options' layout). */
function existingLayout(root: Db): LmdbLayout | undefined {
  const [first] = root.getKeys({ limit: 1 });
  if (first === undefined) return undefined;
  // A row key's third byte is its kind (0..2); "rows\0" cannot be a row of a 'single' file.
  return root.doesExist(Buffer.from(`${LMDB_ROWS_DB}\0`)) ? 'value-tree' : 'single';
}

export function openLmdbEngine(opts: LmdbEngineOptions): LmdbStorageEngine {
  const syncWrites = opts.syncWrites ?? true;
  checkPageSize(opts.pageSize ?? LMDB_PAGE_BYTES_DEFAULT);
  const minBytes = opts.valueTreeBytesMin ?? LMDB_VALUE_TREE_BYTES_MIN;
  if (!Number.isSafeInteger(minBytes) || minBytes < 1) throw new InvalidArgumentError(`valueTreeBytesMin must be a positive integer, got ${minBytes}`);
  mkdirSync(opts.path, { recursive: true });
  const root: Db = open<Buffer, Buffer>({
    path: join(opts.path, LMDB_FILE_NAME),
    ...DB_OPTIONS,
    overlappingSync: false,
    noSync: !syncWrites,
    mapSize: opts.mapSizeBytes ?? LMDB_MAP_SIZE_BYTES_DEFAULT,
    pageSize: opts.pageSize ?? LMDB_PAGE_BYTES_DEFAULT,
    maxDbs: 2,
  });
  const layout = existingLayout(root) ?? opts.layout ?? 'value-tree';
  let rows: RowStore;
  let db: Db | NamedDb = root;
  if (layout === 'single') rows = new LmdbRows(root);
  else {
    const rowsDb = root.openDB<Buffer, Buffer>({ name: LMDB_ROWS_DB, ...DB_OPTIONS });
    const valuesDb = root.openDB<Buffer, Buffer>({ name: LMDB_VALUES_DB, ...DB_OPTIONS });
    rows = new ValueTreeRows(root, rowsDb, valuesDb, minBytes);
    db = rowsDb;
  }
  const pageSize = (root.getStats() as { pageSize: number }).pageSize;
  const stats: StorageStats = { engine: 'lmdb', gets: 0, puts: 0, deletes: 0, rowsScanned: 0, scanBatches: 0, indexEntriesRemoved: 0 };
  let closed = false;
  const context: EngineContext = {
    rows: () => rows,
    stats,
    isClosed: () => closed,
    foldBatchRows: opts.foldBatchRows ?? FOLD_BATCH_ROWS_DEFAULT,
    readsShareBuffers: false, // lmdb-js get() copies the value out of the map
  };
  assert(context.foldBatchRows > 0, 'foldBatchRows is positive');
  return {
    name: 'lmdb',
    layout,
    pageSize,
    partition: partitionStores(context),
    async partitions() {
      // One seek per non-empty partition: jump to the next partition prefix.
      const found: number[] = [];
      for (let p = 0; p <= PARTITION_MAX; ) {
        const [key] = db.getKeys({ start: partitionPrefix(p), limit: 1 });
        if (key === undefined) break;
        const partition = Buffer.from(key).readUInt16BE(0);
        assert(partition >= p, 'keys are ordered by partition');
        found.push(partition);
        p = partition + 1;
      }
      return found;
    },
    async sync() {
      await root.flushed;
      const syncable = root as SyncableDb;
      if (!syncWrites && syncable.sync) {
        const sync = syncable.sync.bind(root);
        await new Promise<void>((resolve, reject) => sync((error) => (error ? reject(error) : resolve())));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await root.close();
    },
    stats: () => ({ ...stats }),
    onIndexEntriesRemoved(listener) {
      context.indexEntriesRemoved = listener;
    },
  };
}
