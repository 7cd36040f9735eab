// Handoff through the KV service in the simulator, one behaviour per test:
// hinted handoff after a primary returns, replace, repair of a wiped
// partition, the admin transfers report and cancel, and the transfer limit
// changed at runtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransfersReport } from '../../../../src/core/handoff/index.js';
import { SimCluster } from '../../../../src/core/scenarios/sim-cluster.js';
import type { KeyRef } from '../../../../src/kv/vnode/index.js';
import { formKvCluster, text, type KvSimCluster } from './harness.js';

const FAST = { retryDelayMs: 500, dropGraceMs: 500, checkIntervalMs: 250, resendMs: 500, stallTimeoutMs: 10_000 };
const KEYS: KeyRef[] = Array.from({ length: 80 }, (_, i) => ({ bucketType: 'default', bucket: 'h', key: `k${i}` }));

async function writeAll(c: KvSimCluster, via: string, w: number): Promise<void> {
  for (const ref of KEYS) await c.drive(c.kv(via).put(ref, { content: text(`v-${ref.key}`) }, { w }));
}

/** Copies of each key on its primaries (as `via` sees the ring), and data held by nodes for partitions they do not own. */
async function audit(c: KvSimCluster, via = 'n1'): Promise<{ missing: string[]; stranded: string[] }> {
  const missing: string[] = [];
  for (const ref of KEYS) {
    for (const t of c.kv(via).preflist(ref)) if ((await c.stored(t.node, t.partition, ref)) === undefined) missing.push(`${ref.key}@${t.node}/${t.partition}`);
  }
  const owners = c.node(via).ring().ownership.owners;
  const stranded: string[] = [];
  for (const name of c.liveNames()) for (const p of await c.engines.get(name)!.partitions()) if (owners[p] !== name) stranded.push(`${name}/p${p}`);
  return { missing, stranded };
}

async function settle(c: KvSimCluster, names: string[], maxMs = 60_000): Promise<void> {
  const ok = await c.advanceUntil(() => c.settled(names), maxMs);
  assert.ok(ok, `settled: pending ${JSON.stringify(c.node(names[0]!).ring().ownership.pending)}`);
  await c.advance(3_000); // drop graces, last hinted data
}

