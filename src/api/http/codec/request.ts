// Query options and store-request headers -> typed values. Everything here
// either returns a complete value or throws one of the typed errors (HttpError
// 400, BadQuorumError, InvalidContextError, InvalidIndexError,
// InvalidMetadataError), each naming the parameter or header at fault.
import { BadBucketPropsError, propsFromJson } from '../../../kv/buckets/index.js';
import { REQUEST_TIMEOUT_MS_MAX } from '../../../kv/coord/limits.js';
import { parseQuorum } from '../../../kv/coord/quorum/index.js';
import type { QuorumName, QuorumSpec } from '../../../kv/coord/quorum/index.js';
import { decodeContext, parseIntIndexValue, validateIndexes, validateUserMeta } from '../../../kv/object/index.js';
import type { IndexValue, NewContent, VersionVector } from '../../../kv/object/index.js';
import { HttpError } from './errors.js';
import type { HeaderMap, Query } from './types.js';

export type QuorumOptions<N extends QuorumName> = Partial<Record<N, QuorumSpec>>;

export interface ReadOptions {
  /** Only the quorums given; absent ones take the bucket's defaults (resolveQuorums). */
  quorums: QuorumOptions<'r' | 'pr'>;
  basicQuorum?: boolean;
  notfoundOk?: boolean;
  timeoutMs?: number;
  /** ?vtag=: the sibling to return. */
  vtag?: string;
}

export interface WriteOptions {
  quorums: QuorumOptions<'w' | 'dw' | 'pw'>;
  returnBody: boolean;
  timeoutMs?: number;
}

export interface DeleteOptions {
  quorums: QuorumOptions<'rw' | 'r' | 'w' | 'pr' | 'pw' | 'dw'>;
  timeoutMs?: number;
}

export function parseReadOptions(query: Query): ReadOptions {
  const out: ReadOptions = { quorums: quorums(query, ['r', 'pr'] as const) };
  const basicQuorum = parseBoolean(query, 'basic_quorum');
  if (basicQuorum !== undefined) out.basicQuorum = basicQuorum;
  const notfoundOk = parseBoolean(query, 'notfound_ok');
  if (notfoundOk !== undefined) out.notfoundOk = notfoundOk;
  const timeoutMs = parseTimeout(query);
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  const vtag = query.get('vtag');
  if (vtag !== undefined) {
    if (vtag.length === 0) throw new HttpError('api_bad_request', 'vtag must not be empty');
    out.vtag = vtag;
  }
  return out;
}

export function parseWriteOptions(query: Query): WriteOptions {
  const out: WriteOptions = { quorums: quorums(query, ['w', 'dw', 'pw'] as const), returnBody: parseBoolean(query, 'returnbody') ?? false };
  const timeoutMs = parseTimeout(query);
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  return out;
}

export function parseDeleteOptions(query: Query): DeleteOptions {
  const out: DeleteOptions = { quorums: quorums(query, ['rw', 'r', 'w', 'pr', 'pw', 'dw'] as const) };
  const timeoutMs = parseTimeout(query);
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  return out;
}

function quorums<N extends QuorumName>(query: Query, names: readonly N[]): QuorumOptions<N> {
  const out: QuorumOptions<N> = {};
  for (const name of names) {
    const text = query.get(name);
    // parseQuorum throws BadQuorumError naming the parameter (400).
    if (text !== undefined) out[name] = parseQuorum(text, name);
  }
  return out;
}

export function parseBoolean(query: Query, name: string): boolean | undefined {
  const text = query.get(name);
  if (text === undefined) return undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new HttpError('api_bad_request', `${name}=${quote(text)} must be true or false`);
}

export function parseTimeout(query: Query): number | undefined {
  const text = query.get('timeout');
  if (text === undefined) return undefined;
  const ms = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > REQUEST_TIMEOUT_MS_MAX) {
    throw new HttpError('api_bad_request', `timeout=${quote(text)} must be a whole number of milliseconds from 1 to ${REQUEST_TIMEOUT_MS_MAX}`);
  }
  return ms;
}

// --- store requests ---

/** The parts of a NewContent a store request supplies; the coordinator adds lastModified and vtag. */
export type StoreContent = Omit<NewContent, 'lastModified' | 'vtag' | 'deleted' | 'contentType' | 'userMeta' | 'indexes'> & {
  contentType: string;
  userMeta: [string, string][];
  indexes: [string, IndexValue][];
};

/** An entity-tag list: `*` (any current value) or the quoted tags, unquoted. */
export type EtagCondition = { any: true } | { any: false; etags: string[] };

export interface Conditions {
  ifNoneMatch?: EtagCondition;
  ifMatch?: EtagCondition;
  /** Milliseconds since the epoch (HTTP dates have second precision). */
  ifModifiedSinceMs?: number;
  ifUnmodifiedSinceMs?: number;
}

export interface StoreRequest {
  /** From X-Riak-Vclock; [] when absent (a blind write). */
  context: VersionVector;
  content: StoreContent;
  conditions: Conditions;
}

