// Fetch, store and delete results -> HTTP responses, following Riak's HTTP
// API (docs.riak.com developing/api/http/fetch-object, store-object,
// delete-object; riak_kv_wm_object for the byte layout):
// - one sibling: 200, the value, Content-Type (+ "; charset="), X-Riak-Vclock,
//   ETag = the vtag, Last-Modified (RFC 1123), X-Riak-Meta-*, X-Riak-Index-*,
//   Link `</buckets/B>; rel="up"`;
// - several: 300 Multiple Choices, text/plain "Siblings:\n" + one vtag per
//   line, or, when Accept asks for multipart/mixed, one part per sibling:
//   "\r\n--B\r\n" + the part's headers + "\r\n" + value ... "\r\n--B--\r\n";
// - ?vtag= picks one sibling (404 when no sibling has it);
// - GET with If-None-Match matching the ETag, or If-Modified-Since not older
//   than Last-Modified: 304 (If-Modified-Since is ignored when
//   If-None-Match is present, RFC 9110 13.1.3);
// - not found: 404 "not found\n"; a deleted key also carries its vclock;
// - store: 204, or 200/300 with the object when returnbody=true; POST to
//   .../keys: 201 + Location; delete: 204.
// Choices: tombstone siblings are left out when live ones exist. The ETag of a
// sibling set (300) is derived from the context, as Riak derives it from the
// vclock; its Last-Modified is the newest sibling's.
import { createHash } from 'node:crypto';
import { assert } from '../../../core/errors.js';
import { encodeContext } from '../../../kv/object/index.js';
import type { Content, VersionVector } from '../../../kv/object/index.js';
import { BOUNDARY_ATTEMPTS_MAX } from './constants.js';
import type { Conditions } from './request.js';
import { DEFAULT_BUCKET_TYPE } from './routes.js';
import type { HttpResponse } from './types.js';

export interface ObjectLocation {
  bucketType: string;
  bucket: string;
  key: string;
}

/** What a get (or a put with returnbody) answered: the siblings and their causal context. */
export interface FetchedObject {
  contents: readonly Content[];
  context: VersionVector;
}

export interface RenderFetchOptions {
  location: ObjectLocation;
  method?: 'GET' | 'HEAD';
  /** The request's Accept header. */
  accept?: string;
  vtag?: string;
  conditions?: Conditions;
}

const TEXT = 'text/plain';

/** A get's answer; `undefined` = not found. */
export function renderFetch(found: FetchedObject | undefined, opts: RenderFetchOptions): HttpResponse {
  if (found === undefined) return renderNotFound();
  const live = found.contents.filter((c) => !c.meta.deleted);
  const vclock = encodeContext(found.context);
  if (live.length === 0) return renderNotFound(vclock);
  let selected: readonly Content[] = live;
  if (opts.vtag !== undefined) {
    const match = live.find((c) => c.meta.vtag === opts.vtag);
    if (match === undefined) return textResponse(404, `vtag ${JSON.stringify(opts.vtag)} not found\n`, { 'X-Riak-Vclock': vclock });
    selected = [match];
  }
  const etag = selected.length === 1 ? (selected[0]?.meta.vtag ?? '') : siblingSetEtag(vclock);
  const lastModifiedMs = Math.max(...selected.map((c) => c.meta.lastModified.wallMs));
  // Only GET and HEAD render a fetch, and 304 applies to both.
  if (notModified(opts.conditions, etag, lastModifiedMs)) {
    return { status: 304, headers: { 'X-Riak-Vclock': vclock, ETag: quoteEtag(etag), 'Last-Modified': httpDate(lastModifiedMs) }, body: '' };
  }
  const response = selected.length === 1 ? renderSingle(selected[0] as Content, vclock, opts.location) : renderSiblings(selected, vclock, etag, lastModifiedMs, opts);
  if (opts.method === 'HEAD') response.body = '';
  return response;
}

function renderSingle(c: Content, vclock: string, location: ObjectLocation): HttpResponse {
  const headers: Record<string, string> = { 'X-Riak-Vclock': vclock, ...contentHeaders(c, location) };
  return { status: 200, headers, body: c.value };
}

