// Wire messages of the handoff protocol. The sender drives: start → batches
// (bulk channel, each acknowledged) → finish. Every message names its
// transfer id, so a restarted peer's stale messages are recognised and
// answered 'unknown-transfer'. Inbound messages are checked here; a
// malformed one is dropped by the manager with a warning.
import type { NodeName, WireMessage } from '../env.js';
import { assert } from '../errors.js';
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
/**
 * Items travel in one of two forms: `packed` (one byte string, see
 * packItems: no per-item msgpack maps to write and read) to receivers whose
 * start reply said they take it, or `items` (a msgpack list of { key, value })
 * to others. Parsing turns either into `items`.
 */
export interface HandoffBatch {
  type: 'handoff.batch';
  id: string;
  seq: number;
  items: HandoffItem[];
}
/** A batch as the sender puts it on the wire: the items, or their packed form. */
export type HandoffBatchOut = Omit<HandoffBatch, 'items'> & ({ items: HandoffItem[]; packed?: undefined } | { packed: Uint8Array; items?: undefined });
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
  /** In an ok reply to start: this receiver takes packed batches (earlier builds leave it out and get `items`). */
  packed?: boolean;
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

/** What a node sends: a batch may be packed (parsing turns it into HandoffBatch). */
export type OutgoingHandoffMessage = Exclude<HandoffMessage, HandoffBatch> | HandoffBatchOut;

/** Key plus value bytes of some items (what progress and flow control count). */
export function itemsBytes(items: readonly HandoffItem[]): number {
  let n = 0;
  for (const i of items) n += i.key.byteLength + i.value.byteLength;
  return n;
}

/** Bytes of each length field of a packed item (key, then value). */
const PACKED_LENGTH_BYTES = 4;

/** The packed form of items: per item its key's length (u32 BE), the key, its value's length (u32 BE), the value. */
export function packItems(items: readonly HandoffItem[]): Uint8Array {
  let size = 0;
  for (const i of items) size += 2 * PACKED_LENGTH_BYTES + i.key.byteLength + i.value.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const { key, value } of items) {
    out.writeUInt32BE(key.byteLength, at);
    out.set(key, at + PACKED_LENGTH_BYTES);
    at += PACKED_LENGTH_BYTES + key.byteLength;
    out.writeUInt32BE(value.byteLength, at);
    out.set(value, at + PACKED_LENGTH_BYTES);
    at += PACKED_LENGTH_BYTES + value.byteLength;
  }
  assert(at === size, 'packed items fill their buffer exactly');
  return out;
}

/** The items of a packed batch, as views into `bytes` (not copies), or a string saying what is wrong. */
export function unpackItems(bytes: Uint8Array): HandoffItem[] | string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: HandoffItem[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (at + PACKED_LENGTH_BYTES > buffer.length) return `packed item ${items.length}: truncated key length`;
    const keyEnd = at + PACKED_LENGTH_BYTES + buffer.readUInt32BE(at);
    if (keyEnd + PACKED_LENGTH_BYTES > buffer.length) return `packed item ${items.length}: truncated key`;
    const valueEnd = keyEnd + PACKED_LENGTH_BYTES + buffer.readUInt32BE(keyEnd);
    if (valueEnd > buffer.length) return `packed item ${items.length}: truncated value`;
    items.push({ key: buffer.subarray(at + PACKED_LENGTH_BYTES, keyEnd), value: buffer.subarray(keyEnd + PACKED_LENGTH_BYTES, valueEnd) });
    at = valueEnd;
  }
  return items;
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
    case 'handoff.batch': {
      if (!isStr(m.id) || !isIndex(m.seq)) return 'bad batch';
      if (m.packed !== undefined) {
        if (!(m.packed instanceof Uint8Array) || m.items !== undefined) return 'bad packed batch';
        const items = unpackItems(m.packed);
        if (typeof items === 'string') return `bad packed batch: ${items}`;
        return { type: 'handoff.batch', id: m.id, seq: m.seq, items };
      }
      if (!Array.isArray(m.items) || !m.items.every(isItem)) return 'bad batch';
      return raw as unknown as HandoffBatch;
    }
    case 'handoff.finish':
      if (!isStr(m.id) || !isIndex(m.batches)) return 'bad finish';
      return raw as unknown as HandoffFinish;
    case 'handoff.close':
      if (!isStr(m.id)) return 'bad close';
      return raw as unknown as HandoffClose;
    case 'handoff.reply':
      if (!isStr(m.id) || !REPLY_TO.has(m.to as string) || !isIndex(m.seq) || typeof m.ok !== 'boolean') return 'bad reply';
      if (m.reason !== undefined && typeof m.reason !== 'string') return 'bad reply reason';
      if (m.packed !== undefined && typeof m.packed !== 'boolean') return 'bad reply packed';
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
