// Coverage queries through the KV service on a simulated cluster: every key
// listed exactly once (replicas de-duplicated by the plan's filters), with a
// node down where replicas allow, and a clear refusal where they don't;
// list buckets; 2i through the service, with paging; deletes leave the index.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RondoError } from '../../../../src/core/errors.js';
import type { IndexChunk, IndexHit } from '../../../../src/kv/service.js';
import { formKvCluster, text, type KvSimCluster } from './harness.js';

async function collect<T>(c: KvSimCluster, gen: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  await c.drive(
    (async () => {
      for await (const chunk of gen) out.push(...chunk);
    })(),
  );
  return out;
}

async function indexAll(c: KvSimCluster, gen: AsyncGenerator<IndexChunk>): Promise<{ hits: IndexHit[]; continuation?: string }> {
  const hits: IndexHit[] = [];
  let continuation: string | undefined;
  await c.drive(
    (async () => {
      for await (const chunk of gen) {
        hits.push(...chunk.hits);
        continuation = chunk.continuation ?? continuation;
      }
    })(),
  );
  return continuation === undefined ? { hits } : { hits, continuation };
}

function crashDetected(c: KvSimCluster, name: string): void {
  c.crash(name);
  const others = c.liveNames();
  assert.ok(c.runUntil(() => others.every((n) => !c.node(n).upNodes().has(name)), 10_000), `${name} seen down`);
}

const bucketRef = { bucketType: 'default', bucket: 'users' };
const keyName = (i: number) => `user-${String(i).padStart(4, '0')}`;

async function load(c: KvSimCluster, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const content = { ...text(`v${i}`), indexes: [['age_int', i % 50] as [string, number], ['name_bin', `name-${i % 7}`] as [string, string]] };
    await c.drive(c.kv(`n${(i % 4) + 1}`).put({ ...bucketRef, key: keyName(i) }, { content }, { w: 3 }));
  }
  await c.drive(c.kv('n1').put({ bucketType: 'default', bucket: 'other', key: 'x' }, { content: text('x') }, { w: 3 }));
}

describe('KvService coverage queries', () => {
  it('lists every key exactly once, sorted, from any node; with a node down too', async () => {
    const c = await formKvCluster(4, { seed: 21, ringSize: 16 });
    await load(c, 300);
    const expected = Array.from({ length: 300 }, (_, i) => keyName(i));
    for (const node of ['n1', 'n3']) assert.deepEqual(await collect(c, c.kv(node).listKeys(bucketRef)), expected, `listed via ${node}`);
    assert.deepEqual(await collect(c, c.kv('n2').listBuckets('default')), ['other', 'users'].sort((a, b) => a.length - b.length || (a < b ? -1 : 1)));
    crashDetected(c, 'n4');
    // n_val 3 with ring 16 over 4 nodes: every keyspace still has an up primary.
    assert.deepEqual(await collect(c, c.kv('n1').listKeys(bucketRef)), expected, 'listed with n4 down');
    assert.deepEqual(new Set(await collect(c, c.kv('n2').listBuckets('default'))), new Set(['users', 'other']), 'buckets with n4 down');
  });

  it('refuses clearly when some keyspace has no up primary (n_val 1 and its owner down)', async () => {
    const c = await formKvCluster(3, { seed: 22, ringSize: 16 });
    await c.drive(c.kv('n1').put({ ...bucketRef, key: 'a' }, { content: text('a') }, { w: 1, props: { nVal: 1 } }));
    crashDetected(c, 'n3');
    assert.throws(
      () => c.kv('n1').listKeys(bucketRef, { props: { nVal: 1 } }),
      (err: unknown) => err instanceof RondoError && err.code === 'insufficient_vnodes' && /keyspace/.test(err.message),
    );
  });

  it('2i: equality, ranges, terms, $bucket, $key, and pages that join up exactly', async () => {
    const c = await formKvCluster(4, { seed: 23, ringSize: 16 });
    await load(c, 200);
    const kv = c.kv('n2');
    const eq = await indexAll(c, kv.indexQuery({ ...bucketRef, index: 'name_bin', start: 'name-3' }));
    assert.deepEqual(eq.hits.map((h) => h.key), Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 7 === 3).map(keyName));
    const range = await indexAll(c, kv.indexQuery({ ...bucketRef, index: 'age_int', start: 10, end: 12, returnTerms: true }));
    const expectedRange = Array.from({ length: 200 }, (_, i) => i)
      .filter((i) => i % 50 >= 10 && i % 50 <= 12)
      .map((i) => ({ term: i % 50, key: keyName(i) }))
      .sort((a, b) => a.term - b.term || (a.key < b.key ? -1 : 1));
    assert.deepEqual(range.hits, expectedRange);
    assert.equal(range.continuation, undefined);
    // Pages of 5 over the same range: each hit once, in order, continuations chain them.
    const paged: IndexHit[] = [];
    let continuation: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await indexAll(c, kv.indexQuery({ ...bucketRef, index: 'age_int', start: 10, end: 12, returnTerms: true, maxResults: 5, ...(continuation ? { continuation } : {}) }));
      paged.push(...r.hits);
      assert.ok(r.hits.length <= 5);
      continuation = r.continuation;
      if (continuation === undefined) break;
    }
    assert.deepEqual(paged, expectedRange);
    const all = await indexAll(c, kv.indexQuery({ ...bucketRef, index: '$bucket', start: 'users' }));
    assert.equal(all.hits.length, 200);
    const keyRange = await indexAll(c, kv.indexQuery({ ...bucketRef, index: '$key', start: keyName(10), end: keyName(14) }));
    assert.deepEqual(keyRange.hits.map((h) => h.key), [10, 11, 12, 13, 14].map(keyName));
    // A deleted object leaves the index.
    await c.drive(kv.delete({ ...bucketRef, key: keyName(3) }, { w: 3 }));
    const after = await indexAll(c, kv.indexQuery({ ...bucketRef, index: 'name_bin', start: 'name-3' }));
    assert.ok(!after.hits.some((h) => h.key === keyName(3)), 'deleted key gone from the index');
    assert.equal(after.hits.length, eq.hits.length - 1);
  });

  it('refuses malformed index queries before asking any vnode', () => {
    return (async () => {
      const c = await formKvCluster(3, { seed: 24, ringSize: 16 });
      const kv = c.kv('n1');
      for (const q of [
        { index: 'age', start: 1 },
        { index: 'age_int', start: 'x' },
        { index: 'name_bin', start: 5 },
        { index: 'age_int', start: 1, maxResults: 0 },
        { index: 'age_int', start: 1, continuation: 'garbage!' },
        { index: 'age_int', start: 1, continuation: Buffer.from('["a","k"]').toString('base64url') },
      ]) {
        assert.throws(() => kv.indexQuery({ ...bucketRef, ...q }), { code: 'invalid_argument' }, JSON.stringify(q));
      }
    })();
  });
});
