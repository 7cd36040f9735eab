// The vnode's share of coverage queries: one bounded page of keys, buckets or
// index hits per command. A page ends after `pageSize` results or `rowsMax`
// rows read, whichever comes first, and its continuation is the last row
// READ, so a page whose rows were all filtered out still moves forward.
import { keyspaceOf } from '../../core/coverage/index.js';
import { assert, InvalidArgumentError } from '../../core/errors.js';
import { chashKey } from '../../core/ring/hash.js';
import type { PartitionStore } from '../backend/index.js';
import { VNODE_FOLD_BUCKETS_PAGE_MAX, VNODE_FOLD_KEYS_PAGE_MAX, VNODE_INDEX_HITS_PAGE_MAX } from '../constants.js';
import type {
  BucketRef, BucketsReply, FoldBucketsCommand, FoldKeysCommand, IndexCursor, IndexHitsReply, IndexQueryCommand, IndexTerm, KeysReply, KeyspaceFilter,
} from './commands.js';
import { listingCommandProblem } from './listing-check.js';
import { utf8 } from './support.js';

type Hit = { term?: IndexTerm; key: string };

function checked(c: FoldKeysCommand | FoldBucketsCommand | IndexQueryCommand): void {
  const problem = listingCommandProblem(c as unknown as Record<string, unknown>);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
}

/** True for keys the plan asked this vnode for. */
function keyspaceFilter(c: KeyspaceFilter, bucketType: string): (bucket: Uint8Array | string, key: Uint8Array) => boolean {
  if (c.keyspaces === undefined) return () => true;
  const wanted = new Set(c.keyspaces);
  const ringSize = c.ringSize!;
  return (bucket, key) => wanted.has(keyspaceOf(chashKey(bucketType, bucket, key), ringSize));
}

interface PageSpec<T, O, C> {
  pageSize: number;
  rowsMax: number;
  /** The result for a row, or undefined to skip it. */
  take: (row: T) => O | undefined;
  cursor: (row: T) => C;
  /** A row past the end of the query: the page ends without a continuation. */
  past?: (row: T) => boolean;
}

async function page<T, O, C>(rows: AsyncIterable<T>, spec: PageSpec<T, O, C>): Promise<{ out: O[]; continuation?: C }> {
  assert(spec.pageSize >= 1 && spec.rowsMax >= 1, 'a page can hold a row');
  const out: O[] = [];
  let read = 0;
  let last: T | undefined;
  for await (const row of rows) {
    if (spec.past?.(row) === true) break;
    // Only now, with a row in hand, is it known that more may follow.
    if (out.length === spec.pageSize || read === spec.rowsMax) return { out, continuation: spec.cursor(last as T) };
    read += 1;
    last = row;
    const kept = spec.take(row);
    if (kept !== undefined) out.push(kept);
  }
  return { out };
}

export async function foldKeysPage(store: PartitionStore, c: FoldKeysCommand, rowsMax: number, signal: AbortSignal): Promise<KeysReply> {
  checked(c);
  const wanted = keyspaceFilter(c, c.bucketType);
  const rows = store.foldKeys({ bucketType: c.bucketType, bucket: c.bucket, ...(c.continuation === undefined ? {} : { after: c.continuation }), signal });
  const { out, continuation } = await page(rows, {
    pageSize: c.pageSize ?? VNODE_FOLD_KEYS_PAGE_MAX,
    rowsMax,
    take: (k) => (wanted(k.bucket, k.key) ? utf8(k.key) : undefined),
    cursor: (k) => utf8(k.key),
  });
  return continuation === undefined ? { kind: 'keys', keys: out } : { kind: 'keys', keys: out, continuation };
}

export async function foldBucketsPage(store: PartitionStore, c: FoldBucketsCommand, signal: AbortSignal): Promise<BucketsReply> {
  checked(c);
  const rows = store.foldBuckets({
    ...(c.bucketType === undefined ? {} : { bucketType: c.bucketType }),
    ...(c.continuation === undefined ? {} : { after: { bucketType: c.continuation.bucketType, bucket: c.continuation.bucket } }),
    signal,
  });
  const pageSize = c.pageSize ?? VNODE_FOLD_BUCKETS_PAGE_MAX;
  const asRef = (b: { bucketType: string; bucket: Uint8Array }): BucketRef => ({ bucketType: b.bucketType, bucket: utf8(b.bucket) });
  const { out, continuation } = await page(rows, { pageSize, rowsMax: pageSize, take: asRef, cursor: asRef });
  return continuation === undefined ? { kind: 'buckets', buckets: out } : { kind: 'buckets', buckets: out, continuation };
}

export async function indexQueryPage(store: PartitionStore, c: IndexQueryCommand, rowsMax: number, signal: AbortSignal): Promise<IndexHitsReply> {
  checked(c);
  const wanted = keyspaceFilter(c, c.bucketType);
  const base = { pageSize: c.pageSize ?? VNODE_INDEX_HITS_PAGE_MAX, rowsMax };
  const scope = { bucketType: c.bucketType, bucket: c.bucket, signal };
  const after = c.continuation === undefined ? {} : { after: c.continuation.key };
  let result: { out: Hit[]; continuation?: IndexCursor };
  if (c.index === '$bucket') {
    // Every key of the bucket (Riak ignores the term too); an equality query, so no terms.
    result = await page(store.foldKeys({ ...scope, ...after }), {
      ...base,
      take: (k) => (wanted(c.bucket, k.key) ? { key: utf8(k.key) } : undefined),
      cursor: (k) => ({ term: c.start, key: utf8(k.key) }),
    });
  } else if (c.index === '$key') {
    // Keys in [start, end] by bytes; the term of a hit is its key.
    const end = Buffer.from(String(c.end ?? c.start), 'utf8');
    result = await page(store.foldKeys({ ...scope, from: String(c.start), ...after }), {
      ...base,
      past: (k) => Buffer.compare(k.key, end) > 0,
      take: (k) => (wanted(c.bucket, k.key) ? hit(c, utf8(k.key), utf8(k.key)) : undefined),
      cursor: (k) => ({ term: utf8(k.key), key: utf8(k.key) }),
    });
  } else {
    const range = store.indexRange({
      ...scope,
      index: c.index,
      start: c.start,
      ...(c.end === undefined ? {} : { end: c.end }),
      ...(c.continuation === undefined ? {} : { startAfterTerm: c.continuation.term, startAfterKey: c.continuation.key }),
    });
    result = await page(range, {
      ...base,
      take: (h) => (wanted(c.bucket, h.key) ? hit(c, h.term, utf8(h.key)) : undefined),
      cursor: (h) => ({ term: h.term, key: utf8(h.key) }),
    });
  }
  return result.continuation === undefined ? { kind: 'index-hits', hits: result.out } : { kind: 'index-hits', hits: result.out, continuation: result.continuation };
}

function hit(c: IndexQueryCommand, term: IndexTerm, key: string): Hit {
  return c.returnTerms === true ? { term, key } : { key };
}
