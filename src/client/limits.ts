// Limits and defaults of the TypeScript client, in one place (TigerStyle: put
// a limit on everything). Each names what it bounds, with its unit last, and
// the client option that changes it, if any.
import { PB_FRAME_BYTES_MAX } from '../api/pb/codec/index.js';

/** Connections per node, opened lazily (option `connectionsPerNode`). */
export const CONNECTIONS_PER_NODE_DEFAULT = 8;
export const CONNECTIONS_PER_NODE_MAX = 256;
/** Deadline of a whole call, retries included; for streams, the longest wait for each next message (option / call option `timeoutMs`). */
export const CALL_TIMEOUT_MS_DEFAULT = 10_000;
/** Extra attempts after the first for calls that are safe to retry (option `retries`). */
export const RETRIES_DEFAULT = 2;
export const RETRIES_MAX = 10;
/** Nodes a client is given. */
export const NODES_MAX = 1024;
/** Opening a TCP connection gives up after this long (or earlier, at the call's deadline). */
export const CONNECT_TIMEOUT_MS = 5_000;
/** Requests written on one connection and not yet answered (the pool lends a connection to one request at a time, so this bounds misuse). */
export const REQUESTS_PENDING_PER_CONNECTION_MAX = 64;
/** Calls waiting for a connection of one node when all are busy; one more fails at once with 'overload'. */
export const POOL_WAITERS_PER_NODE_MAX = 1024;
/** An idle pooled connection is closed after this long. */
export const IDLE_CONNECTION_MS = 30_000;
/** Messages of a stream (list keys, list buckets, 2i) read ahead of the consumer; beyond this the socket is paused and TCP pushes back. */
export const STREAM_MESSAGES_BUFFERED_MAX = 32;
/** Jittered backoff before retry attempt k: uniform in [0, min(MAX, BASE * 2^k)). */
export const RETRY_BACKOFF_BASE_MS = 10;
export const RETRY_BACKOFF_MAX_MS = 250;
/** A node whose connection failed is not chosen again for this long (unless every node is down). */
export const NODE_DOWN_MS = 2_000;
/** Largest frame accepted from a server: the server's own limit. */
export const FRAME_BYTES_MAX = PB_FRAME_BYTES_MAX;

/** A programming error (a broken invariant or a bad argument): throws at once. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

assert(CONNECTIONS_PER_NODE_DEFAULT >= 1 && CONNECTIONS_PER_NODE_DEFAULT <= CONNECTIONS_PER_NODE_MAX, 'the default connection count is within its limit');
assert(RETRIES_DEFAULT >= 0 && RETRIES_DEFAULT <= RETRIES_MAX, 'the default retry count is within its limit');
assert(RETRY_BACKOFF_BASE_MS > 0 && RETRY_BACKOFF_BASE_MS <= RETRY_BACKOFF_MAX_MS, 'backoff base <= max');
assert(RETRY_BACKOFF_MAX_MS * RETRIES_MAX < CALL_TIMEOUT_MS_DEFAULT, 'backoff alone never eats a default deadline');
assert(STREAM_MESSAGES_BUFFERED_MAX >= 2, 'a stream buffers at least two messages (pause at max, resume at half)');
