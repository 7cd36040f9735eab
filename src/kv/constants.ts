// Every limit and default of the KV layer in one place. Each is named for what
// it bounds, carries its unit, and names the option that overrides it.
import { FRAME_BYTES_MAX } from '../core/constants.js';
import { assert } from '../core/errors.js';

const MIB = 1024 * 1024;

// --- objects (src/kv/object) ---
/** Leading byte of an encoded object; bump it when the layout changes (codec.ts keeps reading format 1). */
export const OBJECT_FORMAT_VERSION = 2;
/** Leading byte of an encoded causal context (X-Riak-Vclock). */
export const CONTEXT_FORMAT_VERSION = 1;
// Riak's warn_object_size / max_object_size and warn_siblings / max_siblings.
export const OBJECT_BYTES_WARN = 5 * MIB; // option: objectBytesWarn (above it a put succeeds with a warning)
export const OBJECT_BYTES_MAX = 50 * MIB; // option: objectBytesMax (above it, encoded, a put is refused, 413; a replica refuses a merge above it too)
/**
 * What a KV message adds to the one object it carries, at most: key, props,
 * causal context (CONTEXT_BYTES_MAX) and envelopes of a put-coordinate, a
 * reply's warnings. A bound with room to spare, not an exact size.
 */
export const KV_MESSAGE_OVERHEAD_BYTES_MAX = 1 * MIB;
/** objectBytesMax may not exceed this: an object, in the message that carries it between nodes, must fit one transport frame. */
export const OBJECT_BYTES_MAX_CEILING = FRAME_BYTES_MAX - KV_MESSAGE_OVERHEAD_BYTES_MAX;
export const SIBLINGS_WARN = 25; // option: siblingsWarn (above it a put succeeds with a warning)
export const SIBLINGS_MAX = 100; // option: siblingsMax (above it a put is refused)
/** How far ahead of local wall time a remote timestamp may be before it is refused. */
export const HLC_DRIFT_MAX_MS = 60_000; // option: maxDriftMs
/** Length of a generated vtag: 22 base62 chars carry ~131 random bits. */
export const VTAG_CHARS = 22;
export const VTAG_CHARS_MAX = 64; // vtags we accept from storage or peers
/** An X-Riak-Vclock longer than this is refused before decoding (no option: ~1,000 actors fit). */
export const CONTEXT_CHARS_MAX = 64 * 1024;
/** The same bound on the decoded bytes (PB carries them raw). */
export const CONTEXT_BYTES_MAX = (CONTEXT_CHARS_MAX / 4) * 3;
export const CONTENT_TYPE_DEFAULT = 'application/octet-stream';
/** Header-sized strings (content type, charset, encoding, user-meta keys and values). */
export const META_STRING_CHARS_MAX = 8 * 1024;
/** Index entries and user-meta entries per content. */
export const META_ENTRIES_MAX = 1_024;

assert(OBJECT_BYTES_WARN < OBJECT_BYTES_MAX, 'object size warning below the refusal limit');
assert(SIBLINGS_WARN < SIBLINGS_MAX, 'sibling warning below the refusal limit');
assert(VTAG_CHARS <= VTAG_CHARS_MAX, 'generated vtags are accepted');
assert(OBJECT_BYTES_MAX < 2 ** 31, 'object sizes fit a Buffer');
assert(OBJECT_BYTES_MAX <= OBJECT_BYTES_MAX_CEILING, 'the default object limit fits a frame with its message');
assert(KV_MESSAGE_OVERHEAD_BYTES_MAX > CONTEXT_BYTES_MAX + 64 * 1024, 'the message overhead covers a causal context and a key');

// --- vnodes (src/kv/vnode) ---
/** Keys a vnode remembers as changed while it hands off; beyond it the handoff starts over with a full fold. */
export const HANDOFF_CHANGED_KEYS_MAX = 100_000;
/** Keys per `fold-keys` reply page; a listing asks again with the continuation. */
export const VNODE_FOLD_KEYS_PAGE_MAX = 1_000; // option: the command's pageSize (at most this)
/**
 * Bucket type features this build serves. Creating a type that asks for one
 * set to false is refused (kv_bad_props) rather than served as plain eventual
 * KV; the data types issue lifts `datatype`, the consistency issue `consistent`.
 */
export const BUCKET_TYPE_FEATURES_AVAILABLE = { consistent: false, datatype: false } as const;
/** Buckets per `fold-buckets` reply page. */
export const VNODE_FOLD_BUCKETS_PAGE_MAX = 1_000; // option: the command's pageSize (at most this)
/** Hits per `index-query` reply page. */
export const VNODE_INDEX_HITS_PAGE_MAX = 1_000; // option: the command's pageSize (at most this)
/**
 * Rows one listing page (fold-keys, index-query) may read: a keyspace filter
 * can skip most rows, and a page must still end in bounded time.
 */
export const VNODE_FOLD_ROWS_PER_PAGE_MAX = 10_000; // option: KvVnodeOptions.foldRowsPerPageMax
/** Writes a vnode has issued and the engine not yet made durable; at the limit a write waits for the oldest (bounds the overlay of pending writes). */
export const VNODE_PENDING_WRITES_MAX = 256; // option: KvVnodeOptions.pendingWritesMax

assert(VNODE_FOLD_ROWS_PER_PAGE_MAX >= VNODE_FOLD_KEYS_PAGE_MAX && VNODE_FOLD_ROWS_PER_PAGE_MAX >= VNODE_INDEX_HITS_PAGE_MAX, 'an unfiltered page can fill');
