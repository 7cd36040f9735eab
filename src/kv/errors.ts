// KV operating errors: one small class per condition, each with a stable
// `kv_*` code that the APIs map to an HTTP status and a PB error message.
// Keep this a flat list; layers under src/kv add their classes here.
import { RondoError } from '../core/errors.js';

/** Object (all siblings together) above `objectBytesMax`. HTTP 413. */
export class ObjectTooLargeError extends RondoError {
  readonly bytes: number;
  readonly limitBytes: number;
  constructor(message: string, bytes: number, limitBytes: number) {
    super('kv_object_too_large', message);
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}

/** A write would leave more than `siblingsMax` siblings. HTTP 413 (as Riak). */
export class TooManySiblingsError extends RondoError {
  readonly siblings: number;
  readonly limit: number;
  constructor(message: string, siblings: number, limit: number) {
    super('kv_too_many_siblings', message);
    this.siblings = siblings;
    this.limit = limit;
  }
}

/** Stored or received object bytes that do not decode to a valid object. */
export class CorruptObjectError extends RondoError {
  constructor(message: string) {
    super('kv_corrupt_object', message);
  }
}

/** A client's causal context (X-Riak-Vclock) is malformed. HTTP 400. */
export class InvalidContextError extends RondoError {
  constructor(message: string) {
    super('kv_bad_vclock', message);
  }
}

/** A timestamp further ahead of the local wall clock than `maxDriftMs`. HTTP 503. */
export class ClockDriftError extends RondoError {
  readonly aheadMs: number;
  constructor(message: string, aheadMs: number) {
    super('kv_clock_drift', message);
    this.aheadMs = aheadMs;
  }
}

/** A secondary index entry with a bad name or value (X-Riak-Index-*). HTTP 400. */
export class InvalidIndexError extends RondoError {
  constructor(message: string) {
    super('kv_bad_index', message);
  }
}

/** Bad object metadata: content type, user metadata, vtag. HTTP 400. */
export class InvalidMetadataError extends RondoError {
  constructor(message: string) {
    super('kv_bad_metadata', message);
  }
}

/** A conditional put (if_none_match / if_not_modified) whose condition does not hold. HTTP 412. */
export class PreconditionFailedError extends RondoError {
  constructor(message: string) {
    super('kv_precondition_failed', message);
  }
}
