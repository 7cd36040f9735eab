// SWIM wire messages. Every message carries the sender's own incarnation
// (`inc`), so any message is direct evidence of the sender's life at that
// incarnation, and up to SWIM_UPDATES_PER_MESSAGE_MAX piggybacked membership
// updates (the dissemination component of SWIM, section 4.1).
import type { NodeName, WireMessage } from '../env.js';
import { SWIM_UPDATES_PER_MESSAGE_MAX } from '../constants.js';

export type Liveness = 'alive' | 'suspect' | 'dead';

/** One membership claim: `node` is `state` at incarnation `inc`. */
export interface SwimUpdate {
  readonly node: NodeName;
  readonly state: Liveness;
  readonly inc: number;
  /** For 'suspect': who suspects (Lifeguard counts distinct confirmations). */
  readonly from?: NodeName;
}

interface Envelope {
  /** Probe sequence number, chosen by whoever started the probe. */
  readonly seq: number;
  /** The sender's own incarnation. */
  readonly inc: number;
  readonly updates: readonly SwimUpdate[];
}

/** "Are you there?" Answered with swim.ack carrying the same seq. */
export interface SwimPing extends Envelope {
  readonly type: 'swim.ping';
}
/** Direct answer to swim.ping. */
export interface SwimAck extends Envelope {
  readonly type: 'swim.ack';
}
/** Please ping `target` for me and tell me (SWIM indirect probe). */
export interface SwimPingReq extends Envelope {
  readonly type: 'swim.ping-req';
  readonly target: NodeName;
}
/** Relayed answer to swim.ping-req: `target` acked us at `targetInc`. */
export interface SwimIndirectAck extends Envelope {
  readonly type: 'swim.indirect-ack';
  readonly target: NodeName;
  readonly targetInc: number;
}
/**
 * Lifeguard: the helper could not reach `target` in time. Tells the prober
 * that the helper itself is reachable; missing nacks mean that WE are the
 * slow one, which raises our local health multiplier.
 */
export interface SwimNack extends Envelope {
  readonly type: 'swim.nack';
  readonly target: NodeName;
}

export type SwimMessage = SwimPing | SwimAck | SwimPingReq | SwimIndirectAck | SwimNack;
export type SwimMessageType = SwimMessage['type'];

const MESSAGE_TYPES: ReadonlySet<string> = new Set<SwimMessageType>(['swim.ping', 'swim.ack', 'swim.ping-req', 'swim.indirect-ack', 'swim.nack']);
const LIVENESS: ReadonlySet<string> = new Set<Liveness>(['alive', 'suspect', 'dead']);
const NAME_LENGTH_MAX = 256;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isName(value: unknown): value is NodeName {
  return typeof value === 'string' && value.length > 0 && value.length <= NAME_LENGTH_MAX;
}

function isUpdate(value: unknown): value is SwimUpdate {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  if (!isName(u.node) || !isCount(u.inc)) return false;
  if (typeof u.state !== 'string' || !LIVENESS.has(u.state)) return false;
  return u.from === undefined || isName(u.from);
}

/**
 * Validates a message off the wire (peers are not trusted to be well formed).
 * The detector's `receive` relies on this having been checked.
 */
export function isSwimMessage(msg: WireMessage): msg is SwimMessage {
  if (!MESSAGE_TYPES.has(msg.type)) return false;
  const m = msg as unknown as Record<string, unknown>;
  if (!isCount(m.seq) || !isCount(m.inc)) return false;
  if (!Array.isArray(m.updates) || m.updates.length > SWIM_UPDATES_PER_MESSAGE_MAX) return false;
  if (!m.updates.every(isUpdate)) return false;
  switch (msg.type as SwimMessageType) {
    case 'swim.ping':
    case 'swim.ack':
      return true;
    case 'swim.ping-req':
    case 'swim.nack':
      return isName(m.target);
    case 'swim.indirect-ack':
      return isName(m.target) && isCount(m.targetInc);
  }
}
