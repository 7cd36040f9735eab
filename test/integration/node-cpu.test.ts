// A node's own CPU figures: process CPU time and pid in /stats, on one real
// node (TCP, LMDB) in this process.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/cli/config.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { tempDir } from '../helpers/processes.js';

/** Keeps the main thread busy for `ms`. */
function spinForProfile(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe('node CPU: /stats', { timeout: 120_000 }, () => {
  const dir = tempDir('rondo-cpu-');
  let node: RunningNode;
  let base = '';

  before(async () => {
    node = await startNode(resolveConfig({ name: 'c1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir.path, 'c1'), clusterSecret: 'cpu-test-secret', logLevel: 'warn' }));
    base = `http://${node.httpAddress}`;
  });
  after(async () => {
    await node.stop();
    dir.remove();
  });

  const stats = async (): Promise<Record<string, unknown>> => (await (await fetch(`${base}/stats`)).json()) as Record<string, unknown>;
  const someWrites = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${base}/buckets/cpu/keys/k${i}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: `v${i}`.repeat(100) });
      assert.equal(res.status, 204);
    }
  };

  it('/stats carries the process CPU time (µs, all threads) and pid, growing with work', async () => {
    const first = await stats();
    for (const field of ['process_cpu_user_us', 'process_cpu_system_us', 'pid']) {
      const value = first[field];
      assert.ok(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, `${field} is a non-negative integer, got ${String(value)}`);
    }
    assert.equal(first.pid, process.pid);
    await someWrites(50);
    spinForProfile(30);
    const second = await stats();
    assert.ok((second.process_cpu_user_us as number) > (first.process_cpu_user_us as number), 'user CPU grew');
    assert.ok((second.process_cpu_system_us as number) >= (first.process_cpu_system_us as number), 'system CPU never shrinks');
    assert.ok((second.process_cpu_user_us as number) + (second.process_cpu_system_us as number) - (first.process_cpu_user_us as number) - (first.process_cpu_system_us as number) >= 20_000, 'at least the 30 ms spin (most of it) shows');
  });
});
