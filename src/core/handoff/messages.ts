// Wire messages of the handoff protocol. The sender drives: start → batches
// (bulk channel, each acknowledged) → finish. Every message names its
// transfer id, so a restarted peer's stale messages are recognised and
// answered 'unknown-transfer'. Inbound messages are checked here; a
// malformed one is dropped by the manager with a warning.
import type { NodeName, WireMessage } from '../env.js';
import type { HandoffItem } from '../vnode/types.js';
import type { TransferKind, TransferRow } from './types.js';

export interface HandoffStart {
  type: 'handoff.start';
  id: string;
  kind: TransferKind;
  partition: number;
  targetPartition: number;
  /** Ownership: epoch of the pending transfer; 0 otherwise. */
  epoch: number;
}
export interface HandoffBatch {
  type: 'handoff.batch';
  id: string;
  seq: number;
  items: HandoffItem[];
}
export interface HandoffFinish {
  type: 'handoff.finish';
  id: string;
  /** Items sent in all (the receiver checks it saw every batch). */
  batches: number;
}
/** The sender is done with the transfer (completed or abandoned): the receiver forgets it. */
export interface HandoffClose {
  type: 'handoff.close';
  id: string;
}
/** Answer to start, batch (seq) and finish. `reason` says why not ok. */
export interface HandoffReply {
  type: 'handoff.reply';
  id: string;
  to: 'start' | 'batch' | 'finish';
  seq: number;
  ok: boolean;
  reason?: string;
}
export interface HandoffStatusRequest {
  type: 'handoff.status-request';
  reqId: string;
}
export interface HandoffStatusReply {
  type: 'handoff.status';
  reqId: string;
  rows: TransferRow[];
}
/** Ask a neighbour to send the keys of `targetPartition` it holds in `partition` to `to`. */
export interface HandoffRepairRequest {
  type: 'handoff.repair-request';
  partition: number;
  targetPartition: number;
  to: NodeName;
}

export type HandoffMessage = HandoffStart | HandoffBatch | HandoffFinish | HandoffClose | HandoffReply | HandoffStatusRequest | HandoffStatusReply | HandoffRepairRequest;

/** Key plus value bytes of some items (what progress and flow control count). */
export function itemsBytes(items: readonly HandoffItem[]): number {
  let n = 0;
  for (const i of items) n += i.key.byteLength + i.value.byteLength;
  return n;
}

const KINDS: ReadonlySet<string> = new Set(['ownership', 'hinted', 'repair']);
const REPLY_TO: ReadonlySet<string> = new Set(['start', 'batch', 'finish']);

function isStr(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 256;
}
function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
function isItem(v: unknown): v is HandoffItem {
  const item = v as Partial<HandoffItem> | null;
  return typeof item === 'object' && item !== null && item.key instanceof Uint8Array && item.value instanceof Uint8Array;
}

/** The message, typed, or a string saying what is wrong with it. */
export function parseHandoffMessage(raw: WireMessage): HandoffMessage | string {
  const m = raw as unknown as Record<string, unknown>;
  switch (raw.type) {
    case 'handoff.start':
      if (!isStr(m.id) || !KINDS.has(m.kind as string) || !isIndex(m.partition) || !isIndex(m.targetPartition) || !isIndex(m.epoch)) return 'bad start';
      return raw as unknown as HandoffStart;
    case 'handoff.batch':
      if (!isStr(m.id) || !isIndex(m.seq) || !Array.isArray(m.items) || !m.items.every(isItem)) return 'bad batch';
      return raw as unknown as HandoffBatch;
    case 'handoff.finish':
      if (!isStr(m.id) || !isIndex(m.batches)) return 'bad finish';
      return raw as unknown as HandoffFinish;
    case 'handoff.close':
      if (!isStr(m.id)) return 'bad close';
      return raw as unknown as HandoffClose;
    case 'handoff.reply':
      if (!isStr(m.id) || !REPLY_TO.has(m.to as string) || !isIndex(m.seq) || typeof m.ok !== 'boolean') return 'bad reply';
      if (m.reason !== undefined && typeof m.reason !== 'string') return 'bad reply reason';
      return raw as unknown as HandoffReply;
    case 'handoff.status-request':
      if (!isStr(m.reqId)) return 'bad status request';
      return raw as unknown as HandoffStatusRequest;
    case 'handoff.status':
      if (!isStr(m.reqId) || !Array.isArray(m.rows)) return 'bad status';
      return raw as unknown as HandoffStatusReply;
    case 'handoff.repair-request':
      if (!isIndex(m.partition) || !isIndex(m.targetPartition) || !isStr(m.to)) return 'bad repair request';
      return raw as unknown as HandoffRepairRequest;
    default:
      return `unknown handoff message type ${JSON.stringify(raw.type)}`;
  }
}
