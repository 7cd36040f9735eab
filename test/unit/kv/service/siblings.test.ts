import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, formKvCluster, REF, text } from './harness.js';

const MULT = { allowMult: true };

describe('KvService: siblings and contexts', () => {
  it('concurrent blind puts with allow_mult make siblings; a put with the merged context resolves them', async () => {
    const c = await formKvCluster(3, { seed: 2 });
    const a = c.kv('n1').put(REF, { content: text('a') }, { props: MULT });
    const b = c.kv('n2').put(REF, { content: text('b') }, { props: MULT });
    await c.drive(Promise.all([a, b]));
    await c.advance(500);
    const got = await c.drive(c.kv('n3').get(REF, { props: MULT }));
    assert.ok(got.found);
    assert.deepEqual(got.siblings.map((s) => decode(s.value)).sort(), ['a', 'b']);
    const resolved = await c.drive(c.kv('n3').put(REF, { content: text('ab'), context: got.context }, { props: MULT, returnBody: true }));
    assert.deepEqual(resolved.body?.siblings.map((s) => decode(s.value)), ['ab']);
    for (const n of ['n1', 'n2', 'n3']) {
      const again = await c.drive(c.kv(n).get(REF, { props: MULT }));
      assert.ok(again.found);
      assert.deepEqual(again.siblings.map((s) => decode(s.value)), ['ab'], `via ${n}`);
    }
  });

  it('sequential writes with fresh contexts through different nodes make no siblings', async () => {
    const c = await formKvCluster(3, { seed: 3 });
    let context = (await c.drive(c.kv('n1').put(REF, { content: text('v1') }, { props: MULT }))).context;
    for (const [i, n] of ['n2', 'n3', 'n1'].entries()) {
      context = (await c.drive(c.kv(n).put(REF, { content: text(`v${i + 2}`), context }, { props: MULT }))).context;
    }
    const got = await c.drive(c.kv('n2').get(REF, { props: MULT, r: 3 }));
    assert.ok(got.found);
    assert.deepEqual(got.siblings.map((s) => decode(s.value)), ['v4']);
  });

  it('if_none_match refuses with the coordinating vnode\'s precondition error', async () => {
    const c = await formKvCluster(3, { seed: 4 });
    await c.drive(c.kv('n1').put(REF, { content: text('x') }));
    await assert.rejects(c.drive(c.kv('n2').put(REF, { content: text('y') }, { ifNoneMatch: true })), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'kv_precondition_failed');
      return true;
    });
  });
});
