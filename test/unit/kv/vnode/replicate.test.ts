// Replication between vnodes, index entries following live siblings, and
// delete + reap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartitionStore } from '../../../../src/kv/backend/index.js';
import { contextOf, decodeObject, encodeObject } from '../../../../src/kv/object/index.js';
import type { RObject } from '../../../../src/kv/object/index.js';
import { KEY, MULT, body, expectKind, get, harness, put, storedObject, texts } from './helpers.js';
import type { Harness } from './helpers.js';

/** Replicates `object` as bytes; returns what the replica holds afterwards, checked against its reply. */
async function replicate(h: Harness, object: RObject): Promise<RObject> {
  const bytes = encodeObject(object);
  const reply = expectKind(await h.run({ kind: 'put-replicate', props: MULT, bytes }), 'stored');
  const held = (await get(h))!;
  // No bytes in the reply means: exactly the sent object is stored.
  assert.deepEqual(held, reply.bytes === undefined ? decodeObject(bytes) : decodeObject(reply.bytes));
  return held;
}

async function indexTerms(store: PartitionStore, index: string, start: string): Promise<string[]> {
  const out: string[] = [];
  for await (const hit of store.indexRange({ bucketType: KEY.bucketType, bucket: KEY.bucket, index, start, end: '\uffff' })) {
    out.push(`${hit.term}:${new TextDecoder().decode(hit.key)}`);
  }
  return out;
}

test('put-replicate merges concurrent writes of two vnodes into siblings; replays are idempotent', async () => {
  const a = harness({ node: 'n1', seed: 1 });
  const b = harness({ node: 'n2', seed: 2 });
  const fromA = await put(a, 'from-a', undefined);
  const fromB = await put(b, 'from-b', undefined);
  const onB = await replicate(b, fromA);
  const onA = await replicate(a, fromB);
  assert.deepEqual(texts(onA), ['from-a', 'from-b']);
  assert.deepEqual(texts(onB), ['from-a', 'from-b']);
  assert.deepEqual(contextOf(onA), contextOf(onB));
  const puts = a.engine.stats().puts;
  assert.deepEqual(await replicate(a, fromB), onA);
  assert.deepEqual(await replicate(a, onB), onA);
  assert.equal(a.engine.stats().puts, puts, 'an idempotent replay writes nothing');
  // A write with the merged context, replicated, replaces both on the other replica.
  const resolved = await put(a, 'resolved', onA);
  assert.deepEqual(texts(await replicate(b, resolved)), ['resolved']);
});

test('put-replicate refuses a malformed object with kv_corrupt_object', async () => {
  const h = harness();
  const bad = { ...KEY, clock: { entries: [{ actor: '', counter: 0, values: [] }] } } as unknown as RObject;
  assert.equal(expectKind(await h.run({ kind: 'put-replicate', props: MULT, bytes: encodeObject(bad) }), 'error').code, 'kv_corrupt_object');
  assert.equal(expectKind(await h.run({ kind: 'put-replicate', props: MULT, bytes: new Uint8Array([1, 2, 3]) }), 'error').code, 'kv_corrupt_object');
  assert.equal(await get(h), undefined);
});

test('put-replicate replaces corrupt stored bytes (repair)', async () => {
  const src = harness({ node: 'n2' });
  const obj = await put(src, 'good', undefined);
  const h = harness();
  await h.engine.partition(0).put(KEY, new Uint8Array([9, 9, 9]), []);
  await replicate(h, obj);
  assert.deepEqual(await get(h), obj);
});

