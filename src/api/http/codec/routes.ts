// URL and method -> the resource a request names. Riak's HTTP paths:
//   /types/T/buckets/B/keys/K   and  /buckets/B/keys/K   (type "default")
//   POST .../buckets/B/keys      (Riak generates the key)
//   .../buckets/B/props          /types/T/props
//   GET .../buckets/B/keys?keys=true|stream    GET [/types/T]/buckets?buckets=true|stream
//   GET .../buckets/B/index/I/V[/END]          (secondary index queries)
//   /ping  /stats  /metrics      and the legacy /riak/B/K, /riak/B
//   /console  /console/<asset>  /console/api/overview   (the web console, read-only)
// Names are split on "/" before percent-decoding, so "%2F" stays inside a
// name (Riak asks clients to escape slashes that way).
import { PATH_SEGMENTS_MAX, QUERY_PARAMS_MAX } from './constants.js';
import { HttpError } from './errors.js';
import type { Query } from './types.js';

export const DEFAULT_BUCKET_TYPE = 'default';

export type ObjectMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export type Route =
  | { kind: 'ping'; method: 'GET' | 'HEAD'; query: Query }
  | { kind: 'stats'; method: 'GET' | 'HEAD'; query: Query }
  /** The web console's page (asset "index.html") or one of its static files. */
  | { kind: 'console-asset'; method: 'GET' | 'HEAD'; asset: string; query: Query }
  /** The console's JSON view of this node's state. */
  | { kind: 'console-overview'; method: 'GET' | 'HEAD'; query: Query }
  /** Prometheus text format (not a Riak resource). */
  | { kind: 'metrics'; method: 'GET' | 'HEAD'; query: Query }
  /** A named key. POST is accepted like PUT (Riak keeps it for older clients). */
  | { kind: 'object'; method: ObjectMethod; bucketType: string; bucket: string; key: string; legacy: boolean; query: Query }
  /** POST to the keys collection: store under a key the server generates. */
  | { kind: 'object-create'; method: 'POST'; bucketType: string; bucket: string; legacy: boolean; query: Query }
  | { kind: 'bucket-props'; method: 'GET' | 'HEAD' | 'PUT' | 'DELETE'; bucketType: string; bucket: string; legacy: boolean; query: Query }
  | { kind: 'type-props'; method: 'GET' | 'HEAD' | 'PUT'; bucketType: string; query: Query }
  /** GET .../buckets/B/keys?keys=true|stream */
  | { kind: 'list-keys'; method: 'GET'; bucketType: string; bucket: string; query: Query }
  /** GET [/types/T]/buckets?buckets=true|stream */
  | { kind: 'list-buckets'; method: 'GET'; bucketType: string; query: Query }
  /** GET .../buckets/B/index/I/V[/END]: equality, or a range when `end` is present (terms as sent, not yet typed). */
  | { kind: 'index'; method: 'GET'; bucketType: string; bucket: string; index: string; start: string; end?: string; query: Query };

/** The HttpError of a URL or method that names no resource (404, 405) or is malformed (400). */
export type RouteError = HttpError;

const OBJECT_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;
// GET .../keys lists the keys; POST stores under a generated key.
const KEYS_METHODS = ['GET', 'POST'] as const;
const LIST_METHODS = ['GET'] as const;
const BUCKET_PROPS_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'] as const;
// Legacy /riak/B: GET reads props, PUT sets them, POST creates a key.
const LEGACY_BUCKET_METHODS = ['GET', 'HEAD', 'PUT', 'POST'] as const;
const TYPE_PROPS_METHODS = ['GET', 'HEAD', 'PUT'] as const;
const READ_METHODS = ['GET', 'HEAD'] as const;

