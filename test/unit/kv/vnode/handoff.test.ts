// Handoff between two vnodes on different partition stores, and key listing pages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMemoryEngine } from '../../../../src/kv/backend/index.js';
import { contextOf, decodeObject } from '../../../../src/kv/object/index.js';
import type { HandoffItem } from '../../../../src/core/vnode/types.js';
import { decodeHandoffKey, encodeHandoffKey } from '../../../../src/kv/vnode/index.js';
import { KEY, MULT, expectKind, harness } from './helpers.js';
import type { Harness } from './helpers.js';

async function putKey(h: Harness, key: string, text: string, bucket = KEY.bucket): Promise<void> {
  const content = { value: new TextEncoder().encode(text), indexes: [['tag_bin', text]] as [string, string][] };
  expectKind(await h.run({ kind: 'put-coordinate', bucketType: KEY.bucketType, bucket, key, props: MULT, context: [], content }), 'stored');
}

async function collect(h: Harness): Promise<HandoffItem[]> {
  const items: HandoffItem[] = [];
  for await (const item of h.vnode.foldHandoffItems(new AbortController().signal)) items.push(item);
  return items;
}

test('handoff: items folded from one vnode merge into another; then the source is deleted', async () => {
  const engine = openMemoryEngine();
  const source = harness({ node: 'n1', partition: 1, engine, seed: 1 });
  const target = harness({ node: 'n2', partition: 2, engine, seed: 2 });
  for (const k of ['a', 'b', 'c']) await putKey(source, k, `src-${k}`);
  await putKey(target, 'b', 'tgt-b'); // a concurrent write the target already holds
  assert.equal(await source.vnode.handoffStarting({ node: 'n2', partition: 2 }), true);
  const items = await collect(source);
  assert.equal(items.length, 3);
  await target.vnode.handleHandoffData(items);
  await target.vnode.handleHandoffData([items[0]!]); // a resent item changes nothing
  for (const k of ['a', 'c']) {
    const src = decodeObject(expectKind(await source.run({ kind: 'get', ...KEY, key: k }), 'object').bytes);
    assert.deepEqual(decodeObject(expectKind(await target.run({ kind: 'get', ...KEY, key: k }), 'object').bytes), src);
  }
  const b = decodeObject(expectKind(await target.run({ kind: 'get', ...KEY, key: 'b' }), 'object').bytes);
  assert.deepEqual(contextOf(b), [['n1/1/0', 1], ['n2/2/0', 1]]);
  const tags: string[] = [];
  for await (const hit of engine.partition(2).indexRange({ bucketType: KEY.bucketType, bucket: KEY.bucket, index: 'tag_bin', start: '', end: '~' })) {
    tags.push(String(hit.term));
  }
  assert.deepEqual(tags, ['src-a', 'src-b', 'src-c', 'tgt-b'], 'handed-off objects carry their index entries');
  await source.vnode.handoffFinished({ node: 'n2', partition: 2 });
  assert.equal(await source.vnode.isEmpty(), false);
  await source.vnode.delete();
  assert.equal(await source.vnode.isEmpty(), true);
  assert.equal(await target.vnode.isEmpty(), false);
  await source.vnode.terminate();
});

test('handoff: changes made while handing off are recorded, taken once, and lost on overflow or when not recording', async () => {
  const source = harness({ node: 'n1', partition: 1 });
  const target = harness({ node: 'n2', partition: 1 });
  assert.equal(await source.vnode.takeHandoffChanges(10), 'lost', 'not recording before handoffStarting');
  await putKey(source, 'before', 'v0');
  assert.equal(await source.vnode.handoffStarting({ node: 'n2', partition: 1 }), true);
  await target.vnode.handleHandoffData(await collect(source));
  await putKey(source, 'during-1', 'v1');
  await putKey(source, 'during-2', 'v2');
  await putKey(source, 'during-1', 'v3');
  const first = await source.vnode.takeHandoffChanges(1);
  assert.ok(Array.isArray(first) && first.length === 1);
  const rest = await source.vnode.takeHandoffChanges(10);
  assert.ok(Array.isArray(rest) && rest.length === 1);
  assert.deepEqual(await source.vnode.takeHandoffChanges(10), [], 'taken changes are forgotten');
  await target.vnode.handleHandoffData([...first, ...rest]);
  for (const k of ['before', 'during-1', 'during-2']) {
    const src = decodeObject(expectKind(await source.run({ kind: 'get', ...KEY, key: k }), 'object').bytes);
    assert.deepEqual(decodeObject(expectKind(await target.run({ kind: 'get', ...KEY, key: k }), 'object').bytes), src, k);
  }
  // A target that already holds a key merges; one batch with two copies of a key merges them first.
  await target.vnode.handleHandoffData([...first, ...first]);
  await source.vnode.handoffFinished({ node: 'n2', partition: 1 });
  await putKey(source, 'after', 'v4');
  assert.equal(await source.vnode.takeHandoffChanges(10), 'lost', 'not recording after handoffFinished');
  assert.equal(await source.vnode.handoffSize(), 4);
});

