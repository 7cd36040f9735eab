// Query options and store headers: good values parse, each bad one is a typed
// 400 naming the parameter; random header maps throw nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  HttpError,
  parseConditions,
  parseDeleteOptions,
  parsePropsRequest,
  parseQuery,
  parseReadOptions,
  parseStoreRequest,
  parseWriteOptions,
  statusForCode,
} from '../../../../src/api/http/codec/index.js';
import { BadBucketPropsError } from '../../../../src/kv/buckets/index.js';
import { BadQuorumError } from '../../../../src/kv/coord/quorum/index.js';
import { InvalidContextError, InvalidIndexError, InvalidMetadataError } from '../../../../src/kv/errors.js';
import { encodeContext } from '../../../../src/kv/object/index.js';
import { RondoError } from '../../../../src/core/errors.js';

const q = (s: string) => parseQuery(s);
const body = new TextEncoder().encode('hello');

test('read options', () => {
  assert.deepEqual(parseReadOptions(q('')), { quorums: {} });
  assert.deepEqual(parseReadOptions(q('r=2&pr=one&basic_quorum=true&notfound_ok=false&timeout=1500&vtag=abc')), {
    quorums: { r: 2, pr: 'one' },
    basicQuorum: true,
    notfoundOk: false,
    timeoutMs: 1500,
    vtag: 'abc',
  });
});

test('write and delete options', () => {
  assert.deepEqual(parseWriteOptions(q('')), { quorums: {}, returnBody: false });
  assert.deepEqual(parseWriteOptions(q('w=all&dw=quorum&pw=0&returnbody=true&timeout=5')), { quorums: { w: 'all', dw: 'quorum', pw: 0 }, returnBody: true, timeoutMs: 5 });
  assert.deepEqual(parseDeleteOptions(q('rw=1&r=2&w=3&pr=one&pw=all&dw=default')), { quorums: { rw: 1, r: 2, w: 3, pr: 'one', pw: 'all', dw: 'default' } });
});

test('each bad option value names its parameter and maps to 400', () => {
  const cases: [() => unknown, string][] = [
    [() => parseReadOptions(q('r=two')), 'r'],
    [() => parseReadOptions(q('pr=-1')), 'pr'],
    [() => parseReadOptions(q('basic_quorum=yes')), 'basic_quorum'],
    [() => parseReadOptions(q('notfound_ok=1')), 'notfound_ok'],
    [() => parseReadOptions(q('timeout=0')), 'timeout'],
    [() => parseReadOptions(q('timeout=1.5')), 'timeout'],
    [() => parseReadOptions(q('vtag=')), 'vtag'],
    [() => parseWriteOptions(q('w=')), 'w'],
    [() => parseWriteOptions(q('dw=many')), 'dw'],
    [() => parseWriteOptions(q('pw=1e3')), 'pw'],
    [() => parseWriteOptions(q('returnbody=TRUE')), 'returnbody'],
    [() => parseWriteOptions(q('timeout=99999999999')), 'timeout'],
    [() => parseDeleteOptions(q('rw=x')), 'rw'],
    [() => parseDeleteOptions(q('timeout=-5')), 'timeout'],
  ];
  for (const [run, name] of cases) {
    try {
      run();
      assert.fail(`expected an error for ${name}`);
    } catch (err) {
      assert.ok(err instanceof HttpError || err instanceof BadQuorumError, String(err));
      assert.ok(err.message.startsWith(`${name}=`) || err.message.startsWith(`${name} `), err.message);
      assert.equal(err instanceof HttpError ? err.status : statusForCode(err.code), 400);
    }
  }
});

test('store request: content type, charset, encoding, meta, indexes, vclock', () => {
  const vclock = encodeContext([['n1/0', 3]]);
  const r = parseStoreRequest(
    {
      'Content-Type': 'text/plain; charset="UTF-8"; format=flowed',
      'content-encoding': 'gzip',
      'X-Riak-Vclock': vclock,
      'X-Riak-Meta-Color': ' blue ',
      'x-riak-meta-size': 'L',
      'X-Riak-Index-Email_BIN': 'a@x, b@x,,',
      'x-riak-index-age_int': '42, -7',
      'if-none-match': '*',
      'If-Match': '"v1", W/"v2"',
      'If-Modified-Since': 'Sun, 06 Nov 1994 08:49:37 GMT',
      'If-Unmodified-Since': 'not a date',
    },
    body,
  );
  assert.deepEqual(r.context, [['n1/0', 3]]);
  assert.equal(r.content.value, body);
  assert.equal(r.content.contentType, 'text/plain');
  assert.equal(r.content.charset, 'UTF-8');
  assert.equal(r.content.contentEncoding, 'gzip');
  assert.deepEqual(r.content.userMeta, [
    ['color', 'blue'],
    ['size', 'L'],
  ]);
  assert.deepEqual(r.content.indexes, [
    ['email_bin', 'a@x'],
    ['email_bin', 'b@x'],
    ['age_int', 42],
    ['age_int', -7],
  ]);
  assert.deepEqual(r.conditions, {
    ifNoneMatch: { any: true },
    ifMatch: { any: false, etags: ['v1', 'v2'] },
    ifModifiedSinceMs: Date.UTC(1994, 10, 6, 8, 49, 37),
  });
  assert.deepEqual(parseStoreRequest({ 'content-type': 'application/json' }, body).context, []);
  assert.deepEqual(parseConditions({ 'if-none-match': '"a","b"' }), { ifNoneMatch: { any: false, etags: ['a', 'b'] } });
});

