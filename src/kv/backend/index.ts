// Public surface of the storage backends.
export type { FoldBucketsOptions, FoldOptions, IndexEntry, IndexHit, IndexRangeQuery, KeyRow, PartitionStore, PutManyEntry, PutOptions, SignalOptions, StorageEngine, StorageStats, StoreKey, StoredBucket, StoredKey } from './types.js';
export { BackendClosedError, IndexInvalidError, KeyInvalidError, ValueTooLargeError } from './errors.js';
export { openMemoryEngine, type MemoryEngineOptions } from './memory.js';
export { openLmdbEngine, LMDB_FILE_NAME, type LmdbEngineOptions, type LmdbLayout, type LmdbStorageEngine } from './lmdb.js';
export * from './limits.js';
