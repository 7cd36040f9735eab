// Rendering fetch, store and delete results; conditional requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  acceptsMultipart,
  checkStoreConditions,
  httpDate,
  parseConditions,
  renderDelete,
  renderFetch,
  renderNotFound,
  renderStore,
} from '../../../../src/api/http/codec/index.js';
import type { FetchedObject, HttpResponse } from '../../../../src/api/http/codec/index.js';
import { PreconditionFailedError } from '../../../../src/kv/errors.js';
import { decodeContext, encodeContext, makeContent } from '../../../../src/kv/object/index.js';
import type { Content } from '../../../../src/kv/object/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const location = { bucketType: 'default', bucket: 'my b', key: 'k' };

function content(vtag: string, value: string, extra: Partial<Parameters<typeof makeContent>[0]> = {}): Content {
  return makeContent({ value: enc.encode(value), contentType: 'text/plain', lastModified: { wallMs: T0, logical: 0 }, vtag, ...extra });
}
function obj(...contents: Content[]): FetchedObject {
  return { contents, context: [['n1/0', contents.length]] };
}
const text = (r: HttpResponse): string => {
  if (typeof r.body === 'string') return r.body;
  assert.ok(r.body instanceof Uint8Array, 'object responses are not streamed');
  return dec.decode(r.body);
};

test('one sibling: 200 with value and Riak headers', () => {
  const c = content('v1', 'hello', {
    charset: 'utf-8',
    contentEncoding: 'gzip',
    userMeta: [['color', 'blue']],
    indexes: [
      ['age_int', 42],
      ['age_int', 7],
      ['email_bin', 'a@x'],
    ],
  });
  const r = renderFetch(obj(c), { location });
  assert.equal(r.status, 200);
  assert.equal(text(r), 'hello');
  assert.deepEqual(r.headers, {
    'X-Riak-Vclock': encodeContext([['n1/0', 1]]),
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Encoding': 'gzip',
    Link: '</buckets/my%20b>; rel="up"',
    ETag: '"v1"',
    'Last-Modified': 'Tue, 02 Jan 2024 03:04:05 GMT',
    'X-Riak-Meta-color': 'blue',
    'X-Riak-Index-age_int': '7, 42',
    'X-Riak-Index-email_bin': 'a@x',
  });
  assert.deepEqual(decodeContext(r.headers['X-Riak-Vclock']), [['n1/0', 1]]);
  const typed = renderFetch(obj(c), { location: { ...location, bucketType: 't' } });
  assert.equal(typed.headers.Link, '</types/t/buckets/my%20b>; rel="up"');
  assert.equal(renderFetch(obj(c), { location, method: 'HEAD' }).body, '');
});

