import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, formKvCluster, REF, text } from './harness.js';

describe('KvService: put and get', () => {
  it('a put through one node is read back through every node (N=3, R=W=2)', async () => {
    const c = await formKvCluster(3);
    const put = await c.drive(c.kv('n1').put(REF, { content: text('hello') }, { w: 2, returnBody: true }));
    assert.deepEqual(put.body?.siblings.map((s) => decode(s.value)), ['hello']);
    for (const n of ['n1', 'n2', 'n3']) {
      const got = await c.drive(c.kv(n).get(REF, { r: 2 }));
      assert.ok(got.found, `found via ${n}`);
      assert.deepEqual(got.siblings.map((s) => decode(s.value)), ['hello']);
    }
    await c.advance(1_000);
    for (const t of c.kv('n1').preflist(REF)) assert.ok(await c.stored(t.node, t.partition, REF), `${t.node}/${t.partition} holds it`);
  });
});
