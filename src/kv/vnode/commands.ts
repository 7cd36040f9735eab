// The KV vnode's commands and replies. Plain data: they travel between nodes
// (coord/messages.ts says exactly which fields go on the wire). Objects travel
// as their stored bytes (the object codec's format), so a replica never decodes
// what it only reads and the coordinator decodes each distinct reply once.
// Fields marked in-process are shortcuts for a vnode on the coordinator's own
// node; they never leave it. Errors travel as `{ kind: 'error', code, message }`
// and become a RondoError again at the caller (`errorOf`).
import { RondoError } from '../../core/errors.js';
import type { ErrorCode, LayerErrorCode } from '../../core/errors.js';
import type { NewContent, ObjectProps, ObjectWarning, RObject, VersionVector } from '../object/index.js';

/** Which key a command is about. */
export interface KeyRef {
  bucketType: string;
  bucket: string;
  key: string;
}

/** A client's new sibling: the vnode stamps vtag and lastModified; deletes go through `delete-coordinate`. */
export type PutContent = Omit<NewContent, 'vtag' | 'lastModified' | 'deleted'>;

export interface GetCommand extends KeyRef {
  kind: 'get';
}
/** The coordinating replica's write: it issues the dot, then the coordinator replicates the reply's object. */
export interface PutCoordinateCommand extends KeyRef {
  kind: 'put-coordinate';
  props: ObjectProps;
  /** What the client has seen; [] for a blind write. */
  context: VersionVector;
  content: PutContent;
  /** Refuse (kv_precondition_failed) when a live value exists. */
  ifNoneMatch?: boolean;
  /** Refuse (kv_precondition_failed) unless the key exists and its context equals this one. */
  ifNotModified?: VersionVector;
}
/** Another replica's copy, merged into ours. */
export interface PutReplicateCommand {
  kind: 'put-replicate';
  props: ObjectProps;
  /** The object, encoded (encodeObject). */
  bytes: Uint8Array;
  /** In-process only: `bytes` decoded, so a local replica need not decode them again. */
  object?: RObject;
}
/** A put of a tombstone, coordinated here. */
export interface DeleteCoordinateCommand extends KeyRef {
  kind: 'delete-coordinate';
  props: ObjectProps;
  context: VersionVector;
}
/** Remove a tombstone, only if it is still exactly the one the delete coordinator saw everywhere. */
export interface ReapCommand extends KeyRef {
  kind: 'reap';
  expectedContext: VersionVector;
}
/**
 * A coverage plan's filter (see core/coverage): only keys whose keyspace (first
 * preference partition on a ring of `ringSize`) is listed. Both or neither.
 */
export interface KeyspaceFilter {
  keyspaces?: number[];
  ringSize?: number;
}
/**
 * One page of a bucket's keys (coverage), in stored order (key bytes). Lists
 * stored keys, so tombstones not yet reaped are included (as Riak does): telling
 * them apart would mean reading every object. A page reads at most
 * VNODE_FOLD_ROWS_PER_PAGE_MAX rows, so a filtered page may hold few or no
 * keys and still carry a continuation.
 */
export interface FoldKeysCommand extends KeyspaceFilter {
  kind: 'fold-keys';
  bucketType: string;
  bucket: string;
  /** At most VNODE_FOLD_KEYS_PAGE_MAX (the default). */
  pageSize?: number;
  /** The `continuation` of the previous page: resume strictly after this key. */
  continuation?: string;
}
export interface BucketRef {
  bucketType: string;
  bucket: string;
}
/** One page of the buckets holding any object (tombstones included), of one type or all, in stored order. */
export interface FoldBucketsCommand {
  kind: 'fold-buckets';
  bucketType?: string;
  /** At most VNODE_FOLD_BUCKETS_PAGE_MAX (the default). */
  pageSize?: number;
  /** Resume strictly after this bucket (of `bucketType` when that is set). */
  continuation?: BucketRef;
}
export type IndexTerm = string | number;
/** Where an index page ended: resume strictly after (term, key). */
export interface IndexCursor {
  term: IndexTerm;
  key: string;
}
/**
 * One page of a secondary index query, ordered by (term, key). `_int` terms
 * are safe integers, `_bin` terms strings; `end` absent means equality.
 * Special indexes, as Riak: `$bucket` (equality on the bucket name; every key
 * of the bucket, no terms) and `$key` (range over keys; the term is the key).
 * `$bucket` and `$key` list stored keys, so they include tombstones; `_bin`
 * and `_int` entries exist for live siblings only. Rows read per page are
 * bounded as for fold-keys.
 */
