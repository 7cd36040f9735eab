// Riak PB message bodies: the .proto files in ./proto, loaded once with
// protobufjs, behind hand-written types. Pure: bytes in, plain objects out.
//
// Conventions (what protobufjs does, made explicit):
// - Field names are as in the .proto (keepCase): n_val, return_body.
// - Decoded objects hold only the fields present on the wire: proto2 defaults
//   (RpbCSBucketReq.start_incl = true, has_precommit = false) are NOT filled
//   in, and an absent repeated field is absent, not []. Apply defaults here.
// - Decoded bytes fields are Buffers that share memory with the frame body.
// - int64/sint64 fields decode to JS numbers (exact below 2^53; beyond, they
//   round). Only counters and preflist partitions use them.
// - Enums decode to their numbers; an unknown number is kept as is, so the
//   server must check it (e.g. qtype not 0 or 1).
// - On encode, bytes must be Uint8Array/Buffer: protobufjs would read a
//   string as base64, so the types forbid strings.
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { assert } from '../../../core/errors.js';
import { PB_CODES, isBodyless, messageName, type PbMessageName } from './codes.js';

// ---- message types (proto2: optional fields are optional here too) ----

type Bytes = Uint8Array;

/** Symbolic quorum values carried in the uint32 r/w/pr/pw/dw/rw fields (defined with the quorum rules). */
export { PB_QUORUM } from '../../../kv/coord/quorum/index.js';

export const RpbReplMode = { FALSE: 0, REALTIME: 1, FULLSYNC: 2, TRUE: 3 } as const;
export const IndexQueryType = { eq: 0, range: 1 } as const;

