// Key and bucket listing and secondary index queries over HTTP, as Riak's
// HTTP API spells them (docs.riak.com developing/api/http/list-keys,
// list-buckets, secondary-indexes):
//   keys=true    {"keys":[...]}            keys=stream    {"keys":[...]}{"keys":[...]}...
//   buckets=true {"buckets":[...]}         buckets=stream {"buckets":[...]}...
//   index        {"keys":[...]} or, with return_terms=true, {"results":[{"term":"key"},...]},
//                plus "continuation" when max_results cut the page short.
// Every body is streamed (chunked), never built whole. The first chunk is
// awaited before the status is sent, so a query that cannot start (no
// coverage, bad input) gets its proper status; a failure after that cuts the
// response short (the client sees a truncated body).
// Difference from Riak: index stream=true answers a sequence of JSON objects
// like keys=stream, not multipart/mixed.
import { parseIntIndexValue } from '../../kv/object/index.js';
import type { IndexChunk, IndexQuery, KvBucketProps, KvService } from '../../kv/service.js';
import { HttpError } from './codec/errors.js';
import { parseBoolean, parseTimeout } from './codec/request.js';
import type { HttpResponse, Query } from './codec/types.js';

type ListingRoute =
  | { kind: 'list-keys'; bucketType: string; bucket: string; query: Query }
  | { kind: 'list-buckets'; bucketType: string; query: Query }
  | { kind: 'index'; bucketType: string; bucket: string; index: string; start: string; end?: string; query: Query };

export interface ListingContext {
  kv: KvService;
  props: (bucketType: string, bucket: string) => KvBucketProps;
  signal: AbortSignal;
}

const JSON_TYPE = 'application/json';

function mode(query: Query, name: 'keys' | 'buckets'): 'true' | 'stream' {
  const value = query.get(name);
  if (value === 'true' || value === 'stream') return value;
  throw new HttpError('api_bad_request', `listing ${name} needs ?${name}=true or ?${name}=stream (it scans the whole cluster)`);
}

/** The iterator's first value is pulled before the response starts: errors up to then get a status. */
async function primed<T>(source: AsyncGenerator<T>): Promise<{ first: IteratorResult<T>; source: AsyncGenerator<T> }> {
  return { first: await source.next(), source };
}

async function* rest<T>(p: { first: IteratorResult<T>; source: AsyncGenerator<T> }): AsyncGenerator<T> {
  if (p.first.done === true) return;
  yield p.first.value;
  for (let next = await p.source.next(); next.done !== true; next = await p.source.next()) yield next.value;
}

/** `{"name":[a,b]}` built from chunks: one JSON object per chunk (stream) or one array across them. */
async function* jsonList(chunks: AsyncGenerator<string[]>, name: string, streamed: boolean): AsyncGenerator<string> {
  if (streamed) {
    for await (const chunk of chunks) yield `{"${name}":${JSON.stringify(chunk)}}`;
    return;
  }
  yield `{"${name}":[`;
  let first = true;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    yield (first ? '' : ',') + chunk.map((item) => JSON.stringify(item)).join(',');
    first = false;
  }
  yield ']}';
}

function streaming(body: AsyncGenerator<string>): HttpResponse {
  return { status: 200, headers: { 'Content-Type': JSON_TYPE }, body };
}

export async function handleListing(route: ListingRoute, ctx: ListingContext): Promise<HttpResponse> {
  const timeoutMs = parseTimeout(route.query);
  const opts = { signal: ctx.signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
  switch (route.kind) {
    case 'list-keys': {
      const m = mode(route.query, 'keys');
      const keys = await primed(ctx.kv.listKeys({ bucketType: route.bucketType, bucket: route.bucket }, { ...opts, props: ctx.props(route.bucketType, route.bucket) }));
      return streaming(jsonList(rest(keys), 'keys', m === 'stream'));
    }
    case 'list-buckets': {
      const m = mode(route.query, 'buckets');
      const buckets = await primed(ctx.kv.listBuckets(route.bucketType, opts));
      return streaming(jsonList(rest(buckets), 'buckets', m === 'stream'));
    }
    case 'index': {
      const q = indexQueryOf(route);
      const streamed = flag(route.query, 'stream');
      const chunks = await primed(ctx.kv.indexQuery(q, { ...opts, props: ctx.props(route.bucketType, route.bucket) }));
      return streaming(indexBody(rest(chunks), q.returnTerms === true, streamed));
    }
    default: {
      const unreachable: never = route;
      throw new Error(`unhandled listing route ${JSON.stringify(unreachable)}`);
    }
  }
}

function hitsJson(chunk: IndexChunk, returnTerms: boolean): string {
  return returnTerms ? chunk.hits.map((h) => JSON.stringify({ [String(h.term)]: h.key })).join(',') : chunk.hits.map((h) => JSON.stringify(h.key)).join(',');
}

async function* indexBody(chunks: AsyncGenerator<IndexChunk>, returnTerms: boolean, streamed: boolean): AsyncGenerator<string> {
  const name = returnTerms ? 'results' : 'keys';
  let continuation: string | undefined;
  if (streamed) {
    for await (const chunk of chunks) {
      if (chunk.hits.length > 0) yield `{"${name}":[${hitsJson(chunk, returnTerms)}]}`;
      continuation = chunk.continuation ?? continuation;
    }
    if (continuation !== undefined) yield JSON.stringify({ continuation });
    return;
  }
  yield `{"${name}":[`;
  let first = true;
  for await (const chunk of chunks) {
    continuation = chunk.continuation ?? continuation;
    if (chunk.hits.length === 0) continue;
    yield (first ? '' : ',') + hitsJson(chunk, returnTerms);
    first = false;
  }
  yield continuation === undefined ? ']}' : `],"continuation":${JSON.stringify(continuation)}}`;
}

/** `_int` terms from the URL are decimal text; anything else stays as sent. */
function term(index: string, text: string, what: string): string | number {
  return index.endsWith('_int') ? parseIntIndexValue(index, text, what) : text;
}

function flag(query: Query, name: string): boolean {
  return parseBoolean(query, name) ?? false;
}

function indexQueryOf(route: Extract<ListingRoute, { kind: 'index' }>): IndexQuery {
  const q = route.query;
  if (q.has('term_regex')) throw new HttpError('api_bad_request', 'term_regex is not supported');
  const maxText = q.get('max_results');
  let maxResults: number | undefined;
  if (maxText !== undefined) {
    maxResults = /^\d+$/.test(maxText) ? Number(maxText) : Number.NaN;
    if (!Number.isSafeInteger(maxResults) || maxResults < 1) throw new HttpError('api_bad_request', 'max_results must be a positive integer');
  }
  flag(q, 'pagination_sort'); // results are always sorted; the flag is only checked
  const continuation = q.get('continuation');
  return {
    bucketType: route.bucketType,
    bucket: route.bucket,
    index: route.index,
    start: term(route.index, route.start, 'start term'),
    ...(route.end !== undefined ? { end: term(route.index, route.end, 'end term') } : {}),
    returnTerms: flag(q, 'return_terms'),
    ...(maxResults !== undefined ? { maxResults } : {}),
    ...(continuation !== undefined && continuation !== '' ? { continuation } : {}),
  };
}