test('Last-Modified is an RFC 1123 date', () => {
  assert.equal(httpDate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
  assert.match(httpDate(T0), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
});

test('several siblings: 300 with the vtag list', () => {
  const later = content('v2', 'b', { lastModified: { wallMs: T0 + 5000, logical: 0 } });
  const r = renderFetch(obj(content('v1', 'a'), later), { location });
  assert.equal(r.status, 300);
  assert.equal(r.headers['Content-Type'], 'text/plain');
  assert.equal(text(r), 'Siblings:\nv1\nv2\n');
  assert.equal(r.headers['Last-Modified'], httpDate(T0 + 5000));
  assert.match(r.headers.ETag ?? '', /^"[0-9A-Za-z]+"$/);
  assert.ok(r.headers['X-Riak-Vclock']);
});

/** A small multipart/mixed parser, independent of the renderer. */
function parseMultipart(contentType: string, body: Uint8Array): { headers: Map<string, string>; value: string }[] {
  const m = /^multipart\/mixed; boundary=([0-9A-Za-z]+)$/.exec(contentType);
  assert.ok(m, contentType);
  const raw = Buffer.from(body).toString('latin1');
  const delimiter = `\r\n--${m[1]}`;
  const pieces = raw.split(delimiter);
  assert.equal(pieces[0], '', 'nothing before the first delimiter');
  assert.equal(pieces[pieces.length - 1], '--\r\n', 'closing delimiter');
  return pieces.slice(1, -1).map((piece) => {
    assert.ok(piece.startsWith('\r\n'));
    const end = piece.indexOf('\r\n\r\n');
    const headers = new Map(
      piece
        .slice(2, end)
        .split('\r\n')
        .map((line): [string, string] => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    return { headers, value: Buffer.from(piece.slice(end + 4), 'latin1').toString('utf8') };
  });
}

test('multipart/mixed when Accept asks: one well-formed part per sibling', () => {
  // A value that contains CRLFs and a would-be delimiter.
  const tricky = 'line1\r\n--notaboundary\r\n\r\nend';
  const r = renderFetch(obj(content('v1', tricky, { userMeta: [['m', 'x']] }), content('v2', 'ünï', { charset: 'utf-8', indexes: [['n_int', 3]] })), {
    location,
    accept: 'text/html, multipart/mixed;q=0.9',
  });
  assert.equal(r.status, 300);
  assert.ok(r.body instanceof Uint8Array);
  const parts = parseMultipart(r.headers['Content-Type'] ?? '', r.body);
  assert.equal(parts.length, 2);
  assert.equal(parts[0]?.value, tricky);
  assert.equal(parts[0]?.headers.get('etag'), '"v1"');
  assert.equal(parts[0]?.headers.get('content-type'), 'text/plain');
  assert.equal(parts[0]?.headers.get('x-riak-meta-m'), 'x');
  assert.equal(parts[0]?.headers.get('last-modified'), httpDate(T0));
  assert.equal(parts[1]?.value, 'ünï');
  assert.equal(parts[1]?.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(parts[1]?.headers.get('x-riak-index-n_int'), '3');
  assert.equal(parts[1]?.headers.get('link'), '</buckets/my%20b>; rel="up"');
});

test('a boundary that occurs in a value is not used', () => {
  const first = renderFetch(obj(content('v1', 'a'), content('v2', 'b')), { location, accept: 'multipart/mixed' });
  const boundary = /boundary=(.*)$/.exec(first.headers['Content-Type'] ?? '')?.[1] ?? '';
  const r = renderFetch(obj(content('v1', `x\r\n--${boundary}\r\ny`), content('v2', 'b')), { location, accept: 'multipart/mixed' });
  assert.ok(r.body instanceof Uint8Array);
  const parts = parseMultipart(r.headers['Content-Type'] ?? '', r.body);
  assert.equal(parts[0]?.value, `x\r\n--${boundary}\r\ny`);
});

test('Accept parsing', () => {
  assert.equal(acceptsMultipart(undefined), false);
  assert.equal(acceptsMultipart('*/*'), false);
  assert.equal(acceptsMultipart('Multipart/Mixed'), true);
  assert.equal(acceptsMultipart('multipart/mixed;q=0'), false);
});

test('?vtag= selects one sibling; an unknown vtag is 404', () => {
  const o = obj(content('v1', 'a'), content('v2', 'b'));
  const r = renderFetch(o, { location, vtag: 'v2' });
  assert.equal(r.status, 200);
  assert.equal(text(r), 'b');
  assert.equal(r.headers.ETag, '"v2"');
  const missing = renderFetch(o, { location, vtag: 'nope' });
  assert.equal(missing.status, 404);
  assert.match(text(missing), /nope/);
});

test('not found and deleted', () => {
  const nf = renderFetch(undefined, { location });
  assert.deepEqual(nf, renderNotFound());
  assert.equal(nf.status, 404);
  assert.equal(nf.body, 'not found\n');
  assert.equal(nf.headers['X-Riak-Vclock'], undefined);
  const tomb = makeContent({ value: new Uint8Array(0), lastModified: { wallMs: T0, logical: 0 }, vtag: 'dead', deleted: true });
  const del = renderFetch(obj(tomb), { location });
  assert.equal(del.status, 404);
  assert.ok(del.headers['X-Riak-Vclock'], 'a deleted key still gives its context');
  // A tombstone beside a live sibling is left out.
  assert.equal(renderFetch(obj(tomb, content('v1', 'a')), { location }).status, 200);
});

test('304 rules: If-None-Match on the ETag, If-Modified-Since only without If-None-Match', () => {
  const o = obj(content('v1', 'a'));
  const get = (h: Record<string, string>) => renderFetch(o, { location, conditions: parseConditions(h) }).status;
  assert.equal(get({ 'if-none-match': '"v1"' }), 304);
  assert.equal(get({ 'if-none-match': 'W/"v1"' }), 304);
  assert.equal(get({ 'if-none-match': '*' }), 304);
  assert.equal(get({ 'if-none-match': '"v0"' }), 200);
  // Second precision: the same second is "not modified".
  assert.equal(get({ 'if-modified-since': httpDate(T0) }), 304);
  assert.equal(get({ 'if-modified-since': httpDate(T0 - 1000) }), 200);
  assert.equal(get({ 'if-modified-since': 'garbage' }), 200);
  assert.equal(get({ 'if-none-match': '"v0"', 'if-modified-since': httpDate(T0) }), 200);
  const notMod = renderFetch(o, { location, conditions: { ifNoneMatch: { any: false, etags: ['v1'] } } });
  assert.equal(notMod.body, '');
  assert.equal(notMod.headers.ETag, '"v1"');
});

test('store responses: 204, returnbody 200/300, 201 + Location for generated keys', () => {
  assert.deepEqual(renderStore({ location, created: false }), { status: 204, headers: {}, body: '' });
  const created = renderStore({ location: { bucketType: 't y', bucket: 'b', key: 'k/1' }, created: true });
  assert.equal(created.status, 201);
  assert.equal(created.headers.Location, '/types/t%20y/buckets/b/keys/k%2F1');
  assert.equal(renderStore({ location, created: true }).headers.Location, '/buckets/my%20b/keys/k');
  const body = renderStore({ location, created: false, returnBody: obj(content('v1', 'a')) });
  assert.equal(body.status, 200);
  assert.equal(text(body), 'a');
  const createdBody = renderStore({ location, created: true, returnBody: obj(content('v1', 'a')) });
  assert.equal(createdBody.status, 201);
  assert.ok(createdBody.headers.Location);
  assert.equal(renderStore({ location, created: false, returnBody: obj(content('v1', 'a'), content('v2', 'b')) }).status, 300);
  assert.deepEqual(renderDelete(), { status: 204, headers: {}, body: '' });
});

test('conditional stores: 412 when the test fails', () => {
  const o = obj(content('v1', 'a'));
  const check = (h: Record<string, string>, current: FetchedObject | undefined) => {
    try {
      checkStoreConditions(parseConditions(h), current);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof PreconditionFailedError);
      return '412';
    }
  };
  assert.equal(check({ 'if-none-match': '*' }, undefined), 'ok');
  assert.equal(check({ 'if-none-match': '*' }, o), '412');
  assert.equal(check({ 'if-none-match': '"v1"' }, o), '412');
  assert.equal(check({ 'if-none-match': '"v0"' }, o), 'ok');
  assert.equal(check({ 'if-match': '"v1"' }, o), 'ok');
  assert.equal(check({ 'if-match': '"v0"' }, o), '412');
  assert.equal(check({ 'if-match': '*' }, undefined), '412');
  assert.equal(check({ 'if-unmodified-since': httpDate(T0) }, o), 'ok');
  assert.equal(check({ 'if-unmodified-since': httpDate(T0 - 1000) }, o), '412');
  assert.equal(check({ 'if-modified-since': httpDate(T0) }, o), '412');
  assert.equal(check({ 'if-modified-since': httpDate(T0 - 1000) }, o), 'ok');
});
