// Coordinated puts and gets on one vnode: contexts, siblings, conditions,
// limits, and corrupt stored bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextOf, decodeObject, encodeObject, resolve, siblings } from '../../../../src/kv/object/index.js';
import { errorOf } from '../../../../src/kv/vnode/index.js';
import type { KvCommand, KvReply } from '../../../../src/kv/vnode/index.js';
import { HeldWrites, KEY, MULT, SINGLE, T0, body, expectKind, get, harness, put, texts } from './helpers.js';

test('put-coordinate then get returns the object, stamped by the vnode', async () => {
  const h = harness();
  const stored = await put(h, 'one', undefined);
  const got = await get(h);
  assert.deepEqual(got, stored);
  const [c] = siblings(got!);
  assert.equal(c!.meta.lastModified.wallMs, T0);
  assert.match(c!.meta.vtag, /^[0-9A-Za-z]{22}$/);
  assert.deepEqual(contextOf(got!), [['n1/0/0', 1]]);
  assert.deepEqual(expectKind(await h.run({ kind: 'get', ...KEY, key: 'other' }), 'notfound'), { kind: 'notfound' });
});

test('a put with the returned context replaces; a blind put makes siblings (allow_mult)', async () => {
  const h = harness();
  const first = await put(h, 'one', undefined);
  const second = await put(h, 'two', first);
  assert.deepEqual(texts(second), ['two']);
  const third = await put(h, 'three', undefined);
  assert.deepEqual(texts(third), ['three', 'two']);
  assert.deepEqual(texts((await get(h))!), ['three', 'two']);
});

test('allow_mult=false: resolve gives the newest write', async () => {
  const h = harness();
  await put(h, 'old', undefined, SINGLE);
  h.tick();
  const obj = await put(h, 'new', undefined, SINGLE);
  const winner = resolve(obj, SINGLE);
  assert.equal(winner.length, 1);
  assert.equal(new TextDecoder().decode(winner[0]!.value), 'new');
});

test('vtags and timestamps are deterministic for a seed and clock', async () => {
  const a = await put(harness({ seed: 7 }), 'x', undefined);
  const b = await put(harness({ seed: 7 }), 'x', undefined);
  assert.deepEqual(a, b);
});

test('if_none_match fails with kv_precondition_failed when a value exists; nothing written', async () => {
  const h = harness();
  const cmd: KvCommand = { kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: { value: new Uint8Array([1]) }, ifNoneMatch: true };
  expectKind(await h.run(cmd), 'stored');
  const before = await get(h);
  const reply = expectKind(await h.run(cmd), 'error');
  assert.equal(reply.code, 'kv_precondition_failed');
  assert.equal(errorOf(reply)?.code, 'kv_precondition_failed');
  assert.deepEqual(await get(h), before);
});

test('if_not_modified fails unless the stored context is the given one; nothing written', async () => {
  const h = harness();
  const cmd = (ifNotModified: [string, number][]) =>
    ({ kind: 'put-coordinate', ...KEY, props: MULT, context: ifNotModified, content: { value: new Uint8Array([2]) }, ifNotModified }) as const;
  assert.equal(expectKind(await h.run(cmd([])), 'error').code, 'kv_precondition_failed'); // absent key
  assert.equal(await get(h), undefined);
  const first = await put(h, 'one', undefined);
  const stale = contextOf(first);
  await put(h, 'two', first);
  const before = await get(h);
  assert.equal(expectKind(await h.run(cmd(stale)), 'error').code, 'kv_precondition_failed');
  assert.deepEqual(await get(h), before);
  expectKind(await h.run(cmd(contextOf(before!))), 'stored');
});

test('object size and sibling limits refuse with typed errors; nothing written', async () => {
  const h = harness({ limits: { objectBytesWarn: 200, objectBytesMax: 400, siblingsWarn: 1, siblingsMax: 2 } });
  const big = await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: { value: new Uint8Array(1000) } });
  assert.equal(expectKind(big, 'error').code, 'kv_object_too_large');
  assert.equal(await get(h), undefined);
  await put(h, 'a', undefined);
  const two = expectKind(await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: { value: new Uint8Array([1]) } }), 'stored');
  assert.deepEqual(two.warnings.map((w) => w.kind), ['siblings']);
  const before = await get(h);
  const third = await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: { value: new Uint8Array([2]) } });
  assert.equal(expectKind(third, 'error').code, 'kv_too_many_siblings');
  assert.deepEqual(await get(h), before);
});

test('bad metadata is a typed error', async () => {
  const h = harness();
  const reply = await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: { value: new Uint8Array(1), indexes: [['Bad', 'x']] } });
  assert.equal(expectKind(reply, 'error').code, 'kv_bad_index');
});

