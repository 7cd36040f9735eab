// LMDB: the compliance suite (durable and noSync settings), persistence across
// reopen, and crash safety against SIGKILL of a writer process.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLmdbEngine } from '../../../../src/kv/backend/index.js';
import { runStorageEngineCompliance } from './compliance.js';
import { CRASH_BUCKET, CRASH_PARTITION, crashValue } from './fixtures/crash-shared.js';
import { bytes, collect, k, text } from './helpers.js';

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rondo-lmdb-'));
  tempDirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

for (const syncWrites of [true, false]) {
  runStorageEngineCompliance(`lmdb (syncWrites=${syncWrites})`, async () => {
    const dir = await tempDir();
    const engine = openLmdbEngine({ path: dir, syncWrites });
    return {
      engine,
      cleanup: async () => {
        await engine.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}

describe('lmdb durability', () => {
  it('keeps data, indexes and partitions across close and reopen', async () => {
    const dir = await tempDir();
    const first = openLmdbEngine({ path: dir });
    await first.partition(4).put(k('a'), bytes('alpha'), [{ index: 'n_int', value: -3 }]);
    await first.partition(4).put(k('b'), bytes('beta'), []);
    await first.partition(4).delete(k('b'));
    await first.partition(11).put(k('c'), bytes('gamma'), []);
    await first.close();

    const second = openLmdbEngine({ path: dir });
    try {
      assert.equal(text(await second.partition(4).get(k('a'))), 'alpha');
      assert.equal(await second.partition(4).get(k('b')), undefined);
      assert.deepEqual(await second.partitions(), [4, 11]);
      const hits = await collect(second.partition(4).indexRange({ bucketType: 'default', bucket: 'b', index: 'n_int', start: -3 }));
      assert.deepEqual(hits.map((hit) => text(hit.key)), ['a']);
    } finally {
      await second.close();
    }
  });

  it('keeps every write a SIGKILLed writer saw acknowledged', async () => {
    const dir = await tempDir();
    const fixture = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged: string[] = [];
    let stderr = '';
    let partial = '';
    const killAfter = 400 + Math.floor(Math.random() * 400);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      acknowledged.push(...lines);
      if (acknowledged.length >= killAfter) child.kill('SIGKILL');
    });
    const signal = await exited;
    clearTimeout(guard);
    assert.equal(signal, 'SIGKILL', `writer died on its own: ${stderr}`);
    assert.ok(acknowledged.length >= killAfter, `writer acknowledged only ${acknowledged.length} of ${killAfter} keys: ${stderr}`);

    const engine = openLmdbEngine({ path: dir });
    try {
      const p = engine.partition(CRASH_PARTITION);
      for (const key of acknowledged) {
        const value = await p.get({ bucketType: 'default', bucket: CRASH_BUCKET, key });
        assert.ok(value, `acknowledged key ${key} is missing`);
        assert.ok(crashValue(key).equals(Buffer.from(value)), `acknowledged key ${key} is corrupt`);
      }
      // Whatever else survived (unacknowledged writes may or may not) is intact too, with its index row.
      let stored = 0;
      for await (const { key, value } of p.foldObjects()) {
        stored += 1;
        assert.ok(crashValue(text(key.key)!).equals(Buffer.from(value)));
      }
      assert.ok(stored >= acknowledged.length);
      const indexed = await collect(p.indexRange({ bucketType: 'default', bucket: CRASH_BUCKET, index: 'seq_int', start: 0, end: Number.MAX_SAFE_INTEGER }));
      assert.equal(indexed.length, stored);
    } finally {
      await engine.close();
    }
  });
});
