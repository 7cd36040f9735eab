// Transport limits: the defaults live in src/core/constants.ts; a caller may
// override any of them (tests use small ones to reach the edges quickly).
import {
  CONNECT_TIMEOUT_MS,
  FRAME_BYTES_MAX,
  FRAME_BYTES_MIN,
  HANDSHAKE_TIMEOUT_MS,
  INBOUND_CONNECTIONS_MAX,
  OUTBOUND_QUEUE_BYTES_MAX,
  OUTBOUND_QUEUE_MESSAGES_MAX,
  RECONNECT_BACKOFF_MAX_MS,
  RECONNECT_BACKOFF_MIN_MS,
  RPC_INFLIGHT_PER_CONNECTION_MAX,
} from '../constants.js';
import { assert } from '../errors.js';

export interface TransportLimits {
  readonly frameBytesMax: number;
  /** Per peer, per channel. */
  readonly outboundQueueMessagesMax: number;
  /** Per peer, per channel. */
  readonly outboundQueueBytesMax: number;
  readonly handshakeTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectBackoffMinMs: number;
  readonly reconnectBackoffMaxMs: number;
  readonly inboundConnectionsMax: number;
  readonly rpcInflightPerConnectionMax: number;
}

export const TRANSPORT_LIMITS_DEFAULT: TransportLimits = {
  frameBytesMax: FRAME_BYTES_MAX,
  outboundQueueMessagesMax: OUTBOUND_QUEUE_MESSAGES_MAX,
  outboundQueueBytesMax: OUTBOUND_QUEUE_BYTES_MAX,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  reconnectBackoffMinMs: RECONNECT_BACKOFF_MIN_MS,
  reconnectBackoffMaxMs: RECONNECT_BACKOFF_MAX_MS,
  inboundConnectionsMax: INBOUND_CONNECTIONS_MAX,
  rpcInflightPerConnectionMax: RPC_INFLIGHT_PER_CONNECTION_MAX,
};

export function resolveLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits: TransportLimits = { ...TRANSPORT_LIMITS_DEFAULT, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isInteger(value) && value > 0, `transport limit ${name} is a positive integer`);
  }
  // The 4-byte length prefix cannot express more.
  assert(limits.frameBytesMax <= 0xffff_ffff, 'frameBytesMax fits the length prefix');
  // A handshake, and a batch frame's head with some message, must fit (see OutboundLink.flushBatches).
  assert(limits.frameBytesMax >= FRAME_BYTES_MIN, `frameBytesMax at least ${FRAME_BYTES_MIN} bytes`);
  assert(limits.reconnectBackoffMinMs <= limits.reconnectBackoffMaxMs, 'backoff range ordered');
  return limits;
}

/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed so
 * retries never collapse to zero, half is random so peers that lost the same
 * node do not reconnect in lockstep.
 */
export function backoffDelayMs(limits: TransportLimits, attempt: number, random: number): number {
  assert(attempt >= 1, 'backoff attempt counts from 1');
  assert(random >= 0 && random < 1, 'random in [0, 1)');
  const exponent = Math.min(attempt - 1, 30);
  const ceilingMs = Math.min(limits.reconnectBackoffMaxMs, limits.reconnectBackoffMinMs * 2 ** exponent);
  return Math.round(ceilingMs / 2 + (random * ceilingMs) / 2);
}