export type EmptyMessage = Record<string, never>;
export interface RpbErrorResp { errmsg: Bytes; errcode: number }
export interface RpbGetServerInfoResp { node?: Bytes; server_version?: Bytes }
export interface RpbPair { key: Bytes; value?: Bytes }
export interface RpbGetBucketReq { bucket: Bytes; type?: Bytes }
export interface RpbGetBucketResp { props: RpbBucketProps }
export interface RpbSetBucketReq { bucket: Bytes; props: RpbBucketProps; type?: Bytes }
export interface RpbResetBucketReq { bucket: Bytes; type?: Bytes }
export interface RpbGetBucketTypeReq { type: Bytes }
export interface RpbSetBucketTypeReq { type: Bytes; props: RpbBucketProps }
export interface RpbModFun { module: Bytes; function: Bytes }
export interface RpbCommitHook { modfun?: RpbModFun; name?: Bytes }
export interface RpbBucketProps {
  n_val?: number;
  allow_mult?: boolean;
  last_write_wins?: boolean;
  precommit?: RpbCommitHook[];
  has_precommit?: boolean;
  postcommit?: RpbCommitHook[];
  has_postcommit?: boolean;
  chash_keyfun?: RpbModFun;
  linkfun?: RpbModFun;
  old_vclock?: number;
  young_vclock?: number;
  big_vclock?: number;
  small_vclock?: number;
  pr?: number;
  r?: number;
  w?: number;
  pw?: number;
  dw?: number;
  rw?: number;
  basic_quorum?: boolean;
  notfound_ok?: boolean;
  backend?: Bytes;
  search?: boolean;
  /** An RpbReplMode number. */
  repl?: number;
  search_index?: Bytes;
  datatype?: Bytes;
  consistent?: boolean;
  write_once?: boolean;
  hll_precision?: number;
}
export interface RpbAuthReq { user: Bytes; password: Bytes }
export interface RpbGetClientIdResp { client_id: Bytes }
export interface RpbSetClientIdReq { client_id: Bytes }
export interface RpbGetReq {
  bucket: Bytes; key: Bytes; r?: number; pr?: number; basic_quorum?: boolean; notfound_ok?: boolean;
  if_modified?: Bytes; head?: boolean; deletedvclock?: boolean; timeout?: number; sloppy_quorum?: boolean;
  n_val?: number; type?: Bytes;
}
export interface RpbGetResp { content?: RpbContent[]; vclock?: Bytes; unchanged?: boolean }
export interface RpbPutReq {
  bucket: Bytes; key?: Bytes; vclock?: Bytes; content: RpbContent; w?: number; dw?: number; return_body?: boolean;
  pw?: number; if_not_modified?: boolean; if_none_match?: boolean; return_head?: boolean; timeout?: number;
  asis?: boolean; sloppy_quorum?: boolean; n_val?: number; type?: Bytes; node_confirms?: number;
}
export interface RpbPutResp { content?: RpbContent[]; vclock?: Bytes; key?: Bytes }
export interface RpbDelReq {
  bucket: Bytes; key: Bytes; rw?: number; vclock?: Bytes; r?: number; w?: number; pr?: number; pw?: number;
  dw?: number; timeout?: number; sloppy_quorum?: boolean; n_val?: number; type?: Bytes;
}
export interface RpbListBucketsReq { timeout?: number; stream?: boolean; type?: Bytes }
export interface RpbListBucketsResp { buckets?: Bytes[]; done?: boolean }
export interface RpbListKeysReq { bucket: Bytes; timeout?: number; type?: Bytes }
export interface RpbListKeysResp { keys?: Bytes[]; done?: boolean }
export interface RpbMapRedReq { request: Bytes; content_type: Bytes }
export interface RpbMapRedResp { phase?: number; response?: Bytes; done?: boolean }
export interface RpbIndexReq {
  bucket: Bytes; index: Bytes;
  /** An IndexQueryType number. */
  qtype: number;
  key?: Bytes; range_min?: Bytes; range_max?: Bytes; return_terms?: boolean; stream?: boolean;
  max_results?: number; continuation?: Bytes; timeout?: number; type?: Bytes; term_regex?: Bytes;
  pagination_sort?: boolean; cover_context?: Bytes; return_body?: boolean;
}
export interface RpbIndexResp { keys?: Bytes[]; results?: RpbPair[]; continuation?: Bytes; done?: boolean }
export interface RpbIndexBodyResp { objects?: RpbIndexObject[]; continuation?: Bytes; done?: boolean }
export interface RpbCSBucketReq {
  bucket: Bytes; start_key: Bytes; end_key?: Bytes;
  /** Absent means true (the proto default). */
  start_incl?: boolean;
  /** Absent means false. */
  end_incl?: boolean;
  continuation?: Bytes; max_results?: number; timeout?: number; type?: Bytes; cover_context?: Bytes;
}
export interface RpbCSBucketResp { objects?: RpbIndexObject[]; continuation?: Bytes; done?: boolean }
export interface RpbIndexObject { key: Bytes; object: RpbGetResp }
export interface RpbContent {
  value: Bytes; content_type?: Bytes; charset?: Bytes; content_encoding?: Bytes; vtag?: Bytes; links?: RpbLink[];
  last_mod?: number; last_mod_usecs?: number; usermeta?: RpbPair[]; indexes?: RpbPair[]; deleted?: boolean;
}
export interface RpbLink { bucket?: Bytes; key?: Bytes; tag?: Bytes }
export interface RpbCounterUpdateReq {
  bucket: Bytes; key: Bytes; amount: number; w?: number; dw?: number; pw?: number; returnvalue?: boolean;
  node_confirms?: number;
}
export interface RpbCounterUpdateResp { value?: number }
export interface RpbCounterGetReq {
  bucket: Bytes; key: Bytes; r?: number; pr?: number; basic_quorum?: boolean; notfound_ok?: boolean;
}
export interface RpbCounterGetResp { value?: number }
export interface RpbGetBucketKeyPreflistReq { bucket: Bytes; key: Bytes; type?: Bytes }
export interface RpbGetBucketKeyPreflistResp { preflist?: RpbBucketKeyPreflistItem[] }
export interface RpbBucketKeyPreflistItem { partition: number; node: Bytes; primary: boolean }
export interface RpbCoverageReq {
  type?: Bytes; bucket: Bytes; min_partitions?: number; replace_cover?: Bytes; unavailable_cover?: Bytes[];
}
export interface RpbCoverageResp { entries?: RpbCoverageEntry[] }
export interface RpbCoverageEntry { ip: Bytes; port: number; keyspace_desc?: Bytes; cover_context: Bytes }

