// Coverage queries: list keys, list buckets, secondary index queries. A
// coverage plan (src/core/coverage) picks the fewest up primaries that
// together hold every key once; each is asked page by page; the pages merge
// into one sorted stream (merge.ts). Nothing is materialised whole: the
// caller pulls chunks, and each vnode is at most one page ahead.
//
// Like Riak, these scan the cluster: every covering vnode reads its whole
// share of the bucket (listing) or of the index range (2i). Data that is only
// on fallback vnodes (a primary down) is not seen, as in Riak.
import { coveragePlan, type CoveragePlan } from '../../core/coverage/index.js';
import type { NodeName } from '../../core/env.js';
import { AbortedError, InvalidArgumentError, RondoError, TimeoutError } from '../../core/errors.js';
import { COORD_TIMEOUT_MS_DEFAULT } from '../coord/limits.js';
import { errorOf, type KvCommand, type KvReply } from '../vnode/index.js';
import { decodeContinuation, encodeContinuation, type IndexPosition } from './continuation.js';
import { COVERAGE_CHUNK_ITEMS, COVERAGE_PAGE_ITEMS, INDEX_MAX_RESULTS_MAX } from './limits.js';
import { compareUtf8, mergeSorted, type Page, type PageSource } from './merge.js';

export interface CoverageDeps {
  owners(): readonly NodeName[];
  upNodes(): ReadonlySet<NodeName>;
  /** 0..n-1, for the plan's offset (spreads load over replicas). */
  randomInt(n: number): number;
  /** Runs a coverage command on a vnode, local or remote. */
  dispatch(target: { node: NodeName; partition: number }, command: KvCommand, timeoutMs: number): Promise<KvReply>;
  /** Schedules `fn` after `ms` (the Env's timers); returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export interface CoverageOptions {
  signal?: AbortSignal;
  /** Deadline of the whole query; each vnode page also has COORD_TIMEOUT_MS_DEFAULT. */
  timeoutMs?: number;
}

export interface IndexQuery {
  bucketType: string;
  bucket: string;
  /** A `_bin` or `_int` index, or `$bucket` (every key) or `$key` (a key range). */
  index: string;
  /** Equality when `end` is absent. `_int`: safe integers; `_bin`, `$key`: strings. */
  start: string | number;
  end?: string | number;
  returnTerms?: boolean;
  maxResults?: number;
  continuation?: string;
}
export interface IndexHit {
  /** Only when the query asked for terms. */
  term?: string | number;
  key: string;
}
/** `continuation` only on the last chunk of a page that `maxResults` cut short. */
export interface IndexChunk {
  hits: IndexHit[];
  continuation?: string;
}

type Hit = { term?: string | number; key: string };

