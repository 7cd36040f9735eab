// The KV service's /stats counters on a simulated 4-node cluster (virtual
// clock): counted where the events happen, and forgotten after a minute.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formKvCluster, REF, text } from './harness.js';

describe('KvService: /stats counters', () => {
  it('counts coordinated gets and puts, vnode commands on each node, redirects, and the one-minute window', async () => {
    const c = await formKvCluster(4);
    const nodes = ['n1', 'n2', 'n3', 'n4'];
    const targets = c.kv('n1').preflist(REF);
    const outsider = nodes.find((n) => !targets.some((t) => t.node === n));
    assert.ok(outsider !== undefined, 'n_val 3 on 4 nodes leaves one node without a replica');
    const coordinator = targets[0]?.node as string;
    await c.drive(c.kv(coordinator).put(REF, { content: text('v1') }, { w: 3 }));
    for (let i = 0; i < 4; i++) await c.drive(c.kv(coordinator).get(REF, { r: 3 }));
    await c.advance(100);
    const s = c.kv(coordinator).stats.render();
    assert.equal(s.node_puts, 1);
    assert.equal(s.node_puts_total, 1);
    assert.equal(s.node_gets, 4);
    assert.equal(s.node_get_fsm_active, 0);
    assert.equal(s.node_put_fsm_active, 0);
    assert.equal(s.node_get_fsm_siblings_100, 1);
    assert.equal(s.coord_redirs_total, 0);
    // Every replica ran the put once and each get once: summed over the nodes, N times each.
    const sum = (name: string): number => nodes.reduce((acc, n) => acc + (c.kv(n).stats.render()[name] ?? 0), 0);
    assert.equal(sum('vnode_puts_total'), targets.length);
    assert.equal(sum('vnode_gets_total'), 4 * targets.length);
    // A node with no replica of the key sends the put to one that has one.
    await c.drive(c.kv(outsider).put(REF, { content: text('v2') }, { w: 2 }));
    assert.equal(c.kv(outsider).stats.render().coord_redirs_total, 1);
    assert.equal(c.kv(outsider).stats.render().vnode_puts_total, 0);
    await c.advance(61_000);
    const later = c.kv(coordinator).stats.render();
    assert.equal(later.node_gets, 0);
    assert.equal(later.node_gets_total, 4);
    assert.equal(later.node_get_fsm_time_mean, 0);
  });

  it('counts failed gets as errors', async () => {
    const c = await formKvCluster(3);
    await assert.rejects(c.drive(c.kv('n1').get(REF, { r: 3, props: { nVal: 2 } })));
    const s = c.kv('n1').stats.render();
    assert.equal(s.node_get_fsm_errors_total, 1);
    assert.equal(s.node_get_fsm_active, 0);
  });
});
