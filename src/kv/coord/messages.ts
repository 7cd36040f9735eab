// The KV service's wire messages: a request to run one command on a peer's
// vnode, and its reply. `requestMessage` and `replyMessage` build exactly the
// wire form (in-process fields such as a decoded `object` never leave the
// node); objects travel as their encoded bytes, which the receiver decodes
// and checks where it uses them (the replica for put-replicate, the
// coordinator for replies). Peers are not trusted to be well-formed:
// parseKvMessage validates the shape, and the service drops (and logs)
// anything else.
import type { WireMessage } from '../../core/env.js';
import { withoutPending, type KvCommand, type KvReply, type StoredReply } from '../vnode/index.js';
import { LISTING_COMMAND_KINDS, listingCommandProblem, listingReplyProblem } from '../vnode/listing-check.js';
import { BINARY_REPLY_TYPE, BINARY_REQUEST_TYPE, decodeBinaryReply, decodeBinaryRequest, encodeBinaryReply, encodeBinaryRequest } from './wire.js';

export interface VnodeRequestMessage {
  type: 'kv.vnode-request';
  /** Unique per sender incarnation (see service/request-table.ts). */
  reqId: number;
  partition: number;
  command: KvCommand;
  /** Set when a vnode forwarded this command here (handoff): it is not forwarded again. */
  forwarded?: true;
  /**
   * The sender counts this node as the partition's owner (a primary), by its
   * ring of ownership epoch `epoch`. A receiver whose newer ring names another
   * owner passes the command on to it, so that a stale ring never counts an
   * old owner's copy toward PW, PR or a quorum.
   */
  primary?: { epoch: number };
}
export interface VnodeReplyMessage {
  type: 'kv.vnode-reply';
  reqId: number;
  reply: KvReply;
}
export type KvMessage = VnodeRequestMessage | VnodeReplyMessage;

const COMMAND_KINDS: ReadonlySet<string> = new Set(['get', 'put-coordinate', 'put-replicate', 'delete-coordinate', 'reap', ...LISTING_COMMAND_KINDS]);
const KEYED_COMMAND_KINDS: ReadonlySet<string> = new Set(['get', 'put-coordinate', 'delete-coordinate', 'reap']);
const REPLY_KINDS: ReadonlySet<string> = new Set(['object', 'notfound', 'stored', 'error', 'reaped', 'kept', 'keys', 'buckets', 'index-hits']);

/**
 * The wire form of a request: the binary form (wire.ts) for gets and
 * replicated writes, else the map form; never the in-process decoded object.
 */
export function requestMessage(reqId: number, partition: number, command: KvCommand, opts: { forwarded: boolean; primaryEpoch?: number }): WireMessage {
  return encodeBinaryRequest(reqId, partition, command, opts) ?? requestMapMessage(reqId, partition, command, opts);
}

/** The map form of a request (any command). */
export function requestMapMessage(reqId: number, partition: number, command: KvCommand, opts: { forwarded: boolean; primaryEpoch?: number }): VnodeRequestMessage {
  const wire: KvCommand = command.kind === 'put-replicate' ? { kind: 'put-replicate', props: command.props, bytes: command.bytes } : command;
  const msg: VnodeRequestMessage = { type: 'kv.vnode-request', reqId, partition, command: wire };
  if (opts.forwarded) msg.forwarded = true;
  if (opts.primaryEpoch !== undefined) msg.primary = { epoch: opts.primaryEpoch };
  return msg;
}

/** The wire form of a reply: binary (wire.ts) where it has one, else the map form; never in-process fields. */
export function replyMessage(reqId: number, reply: KvReply): WireMessage {
  return encodeBinaryReply(reqId, reply) ?? replyMapMessage(reqId, reply);
}

/** The map form of a reply (any reply): a stored reply without its in-process decoded object and durability. */
export function replyMapMessage(reqId: number, reply: KvReply): VnodeReplyMessage {
  if (reply.kind !== 'stored') return { type: 'kv.vnode-reply', reqId, reply: withoutPending(reply) };
  const wire: StoredReply = { kind: 'stored', replaced: reply.replaced, warnings: reply.warnings };
  if (reply.bytes !== undefined) wire.bytes = reply.bytes;
  return { type: 'kv.vnode-reply', reqId, reply: wire };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isReqId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.byteLength > 0;
}

