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

/**
 * LMDB's own key limit with 4 KiB pages (lmdb README, "Keys"; 4,026 from
 * 8 KiB up): files made before LMDB_PAGE_BYTES_DEFAULT was 8 KiB have 4 KiB
 * pages, and a file keeps the page size it was made with.
 */
export const LMDB_KEY_BYTES_MAX = 1_978;
/**
 * Page size of a new LMDB file (option: pageSize; 4 KiB to 64 KiB, a power of
 * two). 8 KiB holds 7 records of a 1 KiB value where 4 KiB holds 3, and the
 * smaller the count per page, the emptier B-tree splits leave pages
 * (bench/key-overhead.ts measures it).
 */
export const LMDB_PAGE_BYTES_DEFAULT = 8_192;
export const LMDB_PAGE_BYTES_MIN = 4_096;
export const LMDB_PAGE_BYTES_MAX = 65_536;
/**
 * In a file with the value tree (lmdb.ts, layout 'value-tree'), row values of
 * at least this many bytes are stored there, under a sequence number, and the
 * row holds a 9-byte reference (option: valueTreeBytesMin). Smaller values
 * stay in the row: a second lookup would cost more than the page space saved.
 */
export const LMDB_VALUE_TREE_BYTES_MIN = 128;
/** Freed sequence numbers of the value tree a node remembers for reuse (lmdb.ts; 8 bytes each at most). */
export const LMDB_FREE_SEQUENCES_MAX = 1_000_000;
/** Initial LMDB map size (option: mapSizeBytes); lmdb-js grows the map when it fills. */
export const LMDB_MAP_SIZE_BYTES_DEFAULT = 1024 * 1024 * 1024;

// Longest row: partition(2) kind(1) type(1+n) bucket(1+n) index(1+n)
// term (escaped: every byte may double, plus a 2-byte terminator) key(n).
export const ROW_KEY_BYTES_MAX =
  2 + 1 + (1 + BUCKET_TYPE_BYTES_MAX) + (1 + BUCKET_BYTES_MAX) + (1 + INDEX_NAME_BYTES_MAX) + (2 * INDEX_TERM_BYTES_MAX + 2) + KEY_BYTES_MAX;
assert(ROW_KEY_BYTES_MAX <= LMDB_KEY_BYTES_MAX, 'the longest row key fits LMDB');
assert(LMDB_PAGE_BYTES_MIN >= 4_096 && LMDB_PAGE_BYTES_MIN <= LMDB_PAGE_BYTES_DEFAULT && LMDB_PAGE_BYTES_DEFAULT <= LMDB_PAGE_BYTES_MAX, 'pages of 4 KiB or more keep LMDB_KEY_BYTES_MAX');
assert(BUCKET_TYPE_BYTES_MAX <= 255 && BUCKET_BYTES_MAX <= 255 && INDEX_NAME_BYTES_MAX <= 255, 'lengths fit a one-byte prefix');
assert(FOLD_BATCH_ROWS_DEFAULT > 0 && DROP_BATCH_ROWS > 0, 'batches make progress');
