// The small ordered byte-row store each engine provides. Everything above it
// (layout, validation, indexes, folds) is shared in store.ts, so the engines
// cannot drift apart in semantics; the compliance suite checks what is left.

export interface Row {
  key: Buffer;
  value: Buffer;
}
/** Synchronous view of one write transaction; reads see its own writes. */
export interface RowTxn {
  get(key: Buffer): Buffer | undefined;
  put(key: Buffer, value: Buffer): void;
  remove(key: Buffer): void;
}
export interface RowStore {
  get(key: Buffer): Buffer | undefined;
  /** Rows with start <= key < end in ascending byte order, at most `limit`. */
  scan(range: { start: Buffer; end: Buffer; limit: number; keysOnly?: boolean }): Row[];
  /** Rows with start <= key < end (a handoff's progress estimate). */
  count(range: { start: Buffer; end: Buffer }): number;
  /**
   * Writes one row with no read inside the transaction; resolves once durable
   * per the engine's policy. The engine may commit it with other writes of the
   * same moment (LMDB: one transaction and one fsync per event turn).
   */
  putRow(key: Buffer, value: Buffer): Promise<void>;
  /** Runs `fn` in one atomic write transaction; resolves once durable per the engine's policy. `fn` must not throw. */
  transact(fn: (txn: RowTxn) => void): Promise<void>;
}