describe('KV handoff', () => {
  it('hinted handoff: writes taken by fallbacks while a primary was down reach it when it returns, and leave the fallbacks', async () => {
    const c = await formKvCluster(4, { seed: 3, service: { handoff: FAST } });
    c.crash('n4');
    assert.ok(await c.advanceUntil(() => !c.node('n1').upNodes().has('n4'), 10_000), 'n4 seen down');
    await writeAll(c, 'n1', 3); // W=3 with a primary down: fallbacks must take its share
    const whileDown = await audit(c);
    assert.ok(whileDown.stranded.length > 0, 'fallbacks hold hinted data');
    c.restart('n4');
    assert.ok(await c.advanceUntil(() => c.node('n1').upNodes().has('n4'), 10_000), 'n4 seen up');
    await c.advance(5_000);
    assert.deepEqual(await audit(c), { missing: [], stranded: [] });
  });

  it("replace moves one node's partitions to another, then the replaced node holds nothing", async () => {
    const c = await formKvCluster(3, { seed: 5, service: { handoff: FAST } });
    await writeAll(c, 'n1', 3);
    const ownedByN2 = c.node('n1').ring().ownership.owners.filter((o) => o === 'n2').length;
    c.addNode('n4');
    await c.admin('n4', { type: 'admin.join', seed: SimCluster.addressOf('n1') });
    await c.advanceUntil(() => c.node('n1').ring().members.n4?.status === 'joining', 10_000);
    await c.admin('n1', { type: 'admin.replace', old: 'n2', new: 'n4' });
    assert.ok(await c.planAndCommit('n1'));
    await settle(c, ['n1', 'n3', 'n4']);
    const ring = c.node('n1').ring();
    assert.equal(ring.members.n2?.status, 'removed');
    assert.equal(ring.ownership.owners.filter((o) => o === 'n4').length, ownedByN2, 'n4 took exactly n2\'s partitions');
    assert.deepEqual(await c.engines.get('n2')!.partitions(), [], 'n2 dropped everything it handed off');
    assert.deepEqual((await audit(c)).missing, []);
  });

  it('repair rebuilds a wiped partition from its neighbours', async () => {
    const c = await formKvCluster(3, { seed: 7, service: { handoff: FAST } });
    await writeAll(c, 'n1', 3);
    const owners = c.node('n1').ring().ownership.owners;
    const partition = owners.findIndex((o) => o === 'n2');
    await c.engines.get('n2')!.partition(partition).drop();
    const lost = (await audit(c)).missing;
    assert.ok(lost.length > 0 && lost.every((m) => m.endsWith(`@n2/${partition}`)), 'only the wiped partition misses keys');
    await assert.rejects(c.admin('n1', { type: 'handoff.repair', partition } as never), (e: { code?: string }) => e.code === 'invalid_argument', 'only the owner repairs');
    const reply = await c.admin('n2', { type: 'handoff.repair', partition } as never);
    assert.ok(reply.lines.some((l) => l.includes('asked')));
    await c.advance(5_000);
    assert.deepEqual((await audit(c)).missing, []);
  });

  it('admin transfers reports active and pending transfers of every member; cancel stops one, which is retried', async () => {
    const c = await formKvCluster(3, { seed: 9, service: { handoff: { ...FAST, batchItemsMax: 1, inflightBytesMax: 1024 * 1024, batchBytesMax: 1024 * 1024 } } });
    await writeAll(c, 'n1', 3);
    c.addNode('n4');
    await c.admin('n4', { type: 'admin.join', seed: SimCluster.addressOf('n1') });
    await c.advanceUntil(() => c.node('n1').ring().members.n4?.status === 'joining', 10_000);
    assert.ok(await c.planAndCommit('n1'));
    let report: TransfersReport | undefined;
    let active: { node: string; partition: number } | undefined;
    for (let i = 0; i < 200 && active === undefined; i++) {
      await c.advance(10);
      report = (await c.admin('n1', { type: 'handoff.transfers' } as never)).data as TransfersReport;
      const row = report.nodes.flatMap((n) => n.rows).find((r) => r.direction === 'outbound' && r.phase === 'folding');
      if (row) active = { node: row.node, partition: row.partition };
    }
    assert.ok(report && active, 'saw a transfer folding');
    assert.deepEqual(report.nodes.map((n) => n.node), ['n1', 'n2', 'n3', 'n4']);
    assert.ok(report.pending.length > 0);
    const lines = (await c.admin('n1', { type: 'handoff.transfers' } as never)).lines;
    assert.ok(lines.some((l) => l.startsWith('Pending ownership changes (')), lines.join('\n'));
    const cancelled = await c.admin(active.node, { type: 'handoff.cancel', partition: active.partition } as never);
    assert.deepEqual(cancelled.data, { cancelled: true });
    const failedBefore = c.kv(active.node).handoff.failed;
    await c.advance(100);
    assert.equal(c.kv(active.node).handoff.failed, failedBefore + 1, 'the cancelled transfer ended as failed');
    await settle(c, ['n1', 'n2', 'n3', 'n4']);
    assert.deepEqual(await audit(c), { missing: [], stranded: [] });
  });
  it('transfer-limit at runtime: a higher limit lets more run; a lower one keeps running transfers and holds new ones back; nothing is lost', async () => {
    const c = await formKvCluster(3, { seed: 11, service: { handoff: { ...FAST, batchItemsMax: 1, inflightBytesMax: 1024 * 1024, batchBytesMax: 1024 * 1024 } } });
    await writeAll(c, 'n1', 3);
    c.addNode('n4');
    await c.admin('n4', { type: 'admin.join', seed: SimCluster.addressOf('n1') });
    await c.advanceUntil(() => c.node('n1').ring().members.n4?.status === 'joining', 10_000);
    const setLimit = async (name: string, limit: number): Promise<unknown> => (await c.admin(name, { type: 'handoff.transfer-limit', limit } as never)).data;
    for (const name of ['n1', 'n2', 'n3', 'n4']) await setLimit(name, 1);
    assert.ok(await c.planAndCommit('n1'));
    const active = (name: string): number => c.kv(name).handoff.stats().handoff_outbound_active ?? 0;
    const inbound = (): number => c.kv('n4').handoff.stats().handoff_inbound_active ?? 0;
    let moved = false;
    for (let i = 0, after = 0; i < 300 && after < 5; i++) {
      await c.advance(10);
      assert.ok(['n1', 'n2', 'n3'].every((n) => active(n) <= 1) && inbound() <= 1, 'limit 1: one transfer at a time per node and direction');
      moved ||= inbound() === 1;
      if (moved) after++;
    }
    assert.ok(moved, 'transfers ran under limit 1');
    for (const name of ['n1', 'n2', 'n3', 'n4']) assert.deepEqual(await setLimit(name, 2), { node: name, limit: 2, previous: 1 });
    let busy: string | undefined;
    for (let i = 0; i < 500 && busy === undefined; i++) {
      await c.advance(10);
      busy = ['n1', 'n2', 'n3'].find((n) => active(n) === 2);
    }
    assert.ok(busy !== undefined, 'a node runs two transfers at once under the raised limit');
    const running = c.kv(busy).handoff.rows().filter((r) => r.direction === 'outbound').map((r) => r.id);
    const failedBefore = c.kv(busy).handoff.failed;
    await assert.rejects(c.admin(busy, { type: 'handoff.transfer-limit', limit: 0 } as never), (e: { code?: string }) => e.code === 'invalid_argument');
    assert.equal(c.kv(busy).handoff.options.concurrency, 2, 'a refused limit changes nothing');
    assert.deepEqual(await setLimit(busy, 1), { node: busy, limit: 1, previous: 2 });
    await c.advance(20);
    const still = c.kv(busy).handoff.rows().map((r) => r.id);
    assert.ok(running.every((id) => still.includes(id)), 'the running transfers go on');
    let sawOne = false;
    for (let i = 0; i < 300 && !sawOne; i++) {
      await c.advance(10);
      const n = active(busy);
      assert.ok(n <= 2, `at most the two that ran: ${n}`);
      sawOne = n <= 1;
    }
    assert.ok(sawOne, 'the node went down to the new limit');
    for (let i = 0; i < 30; i++) {
      await c.advance(10);
      assert.ok(active(busy) <= 1, 'once below the new limit, no new transfer takes it above');
    }
    await settle(c, ['n1', 'n2', 'n3', 'n4']);
    assert.equal(c.kv(busy).handoff.failed, failedBefore, 'changing the limit failed no transfer');
    assert.deepEqual(await audit(c), { missing: [], stranded: [] });
  });
});
