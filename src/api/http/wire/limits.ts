// Limits of the HTTP/1.1 wire layer (src/api/http/wire). Each is named for
// what it bounds, carries its unit, and names the option that overrides it.

/** Bytes of a request's head (request line and header fields); more is 431 (node:http's default too). */
export const HTTP_HEAD_BYTES_MAX = 16 * 1024; // no option
/** Header fields in a request head; more is 431. */
export const HTTP_HEADERS_MAX = 200; // no option
/** A request head must arrive in full within this (a slow client holding a connection open is closed with 408). */
export const HTTP_HEADERS_TIMEOUT_MS = 60_000; // no option
/** Pipelined requests read ahead of the one being answered; beyond it the socket stops reading until the queue drains. */
export const HTTP_REQUESTS_QUEUED_PER_CONNECTION_MAX = 32; // no option
/** A response body up to this size leaves in the same buffer (one socket write) as its head; larger ones are written apart. */
export const HTTP_SINGLE_WRITE_BYTES_MAX = 64 * 1024; // no option