test('handoff keys round-trip; corrupt items are refused with kv_corrupt_object', async () => {
  const k = { bucketType: 't', bucket: new Uint8Array([98]), key: new Uint8Array([0, 255]) };
  assert.deepEqual(decodeHandoffKey(encodeHandoffKey(k)), k);
  const h = harness();
  const good = harness({ node: 'n2' });
  await putKey(good, 'x', 'x');
  const [item] = await collect(good);
  const refused = async (bad: HandoffItem) => assert.rejects(h.vnode.handleHandoffData([item!, bad]), (e: { code?: string }) => e.code === 'kv_corrupt_object');
  await refused({ key: new Uint8Array([7, 1]), value: item!.value });
  await refused({ key: item!.key, value: new Uint8Array([1, 2, 3]) });
  await refused({ key: encodeHandoffKey({ ...k, bucket: new TextEncoder().encode(KEY.bucket) }), value: item!.value });
  assert.equal(await h.vnode.isEmpty(), true);
});

test('handoff items are stored as the bytes they came in when nothing is stored, when they cover the stored copy, and over corrupt bytes', async () => {
  const engine = openMemoryEngine();
  const source = harness({ node: 'n1', partition: 1, engine, seed: 1 });
  const target = harness({ node: 'n2', partition: 2, engine, seed: 2 });
  const stored = (h: Harness, key: string) => engine.partition(h.partition).getSync({ ...KEY, key });
  await putKey(source, 'a', 'v1');
  await putKey(source, 'c', 'v1');
  await target.vnode.handleHandoffData(await collect(source));
  assert.deepEqual(stored(target, 'a'), stored(source, 'a'), 'nothing stored: the sender bytes');
  // A newer write on the source covers what the target holds: stored as it is, no merge.
  const a = decodeObject(stored(source, 'a')!);
  expectKind(await source.run({ kind: 'put-coordinate', ...KEY, key: 'a', props: MULT, context: contextOf(a), content: { value: new TextEncoder().encode('v2'), indexes: [['tag_bin', 'v2']] } }), 'stored');
  // Corrupt bytes at the target (with stale index entries) are replaced, and their entries go.
  await engine.partition(2).put({ ...KEY, key: 'c' }, new Uint8Array([1, 0xc1]), [{ index: 'tag_bin', value: 'stale' }]);
  await target.vnode.handleHandoffData(await collect(source));
  assert.deepEqual(stored(target, 'a'), stored(source, 'a'), 'a covering copy: the sender bytes');
  assert.deepEqual(stored(target, 'c'), stored(source, 'c'), 'over corrupt bytes: the sender bytes');
  const tags: string[] = [];
  for await (const hit of engine.partition(2).indexRange({ bucketType: KEY.bucketType, bucket: KEY.bucket, index: 'tag_bin', start: '', end: '~' })) tags.push(`${String(hit.term)}:${new TextDecoder().decode(hit.key)}`);
  assert.deepEqual(tags, ['v1:c', 'v2:a'], 'entries follow the stored objects; the stale ones are gone');
});

test('fold-keys pages through a bucket with continuations', async () => {
  const h = harness();
  const keys = ['a', 'b', 'c', 'd', 'e'];
  for (const k of keys) await putKey(h, k, k);
  await putKey(h, 'z', 'other', 'other-bucket');
  const seen: string[] = [];
  let continuation: string | undefined;
  for (let page = 0; page < 10; page++) {
    const reply = expectKind(await h.run({ kind: 'fold-keys', bucketType: KEY.bucketType, bucket: KEY.bucket, pageSize: 2, ...(continuation === undefined ? {} : { continuation }) }), 'keys');
    assert.ok(reply.keys.length <= 2);
    seen.push(...reply.keys);
    continuation = reply.continuation;
    if (continuation === undefined) break;
  }
  assert.deepEqual(seen, keys);
  const bad = await h.run({ kind: 'fold-keys', bucketType: KEY.bucketType, bucket: KEY.bucket, pageSize: 0 });
  assert.equal(expectKind(bad, 'error').code, 'invalid_argument');
});

test('an unknown command kind answers invalid_argument', async () => {
  const h = harness();
  const reply = await h.run({ kind: 'nope' } as unknown as Parameters<Harness['run']>[0]);
  assert.equal(expectKind(reply, 'error').code, 'invalid_argument');
});
