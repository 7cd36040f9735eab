// Limits of coverage queries (key and bucket listing, secondary indexes).

/** Items per chunk a listing or index query emits to its API (a PB message, an HTTP chunk). */
export const COVERAGE_CHUNK_ITEMS = 1_000;
/** Items a covering vnode returns per page (at most VNODE_FOLD_KEYS_PAGE_MAX); two pages per vnode are held at once. */
export const COVERAGE_PAGE_ITEMS = 1_000;
/** Largest `max_results` of one index query page. option: none (Riak has no limit; ours keeps a page bounded) */
export const INDEX_MAX_RESULTS_MAX = 100_000;
/** A continuation longer than this is refused before decoding. */
export const INDEX_CONTINUATION_CHARS_MAX = 4 * 1024;