function commandProblem(c: unknown): string | undefined {
  if (!isRecord(c) || typeof c.kind !== 'string' || !COMMAND_KINDS.has(c.kind)) return 'command is not a KV command';
  if (LISTING_COMMAND_KINDS.has(c.kind)) return listingCommandProblem(c);
  if (KEYED_COMMAND_KINDS.has(c.kind) && (typeof c.bucketType !== 'string' || typeof c.bucket !== 'string' || typeof c.key !== 'string')) {
    return `${c.kind} command without bucketType/bucket/key strings`;
  }
  if ((c.kind === 'put-coordinate' || c.kind === 'delete-coordinate' || c.kind === 'put-replicate') && !isRecord(c.props)) return `${c.kind} command without props`;
  if ((c.kind === 'put-coordinate' || c.kind === 'delete-coordinate') && !Array.isArray(c.context)) return `${c.kind} command without a context`;
  if (c.kind === 'put-coordinate' && !isRecord(c.content)) return 'put-coordinate command without content';
  if (c.kind === 'put-replicate' && (!isBytes(c.bytes) || c.object !== undefined)) return 'put-replicate command without object bytes';
  if (c.kind === 'reap' && !Array.isArray(c.expectedContext)) return 'reap command without expectedContext';
  return undefined;
}

function replyProblem(r: unknown): string | undefined {
  if (!isRecord(r) || typeof r.kind !== 'string' || !REPLY_KINDS.has(r.kind)) return 'reply is not a KV reply';
  if (r.durable !== undefined) return 'reply with an in-process field';
  switch (r.kind) {
    case 'error':
      return typeof r.code === 'string' && typeof r.message === 'string' ? undefined : 'error reply without code/message';
    case 'object':
      return isBytes(r.bytes) ? undefined : 'object reply without object bytes';
    case 'stored': {
      if (typeof r.replaced !== 'boolean' || r.object !== undefined) return 'stored reply with a bad shape';
      if (r.bytes !== undefined && !isBytes(r.bytes)) return 'stored reply with bad object bytes';
      const warningsOk = Array.isArray(r.warnings) && r.warnings.every((w) => isRecord(w) && typeof w.kind === 'string' && typeof w.message === 'string');
      return warningsOk ? undefined : 'stored reply with bad warnings';
    }
    default:
      return listingReplyProblem(r);
  }
}

/** The message as a KvMessage, or a string saying why it is malformed. */
export function parseKvMessage(msg: WireMessage): KvMessage | string {
  const m = msg as unknown as Record<string, unknown>;
  if (msg.type === BINARY_REQUEST_TYPE || msg.type === BINARY_REPLY_TYPE) {
    if (!(m.b instanceof Uint8Array)) return `${msg.type} without its bytes`;
    return msg.type === BINARY_REQUEST_TYPE ? decodeBinaryRequest(m.b) : decodeBinaryReply(m.b);
  }
  if (!isReqId(m.reqId)) return `${msg.type} without a valid reqId`;
  if (msg.type === 'kv.vnode-request') {
    if (typeof m.partition !== 'number' || !Number.isSafeInteger(m.partition) || m.partition < 0) return 'kv.vnode-request with a bad partition';
    const problem = commandProblem(m.command);
    if (problem !== undefined) return problem;
    if (m.forwarded !== undefined && m.forwarded !== true) return 'kv.vnode-request with a bad forwarded flag';
    if (m.primary !== undefined && !(isRecord(m.primary) && typeof m.primary.epoch === 'number' && Number.isSafeInteger(m.primary.epoch) && m.primary.epoch >= 0)) {
      return 'kv.vnode-request with a bad primary epoch';
    }
    return msg as VnodeRequestMessage;
  }
  if (msg.type === 'kv.vnode-reply') {
    const problem = replyProblem(m.reply);
    if (problem !== undefined) return problem;
    return msg as VnodeReplyMessage;
  }
  return `unknown KV message type ${JSON.stringify(msg.type)}`;
}

export function isKvMessage(msg: WireMessage): msg is KvMessage {
  return typeof parseKvMessage(msg) !== 'string';
}
