// Listing and 2i over PB (docs.riak.com developing/api/protocol-buffers/
// list-buckets, list-keys, secondary-indexes):
// - RpbListKeysReq: always streamed, RpbListKeysResp per chunk, then one that
//   carries only done (Riak's clients ignore data in the done message).
// - RpbListBucketsReq: streamed with `stream`; without it one RpbListBucketsResp
//   holding every bucket (Riak's semantics; the frame limit bounds it).
// - RpbIndexReq: eq (key) or range (range_min..range_max); `_int` terms are
//   decimal text. One RpbIndexResp, or with `stream` one per chunk and a last
//   with only done and, for a page cut by max_results, the continuation.
//   return_terms gives `results` pairs (term, key); else `keys`. term_regex, cover_context and return_body are refused.
// The first chunk is pulled before anything is sent, so a query that cannot
// start (no coverage, unknown type, bad input) is a plain RpbErrorResp; a
// failure later ends the stream with one.
import { InvalidArgumentError, RondoError } from '../../core/errors.js';
import { parseIntIndexValue } from '../../kv/object/index.js';
import type { IndexQuery, KvBucketProps, KvService } from '../../kv/service.js';
import { encodeMessage, IndexQueryType, type Decoded, type PbRequest, type RpbIndexReq } from './codec/index.js';
import { bytesOf, text, timeoutOf, typeOf } from './content.js';
import type { PbReply } from './handlers.js';

type ListingRequest = Extract<PbRequest, { name: 'RpbListBucketsReq' | 'RpbListKeysReq' | 'RpbIndexReq' }>;

export interface PbListingContext {
  kv: KvService;
  bucketProps: (type: string, bucket: string) => KvBucketProps;
  typeExists: (type: string) => boolean;
  signal: AbortSignal;
}

/**
 * Pulls the first chunk now (errors become a plain error reply), then streams
 * every chunk with data through `data` and ends with `done()`, a message that
 * carries nothing else but `done` (and, for 2i, the continuation): Riak sends
 * it so, and its clients (riakc, the Java client) drop data in the `done`
 * message. `data` returns undefined for an empty chunk: an empty message
 * encodes to no bytes, which clients cannot tell from a bodyless reply.
 */
async function streamed<T>(source: AsyncGenerator<T>, data: (chunk: T) => Buffer | undefined, done: () => Buffer): Promise<AsyncIterable<Buffer>> {
  const first = await source.next();
  return (async function* () {
    for (let next = first; next.done !== true; next = await source.next()) {
      const out = data(next.value);
      if (out) yield out;
    }
    yield done();
  })();
}

export async function handleListing(req: ListingRequest, ctx: PbListingContext): Promise<PbReply> {
  switch (req.name) {
    case 'RpbListKeysReq': {
      const m = req.message;
      const type = typeOf(m.type);
      const bucket = text(m.bucket, 'bucket');
      const keys = ctx.kv.listKeys({ bucketType: type, bucket }, { props: ctx.bucketProps(type, bucket), signal: ctx.signal, ...timeoutOf(m.timeout) });
      return streamed(
        keys,
        (chunk) => (chunk.length > 0 ? encodeMessage('RpbListKeysResp', { keys: chunk.map(bytesOf) }) : undefined),
        () => encodeMessage('RpbListKeysResp', { done: true }),
      );
    }
    case 'RpbListBucketsReq': {
      const m = req.message;
      const type = typeOf(m.type);
      if (!ctx.typeExists(type)) throw new RondoError('kv_unknown_bucket_type', `unknown bucket type ${type}`);
      const buckets = ctx.kv.listBuckets(type, { signal: ctx.signal, ...timeoutOf(m.timeout) });
      if (m.stream === true) {
        return streamed(
          buckets,
          (chunk) => (chunk.length > 0 ? encodeMessage('RpbListBucketsResp', { buckets: chunk.map(bytesOf) }) : undefined),
          () => encodeMessage('RpbListBucketsResp', { done: true }),
        );
      }
      const all: Buffer[] = [];
      for await (const chunk of buckets) all.push(...chunk.map(bytesOf));
      return encodeMessage('RpbListBucketsResp', { buckets: all, done: true });
    }
    case 'RpbIndexReq': {
      const m = req.message;
      const q = indexQueryOf(m);
      const chunks = ctx.kv.indexQuery(q, { props: ctx.bucketProps(q.bucketType, q.bucket), signal: ctx.signal, ...timeoutOf(m.timeout) });
      const resp = (hits: { term?: string | number; key: string }[], continuation: string | undefined, done: boolean): Buffer =>
        encodeMessage('RpbIndexResp', {
          ...(q.returnTerms === true ? { results: hits.map((h) => ({ key: bytesOf(String(h.term ?? '')), value: bytesOf(h.key) })) } : { keys: hits.map((h) => bytesOf(h.key)) }),
          ...(continuation !== undefined ? { continuation: bytesOf(continuation) } : {}),
          ...(done ? { done: true } : {}),
        });
      if (m.stream === true) {
        // The continuation of a page cut by max_results goes with the final done message, as Riak sends it.
        let continuation: string | undefined;
        return streamed(
          chunks,
          (chunk) => {
            continuation = chunk.continuation ?? continuation;
            return chunk.hits.length > 0 ? resp(chunk.hits, undefined, false) : undefined;
          },
          () => resp([], continuation, true),
        );
      }
      const hits: { term?: string | number; key: string }[] = [];
      let continuation: string | undefined;
      for await (const chunk of chunks) {
        hits.push(...chunk.hits);
        continuation = chunk.continuation ?? continuation;
      }
      return resp(hits, continuation, false);
    }
    default: {
      const unreachable: never = req;
      throw new Error(`unhandled listing request ${JSON.stringify(unreachable)}`);
    }
  }
}

function indexQueryOf(m: Decoded<RpbIndexReq>): IndexQuery {
  if (m.term_regex !== undefined && m.term_regex.length > 0) throw new InvalidArgumentError('term_regex is not supported');
  if (m.cover_context !== undefined && m.cover_context.length > 0) throw new InvalidArgumentError('cover_context is not supported');
  if (m.return_body === true) throw new InvalidArgumentError('return_body is not supported for index queries');
  const index = text(m.index, 'index');
  const numeric = index.endsWith('_int');
  const term = (bytes: Uint8Array | undefined, what: string): string | number => {
    const t = text(bytes, what, { optional: !numeric });
    return numeric ? parseIntIndexValue(index, t, what) : t;
  };
  let start: string | number;
  let end: string | number | undefined;
  if (m.qtype === IndexQueryType.eq) {
    start = term(m.key, 'key');
  } else if (m.qtype === IndexQueryType.range) {
    start = term(m.range_min, 'range_min');
    end = term(m.range_max, 'range_max');
  } else {
    throw new InvalidArgumentError(`qtype ${m.qtype} is neither eq (0) nor range (1)`);
  }
  if (m.max_results === 0) throw new InvalidArgumentError('max_results must be positive');
  return {
    bucketType: typeOf(m.type),
    bucket: text(m.bucket, 'bucket'),
    index,
    start,
    ...(end !== undefined ? { end } : {}),
    returnTerms: m.return_terms === true,
    ...(m.max_results !== undefined ? { maxResults: m.max_results } : {}),
    ...(m.continuation !== undefined && m.continuation.length > 0 ? { continuation: text(m.continuation, 'continuation') } : {}),
  };
}
