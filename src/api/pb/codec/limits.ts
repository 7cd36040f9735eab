// Limits of the PB API, in one place (TigerStyle: put a limit on everything).
// The server imports these; each names what it bounds, with its unit last.
import { assert } from '../../../core/errors.js';

/** Largest frame accepted or sent, as counted by the length field (code byte + body). */
export const PB_FRAME_BYTES_MAX = 64 * 1024 * 1024;
/** Client connections open at once on one node's PB listener; more are refused. */
export const PB_CONNECTIONS_MAX = 1000;
/** A connection with no complete request for this long is closed. */
export const PB_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Pipelined requests read from one connection and waiting for their turn to be answered. */
export const PB_REQUESTS_QUEUED_PER_CONNECTION_MAX = 1024;

// The length field is a uint32; the limit must fit it and leave room for the code byte.
assert(PB_FRAME_BYTES_MAX >= 1, 'a frame holds at least its code byte');
assert(PB_FRAME_BYTES_MAX <= 0xffff_ffff, 'PB_FRAME_BYTES_MAX fits the uint32 length field');
