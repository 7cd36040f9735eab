// Listing and secondary indexes over Riak's HTTP API on one real node
// (TCP, LMDB, node:http): the JSON shapes Riak documents, streamed bodies,
// paging with continuations, and 4xx/404 for what cannot be answered.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/cli/config.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { tempDir } from '../helpers/processes.js';

describe('HTTP listing and secondary indexes on one node', { timeout: 60_000 }, () => {
  const dir = tempDir('rondo-http-listing-');
  let node: RunningNode;
  let base = '';
  const KEYS = 1_500; // more than one vnode page and one response chunk

  before(async () => {
    node = await startNode(resolveConfig({ name: 'l1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir.path, 'l1'), clusterSecret: 'http-test-secret', logLevel: 'warn' }));
    base = `http://${node.httpAddress}`;
    const writes: Promise<Response>[] = [];
    for (let i = 0; i < KEYS; i++) {
      writes.push(
        fetch(`${base}/types/default/buckets/people/keys/p${i}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'text/plain', 'X-Riak-Index-Age_int': String(i % 100), 'X-Riak-Index-City_bin': i % 2 === 0 ? 'Oslo' : 'Lima' },
          body: `person ${i}`,
        }),
      );
      if (writes.length === 64) for (const r of writes.splice(0)) assert.equal((await r).status, 204);
    }
    for (const r of writes) assert.equal((await r).status, 204);
    assert.equal((await fetch(`${base}/buckets/pets/keys/rex`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'dog' })).status, 204);
  });
  after(async () => {
    await node.stop();
    dir.remove();
  });

  const expectedKeys = (filter: (i: number) => boolean = () => true) => Array.from({ length: KEYS }, (_, i) => i).filter(filter).map((i) => `p${i}`);

  it('?keys=true: one JSON object with every key once, sent chunked', async () => {
    const res = await fetch(`${base}/buckets/people/keys?keys=true`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const body = (await res.json()) as { keys: string[] };
    assert.deepEqual([...body.keys].sort(), expectedKeys().sort());
  });

  it('?keys=stream: a sequence of {"keys": [...]} objects that together hold every key once', async () => {
    const text = await (await fetch(`${base}/types/default/buckets/people/keys?keys=stream`)).text();
    const parts = text.split(/(?<=\})(?=\{)/).map((p) => JSON.parse(p) as { keys: string[] });
    assert.ok(parts.length >= 2, `streamed in ${parts.length} part(s)`);
    assert.deepEqual(parts.flatMap((p) => p.keys).sort(), expectedKeys().sort());
  });

  it('listing needs keys=true|stream; an unknown type is 404', async () => {
    assert.equal((await fetch(`${base}/buckets/people/keys`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/keys?keys=maybe`)).status, 400);
    assert.equal((await fetch(`${base}/types/nosuch/buckets/people/keys?keys=true`)).status, 404);
    assert.equal((await fetch(`${base}/types/nosuch/buckets?buckets=true`)).status, 404);
  });

  it('?buckets=true and ?buckets=stream', async () => {
    assert.deepEqual(((await (await fetch(`${base}/buckets?buckets=true`)).json()) as { buckets: string[] }).buckets.sort(), ['people', 'pets']);
    const streamed = await (await fetch(`${base}/types/default/buckets?buckets=stream`)).text();
    assert.deepEqual(streamed.split(/(?<=\})(?=\{)/).flatMap((p) => (JSON.parse(p) as { buckets: string[] }).buckets).sort(), ['people', 'pets']);
  });

  it('2i: equality on _bin, range on _int with return_terms, $bucket and $key', async () => {
    const eq = (await (await fetch(`${base}/buckets/people/index/city_bin/Lima`)).json()) as { keys: string[] };
    assert.deepEqual(eq.keys.sort(), expectedKeys((i) => i % 2 === 1).sort());
    const range = (await (await fetch(`${base}/types/default/buckets/people/index/age_int/97/99?return_terms=true`)).json()) as { results: Record<string, string>[] };
    const pairs = range.results.map((r) => Object.entries(r)[0] as [string, string]);
    assert.equal(pairs.length, 45);
    assert.ok(pairs.every(([term, key]) => Number(key.slice(1)) % 100 === Number(term)));
    assert.deepEqual(pairs.map(([term]) => Number(term)), [...pairs.map(([term]) => Number(term))].sort((a, b) => a - b), 'sorted by term');
    const all = (await (await fetch(`${base}/buckets/people/index/$bucket/people`)).json()) as { keys: string[] };
    assert.equal(all.keys.length, KEYS);
    const keyRange = (await (await fetch(`${base}/buckets/people/index/$key/p10/p12`)).json()) as { keys: string[] };
    // Keys between p10 and p12 inclusive, in byte order (p10, p100, p1000, ..., p12).
    assert.deepEqual(keyRange.keys, expectedKeys().filter((k) => k >= 'p10' && k <= 'p12').sort());
  });

  it('2i paging: max_results pages joined by continuations give every hit once, in order', async () => {
    const seen: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const url = `${base}/buckets/people/index/age_int/0/9?max_results=40${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ''}`;
      const page = (await (await fetch(url)).json()) as { keys: string[]; continuation?: string };
      assert.ok(page.keys.length <= 40);
      seen.push(...page.keys);
      continuation = page.continuation;
      pages++;
    } while (continuation !== undefined && pages < 20);
    assert.equal(continuation, undefined, 'the last page has no continuation');
    assert.equal(seen.length, new Set(seen).size, 'no hit twice');
    assert.deepEqual([...seen].sort(), expectedKeys((i) => i % 100 <= 9).sort());
    assert.equal(pages, Math.ceil(seen.length / 40));
  });

  it('2i refusals: bad _int term, bad max_results, bad continuation, term_regex, non-GET', async () => {
    assert.equal((await fetch(`${base}/buckets/people/index/age_int/abc`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/index/age_int/1?max_results=0`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/index/age_int/1?continuation=%21%21`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/index/city_bin/a?term_regex=.*`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/index/badname/1`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/index/age_int/1`, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${base}/buckets/people/index/age_int/1?stream=maybe`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/index/age_int/1?timeout=0`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/keys?keys=true&timeout=99999999999`)).status, 400);
    assert.equal((await fetch(`${base}/buckets/people/keys?keys=true&timeout=30000`)).status, 200);
  });
});
