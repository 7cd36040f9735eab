// Cluster metadata spreading over a simulated cluster: pushes, periodic
// digest gossip after a partition, and persistence across restarts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetadataService, metadataDigest } from '../../../src/core/metadata/index.js';
import { SimCluster } from '../../../src/core/scenarios/sim-cluster.js';

async function cluster3(seed: number): Promise<{ cluster: SimCluster; services: Map<string, MetadataService> }> {
  const cluster = new SimCluster({ seed });
  const services = new Map<string, MetadataService>();
  const attach = (name: string): void => {
    const service = new MetadataService({ cluster: cluster.node(name) });
    service.start();
    services.set(name, service);
  };
  cluster.addNode('n1');
  attach('n1');
  for (const name of ['n2', 'n3']) {
    cluster.addNode(name);
    attach(name);
    await cluster.admin(name, { type: 'admin.join', seed: SimCluster.addressOf('n1') });
  }
  cluster.runUntil(() => Object.keys(cluster.node('n1').ring().members).length === 3, 5_000);
  await cluster.planAndCommit('n1');
  assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
  return { cluster, services };
}

function agree(services: Map<string, MetadataService>, names: string[]): boolean {
  return new Set(names.map((n) => metadataDigest(services.get(n)!.current()))).size === 1;
}

describe('MetadataService', () => {
  it('a write at one node reaches every member', async () => {
    const { cluster, services } = await cluster3(1);
    services.get('n2')!.put('bucket_types', 'maps', { datatype: 'map' });
    assert.ok(cluster.runUntil(() => ['n1', 'n3'].every((n) => services.get(n)!.get('bucket_types', 'maps') !== undefined), 1_000));
    assert.deepEqual(services.get('n3')!.get('bucket_types', 'maps'), { datatype: 'map' });
  });

  it('writes on both sides of a partition converge after it heals, by periodic gossip', async () => {
    const { cluster, services } = await cluster3(2);
    cluster.sim.partition([['n1'], ['n2', 'n3']]);
    services.get('n1')!.put('p', 'a', 1);
    services.get('n2')!.put('p', 'b', 2);
    services.get('n3')!.put('p', 'a', 3); // concurrent with n1's write of the same key
    cluster.sim.runFor(2_000);
    assert.ok(!agree(services, ['n1', 'n2', 'n3']), 'the partition kept them apart');
    cluster.sim.heal();
    assert.ok(cluster.runUntil(() => agree(services, ['n1', 'n2', 'n3']), 10_000), 'no convergence after heal');
    assert.equal(services.get('n1')!.get('p', 'b'), 2);
    // Both wrote 'a' at version 1: the tie-break picks one deterministically, the same everywhere.
    const a = services.get('n1')!.get('p', 'a');
    assert.ok(a === 1 || a === 3);
    for (const n of ['n2', 'n3']) assert.equal(services.get(n)!.get('p', 'a'), a);
  });

  it('survives a restart, and a restarted node catches up on what it missed', async () => {
    const { cluster, services } = await cluster3(3);
    services.get('n1')!.put('p', 'kept', true);
    cluster.sim.runFor(100);
    cluster.crash('n3');
    services.get('n1')!.put('p', 'missed', true);
    const node = cluster.restart('n3');
    const revived = new MetadataService({ cluster: node });
    revived.start();
    services.set('n3', revived);
    assert.equal(revived.get('p', 'kept'), true, 'lost across restart');
    assert.ok(cluster.runUntil(() => revived.get('p', 'missed') === true, 10_000), 'did not catch up');
  });

  it('drops malformed metadata messages without harm', async () => {
    const { cluster, services } = await cluster3(4);
    const before = metadataDigest(services.get('n2')!.current());
    cluster.node('n1').send('n2', { type: 'meta.state', state: 'garbage' });
    cluster.node('n1').send('n2', { type: 'meta.digest' });
    cluster.sim.runFor(100);
    assert.equal(metadataDigest(services.get('n2')!.current()), before);
  });
});

describe('MetadataService peer knowledge', () => {
  it('learns which members hold an entry, so a type can be activated only once every node has it', async () => {
    const { cluster, services } = await cluster3(5);
    cluster.sim.partition([['n1', 'n2'], ['n3']]);
    services.get('n1')!.put('bucket_types', 't', { status: 'created' });
    cluster.sim.runFor(500);
    assert.deepEqual(services.get('n1')!.membersMissing('bucket_types', 't'), ['n3']);
    cluster.sim.heal();
    assert.ok(cluster.runUntil(() => services.get('n1')!.membersMissing('bucket_types', 't').length === 0, 10_000));
    assert.equal(services.get('n1')!.peerKnows('n2', 'bucket_types', 'absent'), false);
  });
});