const META_PREFIX = 'x-riak-meta-';
const INDEX_PREFIX = 'x-riak-index-';
const MEDIA_TYPE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+\/[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Riak's store headers: Content-Type is required (Riak answers 400 "Missing
 * Content-Type request header"); its charset parameter is kept apart, other
 * parameters are dropped, as Riak does. X-Riak-Meta-* and X-Riak-Index-*
 * names are case-insensitive, so they are lowercased.
 */
export function parseStoreRequest(headers: HeaderMap, body: Uint8Array): StoreRequest {
  const h = lowercaseHeaders(headers);
  const context = decodeContext(h.get('x-riak-vclock'));
  const contentTypeHeader = h.get('content-type');
  if (contentTypeHeader === undefined || contentTypeHeader.trim().length === 0) {
    throw new HttpError('api_bad_request', 'Missing Content-Type request header');
  }
  const { mediaType, params } = parseMediaType(contentTypeHeader);
  const content: StoreContent = { value: body, contentType: mediaType, userMeta: [], indexes: [] };
  const charset = params.get('charset');
  if (charset !== undefined && charset.length > 0) content.charset = charset;
  const encoding = h.get('content-encoding')?.trim();
  if (encoding !== undefined && encoding.length > 0) content.contentEncoding = encoding;
  for (const [name, value] of h) {
    if (name.startsWith(META_PREFIX)) {
      const key = name.slice(META_PREFIX.length);
      if (key.length === 0) throw new HttpError('api_bad_request', 'X-Riak-Meta- header needs a name after the prefix');
      content.userMeta.push([key, value.trim()]);
    } else if (name.startsWith(INDEX_PREFIX)) {
      content.indexes.push(...parseIndexHeader(name.slice(INDEX_PREFIX.length), value));
    }
  }
  validateUserMeta(content.userMeta);
  validateIndexes(content.indexes);
  return { context, content, conditions: parseConditions(h) };
}

function parseIndexHeader(name: string, value: string): [string, IndexValue][] {
  const out: [string, IndexValue][] = [];
  // Riak splits on commas and drops empty terms (string:tokens).
  const terms = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  for (const term of terms) {
    // _int terms must be integers (InvalidIndexError, 400); bad names are caught by validateIndexes.
    out.push([name, name.endsWith('_int') ? parseIntIndexValue(name, term) : term]);
  }
  return out;
}

/** Conditional-request headers; an unparseable date is ignored (RFC 9110 13.1.3/13.1.4). */
export function parseConditions(headers: HeaderMap | ReadonlyMap<string, string>): Conditions {
  const h = headers instanceof Map ? (headers as ReadonlyMap<string, string>) : lowercaseHeaders(headers as HeaderMap);
  const out: Conditions = {};
  const ifNoneMatch = h.get('if-none-match');
  if (ifNoneMatch !== undefined) out.ifNoneMatch = parseEtagList(ifNoneMatch);
  const ifMatch = h.get('if-match');
  if (ifMatch !== undefined) out.ifMatch = parseEtagList(ifMatch);
  const ims = parseHttpDate(h.get('if-modified-since'));
  if (ims !== undefined) out.ifModifiedSinceMs = ims;
  const ius = parseHttpDate(h.get('if-unmodified-since'));
  if (ius !== undefined) out.ifUnmodifiedSinceMs = ius;
  return out;
}

/** `*`, or a comma list of entity tags; quotes and weak prefixes (W/) are removed. */
export function parseEtagList(text: string): EtagCondition {
  if (text.trim() === '*') return { any: true };
  const etags = text
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .map((t) => (t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t))
    .filter((t) => t.length > 0);
  return { any: false, etags };
}

function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

function parseMediaType(header: string): { mediaType: string; params: Map<string, string> } {
  const [typePart, ...paramParts] = header.split(';');
  const mediaType = (typePart ?? '').trim();
  if (!MEDIA_TYPE.test(mediaType)) throw new HttpError('api_bad_request', `Content-Type ${quote(header)} is not a media type (type/subtype)`);
  const params = new Map<string, string>();
  for (const part of paramParts) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!params.has(name)) params.set(name, value);
  }
  return { mediaType, params };
}

/** Header names lowercased; repeated headers joined with ", " as node:http does. */
export function lowercaseHeaders(headers: HeaderMap): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(', ');
    const lower = name.toLowerCase();
    const previous = out.get(lower);
    out.set(lower, previous === undefined ? text : `${previous}, ${text}`);
  }
  return out;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

// --- bucket and type properties ---

/**
 * PUT .../props: Riak accepts only application/json (webmachine answers 415
 * otherwise) with a body {"props": {...}}. Returns the raw properties for
 * validateProps; a bad body throws BadBucketPropsError (400).
 */
export function parsePropsRequest(headers: HeaderMap, body: Uint8Array): Record<string, unknown> {
  const contentType = lowercaseHeaders(headers).get('content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new HttpError('api_unsupported_media_type', `bucket properties must be sent as Content-Type: application/json (got ${quote(contentType ?? 'none')})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new BadBucketPropsError([{ property: 'props', reason: 'the body is not valid UTF-8' }]);
  }
  return propsFromJson(text);
}
