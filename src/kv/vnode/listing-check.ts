// Shape checks of the listing commands (fold-keys, fold-buckets, index-query)
// and their replies. Peers are not trusted: the message parser refuses what
// fails here, and the vnode answers invalid_argument for local callers.
import { RING_SIZE_MAX, RING_SIZE_MIN } from '../../core/constants.js';
import { VNODE_FOLD_BUCKETS_PAGE_MAX, VNODE_FOLD_KEYS_PAGE_MAX, VNODE_INDEX_HITS_PAGE_MAX } from '../constants.js';

export const LISTING_COMMAND_KINDS: ReadonlySet<string> = new Set(['fold-keys', 'fold-buckets', 'index-query']);
export const SPECIAL_INDEXES: ReadonlySet<string> = new Set(['$bucket', '$key']);

type Fields = Record<string, unknown>;

function isRecord(x: unknown): x is Fields {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
const isString = (x: unknown): x is string => typeof x === 'string';
const isTerm = (x: unknown): x is string | number => typeof x === 'string' || (typeof x === 'number' && Number.isSafeInteger(x));

function pageSizeProblem(c: Fields, max: number): string | undefined {
  if (c.pageSize === undefined) return undefined;
  const ok = typeof c.pageSize === 'number' && Number.isSafeInteger(c.pageSize) && c.pageSize >= 1 && c.pageSize <= max;
  return ok ? undefined : `${String(c.kind)}: pageSize must be an integer in 1..${max} (got ${String(c.pageSize)})`;
}

function keyspaceProblem(c: Fields): string | undefined {
  if (c.keyspaces === undefined && c.ringSize === undefined) return undefined;
  const { ringSize, keyspaces } = c;
  if (typeof ringSize !== 'number' || !Number.isInteger(ringSize) || ringSize < RING_SIZE_MIN || ringSize > RING_SIZE_MAX || (ringSize & (ringSize - 1)) !== 0) {
    return `${String(c.kind)}: keyspaces need a ringSize, a power of two in ${RING_SIZE_MIN}..${RING_SIZE_MAX}`;
  }
  if (!Array.isArray(keyspaces) || keyspaces.length === 0 || keyspaces.length > ringSize) return `${String(c.kind)}: keyspaces must be a non-empty list of at most ringSize entries`;
  if (!keyspaces.every((k) => Number.isInteger(k) && k >= 0 && k < ringSize)) return `${String(c.kind)}: keyspaces must be integers in 0..${ringSize - 1}`;
  if (new Set(keyspaces).size !== keyspaces.length) return `${String(c.kind)}: keyspaces must be distinct`;
  return undefined;
}

function foldKeysProblem(c: Fields): string | undefined {
  if (!isString(c.bucketType) || !isString(c.bucket)) return 'fold-keys without bucketType/bucket strings';
  if (c.continuation !== undefined && !isString(c.continuation)) return 'fold-keys continuation must be a key string';
  return pageSizeProblem(c, VNODE_FOLD_KEYS_PAGE_MAX) ?? keyspaceProblem(c);
}

function foldBucketsProblem(c: Fields): string | undefined {
  if (c.bucketType !== undefined && !isString(c.bucketType)) return 'fold-buckets bucketType must be a string';
  const after = c.continuation;
  if (after !== undefined) {
    if (!isRecord(after) || !isString(after.bucketType) || !isString(after.bucket)) return 'fold-buckets continuation must be { bucketType, bucket } strings';
    if (c.bucketType !== undefined && after.bucketType !== c.bucketType) return 'fold-buckets continuation names a bucket of another type';
  }
  return pageSizeProblem(c, VNODE_FOLD_BUCKETS_PAGE_MAX);
}

/** What kind of term an index takes: `_int` numbers, everything else strings. */
export function indexTermKind(index: string): 'int' | 'bin' | undefined {
  if (SPECIAL_INDEXES.has(index)) return 'bin';
  if (index.length > 4 && index.endsWith('_int')) return 'int';
  if (index.length > 4 && index.endsWith('_bin')) return 'bin';
  return undefined;
}

function indexQueryProblem(c: Fields): string | undefined {
  if (!isString(c.bucketType) || !isString(c.bucket) || !isString(c.index)) return 'index-query without bucketType/bucket/index strings';
  const kind = indexTermKind(c.index);
  if (kind === undefined) return `index-query: index ${JSON.stringify(c.index)} must end in _bin or _int, or be $bucket or $key`;
  const termOk = (x: unknown) => isTerm(x) && (kind === 'int') === (typeof x === 'number');
  if (!termOk(c.start)) return `index-query on ${c.index}: start must be ${kind === 'int' ? 'a safe integer' : 'a string'}`;
  if (c.end !== undefined && !termOk(c.end)) return `index-query on ${c.index}: end must be ${kind === 'int' ? 'a safe integer' : 'a string'}`;
  if (c.index === '$bucket' && c.end !== undefined) return 'index-query on $bucket is an equality query: no end';
  if (c.returnTerms !== undefined && typeof c.returnTerms !== 'boolean') return 'index-query returnTerms must be a boolean';
  const after = c.continuation;
  if (after !== undefined && (!isRecord(after) || !termOk(after.term) || !isString(after.key))) return `index-query on ${c.index}: continuation must be { term, key } of this index`;
  return pageSizeProblem(c, VNODE_INDEX_HITS_PAGE_MAX) ?? keyspaceProblem(c);
}

/** Why a listing command is malformed, or undefined. */
export function listingCommandProblem(c: Fields): string | undefined {
  switch (c.kind) {
    case 'fold-keys':
      return foldKeysProblem(c);
    case 'fold-buckets':
      return foldBucketsProblem(c);
    case 'index-query':
      return indexQueryProblem(c);
    default:
      return `${String(c.kind)} is not a listing command`;
  }
}

/** Why a listing reply is malformed, or undefined (other reply kinds pass). */
export function listingReplyProblem(r: Fields): string | undefined {
  if (r.kind === 'keys' && !(Array.isArray(r.keys) && r.keys.every(isString) && (r.continuation === undefined || isString(r.continuation)))) return 'keys reply without a list of key strings';
  const isBucket = (b: unknown) => isRecord(b) && isString(b.bucketType) && isString(b.bucket);
  if (r.kind === 'buckets' && !(Array.isArray(r.buckets) && r.buckets.every(isBucket) && (r.continuation === undefined || isBucket(r.continuation)))) return 'buckets reply without a list of buckets';
  const isHit = (h: unknown) => isRecord(h) && isString(h.key) && (h.term === undefined || isTerm(h.term));
  const isCursor = (h: unknown) => isRecord(h) && isString(h.key) && isTerm(h.term);
  if (r.kind === 'index-hits' && !(Array.isArray(r.hits) && r.hits.every(isHit) && (r.continuation === undefined || isCursor(r.continuation)))) return 'index-hits reply without a list of hits';
  return undefined;
}
