// ClusterNode's admin surface, run in the simulator: the same requests the
// CLI sends, with the replies it prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RondoError } from '../../../src/core/errors.js';
import { ringDigest, singletonRing } from '../../../src/core/membership/index.js';
import { SimCluster } from '../../../src/core/scenarios/sim-cluster.js';

async function formCluster(size: number, seed = 1): Promise<SimCluster> {
  const cluster = new SimCluster({ seed });
  cluster.addNode('n1');
  for (let i = 2; i <= size; i++) {
    cluster.addNode(`n${i}`);
    const reply = await cluster.admin(`n${i}`, { type: 'admin.join', seed: SimCluster.addressOf('n1') });
    assert.match(reply.lines.join('\n'), /joined the cluster/);
  }
  cluster.runUntil(() => Object.keys(cluster.node('n1').ring().members).length === size, 5_000);
  return cluster;
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof RondoError, `expected a RondoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('ClusterNode admin requests', () => {
  it('plan lists joins and transfers; commit applies them; member-status shows the result', async () => {
    const cluster = await formCluster(3);
    const plan = await cluster.admin('n1', { type: 'admin.plan' });
    const text = plan.lines.join('\n');
    assert.match(text, /join\s+n2/);
    assert.match(text, /join\s+n3/);
    assert.match(text, /n1\s+64 →\s+22/);
    assert.match(text, /Transfers resulting from cluster changes: 42/);
    const commit = await cluster.admin('n1', { type: 'admin.commit' });
    assert.match(commit.lines.join('\n'), /committed \(ring epoch 1\)/);
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    const status = await cluster.admin('n3', { type: 'admin.member-status' });
    assert.match(status.lines.join('\n'), /Valid:3 \/ Leaving:0 \/ Exiting:0 \/ Joining:0 \/ Down:0/);
    const rows = (status.data as { members: { name: string; up: boolean | undefined }[] }).members;
    assert.deepEqual(rows.map((r) => [r.name, r.up]), [['n1', true], ['n2', true], ['n3', undefined]]);
  });

  it('refuses what cannot be done, with typed errors and clear messages', async () => {
    const cluster = await formCluster(2);
    await rejects(cluster.admin('n2', { type: 'admin.commit' }), 'not_claimant', /claimant/);
    await rejects(cluster.admin('n2', { type: 'admin.join', seed: SimCluster.addressOf('n1') }), 'plan_invalid', /already a member/);
    await cluster.admin('n1', { type: 'admin.commit' });
    await rejects(cluster.admin('n1', { type: 'admin.commit' }), 'plan_empty', /no staged changes|nothing/i);
    await rejects(cluster.admin('n1', { type: 'admin.leave', node: 'n9' }), 'not_member', /n9/);
    cluster.addNode('n5');
    await rejects(cluster.admin('n5', { type: 'admin.join', seed: 'nowhere.sim:1' }), 'peer_unreachable', /nowhere/);
    await rejects(cluster.admin('n5', { type: 'admin.join', seed: SimCluster.addressOf('n5') }), 'invalid_argument', /itself/);
    await rejects(cluster.node('n1').handleAdmin({ type: 'admin.bogus' }), 'invalid_argument', /unknown admin request/);
  });

  it('a leave hands off every partition, then the node reports that it has left', async () => {
    const cluster = await formCluster(3);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    let left = false;
    cluster.node('n3').onLeft(() => {
      left = true;
    });
    const staged = await cluster.admin('n3', { type: 'admin.leave' });
    assert.match(staged.lines.join('\n'), /staged: leave n3/);
    cluster.runUntil(() => cluster.node('n1').ring().members.n3?.staged !== null, 5_000);
    const plan = await cluster.admin('n1', { type: 'admin.plan' });
    assert.match(plan.lines.join('\n'), /n3\s+21 →\s+0/);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => left, 20_000), 'n3 never reported leaving');
    assert.ok(cluster.runUntil(() => cluster.settled(['n1', 'n2']) && cluster.node('n1').ring().members.n3?.status === 'removed', 20_000));
  });

  it('a node that has left starts over as a fresh one-node cluster (also when restarted first), joins again, and is told of a later leave', async () => {
    const cluster = await formCluster(3);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    assert.throws(() => cluster.node('n3').startOver(), { name: 'PlanInvalidError' }, 'a member never starts over');
    const leave = async (): Promise<void> => {
      await cluster.admin('n3', { type: 'admin.leave' });
      cluster.runUntil(() => cluster.node('n1').ring().members.n3?.staged !== null, 5_000);
      await cluster.admin('n1', { type: 'admin.commit' });
    };
    await leave();
    assert.ok(cluster.runUntil(() => cluster.node('n3').leftCluster(), 20_000), 'n3 never left');

    // Stopped before its host started it over: the saved ring still says it left, and it is told so again.
    cluster.crash('n3');
    const n3 = cluster.restart('n3');
    assert.ok(n3.leftCluster());
    let told = 0;
    n3.onLeft(() => told++);
    assert.ok(cluster.runUntil(() => told === 1, 5_000), 'the restarted node was not told it left');
    n3.startOver();
    assert.deepEqual(Object.keys(n3.ring().members), ['n3']);
    assert.ok(!n3.leftCluster());
    assert.ok(cluster.runUntil(() => cluster.settled(['n1', 'n2']) && cluster.node('n1').ring().members.n3?.status === 'removed', 20_000));
    cluster.sim.runFor(3_000);
    assert.deepEqual(Object.keys(n3.ring().members), ['n3'], 'the fresh node stays alone');
    assert.deepEqual((await cluster.admin('n3', { type: 'admin.node-info' })).data, {
      name: 'n3', pid: undefined, address: SimCluster.addressOf('n3'), clusterName: 'sim', claimant: 'n3', memberCount: 1, status: 'valid',
    });

    const joined = await cluster.admin('n3', { type: 'admin.join', seed: SimCluster.addressOf('n1') });
    assert.match(joined.lines.join('\n'), /joined the cluster/);
    assert.ok(await cluster.planAndCommit('n1'));
    assert.ok(cluster.runUntil(() => cluster.settled() && Object.values(cluster.node('n1').ring().members).every((m) => m.status === 'valid'), 20_000), 'n3 did not join again');
    assert.ok(cluster.node('n1').ring().ownership.owners.includes('n3'));

    await leave();
    assert.ok(cluster.runUntil(() => told === 2, 20_000), 'a later leave was not told');
    n3.startOver();
    cluster.crash('n3');
    const again = cluster.restart('n3');
    assert.deepEqual(Object.keys(again.ring().members), ['n3'], 'the fresh ring was saved');
    assert.ok(!again.leftCluster());
  });

  it('force-remove says the data is not handed off', async () => {
    const cluster = await formCluster(3);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    cluster.crash('n3');
    const staged = await cluster.admin('n1', { type: 'admin.force-remove', node: 'n3' });
    assert.match(staged.lines.join('\n'), /not handed off/);
    const plan = await cluster.admin('n1', { type: 'admin.plan' });
    assert.match(plan.lines.join('\n'), /force-remove\s+n3/);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(['n1', 'n2']), 20_000));
    assert.equal(cluster.node('n2').ring().members.n3?.status, 'removed');
  });

  it('the ring survives a restart (it is persisted before it is gossiped)', async () => {
    const cluster = await formCluster(3);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    const before = cluster.node('n2').ring();
    cluster.crash('n2');
    cluster.restart('n2');
    assert.deepEqual(cluster.node('n2').ring(), before);
    cluster.crash('n3');
    cluster.restart('n3', { wipe: true });
    assert.equal(Object.keys(cluster.node('n3').ring().members).length, 1, 'a wiped node starts alone');
  });
});

describe('a dead claimant', () => {
  it('can be marked down (only once unreachable); the next valid member takes over, and it can then be force-removed', async () => {
    const cluster = await formCluster(3);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    assert.equal(cluster.node('n2').ring().ownership.claimant, 'n1');
    await rejects(cluster.admin('n2', { type: 'admin.down', node: 'n1' }), 'invalid_argument', /not unreachable/);

    cluster.crash('n1');
    assert.ok(cluster.runUntil(() => !cluster.node('n2').watcher.isUp('n1'), 10_000));
    await rejects(cluster.admin('n2', { type: 'admin.commit' }), 'not_claimant', /n1/);
    const marked = await cluster.admin('n2', { type: 'admin.down', node: 'n1' });
    assert.match(marked.lines.join('\n'), /marked down/);
    assert.ok(cluster.runUntil(() => ['n2', 'n3'].every((n) => cluster.node(n).ring().ownership.claimant === 'n2'), 5_000), 'n2 did not take over');
    const status = await cluster.admin('n3', { type: 'admin.member-status' });
    assert.match(status.lines.join('\n'), /Down:1/);

    await cluster.admin('n3', { type: 'admin.force-remove', node: 'n1' });
    cluster.runUntil(() => cluster.node('n2').ring().members.n1?.staged !== null, 5_000);
    await cluster.admin('n2', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(['n2', 'n3']), 20_000));
    assert.equal(cluster.node('n3').ring().members.n1?.status, 'removed');
  });

  it('a member marked down that comes back writes itself valid again', async () => {
    const cluster = await formCluster(3);
    await cluster.admin('n1', { type: 'admin.commit' });
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
    cluster.crash('n3');
    assert.ok(cluster.runUntil(() => !cluster.node('n1').watcher.isUp('n3'), 10_000));
    await cluster.admin('n1', { type: 'admin.down', node: 'n3' });
    assert.ok(cluster.runUntil(() => cluster.node('n2').ring().members.n3?.status === 'down', 5_000));
    cluster.restart('n3');
    assert.ok(cluster.runUntil(() => cluster.settled(), 10_000), 'n3 did not come back valid');
    assert.equal(cluster.node('n1').ring().ownership.claimant, 'n1');
  });
});

describe('service registration', () => {
  it('routes messages of a registered prefix to the service and refuses core prefixes', async () => {
    const cluster = await formCluster(2);
    const seen: string[] = [];
    cluster.node('n2').registerService('echo', { receive: (from, msg) => seen.push(`${from}:${msg.type}`) });
    assert.throws(() => cluster.node('n2').registerService('ring', { receive: () => undefined }), /reserved/);
    assert.throws(() => cluster.node('n2').registerService('echo', { receive: () => undefined }), /once/);
    assert.equal(cluster.node('n1').send('n2', { type: 'echo.hello' }), true);
    assert.equal(cluster.node('n1').send('nobody', { type: 'echo.hello' }), false);
    cluster.sim.runFor(50);
    assert.deepEqual(seen, ['n1:echo.hello']);
    assert.deepEqual([...cluster.node('n2').upNodes()].sort(), ['n1', 'n2']);
  });
});

describe('refused input from peers', () => {
  it('gossip of another target_n_val is refused with one warn line, however often it comes; malformed join messages are dropped', async () => {
    const cluster = await formCluster(2);
    const before = ringDigest(cluster.node('n1').ring());
    // A node of the same cluster name and secret, started with another target_n_val: it gossips its own ring.
    const foreign = cluster.sim.createEnv('x');
    const ring = singletonRing({ self: 'x', address: 'x.sim:7000', clusterName: 'sim', ringSize: 64, targetNVal: 3 });
    for (let i = 0; i < 5; i++) {
      foreign.net.send('n1', { type: 'ring.gossip', ring } as never);
      cluster.sim.runFor(100);
    }
    foreign.net.send('n1', { type: 'node.join-request', node: 'x' } as never);
    foreign.net.send('n1', { type: 'node.join-accept', ring: { ...ring, ownership: null } } as never);
    cluster.sim.runFor(100);
    const lines = cluster.sim.trace.tail().filter((line) => / warn n1 /.test(line));
    assert.equal(lines.filter((line) => /refusing ring gossip from x: its ring has target_n_val 3, this cluster's has 4/.test(line)).length, 1, lines.join('\n'));
    assert.ok(lines.some((line) => /dropping malformed node.join-request from x: join request without/.test(line)), lines.join('\n'));
    assert.ok(lines.some((line) => /dropping malformed node.join-accept from x: join accept with a malformed ring: ownership is not a map/.test(line)), lines.join('\n'));
    assert.equal(ringDigest(cluster.node('n1').ring()), before);
    assert.deepEqual(Object.keys(cluster.node('n1').ring().members).sort(), ['n1', 'n2']);
  });
});

describe('ClusterNode status requests (riak-admin ringready, cluster status, stat show)', () => {
  it('ringready: TRUE when settled; FALSE with the node whose ring we have not seen; FALSE with the down node', async () => {
    const cluster = await formCluster(3, 21);
    assert.ok(await cluster.planAndCommit('n1'));
    assert.ok(cluster.runUntil(() => cluster.settled(), 30_000), 'settled');
    cluster.sim.runFor(3_000); // a gossip round from everyone
    const ready = await cluster.admin('n1', { type: 'admin.ringready' });
    assert.deepEqual(ready.data, { ready: true, nodes: ['n1', 'n2', 'n3'] });
    assert.deepEqual(ready.lines, ["TRUE All nodes agree on the ring ['n1','n2','n3']"]);
    const status = await cluster.admin('n2', { type: 'admin.cluster-status' });
    const data = status.data as { claimant: string; ringReady: boolean; members: { name: string; status: string; up: boolean }[] };
    assert.equal(data.ringReady, true);
    assert.deepEqual(data.members.map((m) => [m.name, m.status, m.up]), [['n1', 'valid', true], ['n2', 'valid', true], ['n3', 'valid', true]]);
    assert.ok(status.lines.some((l) => l.includes(`(C) ${data.claimant}`)), status.lines.join('\n'));

    // n1 no longer hears n3 directly (SWIM's indirect probes through n2 keep it alive): a staged change gives n1 a ring n3's gossip never confirms.
    cluster.sim.blockOneWay('n3', 'n1');
    await cluster.admin('n1', { type: 'admin.leave', node: 'n2' });
    cluster.sim.runFor(5_000);
    const split = await cluster.admin('n1', { type: 'admin.ringready' });
    assert.deepEqual(split.data, { ready: false, reason: 'different_rings', disagreeing: ['n3'], nodes: ['n1', 'n2', 'n3'] });
    cluster.sim.heal();
    await cluster.admin('n1', { type: 'admin.clear' });

    cluster.crash('n3');
    assert.ok(cluster.runUntil(() => !cluster.node('n1').upNodes().has('n3'), 20_000), 'n3 seen down');
    const down = await cluster.admin('n1', { type: 'admin.ringready' });
    assert.deepEqual(down.lines, ["FALSE ['n3'] down.  All nodes need to be up to check."]);
    const after = (await cluster.admin('n1', { type: 'admin.cluster-status' })).lines.join('\n');
    assert.match(after, /\|\s+n3\s+\|\s+valid\s+\|\s+down!\s+\|/);
  });

  it('status and stat show need a stats provider; a bad pattern is refused first; services lists what is registered', async () => {
    const cluster = await formCluster(1);
    await rejects(cluster.admin('n1', { type: 'admin.stat-show', pattern: 'a(b' }), 'invalid_argument', /stat pattern/);
    await rejects(cluster.admin('n1', { type: 'admin.status' }), 'invalid_argument', /keeps no stats/);
    const services = await cluster.admin('n1', { type: 'admin.services' });
    assert.deepEqual(services.data, { node: 'n1', services: [] });
  });
});