test('store request errors: missing content type, bad vclock, bad _int, bad index name, bad meta', () => {
  const status = (err: unknown) => (err instanceof HttpError ? err.status : err instanceof RondoError ? statusForCode(err.code) : 0);
  const cases: [Record<string, string>, new (...a: never[]) => Error, RegExp][] = [
    [{}, HttpError, /Missing Content-Type/],
    [{ 'content-type': '  ' }, HttpError, /Missing Content-Type/],
    [{ 'content-type': 'nonsense' }, HttpError, /Content-Type/],
    [{ 'content-type': 'text/plain', 'x-riak-vclock': 'not base64!' }, InvalidContextError, /vclock/],
    [{ 'content-type': 'text/plain', 'x-riak-vclock': 'AAAA' }, InvalidContextError, /vclock/],
    [{ 'content-type': 'text/plain', 'x-riak-index-n_int': '12, x' }, InvalidIndexError, /n_int/],
    [{ 'content-type': 'text/plain', 'x-riak-index-n_int': '1.5' }, InvalidIndexError, /n_int/],
    [{ 'content-type': 'text/plain', 'x-riak-index-name': 'v' }, InvalidIndexError, /_bin or _int/],
    [{ 'content-type': 'text/plain', 'x-riak-meta-': 'v' }, HttpError, /X-Riak-Meta-/],
    [{ 'content-type': 'text/plain', 'x-riak-meta-a': 'v\nw' }, InvalidMetadataError, /CR, LF/],
  ];
  for (const [headers, type, message] of cases) {
    assert.throws(
      () => parseStoreRequest(headers, body),
      (err: unknown) => err instanceof type && message.test((err as Error).message) && status(err) === 400,
      JSON.stringify(headers),
    );
  }
});

test('fast-check: random header maps throw only typed 4xx errors', () => {
  const names = fc.oneof(
    fc.constantFrom('content-type', 'Content-Type', 'x-riak-vclock', 'content-encoding', 'if-none-match', 'if-match', 'if-modified-since', 'if-unmodified-since'),
    fc.string({ maxLength: 12 }).map((s) => `x-riak-meta-${s}`),
    fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom('_bin', '_int', '')).map(([s, t]) => `X-Riak-Index-${s}${t}`),
    fc.string({ maxLength: 12 }),
  );
  const values = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('text/plain', 'application/json; charset=utf-8', '*', '1,2,3', '-5', encodeContext([['a', 1]])),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  );
  fc.assert(
    fc.property(fc.dictionary(names, values, { maxKeys: 8 }), (headers) => {
      try {
        parseStoreRequest(headers, body);
      } catch (err) {
        assert.ok(err instanceof RondoError, `untyped error: ${String(err)}`);
        const s = err instanceof HttpError ? err.status : statusForCode(err.code);
        assert.equal(s, 400, `${err.code}: ${err.message}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('props requests: JSON only (415 otherwise), {"props": {...}} or 400', () => {
  const json = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual(parsePropsRequest({ 'Content-Type': 'application/json; charset=utf-8' }, json('{"props":{"n_val":3}}')), { n_val: 3 });
  assert.throws(
    () => parsePropsRequest({ 'content-type': 'text/plain' }, json('{"props":{}}')),
    (e: unknown) => e instanceof HttpError && e.status === 415,
  );
  assert.throws(
    () => parsePropsRequest({}, json('{}')),
    (e: unknown) => e instanceof HttpError && e.status === 415,
  );
  for (const bad of ['{', '[]', '{"props":1}', '\u00ff']) {
    assert.throws(
      () => parsePropsRequest({ 'content-type': 'application/json' }, bad === '\u00ff' ? new Uint8Array([0xff]) : json(bad)),
      (e: unknown) => e instanceof BadBucketPropsError && statusForCode(e.code) === 400,
      bad,
    );
  }
});
