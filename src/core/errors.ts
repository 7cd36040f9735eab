// Operating errors: one class per condition, each with a stable code that the
// APIs map to HTTP statuses and PB error codes. Programmer errors are plain
// assertion failures and crash loudly.

export type ErrorCode =
  | 'overload'
  | 'unknown_peer'
  | 'peer_unreachable'
  | 'handshake_refused'
  | 'frame_invalid'
  // A message too large for one transport frame: it fails its own request, never the connection.
  | 'message_too_large'
  | 'timeout'
  | 'aborted'
  | 'invalid_argument'
  | 'not_member'
  | 'not_claimant'
  | 'plan_empty'
  | 'plan_invalid'
  // Some keyspace has no up primary, so a coverage query cannot be answered.
  | 'insufficient_vnodes'
  // A remote handler failed with an error that is not a RondoError.
  | 'internal';

/**
 * Codes of layers above core (e.g. src/kv/errors.ts). Core does not know them;
 * each layer declares its own union and the APIs map every code to a status.
 */
export type LayerErrorCode = `${'kv' | 'api'}_${string}`;

export class RondoError extends Error {
  readonly code: ErrorCode | LayerErrorCode;
  constructor(code: ErrorCode | LayerErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

export class OverloadError extends RondoError {
  constructor(message: string) {
    super('overload', message);
  }
}
export class UnknownPeerError extends RondoError {
  constructor(message: string) {
    super('unknown_peer', message);
  }
}
export class PeerUnreachableError extends RondoError {
  constructor(message: string) {
    super('peer_unreachable', message);
  }
}
export class HandshakeRefusedError extends RondoError {
  constructor(message: string) {
    super('handshake_refused', message);
  }
}
export class FrameInvalidError extends RondoError {
  constructor(message: string) {
    super('frame_invalid', message);
  }
}
/**
 * A message to a peer does not fit one transport frame (frameBytesMax). Only
 * the request that carried it fails; nothing is queued, and the connection and
 * the messages batched with others are untouched. HTTP 413.
 */
export class MessageTooLargeError extends RondoError {
  /** The message's encoded size and the limit it exceeds (unknown for an error rebuilt from a peer's reply). */
  readonly bytes: number | undefined;
  readonly limitBytes: number | undefined;
  constructor(message: string, bytes?: number, limitBytes?: number) {
    super('message_too_large', message);
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}
export class TimeoutError extends RondoError {
  constructor(message: string) {
    super('timeout', message);
  }
}
export class AbortedError extends RondoError {
  constructor(message = 'operation aborted') {
    super('aborted', message);
  }
}
export class InvalidArgumentError extends RondoError {
  constructor(message: string) {
    super('invalid_argument', message);
  }
}
export class NotMemberError extends RondoError {
  constructor(message: string) {
    super('not_member', message);
  }
}
export class NotClaimantError extends RondoError {
  readonly claimant: string;
  constructor(claimant: string, message: string) {
    super('not_claimant', message);
    this.claimant = claimant;
  }
}
export class PlanEmptyError extends RondoError {
  constructor(message = 'there are no staged changes') {
    super('plan_empty', message);
  }
}
export class PlanInvalidError extends RondoError {
  constructor(message: string) {
    super('plan_invalid', message);
  }
}

/** No up primary holds some keyspace: a coverage query (key listing, 2i) cannot see every key. */
export class InsufficientVnodesForCoverageError extends RondoError {
  constructor(message: string) {
    super('insufficient_vnodes', message);
  }
}

/** Assertion that stays on in production (TigerStyle). */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
