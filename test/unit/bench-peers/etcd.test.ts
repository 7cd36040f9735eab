// A real 3-member etcd cluster, the etcd driver against every member, and a
// short wrk run of the etcd kind (whose keys the driver then reads back).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcdCluster } from '../../../bench/peers/etcd.js';
import type { Peer } from '../../../bench/peers/peer.js';
import { etcdDriver } from '../../../src/bench/drivers/etcd.js';
import { runWrk } from '../../../src/bench/wrk.js';
import { assertProcessGone, dataRoot, freeEtcdBasePort } from './helpers.js';

const root = dataRoot();
let etcd: Peer | undefined;
after(async () => {
  await etcd?.stop();
  root.remove();
});

test('etcd: driver ops on all 3 members, wrk puts read back, then stop kills the members and removes the temp folder', async () => {
  etcd = await startEtcdCluster({ basePort: await freeEtcdBasePort(), dataRoot: root.path });
  assert.equal(etcd.targets.length, 3);
  assert.equal(etcd.pids.length, 3);
  const driver = etcdDriver({ targets: etcd.targets, bucket: 'b', timeoutMs: 5_000, params: {} });
  const clients = await Promise.all([0, 1, 2].map((i) => driver.connect(i, new AbortController().signal)));
  const small = Buffer.alloc(100, 0x41);
  const large = Buffer.alloc(3000, 0x42); // a range reply this big comes chunked
  for (let i = 0; i < 45; i++) {
    const writer = clients[i % 3]!;
    const reader = clients[(i + 1) % 3]!; // linearizable read on another member
    assert.equal(await writer.put(`k${i}`, i % 2 === 0 ? small : large), 'ok');
    assert.equal(await reader.get(`k${i}`), 'ok');
  }
  for (const client of clients) assert.equal(await client.get('never-written'), 'notfound');
  for (const client of clients) client.close();

  // wrk's Lua base64s the keys itself: its puts must land where the driver looks.
  const spec = { name: 'wrk-etcd', keys: 4, keyGen: 'sequential' as const, valueBytes: 16, mix: { put: 1 }, concurrency: 3, durationSec: 1, warmupSec: 0, preload: false };
  const result = await runWrk(spec, { label: 'etcd wrk', targets: etcd.targets, kind: 'etcd', bucket: 'w', params: {} });
  assert.ok(result.totalOps >= spec.keys, `wrk completed ${result.totalOps} puts`);
  assert.equal(result.errors, 0);
  const reader = await etcdDriver({ targets: etcd.targets, bucket: 'w', timeoutMs: 5_000, params: { serializable: 'true' } }).connect(0, new AbortController().signal);
  await new Promise((resolve) => setTimeout(resolve, 200)); // a serializable read may lag the leader's commit briefly
  for (let n = 0; n < spec.keys; n++) assert.equal(await reader.get(`k${n}`), 'ok', `w/k${n} written by wrk`);
  assert.equal(await reader.get(`k${spec.keys}`), 'notfound');
  reader.close();

  await etcd.stop();
  for (const pid of etcd.pids) await assertProcessGone(pid);
  root.assertEmpty();
});