/** Never throws: a malformed or unknown request comes back as an HttpError value. */
export function parseRoute(method: string, url: string): Route | RouteError {
  try {
    return route(method.toUpperCase(), url);
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}

function route(method: string, url: string): Route {
  const queryAt = url.indexOf('?');
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = parseQuery(queryAt < 0 ? '' : url.slice(queryAt + 1));
  const hashless = rawPath.split('#')[0] ?? '';
  if (!hashless.startsWith('/')) throw new HttpError('api_bad_request', `request target ${JSON.stringify(truncate(url))} must start with "/"`);
  const segments = hashless.slice(1).split('/');
  // One trailing slash is tolerated ("/ping/"), an empty name elsewhere is not.
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  if (segments.length > PATH_SEGMENTS_MAX) throw notFound(hashless);
  const s = segments;
  const n = s.length;

  if (n === 1 && s[0] === 'ping') return { kind: 'ping', method: allow(method, READ_METHODS), query };
  if (n === 1 && s[0] === 'stats') return { kind: 'stats', method: allow(method, READ_METHODS), query };
  if (n === 1 && s[0] === 'metrics') return { kind: 'metrics', method: allow(method, READ_METHODS), query };
  if (s[0] === 'riak' && (n === 2 || n === 3)) return legacyRoute(method, s, query);
  if (s[0] === 'console') return consoleRoute(method, s, query, hashless);

  let bucketType = DEFAULT_BUCKET_TYPE;
  let rest = s;
  if (s[0] === 'types' && n >= 3) {
    bucketType = decodeName('bucket type', s[1] ?? '');
    if (n === 3 && s[2] === 'props') return { kind: 'type-props', method: allow(method, TYPE_PROPS_METHODS), bucketType, query };
    rest = s.slice(2);
  }
  if (rest.length === 1 && rest[0] === 'buckets') return { kind: 'list-buckets', method: allow(method, LIST_METHODS), bucketType, query };
  if (rest[0] === 'buckets' && (rest.length === 5 || rest.length === 6) && rest[2] === 'index') {
    const bucket = decodeName('bucket', rest[1] ?? '');
    const index = decodeName('index', rest[3] ?? '');
    const start = percentDecode(rest[4] ?? '', 'index term');
    const end = rest.length === 6 ? percentDecode(rest[5] ?? '', 'index term') : undefined;
    return { kind: 'index', method: allow(method, LIST_METHODS), bucketType, bucket, index, start, ...(end !== undefined ? { end } : {}), query };
  }
  if (rest[0] === 'buckets' && rest.length >= 3) {
    const bucket = decodeName('bucket', rest[1] ?? '');
    if (rest.length === 3 && rest[2] === 'props') {
      return { kind: 'bucket-props', method: allow(method, BUCKET_PROPS_METHODS), bucketType, bucket, legacy: false, query };
    }
    if (rest.length === 3 && rest[2] === 'keys') {
      const m = allow(method, KEYS_METHODS);
      if (m === 'GET') return { kind: 'list-keys', method: m, bucketType, bucket, query };
      return { kind: 'object-create', method: m, bucketType, bucket, legacy: false, query };
    }
    if (rest.length === 4 && rest[2] === 'keys') {
      const key = decodeName('key', rest[3] ?? '');
      return { kind: 'object', method: allow(method, OBJECT_METHODS), bucketType, bucket, key, legacy: false, query };
    }
  }
  throw notFound(hashless);
}

function consoleRoute(method: string, s: string[], query: Query, path: string): Route {
  if (s.length === 1) return { kind: 'console-asset', method: allow(method, READ_METHODS), asset: 'index.html', query };
  if (s.length === 3 && s[1] === 'api' && s[2] === 'overview') return { kind: 'console-overview', method: allow(method, READ_METHODS), query };
  // Asset names are plain file names ("console.js"); the handler knows which exist.
  if (s.length === 2 && /^[a-z][a-z0-9-]*\.[a-z]+$/.test(s[1] ?? '')) return { kind: 'console-asset', method: allow(method, READ_METHODS), asset: s[1] ?? '', query };
  throw notFound(path);
}

function legacyRoute(method: string, s: string[], query: Query): Route {
  const bucket = decodeName('bucket', s[1] ?? '');
  if (s.length === 3) {
    const key = decodeName('key', s[2] ?? '');
    return { kind: 'object', method: allow(method, OBJECT_METHODS), bucketType: DEFAULT_BUCKET_TYPE, bucket, key, legacy: true, query };
  }
  const m = allow(method, LEGACY_BUCKET_METHODS);
  if (m === 'POST') return { kind: 'object-create', method: m, bucketType: DEFAULT_BUCKET_TYPE, bucket, legacy: true, query };
  return { kind: 'bucket-props', method: m, bucketType: DEFAULT_BUCKET_TYPE, bucket, legacy: true, query };
}

function allow<M extends string>(method: string, allowed: readonly M[]): M {
  if ((allowed as readonly string[]).includes(method)) return method as M;
  throw new HttpError('api_method_not_allowed', `method ${truncate(method)} is not allowed here (allowed: ${allowed.join(', ')})`, allowed);
}

function notFound(path: string): HttpError {
  return new HttpError('api_not_found', `no resource at ${JSON.stringify(truncate(path))}`);
}

/** Percent-decodes one path segment; empty names and bad escapes are 400. */
export function decodeName(what: string, segment: string): string {
  const name = percentDecode(segment, what);
  if (name.length === 0) throw new HttpError('api_bad_request', `${what} name must not be empty`);
  return name;
}

function percentDecode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError('api_bad_request', `${what} ${JSON.stringify(truncate(text))} has an invalid percent-escape`);
  }
}

/**
 * application/x-www-form-urlencoded: "+" is a space; the first value of a
 * repeated parameter wins (as webmachine's wrq:get_qs_value); a bad escape is 400.
 */
export function parseQuery(text: string): Query {
  const out = new Map<string, string>();
  if (text.length === 0) return out;
  const pairs = text.split('&');
  if (pairs.length > QUERY_PARAMS_MAX) throw new HttpError('api_bad_request', `${pairs.length} query parameters (max ${QUERY_PARAMS_MAX})`);
  for (const pair of pairs) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const name = percentDecode(rawName.replace(/\+/g, ' '), 'query parameter');
    const value = percentDecode(rawValue.replace(/\+/g, ' '), `query parameter ${name}`);
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
