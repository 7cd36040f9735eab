// Listing commands of the KV vnode: fold-keys with keyspace filters and bounded
// pages, fold-buckets, index-query; and refusal of malformed ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WireMessage } from '../../../../src/core/env.js';
import { keyspaceOf } from '../../../../src/core/coverage/index.js';
import { chashKey } from '../../../../src/core/ring/hash.js';
import type { IndexEntry } from '../../../../src/kv/backend/index.js';
import { parseKvMessage } from '../../../../src/kv/coord/messages.js';
import type { FoldKeysCommand, IndexQueryCommand, KvCommand, KvReply } from '../../../../src/kv/vnode/index.js';
import { KEY, MULT, expectKind, harness } from './helpers.js';
import type { Harness } from './helpers.js';

const RING = 16;
const keyspace = (key: string, bucket = KEY.bucket): number => keyspaceOf(chashKey(KEY.bucketType, bucket, key), RING);
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const names = (count: number, prefix = 'k'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

/** Writes rows straight to the store: listing reads only keys and index rows. */
async function store(h: Harness, keys: readonly string[], indexes: (key: string, i: number) => IndexEntry[] = () => [], bucket = KEY.bucket, bucketType = KEY.bucketType): Promise<void> {
  const p = h.engine.partition(h.partition);
  await p.putMany(keys.map((key, i) => ({ key: { bucketType, bucket, key }, value: new Uint8Array([1]), indexes: indexes(key, i) })));
}

/** Runs a paged command to the end; returns every page. */
async function pages<R extends KvReply>(h: Harness, first: KvCommand, kind: R['kind'], next: (c: KvCommand, r: R) => KvCommand | undefined): Promise<R[]> {
  const out: R[] = [];
  for (let c: KvCommand | undefined = first; c !== undefined; ) {
    assert.ok(out.length < 10_000, 'paging ends');
    const reply = expectKind(await h.run(c), kind) as unknown as R;
    out.push(reply);
    c = next(c, reply);
  }
  return out;
}

async function allKeys(h: Harness, c: FoldKeysCommand): Promise<{ keys: string[]; pages: number; emptyPages: number }> {
  const replies = await pages<Extract<KvReply, { kind: 'keys' }>>(h, c, 'keys', (cmd, r) => (r.continuation === undefined ? undefined : { ...(cmd as FoldKeysCommand), continuation: r.continuation }));
  return { keys: replies.flatMap((r) => r.keys), pages: replies.length, emptyPages: replies.filter((r) => r.keys.length === 0 && r.continuation !== undefined).length };
}

describe('KV vnode: fold-keys', () => {
  it('returns exactly the keys whose keyspace is listed', async () => {
    const h = harness();
    const keys = names(400);
    await store(h, keys);
    await store(h, ['x'], () => [], 'other');
    const base = { kind: 'fold-keys', bucketType: KEY.bucketType, bucket: KEY.bucket, ringSize: RING } as const;
    const wanted = [3, 7, 12];
    const got = await allKeys(h, { ...base, keyspaces: wanted });
    assert.deepEqual(got.keys, keys.filter((k) => wanted.includes(keyspace(k))));
    assert.ok(got.keys.length > 0);
    // Four disjoint filters together return every key once.
    const parts = await Promise.all([0, 1, 2, 3].map((i) => allKeys(h, { ...base, keyspaces: [i, i + 4, i + 8, i + 12] })));
    assert.deepEqual(parts.flatMap((p) => p.keys).sort(byBytes), keys);
  });

  it('pages over thousands of keys: every key once, in order, seeking (not rescanning) per page', async () => {
    const h = harness();
    const keys = names(3_000);
    await store(h, keys);
    const before = h.engine.stats().rowsScanned;
    const got = await allKeys(h, { kind: 'fold-keys', bucketType: KEY.bucketType, bucket: KEY.bucket, pageSize: 100 });
    assert.deepEqual(got.keys, keys);
    assert.equal(got.pages, 30);
    // Each page reads its keys plus at most one batch ahead: linear, not quadratic.
    assert.ok(h.engine.stats().rowsScanned - before < 2 * keys.length, `${h.engine.stats().rowsScanned - before} rows read`);
  });

  it('bounds rows read per page: a filtered page may be empty but still moves on', async () => {
    const h = harness({ foldRowsPerPageMax: 50 });
    const keys = names(2_000);
    await store(h, keys);
    const got = await allKeys(h, { kind: 'fold-keys', bucketType: KEY.bucketType, bucket: KEY.bucket, ringSize: RING, keyspaces: [5] });
    assert.deepEqual(got.keys, keys.filter((k) => keyspace(k) === 5));
    assert.equal(got.pages, 40);
    assert.ok(got.emptyPages > 0, 'some pages held no key');
  });
});

describe('KV vnode: fold-buckets', () => {
  it('lists buckets holding objects, by type, in pages', async () => {
    const h = harness();
    for (const bucket of ['b', 'a', 'ab', 'c', 'dd']) await store(h, ['k1', 'k2'], () => [], bucket);
    await store(h, ['k'], () => [], 'm', 'maps');
    expectKind(await h.run({ kind: 'put-coordinate', bucketType: 'default', bucket: 'live', key: 'k', props: MULT, context: [], content: { value: new Uint8Array([1]) } }), 'stored');
    type Buckets = Extract<KvReply, { kind: 'buckets' }>;
    const first = { kind: 'fold-buckets', bucketType: 'default', pageSize: 2 } as const;
    const replies = await pages<Buckets>(h, first, 'buckets', (c, r) => (r.continuation === undefined ? undefined : { ...(c as typeof first), continuation: r.continuation }));
    assert.deepEqual(replies.flatMap((r) => r.buckets.map((b) => b.bucket)), ['a', 'b', 'c', 'ab', 'dd', 'live']);
    assert.ok(replies.every((r) => r.buckets.length <= 2 && r.buckets.every((b) => b.bucketType === 'default')));
    const all = expectKind(await h.run({ kind: 'fold-buckets' }), 'buckets');
    assert.deepEqual(all.buckets[0], { bucketType: 'maps', bucket: 'm' });
    assert.equal(all.buckets.length, 7);
    assert.equal(all.continuation, undefined);
  });
});

describe('KV vnode: index-query', () => {
  async function indexed(h: Harness): Promise<void> {
    await store(h, names(20), (_, i) => [
      { index: 'age_int', value: i - 10 },
      { index: 'colour_bin', value: i % 2 === 0 ? 'red' : 'blue' },
    ]);
  }
  const q = (extra: Partial<IndexQueryCommand> & Pick<IndexQueryCommand, 'index' | 'start'>): IndexQueryCommand => ({ kind: 'index-query', bucketType: KEY.bucketType, bucket: KEY.bucket, ...extra });
  const hits = async (h: Harness, c: IndexQueryCommand) => expectKind(await h.run(c), 'index-hits');

  it('answers equality and ranges in (term, key) order, with negative _int terms', async () => {
    const h = harness();
    await indexed(h);
    const red = await hits(h, q({ index: 'colour_bin', start: 'red' }));
    assert.deepEqual(red.hits, names(20).filter((_, i) => i % 2 === 0).map((key) => ({ key })));
    const range = await hits(h, q({ index: 'age_int', start: -3, end: 1, returnTerms: true }));
    assert.deepEqual(range.hits, [-3, -2, -1, 0, 1].map((term) => ({ term, key: names(20)[term + 10]! })));
    const bin = await hits(h, q({ index: 'colour_bin', start: 'a', end: 'z', returnTerms: true, pageSize: 1_000 }));
    assert.deepEqual(bin.hits.slice(0, 2), [{ term: 'blue', key: 'k00001' }, { term: 'blue', key: 'k00003' }]);
    assert.equal(bin.hits.length, 20);
    assert.deepEqual((await hits(h, q({ index: 'missing_bin', start: 'x' }))).hits, []);
  });

  it('pages with continuations: every hit once, in order', async () => {
    const h = harness();
    await indexed(h);
    type Hits = Extract<KvReply, { kind: 'index-hits' }>;
    const first = q({ index: 'colour_bin', start: 'a', end: 'z', returnTerms: true, pageSize: 3 });
    const replies = await pages<Hits>(h, first, 'index-hits', (c, r) => (r.continuation === undefined ? undefined : { ...(c as IndexQueryCommand), continuation: r.continuation }));
    const all = replies.flatMap((r) => r.hits);
    assert.equal(replies.length, 7);
    const expected = names(20).map((key, i) => ({ term: i % 2 === 0 ? 'red' : 'blue', key })).sort((a, b) => byBytes(a.term, b.term) || byBytes(a.key, b.key));
    assert.deepEqual(all, expected);
  });

  it('filters hits by keyspace', async () => {
    const h = harness();
    await indexed(h);
    const wanted = [0, 1, 2, 3, 4, 5, 6, 7];
    const got = await hits(h, q({ index: 'age_int', start: -100, end: 100, ringSize: RING, keyspaces: wanted }));
    assert.deepEqual(got.hits.map((x) => x.key), names(20).filter((k) => wanted.includes(keyspace(k))));
  });

  it('$bucket lists every key of the bucket; $key ranges over keys', async () => {
    const h = harness({ foldRowsPerPageMax: 4 });
    await indexed(h);
    await store(h, ['zz'], () => [], 'other');
    type Hits = Extract<KvReply, { kind: 'index-hits' }>;
    const follow = (c: KvCommand, r: Hits) => (r.continuation === undefined ? undefined : { ...(c as IndexQueryCommand), continuation: r.continuation });
    const bucket = await pages<Hits>(h, q({ index: '$bucket', start: KEY.bucket }), 'index-hits', follow);
    assert.deepEqual(bucket.flatMap((r) => r.hits), names(20).map((key) => ({ key })));
    assert.equal(bucket.length, 5);
    const keyRange = await pages<Hits>(h, q({ index: '$key', start: 'k00003', end: 'k00012', returnTerms: true }), 'index-hits', follow);
    assert.deepEqual(keyRange.flatMap((r) => r.hits), names(20).slice(3, 13).map((key) => ({ term: key, key })));
    assert.deepEqual((await hits(h, q({ index: '$key', start: 'k00005' }))).hits, [{ key: 'k00005' }]);
    assert.deepEqual((await hits(h, q({ index: '$key', start: 'k000055', end: 'k00007' }))).hits, [{ key: 'k00006' }, { key: 'k00007' }]);
  });

  it('refuses a term of the wrong type with invalid_argument', async () => {
    const h = harness();
    for (const c of [q({ index: 'age_int', start: 'x' }), q({ index: 'colour_bin', start: 1 }), q({ index: 'age_int', start: 1, end: 1.5 }), q({ index: 'plain', start: 'x' }), q({ index: '$bucket', start: 'b', end: 'c' })]) {
      assert.equal(expectKind(await h.run(c), 'error').code, 'invalid_argument', JSON.stringify(c));
    }
  });
});

describe('KV vnode: malformed listing commands', () => {
  const base = { bucketType: 'default', bucket: 'b' };
  const MALFORMED: unknown[] = [
    { kind: 'fold-keys', bucketType: 'default' },
    { kind: 'fold-keys', ...base, pageSize: 0 },
    { kind: 'fold-keys', ...base, pageSize: 1e9 },
    { kind: 'fold-keys', ...base, continuation: 7 },
    { kind: 'fold-keys', ...base, keyspaces: [1] },
    { kind: 'fold-keys', ...base, ringSize: 16 },
    { kind: 'fold-keys', ...base, keyspaces: [16], ringSize: 16 },
    { kind: 'fold-keys', ...base, keyspaces: [1, 1], ringSize: 16 },
    { kind: 'fold-keys', ...base, keyspaces: [], ringSize: 16 },
    { kind: 'fold-keys', ...base, keyspaces: [1], ringSize: 12 },
    { kind: 'fold-keys', ...base, keyspaces: 'all', ringSize: 16 },
    { kind: 'fold-buckets', bucketType: 3 },
    { kind: 'fold-buckets', continuation: 'b' },
    { kind: 'fold-buckets', bucketType: 'a', continuation: { bucketType: 'x', bucket: 'b' } },
    { kind: 'index-query', ...base, index: 'i_bin' },
    { kind: 'index-query', ...base, index: 'i_int', start: '1' },
    { kind: 'index-query', ...base, index: 'i_int', start: Number.NaN },
    { kind: 'index-query', ...base, index: 'i_bin', start: 'a', end: 2 },
    { kind: 'index-query', ...base, index: 'i', start: 'a' },
    { kind: 'index-query', ...base, index: 'i_bin', start: 'a', returnTerms: 'yes' },
    { kind: 'index-query', ...base, index: 'i_int', start: 1, continuation: { term: 'a', key: 'k' } },
    { kind: 'index-query', ...base, index: 'i_bin', start: 'a', continuation: { term: 'a' } },
    { kind: 'index-query', ...base, index: 'i_bin', start: 'a', pageSize: -1 },
  ];
  const request = (command: unknown) => ({ type: 'kv.vnode-request', reqId: 1, partition: 0, command }) as WireMessage;

  it('parseKvMessage refuses them, and the vnode answers invalid_argument without crashing', async () => {
    const h = harness();
    for (const command of MALFORMED) {
      assert.equal(typeof parseKvMessage(request(command)), 'string', JSON.stringify(command));
      assert.equal(expectKind(await h.run(command as KvCommand), 'error').code, 'invalid_argument', JSON.stringify(command));
    }
  });

  it('parseKvMessage accepts well-formed listing commands and replies, and refuses malformed replies', () => {
    const good: unknown[] = [
      { kind: 'fold-keys', ...base, pageSize: 10, continuation: 'k', keyspaces: [0, 15], ringSize: 16 },
      { kind: 'fold-buckets' },
      { kind: 'fold-buckets', bucketType: 'a', pageSize: 5, continuation: { bucketType: 'a', bucket: 'b' } },
      { kind: 'index-query', ...base, index: 'i_int', start: -5, end: 5, returnTerms: true, continuation: { term: 0, key: 'k' }, keyspaces: [3], ringSize: 8 },
      { kind: 'index-query', ...base, index: '$key', start: 'a', end: 'b' },
      { kind: 'index-query', ...base, index: '$bucket', start: 'b' },
    ];
    for (const command of good) assert.equal(typeof parseKvMessage(request(command)), 'object', JSON.stringify(command));
    const reply = (r: unknown) => ({ type: 'kv.vnode-reply', reqId: 2, reply: r }) as WireMessage;
    assert.equal(typeof parseKvMessage(reply({ kind: 'buckets', buckets: [{ bucketType: 'a', bucket: 'b' }], continuation: { bucketType: 'a', bucket: 'b' } })), 'object');
    assert.equal(typeof parseKvMessage(reply({ kind: 'index-hits', hits: [{ term: 1, key: 'k' }, { key: 'j' }], continuation: { term: 1, key: 'k' } })), 'object');
    for (const bad of [{ kind: 'buckets', buckets: ['b'] }, { kind: 'index-hits', hits: [{ term: 1 }] }, { kind: 'keys', keys: [1] }, { kind: 'index-hits', hits: [], continuation: { key: 'k' } }]) {
      assert.equal(typeof parseKvMessage(reply(bad)), 'string', JSON.stringify(bad));
    }
  });
});