test('corrupt stored bytes: get hands them to the coordinator as they are; put-coordinate and reap answer kv_corrupt_object, no crash', async () => {
  const h = harness();
  const corrupt = new Uint8Array([1, 0xc1, 0xff, 0x00]);
  await h.engine.partition(0).put(KEY, corrupt, []);
  // The coordinator decodes (and refuses) them: see the get fsm tests.
  assert.deepEqual(expectKind(await h.run({ kind: 'get', ...KEY }), 'object').bytes, corrupt);
  const reply = await h.run({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: { value: new Uint8Array(1) } });
  assert.equal(expectKind(reply, 'error').code, 'kv_corrupt_object');
  assert.equal(expectKind(await h.run({ kind: 'reap', ...KEY, expectedContext: [] }), 'error').code, 'kv_corrupt_object');
});

test('an object stored under another key is corrupt: a coordinated write there is refused', async () => {
  const h = harness();
  const obj = await put(h, 'x', undefined);
  await h.engine.partition(0).put({ ...KEY, key: 'elsewhere' }, encodeObject(obj), []);
  const reply = await h.run({ kind: 'put-coordinate', ...KEY, key: 'elsewhere', props: MULT, context: [], content: { value: new Uint8Array(1) } });
  assert.equal(expectKind(reply, 'error').code, 'kv_corrupt_object');
});

test('pending writes: the next command sees a write before it is durable, and a reply about it waits for its durability', async () => {
  const held = new HeldWrites();
  const h = harness({ store: held.wrap });
  const first = expectKind(await h.raw({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: body('one') }), 'stored');
  assert.ok(first.durable !== undefined, 'a coordinated write replies before it is durable');
  // The next command on the vnode runs now, and reads through the pending write.
  const read = expectKind(await h.raw({ kind: 'get', ...KEY }), 'object');
  assert.deepEqual(read.bytes, first.bytes, 'the pending write is what the vnode holds');
  assert.equal(read.durable, first.durable, 'a read of a pending write carries its durability');
  // A second write builds on the first, which is still not durable.
  const second = expectKind(await h.raw({ kind: 'put-coordinate', ...KEY, props: MULT, context: contextOf(first.object!), content: body('two') }), 'stored');
  assert.deepEqual(texts(second.object!), ['two']);
  let firstDurable = false;
  void first.durable.then(() => (firstDurable = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(firstDurable, false, 'not durable until the engine says so');
  held.release();
  await first.durable;
  held.release();
  await second.durable;
  // Once durable, nothing is pending: the engine's copy is read, with no durability attached.
  const settled = expectKind(await h.raw({ kind: 'get', ...KEY }), 'object');
  assert.equal(settled.durable, undefined);
  assert.deepEqual(decodeObject(settled.bytes), second.object);
});

test('pending writes: a failed write leaves the engine\'s copy visible, and its durability rejects', async () => {
  const held = new HeldWrites();
  const h = harness({ store: held.wrap });
  const kept = expectKind(await h.raw({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: body('kept') }), 'stored');
  held.release();
  await kept.durable;
  const lost = expectKind(await h.raw({ kind: 'put-coordinate', ...KEY, props: MULT, context: contextOf(kept.object!), content: body('lost') }), 'stored');
  held.fail(new Error('disk full'));
  await assert.rejects(lost.durable!, /disk full/);
  await new Promise((resolve) => setImmediate(resolve));
  const read = expectKind(await h.raw({ kind: 'get', ...KEY }), 'object');
  assert.equal(read.durable, undefined);
  assert.deepEqual(texts(decodeObject(read.bytes)), ['kept'], 'the failed write is gone from the overlay too');
});

test('pending writes are bounded: at the limit a write waits for the oldest to settle', async () => {
  const held = new HeldWrites();
  const h = harness({ store: held.wrap, pendingWritesMax: 2 });
  const a = await h.raw({ kind: 'put-coordinate', ...KEY, key: 'a', props: MULT, context: [], content: body('a') });
  const b = await h.raw({ kind: 'put-coordinate', ...KEY, key: 'b', props: MULT, context: [], content: body('b') });
  assert.ok(expectKind(a, 'stored').durable && expectKind(b, 'stored').durable);
  let third: KvReply | undefined;
  const pending = h.raw({ kind: 'put-coordinate', ...KEY, key: 'c', props: MULT, context: [], content: body('c') }).then((r) => (third = r));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(third, undefined, 'the third write waits');
  held.release();
  await pending;
  assert.ok(third !== undefined && expectKind(third, 'stored').durable !== undefined);
  held.release();
  held.release();
});

test('handoff folds, changes and drops wait for pending writes to be durable', async () => {
  const held = new HeldWrites();
  const h = harness({ store: held.wrap });
  await h.raw({ kind: 'put-coordinate', ...KEY, props: MULT, context: [], content: body('x') });
  let empty: boolean | undefined;
  const check = h.vnode.isEmpty().then((e) => (empty = e));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(empty, undefined, 'isEmpty waits for the pending write');
  held.release();
  await check;
  assert.equal(empty, false);
});
