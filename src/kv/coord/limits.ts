// Limits and defaults of the KV coordinators and the KV service. Each is named
// for what it bounds, carries its unit, and names the option that overrides it.
import { assert } from '../../core/errors.js';

/** A get/put/delete answers (success or a typed error) within this. */
export const COORD_TIMEOUT_MS_DEFAULT = 10_000; // option: the request's timeoutMs
/** Requests this node has sent to peers' vnodes and awaits replies for; beyond it a request fails with OverloadError. */
export const PENDING_VNODE_REQUESTS_MAX = 10_000; // option: KvServiceOptions.pendingRequestsMax
/** Riak's delete_mode: delay before a fully replicated tombstone is reaped. */
export const DELETE_REAP_DELAY_MS_DEFAULT = 3_000; // option: KvServiceOptions.reapDelayMs
/** Tombstone reaps a node keeps waiting for their delay at once; beyond it a tombstone is kept (delete_mode keep). */
export const REAPS_SCHEDULED_MAX = 10_000; // option: KvServiceOptions.reapsScheduledMax
/** Vnode requests a node remembers having run, to drop duplicates the network delivers (no option). */
export const SEEN_VNODE_REQUESTS_MAX = 4 * PENDING_VNODE_REQUESTS_MAX;
/** Fire-and-forget requests (read repair, reap) give up after this. */
export const BACKGROUND_REQUEST_TIMEOUT_MS = 10_000; // no option
/**
 * A client's request timeout above this is refused, over HTTP and PB alike:
 * one hour is longer than any sane request, and a larger value (PB carries a
 * uint32) would reach setTimeout, which fires at once past 2^31-1 ms.
 */
export const REQUEST_TIMEOUT_MS_MAX = 3_600_000; // no option
/** Riak's default n_val. */
export const N_VAL_DEFAULT = 3; // option: KvServiceOptions.nVal, or the request's props.nVal
/** Longest request id accepted from a peer. */
export const REQUEST_ID_CHARS_MAX = 128; // no option

assert(DELETE_REAP_DELAY_MS_DEFAULT < COORD_TIMEOUT_MS_DEFAULT, 'a reap is scheduled after the delete answered, not raced with its timeout');
assert(REQUEST_TIMEOUT_MS_MAX <= 0x7fff_ffff, 'REQUEST_TIMEOUT_MS_MAX fits a Node timer (2^31-1 ms)');
assert(PENDING_VNODE_REQUESTS_MAX > 0, 'the pending table holds at least one request');
