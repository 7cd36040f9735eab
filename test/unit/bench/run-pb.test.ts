// The runner with the pb driver against one real Rondo node in this process
// (TCP PB API, LMDB in a temp dir): a counted run after a preload, with quorum
// params, and notfound for a key never written.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPbDriver } from '../../../src/bench/drivers/pb.js';
import { runBench } from '../../../src/bench/runner.js';
import { resolveConfig } from '../../../src/cli/config.js';
import { startNode, type RunningNode } from '../../../src/node.js';
import { tempDir } from '../../helpers/processes.js';

describe('bench runner with the pb driver on a real node', { timeout: 30_000 }, () => {
  const dir = tempDir('rondo-bench-pb-');
  let node: RunningNode;

  before(async () => {
    node = await startNode(resolveConfig({ name: 'b1', listen: '127.0.0.1:0', pbListen: '127.0.0.1:0', dataDir: join(dir.path, 'b1'), clusterSecret: 'bench-test-secret', ringSize: 8, logLevel: 'warn' }));
  });
  after(async () => {
    await node?.stop();
    dir.remove();
  });

  it('preloads and runs a few hundred operations without errors', async () => {
    const target = node.pbAddress as string;
    const driver = createPbDriver({ targets: [target], bucket: 'bench', timeoutMs: 5000, params: { r: '1', w: '1' } });
    const result = await runBench({ name: 'pb-test', keys: 100, keyGen: 'uniform', valueBytes: 256, mix: { get: 70, put: 30 }, concurrency: 4, count: 400, warmupSec: 0, preload: true }, driver, { label: 'pb', seed: 3, targets: [target] });
    assert.equal(result.totalOps, 400);
    assert.equal(result.errors, 0, result.notes.join('; '));
    assert.equal(result.driver, 'pb');
    assert.ok((result.ops.get?.count ?? 0) > 200);
    assert.ok(result.timeline.length >= 1);
    const client = await driver.connect(0, new AbortController().signal);
    try {
      assert.equal(await client.get('k99'), 'ok', 'a preloaded key is found');
      assert.equal(await client.get('never-written'), 'notfound');
    } finally {
      client.close();
    }
  });

  it('a refused request is an error (an invalid quorum: r beyond n_val)', async () => {
    const driver = createPbDriver({ targets: [node.pbAddress as string], bucket: 'bench', timeoutMs: 5000, params: { r: '9' } });
    const client = await driver.connect(0, new AbortController().signal);
    try {
      assert.equal(await client.get('k1'), 'error');
      assert.equal(await client.put('k1', Buffer.from('v')), 'ok', 'the connection is still usable');
    } finally {
      client.close();
    }
  });
});