/** Every message this codec can encode and decode, by riak_pb name. */
export interface PbMessages {
  RpbErrorResp: RpbErrorResp;
  RpbPingReq: EmptyMessage;
  RpbPingResp: EmptyMessage;
  RpbGetClientIdReq: EmptyMessage;
  RpbGetClientIdResp: RpbGetClientIdResp;
  RpbSetClientIdReq: RpbSetClientIdReq;
  RpbSetClientIdResp: EmptyMessage;
  RpbGetServerInfoReq: EmptyMessage;
  RpbGetServerInfoResp: RpbGetServerInfoResp;
  RpbGetReq: RpbGetReq;
  RpbGetResp: RpbGetResp;
  RpbPutReq: RpbPutReq;
  RpbPutResp: RpbPutResp;
  RpbDelReq: RpbDelReq;
  RpbDelResp: EmptyMessage;
  RpbListBucketsReq: RpbListBucketsReq;
  RpbListBucketsResp: RpbListBucketsResp;
  RpbListKeysReq: RpbListKeysReq;
  RpbListKeysResp: RpbListKeysResp;
  RpbGetBucketReq: RpbGetBucketReq;
  RpbGetBucketResp: RpbGetBucketResp;
  RpbSetBucketReq: RpbSetBucketReq;
  RpbSetBucketResp: EmptyMessage;
  RpbMapRedReq: RpbMapRedReq;
  RpbMapRedResp: RpbMapRedResp;
  RpbIndexReq: RpbIndexReq;
  RpbIndexResp: RpbIndexResp;
  RpbResetBucketReq: RpbResetBucketReq;
  RpbResetBucketResp: EmptyMessage;
  RpbGetBucketTypeReq: RpbGetBucketTypeReq;
  RpbSetBucketTypeReq: RpbSetBucketTypeReq;
  RpbGetBucketKeyPreflistReq: RpbGetBucketKeyPreflistReq;
  RpbGetBucketKeyPreflistResp: RpbGetBucketKeyPreflistResp;
  RpbCSBucketReq: RpbCSBucketReq;
  RpbCSBucketResp: RpbCSBucketResp;
  RpbIndexBodyResp: RpbIndexBodyResp;
  RpbCounterUpdateReq: RpbCounterUpdateReq;
  RpbCounterUpdateResp: RpbCounterUpdateResp;
  RpbCounterGetReq: RpbCounterGetReq;
  RpbCounterGetResp: RpbCounterGetResp;
  RpbCoverageReq: RpbCoverageReq;
  RpbCoverageResp: RpbCoverageResp;
  RpbAuthReq: RpbAuthReq;
  RpbAuthResp: EmptyMessage;
  RpbStartTls: EmptyMessage;
}
export type PbCodecName = keyof PbMessages;

/** A message as decoded: every bytes field is a Buffer (a view of the frame body). */
export type Decoded<T> = T extends Uint8Array ? Buffer
  : T extends readonly (infer E)[] ? Decoded<E>[]
  : T extends object ? { [K in keyof T]: Decoded<T[K]> }
  : T;

// ---- decoding ----

export type PbDecodedMessage = {
  [N in PbCodecName]: { ok: true; supported: true; code: number; name: N; message: Decoded<PbMessages[N]> };
}[PbCodecName];
/** A code riak_pb assigns but this codec has no body for (search, yokozuna, data types, TS, repl): refuse it. */
export interface PbUnsupportedMessage { ok: true; supported: false; code: number; name: PbMessageName; message: undefined }
export interface PbDecodeFailure { ok: false; code: number; error: string }
export type PbDecodeResult = PbDecodedMessage | PbUnsupportedMessage | PbDecodeFailure;

/** Client requests the server may handle: every decodable ...Req, and RpbStartTls. */
export type PbRequestName = Extract<PbCodecName, `${string}Req`> | 'RpbStartTls';
export type PbRequest = Extract<PbDecodedMessage, { name: PbRequestName }>;

const PROTO_DIR = join(import.meta.dirname, 'proto');
const root = new protobuf.Root().loadSync([join(PROTO_DIR, 'riak.proto'), join(PROTO_DIR, 'riak_kv.proto')], { keepCase: true });
// Presence only: no defaults, no empty arrays; 64-bit integers as numbers.
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number };