export interface IndexQueryCommand extends KeyspaceFilter {
  kind: 'index-query';
  bucketType: string;
  bucket: string;
  index: string;
  start: IndexTerm;
  end?: IndexTerm;
  returnTerms?: boolean;
  /** At most VNODE_INDEX_HITS_PAGE_MAX (the default). */
  pageSize?: number;
  continuation?: IndexCursor;
}

export type KvCommand =
  | GetCommand
  | PutCoordinateCommand
  | PutReplicateCommand
  | DeleteCoordinateCommand
  | ReapCommand
  | FoldKeysCommand
  | FoldBucketsCommand
  | IndexQueryCommand;

export interface ErrorReply {
  kind: 'error';
  code: ErrorCode | LayerErrorCode;
  message: string;
}
/**
 * In-process only, on a reply: what it reports is a write the vnode issued
 * but the engine has not yet made durable. Resolves once it is durable,
 * rejects with the write's error. The service never delivers a get's reply
 * before then (no reader sees a write that could still vanish), and reports a
 * coordinated write twice: written (so replication starts at once), then
 * durable.
 */
export interface Pending {
  durable?: Promise<void>;
}

/** The stored bytes as they are; the coordinator decodes (and so checks) them. */
export type GetReply = ({ kind: 'object'; bytes: Uint8Array } & Pending) | ({ kind: 'notfound' } & Pending) | ErrorReply;
/**
 * What a write left stored. For a coordinated write, `bytes` always (and,
 * in-process only, `object`: the same, decoded). For a replicated one,
 * `bytes` only when what is stored differs from what was sent (a merge with
 * a concurrent write); absent means exactly the sent object is stored.
 * `replaced` is false only under last_write_wins when the stored value was
 * newer: nothing was written and `bytes` is what is stored.
 */
export type StoredReply = ({ kind: 'stored'; replaced: boolean; warnings: ObjectWarning[]; bytes?: Uint8Array; object?: RObject } & Pending) | ErrorReply;
export type ReapReply = ({ kind: 'reaped' } & Pending) | ({ kind: 'kept'; reason: 'live' | 'context_changed' } & Pending) | ErrorReply;
/** `continuation` is present iff more keys may follow. */
export type KeysReply = { kind: 'keys'; keys: string[]; continuation?: string } | ErrorReply;

/** `continuation` is present iff more buckets may follow. */
export type BucketsReply = { kind: 'buckets'; buckets: BucketRef[]; continuation?: BucketRef } | ErrorReply;
/** `term` only when asked for (`returnTerms`) and the index has terms; `continuation` iff more hits may follow. */
export type IndexHitsReply = { kind: 'index-hits'; hits: { term?: IndexTerm; key: string }[]; continuation?: IndexCursor } | ErrorReply;

export type KvReply = GetReply | StoredReply | ReapReply | KeysReply | BucketsReply | IndexHitsReply;

export function errorReply(err: RondoError): ErrorReply {
  return { kind: 'error', code: err.code, message: err.message };
}

/** The durability a reply waits for (see Pending), if any. */
export function pendingDurability(reply: KvReply): Promise<void> | undefined {
  return 'durable' in reply ? reply.durable : undefined;
}

/** The reply without its in-process durability promise (once it resolved). */
export function withoutPending<R extends KvReply>(reply: R): R {
  if (!('durable' in reply)) return reply;
  const { durable: _durable, ...rest } = reply as R & Pending;
  return rest as R;
}

/** The error a reply carries, as a RondoError (for the caller to throw or log); undefined otherwise. */
export function errorOf(reply: KvReply): RondoError | undefined {
  return reply.kind === 'error' ? new RondoError(reply.code, reply.message) : undefined;
}