test('index entries follow the live siblings and vanish after delete + reap', async () => {
  const h = harness();
  const store = h.engine.partition(0);
  const first = await put(h, 'one', undefined, MULT, { indexes: [['color_bin', 'red']] });
  await put(h, 'two', undefined, MULT, { indexes: [['color_bin', 'blue'], ['color_bin', 'red']] });
  assert.deepEqual(await indexTerms(store, 'color_bin', ''), ['blue:k', 'red:k']);
  const both = (await get(h))!;
  const replaced = await put(h, 'three', both, MULT, { indexes: [['color_bin', 'green']] });
  assert.deepEqual(await indexTerms(store, 'color_bin', ''), ['green:k']);
  assert.notDeepEqual(contextOf(first), contextOf(replaced));
  const deleted = storedObject(expectKind(await h.run({ kind: 'delete-coordinate', ...KEY, props: MULT, context: contextOf(replaced) }), 'stored'));
  assert.deepEqual(texts(deleted), []);
  assert.deepEqual(await indexTerms(store, 'color_bin', ''), [], 'a tombstone has no index entries');
  assert.deepEqual(expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: contextOf(deleted) }), 'reaped'), { kind: 'reaped' });
  assert.equal(await get(h), undefined);
  assert.equal(await store.isEmpty(), true);
});

test('delete-coordinate writes a tombstone that get still returns; reap removes it', async () => {
  const h = harness();
  const obj = await put(h, 'one', undefined);
  const tomb = storedObject(expectKind(await h.run({ kind: 'delete-coordinate', ...KEY, props: MULT, context: contextOf(obj) }), 'stored'));
  const got = (await get(h))!;
  assert.deepEqual(got, tomb);
  assert.deepEqual(texts(got, (d) => d), ['']);
  expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: contextOf(tomb) }), 'reaped');
  assert.equal(await get(h), undefined);
  expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: contextOf(tomb) }), 'reaped');
});

test('reap keeps the key when a write raced the delete, or when it is live', async () => {
  const h = harness();
  const obj = await put(h, 'one', undefined);
  const tomb = storedObject(expectKind(await h.run({ kind: 'delete-coordinate', ...KEY, props: MULT, context: contextOf(obj) }), 'stored'));
  // A concurrent write replicated from elsewhere lands after the delete.
  const other = harness({ node: 'n2' });
  await replicate(h, await put(other, 'raced', undefined));
  assert.deepEqual(expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: contextOf(tomb) }), 'kept'), { kind: 'kept', reason: 'live' });
  assert.deepEqual(texts((await get(h))!), ['raced']);
  // A second delete covering everything, then a stale reap context.
  const now = (await get(h))!;
  const tomb2 = storedObject(expectKind(await h.run({ kind: 'delete-coordinate', ...KEY, props: MULT, context: contextOf(now) }), 'stored'));
  assert.deepEqual(expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: contextOf(tomb) }), 'kept'), { kind: 'kept', reason: 'context_changed' });
  expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: contextOf(tomb2) }), 'reaped');
});

test('put-replicate stores a copy that covers what is stored as the bytes it came in, and replies bytes only after a real merge', async () => {
  const a = harness({ node: 'n1', seed: 1 });
  const b = harness({ node: 'n2', seed: 2 });
  const first = await put(a, 'one', undefined);
  const firstBytes = encodeObject(first);
  // Nothing stored on b: the bytes are stored as they are, and the reply says so by carrying none.
  const onEmpty = expectKind(await b.run({ kind: 'put-replicate', props: MULT, bytes: firstBytes }), 'stored');
  assert.equal(onEmpty.bytes, undefined);
  assert.deepEqual(await b.engine.partition(0).get(KEY), firstBytes);
  // The same bytes again: nothing to write.
  const puts = b.engine.stats().puts;
  assert.equal(expectKind(await b.run({ kind: 'put-replicate', props: MULT, bytes: firstBytes }), 'stored').bytes, undefined);
  assert.equal(b.engine.stats().puts, puts, 'the same bytes are not written again');
  // A later write through a (its clock covers b's copy): stored byte for byte, no merge.
  const second = await put(a, 'two', first);
  const secondBytes = encodeObject(second);
  assert.equal(expectKind(await b.run({ kind: 'put-replicate', props: MULT, bytes: secondBytes }), 'stored').bytes, undefined);
  assert.deepEqual(await b.engine.partition(0).get(KEY), secondBytes);
  // A concurrent write on b, then a's copy: a real merge, whose bytes come back.
  const onB = await put(b, 'concurrent', undefined);
  const third = await put(a, 'three', second);
  const merged = expectKind(await b.run({ kind: 'put-replicate', props: MULT, bytes: encodeObject(third) }), 'stored');
  assert.ok(merged.bytes !== undefined, 'a merge replies what it stored');
  assert.deepEqual(texts(decodeObject(merged.bytes)), ['concurrent', 'three']);
  assert.deepEqual(await b.engine.partition(0).get(KEY), merged.bytes);
  // An old copy b has already absorbed: nothing written, and the reply carries what b holds.
  const writes = b.engine.stats().puts;
  const old = expectKind(await b.run({ kind: 'put-replicate', props: MULT, bytes: firstBytes }), 'stored');
  assert.deepEqual(old.bytes, merged.bytes);
  assert.equal(b.engine.stats().puts, writes);
  assert.deepEqual(texts(onB), ['concurrent', 'two'], 'the blind write on b kept what b held');
});

