// The Riak HTTP API of one real node (TCP, LMDB, node:http) in this process:
// status codes and headers as Riak documents them, and bad input answered
// with a clear 4xx that writes nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/cli/config.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { tempDir } from '../helpers/processes.js';

describe('Riak HTTP API on one node', { timeout: 60_000 }, () => {
  const dir = tempDir('rondo-http-');
  let node: RunningNode;
  let base = '';

  before(async () => {
    node = await startNode(resolveConfig({ name: 'h1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir.path, 'h1'), clusterSecret: 'http-test-secret', logLevel: 'warn' }));
    base = `http://${node.httpAddress}`;
  });
  after(async () => {
    await node.stop();
    dir.remove();
  });

  const put = (path: string, body: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', ...headers }, body });

  it('stores and fetches with metadata, indexes, ETag, Last-Modified and vclock', async () => {
    const stored = await put('/buckets/b/keys/k?returnbody=true', 'v1', { 'X-Riak-Meta-Color': 'red', 'X-Riak-Index-Age_int': '42', 'Content-Type': 'text/plain; charset=utf-8' });
    assert.equal(stored.status, 200);
    assert.equal(await stored.text(), 'v1');
    const res = await fetch(`${base}/buckets/b/keys/k`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-riak-meta-color'), 'red');
    assert.equal(res.headers.get('x-riak-index-age_int'), '42');
    assert.match(res.headers.get('content-type') ?? '', /text\/plain; charset=utf-8/);
    assert.match(res.headers.get('etag') ?? '', /^"[A-Za-z0-9]+"$/);
    assert.ok(res.headers.get('last-modified'));
    assert.ok(res.headers.get('x-riak-vclock'));
    const notModified = await fetch(`${base}/buckets/b/keys/k`, { headers: { 'If-None-Match': res.headers.get('etag') ?? '' } });
    assert.equal(notModified.status, 304);
  });

  it('POST to .../keys generates a key (201 + Location); 404 for a missing key', async () => {
    const created = await fetch(`${base}/buckets/b/keys`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"x":1}' });
    assert.equal(created.status, 201);
    const location = created.headers.get('location') ?? '';
    assert.match(location, /^\/buckets\/b\/keys\/[A-Za-z0-9_-]{22}$/);
    assert.equal(await (await fetch(`${base}${location}`)).text(), '{"x":1}');
    const missing = await fetch(`${base}/buckets/b/keys/absent`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'not found\n');
  });

  it('conditional puts: If-None-Match: * refuses an existing key with 412 and writes nothing', async () => {
    assert.equal((await put('/buckets/c/keys/k', 'first')).status, 204);
    const refused = await put('/buckets/c/keys/k', 'second', { 'If-None-Match': '*' });
    assert.equal(refused.status, 412);
    assert.equal(await (await fetch(`${base}/buckets/c/keys/k`)).text(), 'first');
  });

  it('siblings: 300 with vtags, multipart/mixed on request, ?vtag= picks one', async () => {
    const created = await fetch(`${base}/types/nosuch/props`);
    assert.equal(created.status, 404);
    const { BucketTypeAdmin } = await import('../../src/kv/admin/index.js');
    const admin = new BucketTypeAdmin(node.metadata);
    admin.handle({ type: 'bucket-type.create', name: 'm', props: '{"props":{"allow_mult":true}}' });
    admin.handle({ type: 'bucket-type.activate', name: 'm' });
    assert.equal((await put('/types/m/buckets/b/keys/k', 'one')).status, 204);
    assert.equal((await put('/types/m/buckets/b/keys/k', 'two')).status, 204);
    const list = await fetch(`${base}/types/m/buckets/b/keys/k`);
    assert.equal(list.status, 300);
    const vtags = (await list.text()).split('\n').slice(1).filter(Boolean);
    assert.equal(vtags.length, 2);
    const one = await fetch(`${base}/types/m/buckets/b/keys/k?vtag=${vtags[0]}`);
    assert.equal(one.status, 200);
    const multipart = await fetch(`${base}/types/m/buckets/b/keys/k`, { headers: { Accept: 'multipart/mixed' } });
    assert.equal(multipart.status, 300);
    assert.match(multipart.headers.get('content-type') ?? '', /^multipart\/mixed; boundary=/);
    const text = await multipart.text();
    assert.ok(text.includes('one') && text.includes('two'));
    const resolved = await put('/types/m/buckets/b/keys/k', 'three', { 'X-Riak-Vclock': list.headers.get('x-riak-vclock') ?? '' });
    assert.equal(resolved.status, 204);
    assert.equal(await (await fetch(`${base}/types/m/buckets/b/keys/k`)).text(), 'three');
  });

  it('bad input gets a clear 4xx and writes nothing', async () => {
    const cases: [string, Response, number, RegExp][] = [
      ['bad vclock', await put('/buckets/d/keys/k', 'x', { 'X-Riak-Vclock': '!!!' }), 400, /vclock/],
      ['bad quorum', await put('/buckets/d/keys/k?w=seven', 'x'), 400, /w=/],
      ['quorum above n_val', await put('/buckets/d/keys/k?w=4', 'x'), 400, /n_val/],
      ['bad _int index', await put('/buckets/d/keys/k', 'x', { 'X-Riak-Index-Age_int': 'old' }), 400, /age_int|integer/i],
      ['unknown bucket type', await put('/types/ghost/buckets/d/keys/k', 'x'), 404, /ghost/],
      ['missing content type', await fetch(`${base}/buckets/d/keys/k`, { method: 'PUT', body: Buffer.from('x') }), 400, /Content-Type/], // a string body would get text/plain from fetch
      ['bad props JSON', await fetch(`${base}/buckets/d/props`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{"props":{"n_val":"x"}}' }), 400, /n_val/],
      ['bad escape in key', await fetch(`${base}/buckets/d/keys/%zz`), 400, /escape|percent|%/i],
      ['unknown path', await fetch(`${base}/nothing/here`), 404, /./],
    ];
    for (const [what, res, status, message] of cases) {
      assert.equal(res.status, status, `${what}: status`);
      assert.match(await res.text(), message, `${what}: message`);
    }
    assert.equal((await fetch(`${base}/buckets/d/keys/k`)).status, 404, 'something was written');
  });

  it('refuses an oversized body with 413', async () => {
    const big = 'x'.repeat(51 * 1024 * 1024);
    const res = await put('/buckets/e/keys/big', big);
    assert.equal(res.status, 413);
    assert.equal((await fetch(`${base}/buckets/e/keys/big`)).status, 404);
  });

  it('bucket props: GET shows Riak defaults, PUT changes them, DELETE resets; /ping and /stats', async () => {
    const props = (await (await fetch(`${base}/buckets/p/props`)).json()) as { props: Record<string, unknown> };
    assert.equal(props.props.n_val, 3);
    assert.equal(props.props.allow_mult, false);
    assert.equal(props.props.r, 'quorum');
    assert.equal((await fetch(`${base}/buckets/p/props`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{"props":{"n_val":2}}' })).status, 204);
    assert.equal(((await (await fetch(`${base}/buckets/p/props`)).json()) as { props: { n_val: number } }).props.n_val, 2);
    assert.equal((await fetch(`${base}/buckets/p/props`, { method: 'DELETE' })).status, 204);
    assert.equal(((await (await fetch(`${base}/buckets/p/props`)).json()) as { props: { n_val: number } }).props.n_val, 3);
    assert.equal(await (await fetch(`${base}/ping`)).text(), 'OK');
    const stats = (await (await fetch(`${base}/stats`)).json()) as Record<string, unknown>;
    assert.equal(stats.nodename, 'h1');
    assert.equal(stats.storage_backend, 'lmdb');
  });

  it('DELETE removes; a second DELETE is 404', async () => {
    assert.equal((await put('/buckets/f/keys/k', 'v')).status, 204);
    assert.equal((await fetch(`${base}/buckets/f/keys/k`, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(`${base}/buckets/f/keys/k`)).status, 404);
    assert.equal((await fetch(`${base}/buckets/f/keys/k`, { method: 'DELETE' })).status, 404);
  });
});

describe('configured object limits', { timeout: 60_000 }, () => {
  const dir = tempDir('rondo-http-limits-');
  let node: RunningNode;
  let base = '';

  before(async () => {
    node = await startNode(
      resolveConfig({ name: 'l1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir.path, 'l1'), clusterSecret: 'http-test-secret', logLevel: 'silent', objectBytesWarn: 500, objectBytesMax: 2_000, siblingsWarn: 2, siblingsMax: 3 }),
    );
    base = `http://${node.httpAddress}`;
    const { BucketTypeAdmin } = await import('../../src/kv/admin/index.js');
    const admin = new BucketTypeAdmin(node.metadata);
    admin.handle({ type: 'bucket-type.create', name: 'm', props: '{"props":{"allow_mult":true}}' });
    admin.handle({ type: 'bucket-type.activate', name: 'm' });
  });
  after(async () => {
    await node.stop();
    dir.remove();
  });

  it('refuses an object above objectBytesMax with 413, stores one above objectBytesWarn', async () => {
    const put = (key: string, size: number) => fetch(`${base}/buckets/b/keys/${key}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(size) });
    assert.equal((await put('warned', 1_000)).status, 204);
    const refused = await put('refused', 3_000);
    assert.equal(refused.status, 413);
    assert.match(await refused.text(), /b\/refused|3\d{3}|2000/);
    assert.equal((await fetch(`${base}/buckets/b/keys/refused`)).status, 404);
  });

  it('refuses a write that would leave more than siblingsMax siblings', async () => {
    const put = (value: string) => fetch(`${base}/types/m/buckets/b/keys/k`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: value });
    for (const value of ['a', 'b', 'c']) assert.equal((await put(value)).status, 204);
    const refused = await put('d');
    assert.equal(refused.status, 413);
    assert.match(await refused.text(), /sibling/);
    const list = await fetch(`${base}/types/m/buckets/b/keys/k`);
    assert.equal((await list.text()).split('\n').filter(Boolean).length - 1, 3, 'the refused write was stored');
  });
});