const CODEC_NAMES = new Set<string>(Object.keys({
  RpbErrorResp: 0, RpbPingReq: 0, RpbPingResp: 0, RpbGetClientIdReq: 0, RpbGetClientIdResp: 0, RpbSetClientIdReq: 0,
  RpbSetClientIdResp: 0, RpbGetServerInfoReq: 0, RpbGetServerInfoResp: 0, RpbGetReq: 0, RpbGetResp: 0, RpbPutReq: 0,
  RpbPutResp: 0, RpbDelReq: 0, RpbDelResp: 0, RpbListBucketsReq: 0, RpbListBucketsResp: 0, RpbListKeysReq: 0,
  RpbListKeysResp: 0, RpbGetBucketReq: 0, RpbGetBucketResp: 0, RpbSetBucketReq: 0, RpbSetBucketResp: 0,
  RpbMapRedReq: 0, RpbMapRedResp: 0, RpbIndexReq: 0, RpbIndexResp: 0, RpbResetBucketReq: 0, RpbResetBucketResp: 0,
  RpbGetBucketTypeReq: 0, RpbSetBucketTypeReq: 0, RpbGetBucketKeyPreflistReq: 0, RpbGetBucketKeyPreflistResp: 0,
  RpbCSBucketReq: 0, RpbCSBucketResp: 0, RpbIndexBodyResp: 0, RpbCounterUpdateReq: 0, RpbCounterUpdateResp: 0,
  RpbCounterGetReq: 0, RpbCounterGetResp: 0, RpbCoverageReq: 0, RpbCoverageResp: 0, RpbAuthReq: 0, RpbAuthResp: 0,
  RpbStartTls: 0,
} satisfies Record<PbCodecName, 0>));

/** The protobufjs type of a codec message with a body; checked at load so a typo fails at once. */
const TYPES = new Map<PbCodecName, protobuf.Type>();
for (const name of CODEC_NAMES as Set<PbCodecName>) {
  if (isBodyless(name)) continue;
  TYPES.set(name, root.lookupType(name));
}

export function isCodecName(name: string): name is PbCodecName {
  return CODEC_NAMES.has(name);
}

export function isRequest(result: PbDecodeResult): result is PbRequest {
  return result.ok && result.supported && (result.name.endsWith('Req') || result.name === 'RpbStartTls');
}

/**
 * Decodes one frame's body. Never throws. A bodyless message (RpbPingReq...)
 * decodes to {} and any bytes sent with it are ignored, as Riak does not look
 * at them either. A missing required field is a failure, as in riak_pb.
 */
export function decodeMessage(code: number, body: Uint8Array): PbDecodeResult {
  const name = messageName(code);
  if (name === undefined) return { ok: false, code, error: `unknown message code ${code}` };
  if (!isCodecName(name)) return { ok: true, supported: false, code, name, message: undefined };
  const type = TYPES.get(name);
  if (type === undefined) return { ok: true, supported: true, code, name, message: {} } as PbDecodedMessage;
  // A Buffer input makes protobufjs return bytes fields as Buffers (views, not copies).
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    const message = type.toObject(type.decode(bytes), TO_OBJECT);
    return { ok: true, supported: true, code, name, message } as PbDecodedMessage;
  } catch (err) {
    return { ok: false, code, error: `invalid ${name}: ${(err as Error).message}` };
  }
}

// ---- encoding ----

/**
 * One whole frame (length, code, body) for a message, in one allocation.
 * Throws (a programming error) when the message does not fit its type,
 * e.g. a required field is missing.
 */
export function encodeMessage<N extends PbCodecName>(name: N, message: PbMessages[N]): Buffer {
  const code = PB_CODES[name];
  const type = TYPES.get(name);
  const writer = protobuf.Writer.create();
  writer.fixed32(0).uint32(0); // 5 placeholder bytes: the length and the code, patched below
  if (type !== undefined) {
    const invalid = type.verify(message);
    assert(invalid === null, `${name} is well formed: ${invalid}`);
    type.encode(message, writer);
  }
  const frame = writer.finish() as Buffer;
  assert(Buffer.isBuffer(frame) && frame.length >= 5, 'protobufjs writes Buffers under Node');
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = code;
  return frame;
}
