// Riak PB requests -> the KV service and bucket metadata. Each request is
// decoded, checked (every option is honoured or refused with an
// RpbErrorResp naming it), run, and answered with one frame or, for listings
// and streamed index queries, a sequence of frames whose last says `done`.
// Operating errors become RpbErrorResp (errcode 1, RIAKC_ERR_GENERAL, the
// only code Riak defines); errmsg is "timeout" and "overload" exactly, as
// clients match those to retry, and "<code>: <message>" otherwise.
import type { NodeName } from '../../core/env.js';
import { InvalidArgumentError, RondoError } from '../../core/errors.js';
import type { MetadataService } from '../../core/metadata/index.js';
import { effectiveProps, getType, resetBucketProps, setBucketProps, updateType } from '../../kv/buckets/index.js';
import { parseQuorum, type QuorumName, type QuorumSpec } from '../../kv/coord/quorum/index.js';
import { encodeContextBytes, vvEqual, type VersionVector } from '../../kv/object/index.js';
import { bucketPropsOf, type KvBucketProps, type KvService } from '../../kv/service.js';
import { generatedKey } from '../generated-key.js';
import { decodeMessage, encodeMessage, isRequest, type PbRequest } from './codec/index.js';
import { bytesOf, contextOf, putContentOf, rpbContentOf, text, timeoutOf, typeOf } from './content.js';
import { handleListing } from './listing.js';
import { propsFromPb, propsToPb } from './props.js';

/** Per-connection state a request may read or change. */
export interface PbSession {
  clientId: Buffer | undefined;
}

/** One frame, or frames streamed in order. */
export type PbReply = Buffer | AsyncIterable<Buffer>;
export type PbHandler = (code: number, body: Buffer, session: PbSession, signal: AbortSignal) => Promise<PbReply>;

export interface PbHandlerDeps {
  kv: KvService;
  metadata: MetadataService;
  node: NodeName;
  serverVersion: string;
  /** Told the code of each request answered with an RpbErrorResp (for /metrics). */
  onError?: (code: string) => void;
}

const RIAKC_ERR_GENERAL = 1;

/** An RpbErrorResp frame for an error or a message. Non-Rondo errors are not shown to clients. */
export function errorFrame(err: unknown): Buffer {
  let errmsg: string;
  if (typeof err === 'string') errmsg = err;
  else if (err instanceof RondoError) errmsg = err.code === 'timeout' || err.code === 'overload' ? err.code : `${err.code}: ${err.message}`;
  else errmsg = 'internal error';
  return encodeMessage('RpbErrorResp', { errmsg: Buffer.from(errmsg, 'utf8'), errcode: RIAKC_ERR_GENERAL });
}

function quorum(value: number | undefined, name: QuorumName): QuorumSpec | undefined {
  return value === undefined ? undefined : parseQuorum(value, name);
}

function quorums<N extends QuorumName>(req: Partial<Record<N, number>>, names: readonly N[]): Partial<Record<N, QuorumSpec>> {
  const out: Partial<Record<N, QuorumSpec>> = {};
  for (const name of names) {
    const spec = quorum(req[name], name);
    if (spec !== undefined) out[name] = spec;
  }
  return out;
}

/** sloppy_quorum=false would mean "primaries only, no fallbacks": refused (pr/pw say that explicitly). */
function checkSloppy(sloppy: boolean | undefined): void {
  if (sloppy === false) throw new InvalidArgumentError('sloppy_quorum=false is not supported; use pr/pw to require primaries');
}

/** A request's n_val narrows the bucket's (Riak allows n_val <= the bucket's). */
function withNVal(props: KvBucketProps, nVal: number | undefined): KvBucketProps {
  if (nVal === undefined) return props;
  if (!Number.isSafeInteger(nVal) || nVal < 1 || nVal > (props.nVal ?? nVal)) throw new InvalidArgumentError(`n_val ${nVal} must be 1..${props.nVal} (the bucket's n_val)`);
  return { ...props, nVal };
}

