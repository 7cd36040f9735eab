// Every limit and default of the simulator in one place. Each names its unit
// and the option that overrides it (src/core/constants.ts holds the core's).
import { FRAME_BYTES_MAX, OUTBOUND_QUEUE_MESSAGES_MAX } from '../constants.js';
import { assert } from '../errors.js';

/** Events one runFor/runUntil/step-loop may process before we call it a livelock. Option: eventsPerRunMax. */
export const SIM_EVENTS_PER_RUN_MAX = 5_000_000;
/** Trace lines kept for printing on failure (all events are hashed regardless). Option: traceLimit. */
export const SIM_TRACE_LINES_MAX = 2_000;
/** Messages in flight from one node to one peer; mirrors the transport's outbound queue. Option: network.inFlightMessagesMax. */
export const SIM_IN_FLIGHT_MESSAGES_MAX = OUTBOUND_QUEUE_MESSAGES_MAX;
/** Encoded bytes of one message; mirrors the transport's frame limit (send throws MessageTooLargeError beyond it). Option: network.messageBytesMax. */
export const SIM_MESSAGE_BYTES_MAX = FRAME_BYTES_MAX;
/** Virtual time zero as a wall clock: 2024-01-01T00:00:00Z. */
export const SIM_EPOCH_MS = 1_704_067_200_000;

assert(SIM_EVENTS_PER_RUN_MAX > SIM_IN_FLIGHT_MESSAGES_MAX, 'a run can drain a full in-flight queue');
assert(SIM_TRACE_LINES_MAX > 0, 'trace keeps at least one line');
