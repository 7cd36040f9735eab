// Every route, percent-encoded names, bad escapes, wrong methods, query strings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HttpError, parseQuery, parseRoute } from '../../../../src/api/http/codec/index.js';
import type { Route } from '../../../../src/api/http/codec/index.js';

function ok(method: string, url: string): Route {
  const r = parseRoute(method, url);
  assert.ok(!(r instanceof HttpError), `${method} ${url}: ${r instanceof HttpError ? r.message : ''}`);
  return r;
}
function fail(method: string, url: string, status: number): HttpError {
  const r = parseRoute(method, url);
  assert.ok(r instanceof HttpError, `${method} ${url} should fail`);
  assert.equal(r.status, status, r.message);
  return r;
}

test('object routes with and without a type', () => {
  for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']) {
    const typed = ok(method, '/types/t1/buckets/b1/keys/k1');
    assert.deepEqual({ ...typed, query: undefined }, { kind: 'object', method, bucketType: 't1', bucket: 'b1', key: 'k1', legacy: false, query: undefined });
    const plain = ok(method.toLowerCase(), '/buckets/b1/keys/k1');
    assert.equal(plain.kind, 'object');
    assert.ok(plain.kind === 'object' && plain.bucketType === 'default' && plain.method === method);
  }
});

test('POST to keys generates a key, GET lists them; other methods are 405 with Allow', () => {
  const r = ok('POST', '/types/t/buckets/b/keys?returnbody=true');
  assert.equal(r.kind, 'object-create');
  assert.equal(r.query.get('returnbody'), 'true');
  const list = ok('GET', '/types/t/buckets/b/keys?keys=stream');
  assert.ok(list.kind === 'list-keys' && list.bucketType === 't' && list.bucket === 'b' && list.query.get('keys') === 'stream');
  const e = fail('PUT', '/buckets/b/keys', 405);
  assert.deepEqual(e.allow, ['GET', 'POST']);
});

test('bucket listing and index routes', () => {
  const b = ok('GET', '/types/t/buckets?buckets=true');
  assert.ok(b.kind === 'list-buckets' && b.bucketType === 't');
  assert.ok(ok('GET', '/buckets?buckets=true').kind === 'list-buckets');
  fail('POST', '/buckets', 405);
  const eq = ok('GET', '/types/t/buckets/b/index/name_bin/a%2Fb');
  assert.ok(eq.kind === 'index' && eq.index === 'name_bin' && eq.start === 'a/b' && eq.end === undefined);
  const range = ok('GET', '/buckets/b/index/age_int/-5/10?max_results=2');
  assert.ok(range.kind === 'index' && range.bucketType === 'default' && range.start === '-5' && range.end === '10');
  assert.equal(ok('GET', '/buckets/b/index/$bucket/b').kind, 'index');
  fail('PUT', '/buckets/b/index/age_int/1', 405);
  fail('GET', '/buckets/b/index/age_int', 404);
});

test('bucket props, type props, ping, stats', () => {
  for (const m of ['GET', 'PUT', 'DELETE']) assert.equal(ok(m, '/types/t/buckets/b/props').kind, 'bucket-props');
  for (const m of ['GET', 'PUT', 'DELETE']) assert.equal(ok(m, '/buckets/b/props').kind, 'bucket-props');
  fail('POST', '/buckets/b/props', 405);
  const tp = ok('GET', '/types/t/props');
  assert.ok(tp.kind === 'type-props' && tp.bucketType === 't');
  assert.equal(ok('PUT', '/types/t/props').kind, 'type-props');
  fail('DELETE', '/types/t/props', 405);
  assert.equal(ok('GET', '/ping').kind, 'ping');
  assert.equal(ok('GET', '/ping/').kind, 'ping');
  assert.equal(ok('GET', '/stats').kind, 'stats');
  fail('PUT', '/ping', 405);
});

test('legacy /riak/B/K and /riak/B', () => {
  const o = ok('GET', '/riak/b/k?r=1');
  assert.ok(o.kind === 'object' && o.legacy && o.bucket === 'b' && o.key === 'k' && o.bucketType === 'default');
  assert.equal(ok('POST', '/riak/b').kind, 'object-create');
  assert.equal(ok('GET', '/riak/b').kind, 'bucket-props');
  fail('DELETE', '/riak/b', 405);
});

test('names are percent-decoded after splitting; %2F stays inside a name', () => {
  const r = ok('GET', '/types/my%20type/buckets/a%2Fb/keys/k%C3%A9y%3F+1');
  assert.ok(r.kind === 'object');
  assert.equal(r.bucketType, 'my type');
  assert.equal(r.bucket, 'a/b');
  assert.equal(r.key, 'kéy?+1'); // "+" is literal in a path
});

test('bad escapes and empty names are 400 naming the part', () => {
  assert.match(fail('GET', '/buckets/b/keys/%zz', 400).message, /key/);
  assert.match(fail('GET', '/buckets/%E0%A4%A/keys/k', 400).message, /bucket/);
  assert.match(fail('GET', '/types/%/buckets/b/keys/k', 400).message, /bucket type/);
  assert.match(fail('GET', '/buckets//keys/k', 400).message, /bucket name must not be empty/);
  assert.match(fail('GET', '/buckets/b/keys/k?r=%G1', 400).message, /query parameter/);
});

test('unknown paths are 404', () => {
  for (const url of ['/', '/nope', '/buckets/b', '/buckets/b/keys/k/extra', '/types/t', '/types/t/buckets/b/other', '/riak', 'buckets/b/keys/k']) {
    const r = parseRoute('GET', url);
    assert.ok(r instanceof HttpError, url);
    assert.ok(r.status === 404 || r.status === 400, `${url}: ${r.status}`);
  }
  fail('GET', '/a/b/c/d/e/f/g/h/i/j', 404);
});

test('query strings: + is a space, first value wins, flags without = are empty', () => {
  const q = parseQuery('r=2&r=3&x=a+b%21&flag&&');
  assert.equal(q.get('r'), '2');
  assert.equal(q.get('x'), 'a b!');
  assert.equal(q.get('flag'), '');
  assert.equal(parseQuery('').size, 0);
  assert.throws(() => parseQuery(Array.from({ length: 100 }, (_, i) => `p${i}=1`).join('&')), HttpError);
});

test('fast-check: any method and URL give a Route or an HttpError; encoded names round-trip', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 60 }), (method, url) => {
      const r = parseRoute(method, url);
      assert.ok(r instanceof HttpError || typeof r.kind === 'string');
    }),
    { numRuns: 500 },
  );
  const name = fc.string({ minLength: 1, maxLength: 12 });
  fc.assert(
    fc.property(name, name, name, (t, b, k) => {
      const r = parseRoute('GET', `/types/${encodeURIComponent(t)}/buckets/${encodeURIComponent(b)}/keys/${encodeURIComponent(k)}`);
      assert.ok(!(r instanceof HttpError) && r.kind === 'object');
      assert.deepEqual([r.bucketType, r.bucket, r.key], [t, b, k]);
    }),
    { numRuns: 300 },
  );
});
