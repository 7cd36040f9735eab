import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTombstone } from '../../../../src/kv/object/index.js';
import { decode, formKvCluster, REF, text } from './harness.js';

const MULT = { allowMult: true };

describe('KvService: delete', () => {
  it('delete then get answers notfound; after the delete_mode delay the tombstone is reaped from every replica', async () => {
    const c = await formKvCluster(3, { seed: 21 });
    await c.drive(c.kv('n1').put(REF, { content: text('v') }, { w: 3 }));
    const deleted = await c.drive(c.kv('n2').delete(REF));
    assert.equal(deleted.found, true);
    const got = await c.drive(c.kv('n3').get(REF));
    assert.equal(got.found, false);
    const targets = c.kv('n1').preflist(REF);
    await c.advance(500);
    for (const t of targets) {
      const o = await c.stored(t.node, t.partition, REF);
      assert.ok(o !== undefined && isTombstone(o), `${t.node} holds the tombstone before the delay`);
    }
    await c.advance(3_000);
    for (const t of targets) assert.equal(await c.stored(t.node, t.partition, REF), undefined, `${t.node} reaped the tombstone`);
    assert.equal((await c.drive(c.kv('n1').get(REF))).found, false);
    // Deleting an absent key writes nothing.
    assert.equal((await c.drive(c.kv('n1').delete(REF))).found, false);
  });

  it('a tombstone is not reaped while a primary is down (it stays on the fallback and live primaries)', async () => {
    const c = await formKvCluster(3, { seed: 22 });
    await c.drive(c.kv('n1').put(REF, { content: text('v') }, { w: 3 }));
    c.crash('n3');
    assert.ok(c.runUntil(() => !c.node('n1').upNodes().has('n3'), 10_000));
    await c.drive(c.kv('n1').delete(REF));
    await c.advance(4_000);
    const targets = c.kv('n1').preflist(REF);
    for (const t of targets) {
      const o = await c.stored(t.node, t.partition, REF);
      assert.ok(o !== undefined && isTombstone(o), `${t.node}/${t.partition} keeps the tombstone`);
    }
    assert.equal((await c.drive(c.kv('n2').get(REF))).found, false);
  });

  it('a put raced with a delete is not lost (allow_mult)', async () => {
    const c = await formKvCluster(3, { seed: 23 });
    await c.drive(c.kv('n1').put(REF, { content: text('v1') }, { props: MULT, w: 3 }));
    const read = await c.drive(c.kv('n1').get(REF, { props: MULT }));
    assert.ok(read.found);
    const del = c.kv('n1').delete(REF, { props: MULT, context: read.context });
    const put = c.kv('n2').put(REF, { content: text('v2'), context: read.context }, { props: MULT });
    await c.drive(Promise.all([del, put]));
    await c.advance(4_000);
    for (const n of ['n1', 'n2', 'n3']) {
      const got = await c.drive(c.kv(n).get(REF, { props: MULT, r: 3 }));
      assert.ok(got.found, `v2 survives via ${n}`);
      assert.deepEqual(got.siblings.map((s) => decode(s.value)), ['v2']);
    }
  });

  it('a put after a delete (with the tombstone\'s context) brings the key back', async () => {
    const c = await formKvCluster(3, { seed: 24 });
    await c.drive(c.kv('n1').put(REF, { content: text('v1') }, { props: MULT }));
    await c.drive(c.kv('n2').delete(REF, { props: MULT }));
    const gone = await c.drive(c.kv('n3').get(REF, { props: MULT }));
    assert.equal(gone.found, false);
    await c.drive(c.kv('n3').put(REF, { content: text('v2'), ...(gone.context ? { context: gone.context } : {}) }, { props: MULT }));
    await c.advance(4_000);
    const got = await c.drive(c.kv('n1').get(REF, { props: MULT, r: 3 }));
    assert.ok(got.found);
    assert.deepEqual(got.siblings.map((s) => decode(s.value)), ['v2']);
  });
});

describe('KvService: delete_mode', () => {
  it("'keep' never reaps tombstones; 'immediate' reaps them as soon as the delete answered", async () => {
    const keep = await formKvCluster(3, { seed: 31, service: { deleteMode: 'keep' } });
    await keep.drive(keep.kv('n1').put(REF, { content: text('v') }, { w: 3 }));
    await keep.drive(keep.kv('n1').delete(REF));
    await keep.advance(20_000);
    for (const t of keep.kv('n1').preflist(REF)) {
      const o = await keep.stored(t.node, t.partition, REF);
      assert.ok(o !== undefined && isTombstone(o), `${t.node} keeps the tombstone`);
    }
    assert.equal((await keep.drive(keep.kv('n2').get(REF))).found, false);

    const immediate = await formKvCluster(3, { seed: 32, service: { deleteMode: 'immediate' } });
    await immediate.drive(immediate.kv('n1').put(REF, { content: text('v') }, { w: 3 }));
    await immediate.drive(immediate.kv('n1').delete(REF));
    await immediate.advance(100);
    for (const t of immediate.kv('n1').preflist(REF)) assert.equal(await immediate.stored(t.node, t.partition, REF), undefined, `${t.node} reaped at once`);
  });
});