export function createPbHandler(deps: PbHandlerDeps): PbHandler {
  return async (code, body, session, signal) => {
    const decoded = decodeMessage(code, body);
    if (!decoded.ok) {
      deps.onError?.('invalid_argument');
      return errorFrame(decoded.error);
    }
    if (!decoded.supported || !isRequest(decoded)) {
      deps.onError?.('not_supported');
      return errorFrame(`${decoded.supported ? 'not a request' : 'not supported'}: ${decoded.name}`);
    }
    try {
      return await handle(decoded, deps, session, signal);
    } catch (err) {
      if (err instanceof RondoError) {
        deps.onError?.(err.code);
        return errorFrame(err);
      }
      throw err;
    }
  };
}

async function handle(req: PbRequest, deps: PbHandlerDeps, session: PbSession, signal: AbortSignal): Promise<PbReply> {
  const { kv, metadata } = deps;
  const bucketProps = (type: string, bucket: string): KvBucketProps => bucketPropsOf(effectiveProps(metadata.current(), type, bucket));
  switch (req.name) {
    case 'RpbPingReq':
      return encodeMessage('RpbPingResp', {});
    case 'RpbGetServerInfoReq':
      return encodeMessage('RpbGetServerInfoResp', { node: bytesOf(deps.node), server_version: bytesOf(deps.serverVersion) });
    case 'RpbGetClientIdReq':
      return encodeMessage('RpbGetClientIdResp', { client_id: session.clientId ?? bytesOf(deps.node) });
    case 'RpbSetClientIdReq':
      // Riak 2 keeps client ids only for old clients; vclock actors are vnodes here, as there.
      session.clientId = Buffer.from(req.message.client_id);
      return encodeMessage('RpbSetClientIdResp', {});
    case 'RpbGetReq': {
      const m = req.message;
      checkSloppy(m.sloppy_quorum);
      const ref = { bucketType: typeOf(m.type), bucket: text(m.bucket, 'bucket'), key: text(m.key, 'key') };
      const ifModified = m.if_modified !== undefined ? contextOf(m.if_modified) : undefined;
      const answer = await kv.get(ref, {
        ...quorums(m, ['r', 'pr'] as const), props: withNVal(bucketProps(ref.bucketType, ref.bucket), m.n_val), signal, ...timeoutOf(m.timeout),
        ...(m.notfound_ok !== undefined ? { notfoundOk: m.notfound_ok } : {}), ...(m.basic_quorum !== undefined ? { basicQuorum: m.basic_quorum } : {}),
      });
      const live = answer.found ? answer.siblings.filter((c) => !c.meta.deleted) : [];
      if (!answer.found || live.length === 0) {
        // Not found: an empty RpbGetResp; with deletedvclock, a tombstone's vclock.
        const deleted = m.deletedvclock === true && answer.context !== undefined && answer.context.length > 0;
        return encodeMessage('RpbGetResp', deleted ? { vclock: encodeContextBytes(answer.context as VersionVector) } : {});
      }
      const vclock = encodeContextBytes(answer.context);
      if (ifModified !== undefined && vvEqual(answer.context, ifModified)) return encodeMessage('RpbGetResp', { unchanged: true, vclock });
      return encodeMessage('RpbGetResp', { content: live.map((c) => rpbContentOf(c, m.head === true)), vclock });
    }
    case 'RpbPutReq': {
      const m = req.message;
      checkSloppy(m.sloppy_quorum);
      if (m.asis === true) throw new InvalidArgumentError('asis is not supported');
      if (m.node_confirms !== undefined && m.node_confirms !== 0) throw new InvalidArgumentError('node_confirms is not supported');
      const generated = m.key === undefined || m.key.length === 0;
      const ref = { bucketType: typeOf(m.type), bucket: text(m.bucket, 'bucket'), key: generated ? generatedKey() : text(m.key, 'key') };
      const context = contextOf(m.vclock);
      if (m.if_not_modified === true && context.length === 0) throw new InvalidArgumentError('if_not_modified needs the vclock it compares with');
      const returnBody = m.return_body === true || m.return_head === true;
      const result = await kv.put(ref, { content: putContentOf(m.content), context }, {
        ...quorums(m, ['w', 'dw', 'pw'] as const), props: withNVal(bucketProps(ref.bucketType, ref.bucket), m.n_val), signal, ...timeoutOf(m.timeout), returnBody,
        ...(m.if_none_match === true ? { ifNoneMatch: true } : {}), ...(m.if_not_modified === true ? { ifNotModified: context } : {}),
      });
      const content = result.body ? result.body.siblings.filter((c) => !c.meta.deleted).map((c) => rpbContentOf(c, m.return_head === true && m.return_body !== true)) : undefined;
      return encodeMessage('RpbPutResp', { vclock: encodeContextBytes(result.context), ...(content ? { content } : {}), ...(generated ? { key: bytesOf(ref.key) } : {}) });
    }
    case 'RpbDelReq': {
      const m = req.message;
      checkSloppy(m.sloppy_quorum);
      const ref = { bucketType: typeOf(m.type), bucket: text(m.bucket, 'bucket'), key: text(m.key, 'key') };
      const context = contextOf(m.vclock);
      await kv.delete(ref, {
        ...quorums(m, ['rw', 'r', 'w', 'pr', 'pw', 'dw'] as const), props: withNVal(bucketProps(ref.bucketType, ref.bucket), m.n_val), signal, ...timeoutOf(m.timeout),
        ...(context.length > 0 ? { context } : {}),
      });
      return encodeMessage('RpbDelResp', {});
    }
    case 'RpbGetBucketReq': {
      const type = typeOf(req.message.type);
      return encodeMessage('RpbGetBucketResp', { props: propsToPb(effectiveProps(metadata.current(), type, text(req.message.bucket, 'bucket'))) });
    }
    case 'RpbSetBucketReq': {
      const type = typeOf(req.message.type);
      const bucket = text(req.message.bucket, 'bucket');
      const raw = propsFromPb(req.message.props);
      metadata.update((state, writer) => setBucketProps(state, type, bucket, raw, writer));
      return encodeMessage('RpbSetBucketResp', {});
    }
    case 'RpbResetBucketReq': {
      const type = typeOf(req.message.type);
      const bucket = text(req.message.bucket, 'bucket');
      metadata.update((state, writer) => resetBucketProps(state, type, bucket, writer));
      return encodeMessage('RpbResetBucketResp', {});
    }
    case 'RpbGetBucketTypeReq': {
      const type = text(req.message.type, 'type');
      const info = getType(metadata.current(), type);
      if (info === undefined) throw new RondoError('kv_unknown_bucket_type', `unknown bucket type ${type}`);
      return encodeMessage('RpbGetBucketResp', { props: propsToPb(info.props) });
    }
    case 'RpbSetBucketTypeReq': {
      const type = text(req.message.type, 'type');
      const raw = propsFromPb(req.message.props);
      metadata.update((state, writer) => updateType(state, type, raw, writer));
      return encodeMessage('RpbSetBucketResp', {});
    }
    case 'RpbGetBucketKeyPreflistReq': {
      const m = req.message;
      const ref = { bucketType: typeOf(m.type), bucket: text(m.bucket, 'bucket'), key: text(m.key, 'key') };
      const props = bucketProps(ref.bucketType, ref.bucket);
      const preflist = kv.preflist(ref, props.nVal).map((t) => ({ partition: t.partition, node: bytesOf(t.node), primary: t.primary }));
      return encodeMessage('RpbGetBucketKeyPreflistResp', { preflist });
    }
    case 'RpbListBucketsReq':
    case 'RpbListKeysReq':
    case 'RpbIndexReq':
      return handleListing(req, { kv, bucketProps, signal, typeExists: (type) => getType(metadata.current(), type) !== undefined });
    case 'RpbCSBucketReq':
    case 'RpbMapRedReq':
    case 'RpbCounterUpdateReq':
    case 'RpbCounterGetReq':
    case 'RpbCoverageReq':
    case 'RpbAuthReq':
    case 'RpbStartTls':
      return errorFrame(`not supported: ${req.name}`);
    default: {
      const unreachable: never = req;
      return errorFrame(`not supported: ${(unreachable as { name: string }).name}`);
    }
  }
}
