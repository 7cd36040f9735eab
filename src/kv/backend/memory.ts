// Memory engine: for tests and the simulator. One sorted array of rows per
// partition with binary search; rows use the same byte layout as LMDB, so
// ordering matches by construction. Inserts are O(n) per partition, which is
// fine at test and simulation sizes and keeps the structure obviously right.
import { assert } from '../../core/errors.js';
import { FOLD_BATCH_ROWS_DEFAULT } from './limits.js';
import type { Row, RowStore, RowTxn } from './rows.js';
import { partitionStores, type EngineContext } from './store.js';
import type { StorageEngine, StorageStats } from './types.js';

class SortedRows implements RowStore {
  private readonly keys: Buffer[] = [];
  private readonly values: Buffer[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Index of the first key >= `key`. */
  private lowerBound(key: Buffer): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (Buffer.compare(this.keys[middle]!, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  get(key: Buffer): Buffer | undefined {
    const at = this.lowerBound(key);
    return at < this.keys.length && this.keys[at]!.equals(key) ? this.values[at] : undefined;
  }

  scan(range: { start: Buffer; end: Buffer; limit: number; keysOnly?: boolean }): Row[] {
    assert(range.limit > 0, 'scan limit is positive');
    const out: Row[] = [];
    for (let at = this.lowerBound(range.start); at < this.keys.length && out.length < range.limit; at += 1) {
      const key = this.keys[at]!;
      if (Buffer.compare(key, range.end) >= 0) break;
      out.push({ key, value: range.keysOnly ? Buffer.alloc(0) : this.values[at]! });
    }
    return out;
  }

  count(range: { start: Buffer; end: Buffer }): number {
    return Math.max(0, this.lowerBound(range.end) - this.lowerBound(range.start));
  }

  private apply(key: Buffer, value: Buffer | undefined): void {
    const at = this.lowerBound(key);
    const present = at < this.keys.length && this.keys[at]!.equals(key);
    if (value === undefined) {
      if (present) {
        this.keys.splice(at, 1);
        this.values.splice(at, 1);
      }
    } else if (present) this.values[at] = value;
    else {
      this.keys.splice(at, 0, key);
      this.values.splice(at, 0, value);
    }
  }

  async putRow(key: Buffer, value: Buffer): Promise<void> {
    this.apply(Buffer.from(key), Buffer.from(value));
  }

  // Writes are staged and applied after `fn` returns, so a transaction that
  // fails half way leaves nothing behind, as an LMDB abort would.
  async transact(fn: (txn: RowTxn) => void): Promise<void> {
    const staged = new Map<string, { key: Buffer; value: Buffer | undefined }>();
    fn({
      get: (key) => {
        const write = staged.get(key.toString('hex'));
        return write ? write.value : this.get(key);
      },
      put: (key, value) => staged.set(key.toString('hex'), { key: Buffer.from(key), value: Buffer.from(value) }),
      remove: (key) => staged.set(key.toString('hex'), { key: Buffer.from(key), value: undefined }),
    });
    for (const write of staged.values()) this.apply(write.key, write.value);
  }
}

export interface MemoryEngineOptions {
  /** Rows per fold batch (default FOLD_BATCH_ROWS_DEFAULT). */
  foldBatchRows?: number;
}

export function openMemoryEngine(opts: MemoryEngineOptions = {}): StorageEngine {
  const byPartition = new Map<number, SortedRows>();
  const stats: StorageStats = { engine: 'memory', gets: 0, puts: 0, deletes: 0, rowsScanned: 0, scanBatches: 0, indexEntriesRemoved: 0 };
  let closed = false;
  const context: EngineContext = {
    rows(partition) {
      let rows = byPartition.get(partition);
      if (!rows) byPartition.set(partition, (rows = new SortedRows()));
      return rows;
    },
    stats,
    isClosed: () => closed,
    foldBatchRows: opts.foldBatchRows ?? FOLD_BATCH_ROWS_DEFAULT,
    readsShareBuffers: true,
  };
  assert(context.foldBatchRows > 0, 'foldBatchRows is positive');
  return {
    name: 'memory',
    partition: partitionStores(context),
    async partitions() {
      return [...byPartition].filter(([, rows]) => rows.size > 0).map(([p]) => p).sort((a, b) => a - b);
    },
    async sync() {},
    async close() {
      closed = true;
    },
    stats: () => ({ ...stats }),
    onIndexEntriesRemoved(listener) {
      context.indexEntriesRemoved = listener;
    },
  };
}