function renderSiblings(contents: readonly Content[], vclock: string, etag: string, lastModifiedMs: number, opts: RenderFetchOptions): HttpResponse {
  const common = { 'X-Riak-Vclock': vclock, ETag: quoteEtag(etag), 'Last-Modified': httpDate(lastModifiedMs) };
  if (!acceptsMultipart(opts.accept)) {
    return textResponse(300, `Siblings:\n${contents.map((c) => `${c.meta.vtag}\n`).join('')}`, common);
  }
  const boundary = chooseBoundary(contents);
  const chunks: Uint8Array[] = [];
  for (const c of contents) {
    const head = Object.entries(contentHeaders(c, opts.location, 'Etag'))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    chunks.push(Buffer.from(`\r\n--${boundary}\r\n${head}\r\n`, 'utf8'), c.value);
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return { status: 300, headers: { ...common, 'Content-Type': `multipart/mixed; boundary=${boundary}` }, body: new Uint8Array(Buffer.concat(chunks)) };
}

/** Headers describing one sibling (shared by the 200 response and multipart parts). */
function contentHeaders(c: Content, location: ObjectLocation, etagName = 'ETag'): Record<string, string> {
  const m = c.meta;
  const headers: Record<string, string> = {
    'Content-Type': m.charset === undefined ? m.contentType : `${m.contentType}; charset=${m.charset}`,
    Link: upLink(location),
    [etagName]: quoteEtag(m.vtag),
    'Last-Modified': httpDate(m.lastModified.wallMs),
  };
  if (m.contentEncoding !== undefined) headers['Content-Encoding'] = m.contentEncoding;
  for (const [key, value] of m.userMeta) headers[`X-Riak-Meta-${key}`] = value;
  const byName = new Map<string, string[]>();
  for (const [name, value] of m.indexes) byName.set(name, [...(byName.get(name) ?? []), String(value)]);
  for (const [name, values] of byName) headers[`X-Riak-Index-${name}`] = values.join(', ');
  return headers;
}

function upLink(location: ObjectLocation): string {
  const bucket = encodeURIComponent(location.bucket);
  return location.bucketType === DEFAULT_BUCKET_TYPE
    ? `</buckets/${bucket}>; rel="up"`
    : `</types/${encodeURIComponent(location.bucketType)}/buckets/${bucket}>; rel="up"`;
}

/** The path of a key, as the Location of a created object. */
export function objectPath(location: ObjectLocation): string {
  const tail = `buckets/${encodeURIComponent(location.bucket)}/keys/${encodeURIComponent(location.key)}`;
  return location.bucketType === DEFAULT_BUCKET_TYPE ? `/${tail}` : `/types/${encodeURIComponent(location.bucketType)}/${tail}`;
}

function notModified(conditions: Conditions | undefined, etag: string, lastModifiedMs: number): boolean {
  if (conditions === undefined) return false;
  if (conditions.ifNoneMatch !== undefined) {
    return conditions.ifNoneMatch.any || conditions.ifNoneMatch.etags.includes(etag);
  }
  if (conditions.ifModifiedSinceMs !== undefined) return secondsFloor(lastModifiedMs) <= conditions.ifModifiedSinceMs;
  return false;
}

/** Accept lists multipart/mixed with a non-zero q (a simplification of Riak's content negotiation). */
export function acceptsMultipart(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'multipart/mixed') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function chooseBoundary(contents: readonly Content[]): string {
  const seed = createHash('sha256')
    .update(contents.map((c) => c.meta.vtag).join(','))
    .digest('base64url')
    .replace(/[-_]/g, '');
  for (let attempt = 0; attempt < BOUNDARY_ATTEMPTS_MAX; attempt++) {
    const boundary = `${seed.slice(0, 24)}${attempt === 0 ? '' : attempt}`;
    const marker = Buffer.from(`--${boundary}`, 'utf8');
    if (contents.every((c) => Buffer.from(c.value.buffer, c.value.byteOffset, c.value.byteLength).indexOf(marker) < 0)) return boundary;
  }
  assert(false, 'a multipart boundary that occurs in no sibling value');
}

function siblingSetEtag(vclock: string): string {
  return createHash('sha256').update(vclock).digest('base64url').replace(/[-_]/g, '').slice(0, 22);
}

/** Entity tags are quoted strings on the wire (RFC 9110 8.8.3). */
export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** RFC 1123 / IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
export function httpDate(wallMs: number): string {
  return new Date(wallMs).toUTCString();
}

export function secondsFloor(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function renderNotFound(vclock?: string): HttpResponse {
  return textResponse(404, 'not found\n', vclock === undefined ? {} : { 'X-Riak-Vclock': vclock });
}

export interface RenderStoreOptions {
  location: ObjectLocation;
  /** The key was generated by the server (POST .../keys): 201 + Location. */
  created: boolean;
  /** The stored object, when the request asked for returnbody=true. */
  returnBody?: FetchedObject;
  accept?: string;
}

export function renderStore(opts: RenderStoreOptions): HttpResponse {
  const location: Record<string, string> = opts.created ? { Location: objectPath(opts.location) } : {};
  if (opts.returnBody === undefined) {
    return { status: opts.created ? 201 : 204, headers: location, body: '' };
  }
  const fetched = renderFetch(opts.returnBody, { location: opts.location, ...(opts.accept === undefined ? {} : { accept: opts.accept }) });
  Object.assign(fetched.headers, location);
  if (opts.created && fetched.status === 200) fetched.status = 201;
  return fetched;
}

export function renderDelete(): HttpResponse {
  return { status: 204, headers: {}, body: '' };
}

export function renderPing(): HttpResponse {
  return textResponse(200, 'OK');
}

export function renderJson(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };
}

function textResponse(status: number, body: string, extra: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'Content-Type': TEXT, ...extra }, body };
}
