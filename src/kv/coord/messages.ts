// The KV service's wire messages: a request to run one command on a peer's
// vnode, and its reply. Peers are not trusted to be well-formed: parseKvMessage
// validates the shape, and the service drops (and logs) anything else.
import type { WireMessage } from '../../core/env.js';
import { RondoError } from '../../core/errors.js';
import type { KvCommand, KvReply } from '../vnode/index.js';
import { LISTING_COMMAND_KINDS, listingCommandProblem, listingReplyProblem } from '../vnode/listing-check.js';
import { checkedObject } from '../vnode/support.js';
import { REQUEST_ID_CHARS_MAX } from './limits.js';

export interface VnodeRequestMessage {
  type: 'kv.vnode-request';
  reqId: string;
  partition: number;
  command: KvCommand;
  /** Set when a vnode forwarded this command here (handoff): it is not forwarded again. */
  forwarded?: true;
}
export interface VnodeReplyMessage {
  type: 'kv.vnode-reply';
  reqId: string;
  reply: KvReply;
}
export type KvMessage = VnodeRequestMessage | VnodeReplyMessage;

const COMMAND_KINDS: ReadonlySet<string> = new Set(['get', 'put-coordinate', 'put-replicate', 'delete-coordinate', 'reap', ...LISTING_COMMAND_KINDS]);
const KEYED_COMMAND_KINDS: ReadonlySet<string> = new Set(['get', 'put-coordinate', 'delete-coordinate', 'reap']);
const REPLY_KINDS: ReadonlySet<string> = new Set(['object', 'notfound', 'stored', 'error', 'reaped', 'kept', 'keys', 'buckets', 'index-hits']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isReqId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= REQUEST_ID_CHARS_MAX;
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
  if (c.kind === 'put-replicate' && !isRecord(c.object)) return 'put-replicate command without an object';
  if (c.kind === 'reap' && !Array.isArray(c.expectedContext)) return 'reap command without expectedContext';
  return undefined;
}

/** Returns the reply with any carried object re-checked through the codec, or a problem. */
function checkedReply(r: unknown): KvReply | string {
  if (!isRecord(r) || typeof r.kind !== 'string' || !REPLY_KINDS.has(r.kind)) return 'reply is not a KV reply';
  if (r.kind === 'error' && (typeof r.code !== 'string' || typeof r.message !== 'string')) return 'error reply without code/message';
  const listingProblem = listingReplyProblem(r);
  if (listingProblem !== undefined) return listingProblem;
  if (r.kind === 'object' || r.kind === 'stored') {
    try {
      return { ...(r as unknown as KvReply), object: checkedObject(r.object as never) } as KvReply;
    } catch (err) {
      return `${r.kind} reply with a bad object: ${err instanceof RondoError ? err.message : String(err)}`;
    }
  }
  return r as unknown as KvReply;
}

/** The message as a KvMessage, or a string saying why it is malformed. */
export function parseKvMessage(msg: WireMessage): KvMessage | string {
  const m = msg as unknown as Record<string, unknown>;
  if (!isReqId(m.reqId)) return `${msg.type} without a valid reqId`;
  if (msg.type === 'kv.vnode-request') {
    if (typeof m.partition !== 'number' || !Number.isSafeInteger(m.partition) || m.partition < 0) return 'kv.vnode-request with a bad partition';
    const problem = commandProblem(m.command);
    if (problem !== undefined) return problem;
    if (m.forwarded !== undefined && m.forwarded !== true) return 'kv.vnode-request with a bad forwarded flag';
    return { type: 'kv.vnode-request', reqId: m.reqId, partition: m.partition, command: m.command as KvCommand, ...(m.forwarded === true ? { forwarded: true as const } : {}) };
  }
  if (msg.type === 'kv.vnode-reply') {
    const reply = checkedReply(m.reply);
    if (typeof reply === 'string') return reply;
    return { type: 'kv.vnode-reply', reqId: m.reqId, reply };
  }
  return `unknown KV message type ${JSON.stringify(msg.type)}`;
}

export function isKvMessage(msg: WireMessage): msg is KvMessage {
  return typeof parseKvMessage(msg) !== 'string';
}
