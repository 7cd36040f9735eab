// LMDB engine (the durable default): one LMDB environment, i.e. one data file
// `<path>/rondo.mdb` plus its lock file, per node; every partition lives in it
// under its u16 prefix (keys.ts). Keys and values are raw bytes
// (`keyEncoding: 'binary'`, `encoding: 'binary'`), no compression: values are
// already encoded by the object codec and we want byte-exact storage.
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
import { open, type RootDatabase } from 'lmdb';
import { assert } from '../../core/errors.js';
import { partitionPrefix } from './keys.js';
import { FOLD_BATCH_ROWS_DEFAULT, LMDB_MAP_SIZE_BYTES_DEFAULT, PARTITION_MAX } from './limits.js';
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
}

type Db = RootDatabase<Buffer, Buffer>;
/** `sync` exists on lmdb-js databases (it calls mdb_env_sync with force) but is missing from its types. */
type SyncableDb = Db & { sync?: (callback: (error?: Error) => void) => void };

export const LMDB_FILE_NAME = 'rondo.mdb';

const NO_VALUE = Buffer.alloc(0);

/** A Buffer over the same bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

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

export function openLmdbEngine(opts: LmdbEngineOptions): StorageEngine {
  const syncWrites = opts.syncWrites ?? true;
  mkdirSync(opts.path, { recursive: true });
  const db: Db = open<Buffer, Buffer>({
    path: join(opts.path, LMDB_FILE_NAME),
    keyEncoding: 'binary',
    encoding: 'binary',
    compression: false,
    cache: false,
    overlappingSync: false,
    noSync: !syncWrites,
    mapSize: opts.mapSizeBytes ?? LMDB_MAP_SIZE_BYTES_DEFAULT,
  });
  const rows = new LmdbRows(db);
  const stats: StorageStats = { engine: 'lmdb', gets: 0, puts: 0, deletes: 0, rowsScanned: 0, scanBatches: 0 };
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
      await db.flushed;
      const syncable = db as SyncableDb;
      if (!syncWrites && syncable.sync) {
        const sync = syncable.sync.bind(db);
        await new Promise<void>((resolve, reject) => sync((error) => (error ? reject(error) : resolve())));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
    stats: () => ({ ...stats }),
  };
}
