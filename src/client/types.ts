// The client's public types. Names are Rondo's (camelCase); mapping.ts
// turns them into Riak PB messages and back.

/** The causal context (Riak's vclock) of a key: opaque bytes to hand back on a later put or delete. */
export type CausalContext = Buffer & { readonly __brand: 'RondoCausalContext' };

export function causalContext(bytes: Uint8Array): CausalContext {
  return Buffer.from(bytes) as CausalContext;
}

/** A quorum: a number of replicas or one of Riak's symbolic values. */
export type Quorum = number | 'one' | 'quorum' | 'all' | 'default';

/** Where a key lives. `type` is the bucket type ('default' when absent). */
export interface KeyRef {
  type?: string;
  bucket: string;
  key: string;
}
export interface BucketRef {
  type?: string;
  bucket: string;
}

/** A secondary index entry: `_int` indexes have integer values, `_bin` ones strings. */
export interface IndexEntry {
  name: string;
  value: string | number;
}

/** One value of a key as stored. */
export interface Sibling {
  value: Buffer;
  contentType: string;
  charset?: string;
  contentEncoding?: string;
  vtag: string;
  lastModified: Date;
  userMeta: Record<string, string>;
  indexes: IndexEntry[];
}

/**
 * A value to write. `contentType` defaults to 'application/octet-stream' for
 * bytes, and to 'text/plain' with charset 'utf-8' for a string (the string is
 * stored as UTF-8). A Sibling read earlier is a NewSibling too (vtag and
 * lastModified are the server's to set and are ignored).
 */
export interface NewSibling {
  value: string | Uint8Array;
  contentType?: string;
  charset?: string;
  contentEncoding?: string;
  userMeta?: Record<string, string>;
  indexes?: IndexEntry[];
}

/** Picks one sibling out of several (called only when there are two or more). */
export type SiblingResolver = (siblings: Sibling[]) => Sibling;

export interface CallOptions {
  signal?: AbortSignal;
  /** Deadline of the whole call, retries included (for streams: the longest wait for each next message). */
  timeoutMs?: number;
}

export interface GetOptions extends CallOptions {
  r?: Quorum;
  pr?: Quorum;
  notfoundOk?: boolean;
  basicQuorum?: boolean;
  /** Overrides the client's `resolveSiblings` for this call. */
  resolve?: SiblingResolver;
}

export type GetResult =
  | { found: false }
  | {
      found: true;
      /** Every sibling, in the server's order. */
      siblings: Sibling[];
      /** The resolver's pick, or the only sibling; with several and no resolver, the first (and `conflict` is true). */
      value: Sibling;
      /** True when there were several siblings and no resolver chose among them. */
      conflict: boolean;
      context: CausalContext;
    };

export interface PutOptions extends CallOptions {
  /** The context of the read this write follows; absent = a blind write (a sibling, in an allow_mult bucket). */
  context?: CausalContext;
  w?: Quorum;
  dw?: Quorum;
  pw?: Quorum;
  returnBody?: boolean;
  /** Fail with 'kv_precondition_failed' if the key exists. */
  ifNoneMatch?: boolean;
  /** Fail with 'kv_precondition_failed' unless the stored context is still `context`. */
  ifNotModified?: boolean;
  /** Retry on connection failures and 'overload' (the write may then be applied twice). Default: the client's `retryWrites`. */
  retry?: boolean;
}

export interface PutResult {
  /** The key written: the one given, or the one the server generated. */
  key: string;
  context: CausalContext;
  /** With `returnBody`: the siblings after the write. */
  siblings?: Sibling[];
}

export interface DeleteOptions extends CallOptions {
  context?: CausalContext;
  rw?: Quorum;
  r?: Quorum;
  w?: Quorum;
  pr?: Quorum;
  pw?: Quorum;
  dw?: Quorum;
  retry?: boolean;
}

export interface WriteCallOptions extends CallOptions {
  retry?: boolean;
}

export interface IndexQuery {
  type?: string;
  bucket: string;
  /** Name ending in `_int` or `_bin`. */
  index: string;
  /** The term (equality query), or the first term of a range when `end` is given. */
  start: string | number;
  /** Last term of the range, inclusive. */
  end?: string | number;
  returnTerms?: boolean;
  maxResults?: number;
  continuation?: string;
}
export interface IndexHit {
  key: string;
  /** With `returnTerms`: the matching term (a number for `_int` indexes). */
  term?: string | number;
}
export interface IndexPage {
  hits: IndexHit[];
  /** Present when `maxResults` cut the page: pass it back for the next page. */
  continuation?: string;
}

export type ModFun = { module: string; function: string };
export type CommitHook = ModFun | { name: string };

/** Bucket (or bucket type) properties. On a read every known field is set; on a write only the fields given change. */
export interface BucketProps {
  nVal?: number;
  allowMult?: boolean;
  lastWriteWins?: boolean;
  precommit?: CommitHook[];
  postcommit?: CommitHook[];
  chashKeyfun?: ModFun;
  linkfun?: ModFun;
  oldVclock?: number;
  youngVclock?: number;
  bigVclock?: number;
  smallVclock?: number;
  pr?: Quorum;
  r?: Quorum;
  w?: Quorum;
  pw?: Quorum;
  dw?: Quorum;
  rw?: Quorum;
  basicQuorum?: boolean;
  notfoundOk?: boolean;
  backend?: string;
  search?: boolean;
  repl?: boolean | 'realtime' | 'fullsync';
  searchIndex?: string;
  datatype?: string;
  consistent?: boolean;
  writeOnce?: boolean;
  hllPrecision?: number;
}
