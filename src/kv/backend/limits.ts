// Every limit of the storage backends in one place. Sizes are in bytes of the
// UTF-8 (or raw) encoding. The key sizes are bounded so that the longest
// composite LMDB row key (an index row) fits LMDB's maximum key size; that
// relation is asserted below so a change to one limit cannot silently break it.
import { assert } from '../../core/errors.js';

/** Bucket type name; stored behind a one-byte length prefix. */
export const BUCKET_TYPE_BYTES_MAX = 255;
/** Bucket name; stored behind a one-byte length prefix. */
export const BUCKET_BYTES_MAX = 255;
/** Object key (Riak has no hard limit but recommends short keys). */
export const KEY_BYTES_MAX = 512;
/** Object value; Riak's default object size hard limit (`max_object_size`) is 50 MiB. */
export const VALUE_BYTES_MAX = 50 * 1024 * 1024;
/** Secondary index name including its `_bin` / `_int` suffix. */
export const INDEX_NAME_BYTES_MAX = 64;
/** `_bin` index term before escaping. */
export const INDEX_TERM_BYTES_MAX = 256;
/** Index entries on one object; bounds the work of one put. */
export const INDEX_ENTRIES_PER_OBJECT_MAX = 256;

/** Rows read per batch by folds and index ranges (option: foldBatchRows). */
export const FOLD_BATCH_ROWS_DEFAULT = 256;
/** Rows deleted per transaction by `drop()`, so one drop never holds the write lock for long. */
export const DROP_BATCH_ROWS = 1_024;
/** Partitions are ring indices; the key layout stores them as u16. */
export const PARTITION_MAX = 0xffff;

/** LMDB's own key limit with the default page size (lmdb README, "Keys"). */
export const LMDB_KEY_BYTES_MAX = 1_978;
/** Initial LMDB map size (option: mapSizeBytes); lmdb-js grows the map when it fills. */
export const LMDB_MAP_SIZE_BYTES_DEFAULT = 1024 * 1024 * 1024;

// Longest row: partition(2) kind(1) type(1+n) bucket(1+n) index(1+n)
// term (escaped: every byte may double, plus a 2-byte terminator) key(n).
export const ROW_KEY_BYTES_MAX =
  2 + 1 + (1 + BUCKET_TYPE_BYTES_MAX) + (1 + BUCKET_BYTES_MAX) + (1 + INDEX_NAME_BYTES_MAX) + (2 * INDEX_TERM_BYTES_MAX + 2) + KEY_BYTES_MAX;
assert(ROW_KEY_BYTES_MAX <= LMDB_KEY_BYTES_MAX, 'the longest row key fits LMDB');
assert(BUCKET_TYPE_BYTES_MAX <= 255 && BUCKET_BYTES_MAX <= 255 && INDEX_NAME_BYTES_MAX <= 255, 'lengths fit a one-byte prefix');
assert(FOLD_BATCH_ROWS_DEFAULT > 0 && DROP_BATCH_ROWS > 0, 'batches make progress');
