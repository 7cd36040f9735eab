// Bucket-type administration over a simulated 3-node cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RondoError } from '../../../../src/core/errors.js';
import { MetadataService } from '../../../../src/core/metadata/index.js';
import { SimCluster } from '../../../../src/core/scenarios/sim-cluster.js';
import { BucketTypeAdmin } from '../../../../src/kv/admin/index.js';
import { effectiveProps } from '../../../../src/kv/buckets/index.js';

async function setup(): Promise<{ cluster: SimCluster; admin: Map<string, BucketTypeAdmin>; meta: Map<string, MetadataService> }> {
  const cluster = new SimCluster({ seed: 11 });
  const admin = new Map<string, BucketTypeAdmin>();
  const meta = new Map<string, MetadataService>();
  for (const name of ['n1', 'n2', 'n3']) {
    cluster.addNode(name);
    const service = new MetadataService({ cluster: cluster.node(name) });
    service.start();
    meta.set(name, service);
    admin.set(name, new BucketTypeAdmin(service));
    if (name !== 'n1') await cluster.admin(name, { type: 'admin.join', seed: SimCluster.addressOf('n1') });
  }
  cluster.runUntil(() => Object.keys(cluster.node('n1').ring().members).length === 3, 5_000);
  await cluster.planAndCommit('n1');
  assert.ok(cluster.runUntil(() => cluster.settled(), 10_000));
  return { cluster, admin, meta };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof RondoError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'no error';
}

describe('bucket-type admin', () => {
  it('create, then activate once every node has it; status and list; props apply cluster-wide', async () => {
    const { cluster, admin, meta } = await setup();
    const n1 = admin.get('n1')!;
    cluster.sim.partition([['n1', 'n2'], ['n3']]);
    assert.deepEqual(n1.handle({ type: 'bucket-type.create', name: 'maps', props: '{"props":{"n_val":2}}' }).lines[0], 'maps created');
    cluster.sim.runFor(500);
    assert.match(code(() => n1.handle({ type: 'bucket-type.activate', name: 'maps' })), /not yet known to n3/);
    assert.match(n1.handle({ type: 'bucket-type.status', name: 'maps' }).lines[0] ?? '', /cannot be activated yet/);
    cluster.sim.heal();
    assert.ok(cluster.runUntil(() => meta.get('n1')!.membersMissing('bucket_types', 'maps').length === 0, 10_000));
    assert.match(n1.handle({ type: 'bucket-type.status', name: 'maps' }).lines[0] ?? '', /may be activated/);
    assert.equal(n1.handle({ type: 'bucket-type.activate', name: 'maps' }).lines[0], 'maps has been activated');
    assert.ok(cluster.runUntil(() => ['n2', 'n3'].every((n) => admin.get(n)!.handle({ type: 'bucket-type.status', name: 'maps' }).lines[0] === 'maps is active'), 5_000));
    assert.deepEqual(admin.get('n2')!.handle({ type: 'bucket-type.list' }).lines, ['default (active)', 'maps (active)']);
    const props = effectiveProps(meta.get('n3')!.current(), 'maps', 'b');
    assert.equal(props.n_val, 2);
    assert.equal(props.allow_mult, true);
  });

  it('refuses bad input with clear errors and changes nothing', async () => {
    const { admin, meta } = await setup();
    const n2 = admin.get('n2')!;
    const before = JSON.stringify(meta.get('n2')!.current());
    assert.match(code(() => n2.handle({ type: 'bucket-type.create', name: 'x', props: '{not json' })), /invalid_argument: .*not valid JSON/);
    assert.match(code(() => n2.handle({ type: 'bucket-type.create', name: 'x', props: '{"props":{"n_val":"three"}}' })), /kv_bad_props: .*n_val/);
    assert.match(code(() => n2.handle({ type: 'bucket-type.create', name: 'default', props: '' })), /kv_bad_bucket_type/);
    assert.match(code(() => n2.handle({ type: 'bucket-type.activate', name: 'nope' })), /kv_unknown_bucket_type/);
    // Features not built yet: refused rather than served as plain eventual KV.
    assert.match(code(() => n2.handle({ type: 'bucket-type.create', name: 'maps', props: '{"props":{"datatype":"map"}}' })), /kv_bad_props: .*datatype: data types \(datatype map\) are not available/);
    assert.match(code(() => n2.handle({ type: 'bucket-type.create', name: 'strong', props: '{"props":{"consistent":true}}' })), /kv_bad_props: .*consistent: strongly consistent bucket types are not available/);
    assert.equal(JSON.stringify(meta.get('n2')!.current()), before);
    assert.match(n2.handle({ type: 'bucket-type.status', name: 'nope' }).lines[0] ?? '', /not an existing bucket type/);
  });

  it('update refuses immutable properties of an active type', async () => {
    const { cluster, admin } = await setup();
    const n1 = admin.get('n1')!;
    n1.handle({ type: 'bucket-type.create', name: 'sets', props: '{"props":{"consistent":false}}' });
    assert.ok(cluster.runUntil(() => code(() => n1.handle({ type: 'bucket-type.activate', name: 'sets' })) === 'no error', 10_000));
    assert.match(code(() => n1.handle({ type: 'bucket-type.update', name: 'sets', props: '{"props":{"consistent":true}}' })), /kv_bad_props: .*consistent: cannot be changed/);
    assert.match(code(() => n1.handle({ type: 'bucket-type.update', name: 'sets', props: '{"props":{"datatype":"map"}}' })), /kv_bad_props: .*datatype/);
    assert.equal(n1.handle({ type: 'bucket-type.update', name: 'sets', props: '{"props":{"r":1}}' }).lines[0], 'sets updated');
  });
});