test('put-replicate refuses a merge, or a copy, above objectBytesMax with kv_object_too_large, and stores nothing', async () => {
  const limits = { objectBytesMax: 3_000, objectBytesWarn: 1_000 };
  const a = harness({ node: 'n1', seed: 1, limits });
  const b = harness({ node: 'n2', seed: 2, limits });
  // Concurrent writes on two replicas: each fits, their two siblings together do not.
  const fromA = await put(a, `a${'x'.repeat(1_600)}`, undefined);
  const fromB = await put(b, `b${'x'.repeat(1_600)}`, undefined);
  assert.ok(encodeObject(fromA).length <= 3_000 && encodeObject(fromA).length + encodeObject(fromB).length > 3_000);
  const puts = b.engine.stats().puts;
  const refused = expectKind(await b.run({ kind: 'put-replicate', props: MULT, bytes: encodeObject(fromA) }), 'error');
  assert.equal(refused.code, 'kv_object_too_large');
  assert.match(refused.message, /default\/b\/k: merging the replicated copy with the stored one would make the object \d+ bytes with 2 sibling\(s\) \(max 3000\); nothing was stored/);
  assert.deepEqual(await get(b), fromB, 'the replica keeps what it had');
  assert.equal(b.engine.stats().puts, puts, 'nothing was written');
  // A copy that alone is above this replica's limit is refused too.
  const small = harness({ node: 'n3', seed: 3, limits: { objectBytesMax: 1_000, objectBytesWarn: 500 } });
  const tooBig = expectKind(await small.run({ kind: 'put-replicate', props: MULT, bytes: encodeObject(fromA) }), 'error');
  assert.equal(tooBig.code, 'kv_object_too_large');
  assert.match(tooBig.message, /the replicated copy would make the object \d+ bytes with 1 sibling\(s\) \(max 1000\)/);
  assert.equal(await get(small), undefined);
});

test('a coordinated write is refused when its encoding is above objectBytesMax, even where the approximate size is under it', async () => {
  const h = harness({ limits: { objectBytesMax: 1_500, objectBytesWarn: 1_000 } });
  // 600 characters of three UTF-8 bytes each: counted as 600 by the approximation, encoded as 1,800 bytes.
  const reply = expectKind(await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: body('v', { userMeta: [['m', 'ह'.repeat(600)]] }) }), 'error');
  assert.equal(reply.code, 'kv_object_too_large');
  assert.match(reply.message, /the write would make the object \d+ bytes with 1 sibling\(s\) \(max 1500\); nothing was stored/);
  assert.equal(await get(h), undefined);
  // Under the limit, encoded, the same write is stored.
  expectKind(await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: body('v', { userMeta: [['m', 'ह'.repeat(300)]] }) }), 'stored');
});
