// A real redis-server (appendfsync always) and the Redis driver against it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../../../bench/peers/redis.js';
import type { Peer } from '../../../bench/peers/peer.js';
import { redisDriver } from '../../../src/bench/drivers/redis.js';
import { assertProcessGone, dataRoot, freePort } from './helpers.js';

const root = dataRoot();
let redis: Peer | undefined;
after(async () => {
  await redis?.stop();
  root.remove();
});

test('redis: ~100 driver ops, then stop kills the server and removes its temp folder', async () => {
  redis = await startRedis({ port: await freePort(), fsync: 'always', dataRoot: root.path });
  const driver = redisDriver({ targets: redis.targets, bucket: 'b', timeoutMs: 2_000, params: {} });
  const client = await driver.connect(0, new AbortController().signal);
  const value = Buffer.alloc(1024, 0x42);
  for (let i = 0; i < 50; i++) {
    assert.equal(await client.put(`k${i}`, value), 'ok');
    assert.equal(await client.get(`k${i}`), 'ok');
  }
  assert.equal(await client.get('never-written'), 'notfound');
  client.close();
  await redis.stop();
  for (const pid of redis.pids) await assertProcessGone(pid);
  root.assertEmpty();
});