/** A query's abort signal: the caller's, or the deadline's. */
function querySignal(deps: CoverageDeps, opts: CoverageOptions, what: string): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new AbortedError(`${what} aborted`));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const cancel = opts.timeoutMs === undefined ? () => undefined : deps.setTimer(opts.timeoutMs, () => controller.abort(new TimeoutError(`${what} took longer than ${opts.timeoutMs} ms`)));
  return {
    signal: controller.signal,
    done: () => {
      cancel();
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Runs a merge under the query's signal; an abort surfaces as its reason (timeout or abort). */
async function* guarded<T>(deps: CoverageDeps, opts: CoverageOptions, what: string, run: (signal: AbortSignal) => AsyncGenerator<T>): AsyncGenerator<T> {
  const { signal, done } = querySignal(deps, opts, what);
  try {
    for await (const chunk of run(signal)) yield chunk;
  } catch (err) {
    if (signal.aborted && signal.reason instanceof RondoError) throw signal.reason;
    throw err;
  } finally {
    done();
  }
}

function planFor(deps: CoverageDeps, nVal: number): CoveragePlan {
  const owners = deps.owners();
  return coveragePlan({ owners, nVal, up: deps.upNodes(), offset: deps.randomInt(owners.length) });
}

/** One vnode's pages of a paged command; `step` turns a reply into a page and the next command. */
function pagedSource<T>(
  deps: CoverageDeps,
  target: { node: NodeName; partition: number },
  first: KvCommand,
  step: (reply: KvReply) => { page: Page<T>; next?: KvCommand },
): PageSource<T> {
  let command: KvCommand | undefined = first;
  return async () => {
    if (command === undefined) return { items: [], more: false };
    const reply = await deps.dispatch(target, command, COORD_TIMEOUT_MS_DEFAULT);
    const err = errorOf(reply);
    if (err !== undefined) throw err;
    const { page, next } = step(reply);
    command = next;
    return page;
  };
}

function unexpected(reply: KvReply, wanted: string): RondoError {
  return new RondoError('internal', `a covering vnode answered ${reply.kind} to ${wanted}`);
}

/** A bucket's keys, sorted (UTF-8 byte order), in chunks. */
export function listKeys(deps: CoverageDeps, b: { bucketType: string; bucket: string; nVal: number }, opts: CoverageOptions = {}): AsyncGenerator<string[]> {
  const plan = planFor(deps, b.nVal);
  const ringSize = deps.owners().length;
  return guarded(deps, opts, `list keys of ${b.bucketType}/${b.bucket}`, (signal) => {
    const sources = plan.vnodes.map((v) => {
      const base = { kind: 'fold-keys' as const, bucketType: b.bucketType, bucket: b.bucket, pageSize: COVERAGE_PAGE_ITEMS, ...(v.keyspaces ? { keyspaces: v.keyspaces, ringSize } : {}) };
      return pagedSource<string>(deps, v, base, (reply) => {
        if (reply.kind !== 'keys') throw unexpected(reply, 'fold-keys');
        const more = reply.continuation !== undefined;
        return { page: { items: reply.keys, more }, ...(more ? { next: { ...base, continuation: reply.continuation } } : {}) };
      });
    });
    return mergeSorted(sources, { compare: compareUtf8, chunkItems: COVERAGE_CHUNK_ITEMS, signal });
  });
}

/**
 * The buckets of a type that hold any object (tombstones included, until
 * reaped), sorted as the store orders them (byte length, then bytes). Every
 * partition is asked, not a plan for the default n_val: a bucket with
 * n_val 1 lives on one partition only. With a primary down, falls back to a
 * plan for `fallbackNVal` (buckets with a smaller n_val may then be missed).
 */
export function listBuckets(deps: CoverageDeps, bucketType: string, fallbackNVal: number, opts: CoverageOptions = {}): AsyncGenerator<string[]> {
  let plan: CoveragePlan;
  try {
    plan = planFor(deps, 1);
  } catch (err) {
    if (!(err instanceof RondoError) || err.code !== 'insufficient_vnodes') throw err;
    plan = planFor(deps, fallbackNVal);
  }
  return guarded(deps, opts, `list buckets of ${bucketType}`, (signal) => {
    const sources = plan.vnodes.map((v) => {
      const base = { kind: 'fold-buckets' as const, bucketType, pageSize: COVERAGE_PAGE_ITEMS };
      return pagedSource<string>(deps, v, base, (reply) => {
        if (reply.kind !== 'buckets') throw unexpected(reply, 'fold-buckets');
        const more = reply.continuation !== undefined;
        return { page: { items: reply.buckets.map((x) => x.bucket), more }, ...(more ? { next: { ...base, continuation: reply.continuation } } : {}) };
      });
    });
    return mergeSorted(sources, { compare: compareBucketNames, chunkItems: COVERAGE_CHUNK_ITEMS, signal });
  });
}

/** The store's bucket order: length-prefixed names sort by UTF-8 length first. */
export function compareBucketNames(a: string, b: string): number {
  return Buffer.byteLength(a, 'utf8') - Buffer.byteLength(b, 'utf8') || compareUtf8(a, b);
}

function compareTerms(a: string | number | undefined, b: string | number | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  return 0;
}

export function compareHits(a: Hit, b: Hit): number {
  return compareTerms(a.term, b.term) || compareUtf8(a.key, b.key);
}

/** Validates the query's index name, terms and paging; throws InvalidArgumentError. */
export function checkIndexQuery(q: IndexQuery): { continuation?: IndexPosition } {
  const bad = (why: string) => new InvalidArgumentError(`index query on ${q.index}: ${why}`);
  const special = q.index === '$bucket' || q.index === '$key';
  if (!special && !/_(bin|int)$/.test(q.index)) throw bad('an index name ends in _bin or _int (or is $bucket or $key)');
  const numeric = q.index.endsWith('_int');
  for (const [name, v] of [['start', q.start], ['end', q.end]] as const) {
    if (v === undefined) continue;
    if (numeric && !(typeof v === 'number' && Number.isSafeInteger(v))) throw bad(`${name} must be an integer`);
    if (!numeric && typeof v !== 'string') throw bad(`${name} must be a string`);
  }
  if (q.maxResults !== undefined && (!Number.isSafeInteger(q.maxResults) || q.maxResults < 1 || q.maxResults > INDEX_MAX_RESULTS_MAX)) {
    throw bad(`max_results must be 1..${INDEX_MAX_RESULTS_MAX}`);
  }
  if (q.continuation === undefined) return {};
  const continuation = decodeContinuation(q.continuation);
  if (numeric !== (typeof continuation.term === 'number')) throw bad('the continuation is for another index');
  return { continuation };
}

/**
 * A secondary index query, sorted by (term, key). With `maxResults`, stops
 * after that many hits and, when more exist, ends with a continuation.
 */
export function indexQuery(deps: CoverageDeps, q: IndexQuery, nVal: number, opts: CoverageOptions = {}): AsyncGenerator<IndexChunk> {
  const { continuation } = checkIndexQuery(q);
  const plan = planFor(deps, nVal);
  const ringSize = deps.owners().length;
  const pageSize = Math.min(COVERAGE_PAGE_ITEMS, q.maxResults === undefined ? COVERAGE_PAGE_ITEMS : q.maxResults + 1);
  return guarded(deps, opts, `index query ${q.bucketType}/${q.bucket}/${q.index}`, async function* (signal) {
    const sources = plan.vnodes.map((v) => {
      const base = {
        kind: 'index-query' as const, bucketType: q.bucketType, bucket: q.bucket, index: q.index, start: q.start,
        ...(q.end !== undefined ? { end: q.end } : {}), returnTerms: true, pageSize,
        ...(v.keyspaces ? { keyspaces: v.keyspaces, ringSize } : {}),
      };
      const first = continuation ? { ...base, continuation } : base;
      return pagedSource<Hit>(deps, v, first, (reply) => {
        if (reply.kind !== 'index-hits') throw unexpected(reply, 'index-query');
        const more = reply.continuation !== undefined;
        return { page: { items: reply.hits, more }, ...(more ? { next: { ...base, continuation: reply.continuation } } : {}) };
      });
    });
    const limit = q.maxResults ?? Number.POSITIVE_INFINITY;
    let sent = 0;
    let lastHit: Hit | undefined;
    const out = (hits: Hit[]): IndexHit[] => hits.map((h) => (q.returnTerms === true && h.term !== undefined ? { term: h.term, key: h.key } : { key: h.key }));
    const merged = mergeSorted(sources, { compare: compareHits, chunkItems: Math.min(COVERAGE_CHUNK_ITEMS, pageSize), signal });
    for await (const chunk of merged) {
      if (sent >= limit) {
        // One hit beyond the page: say where the next page starts.
        yield { hits: [], continuation: encodeContinuation({ term: lastHit?.term ?? '', key: (lastHit as Hit).key }) };
        return;
      }
      const take = chunk.slice(0, limit - sent);
      sent += take.length;
      lastHit = take[take.length - 1] ?? lastHit;
      if (take.length < chunk.length) {
        yield { hits: out(take), continuation: encodeContinuation({ term: lastHit?.term ?? '', key: (lastHit as Hit).key }) };
        return;
      }
      yield { hits: out(take) };
    }
  });
}
