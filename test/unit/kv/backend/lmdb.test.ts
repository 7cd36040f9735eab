// LMDB: the compliance suite (durable and noSync settings), persistence across
// reopen, and crash safety against SIGKILL of a writer process.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../../src/core/errors.js';
import { LMDB_FILE_NAME, openLmdbEngine, type LmdbEngineOptions } from '../../../../src/kv/backend/index.js';
import { lmdbFileStats } from '../../../../src/kv/backend/lmdb-stats.js';
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

// The value-tree layout with the default threshold (the suite's values are
// small, so mostly inline) and with every non-empty value in the value tree;
// the single layout of files made before it.
const variants: { name: string; options: Omit<LmdbEngineOptions, 'path'> }[] = [
  { name: 'syncWrites=true', options: { syncWrites: true } },
  { name: 'syncWrites=false', options: { syncWrites: false } },
  { name: 'value tree for every value', options: { valueTreeBytesMin: 1 } },
  { name: "layout 'single', 4 KiB pages", options: { layout: 'single', pageSize: 4096 } },
];
for (const { name, options } of variants) {
  runStorageEngineCompliance(`lmdb (${name})`, async () => {
    const dir = await tempDir();
    const engine = openLmdbEngine({ path: dir, ...options });
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

describe('lmdb layouts', () => {
  it('reads and writes a file made by the previous release (rows in the main database, 4 KiB pages) in its own layout', async () => {
    const dir = await tempDir();
    // Exactly how the engine opened files before the value tree: no named databases, the OS page size.
    const old = open<Buffer, Buffer>({ path: join(dir, LMDB_FILE_NAME), keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false, overlappingSync: false, pageSize: 4096 });
    const row = Buffer.concat([Buffer.from([0, 4, 0, 7]), Buffer.from('default'), Buffer.from([1]), Buffer.from('b'), Buffer.from('old')]);
    await old.put(row, Buffer.from('written by the old layout'));
    await old.close();

    const engine = openLmdbEngine({ path: dir });
    try {
      assert.equal(engine.layout, 'single');
      assert.equal(engine.pageSize, 4096);
      assert.equal(text(await engine.partition(4).get(k('old'))), 'written by the old layout');
      await engine.partition(4).put(k('new'), new Uint8Array(2_000).fill(1), [{ index: 'n_int', value: 1 }]);
      assert.deepEqual((await collect(engine.partition(4).foldKeys())).map((key) => text(key.key)), ['new', 'old']);
    } finally {
      await engine.close();
    }
    const stats = lmdbFileStats(join(dir, LMDB_FILE_NAME));
    assert.equal(stats.layout, 'single');
    assert.deepEqual(stats.records.map((r) => r.role).sort(), ['index', 'object', 'reverse']);
  });

  it('a new file gets the value tree and 8 KiB pages, and keeps them whatever later options ask', async () => {
    const dir = await tempDir();
    const first = openLmdbEngine({ path: dir });
    assert.equal(first.layout, 'value-tree');
    assert.equal(first.pageSize, 8192);
    await first.partition(1).put(k('a'), new Uint8Array(500).fill(2), []);
    await first.close();
    const second = openLmdbEngine({ path: dir, layout: 'single', pageSize: 4096 });
    try {
      assert.equal(second.layout, 'value-tree');
      assert.equal(second.pageSize, 8192);
      assert.deepEqual(await second.partition(1).get(k('a')), new Uint8Array(500).fill(2));
    } finally {
      await second.close();
    }
    assert.throws(() => openLmdbEngine({ path: dir, pageSize: 2048 }), InvalidArgumentError);
    assert.throws(() => openLmdbEngine({ path: dir, pageSize: 12_288 }), InvalidArgumentError);
    assert.throws(() => openLmdbEngine({ path: dir, valueTreeBytesMin: 0 }), InvalidArgumentError);
  });

  it('sequence numbers continue after a reopen, and a value keeps its number when rewritten', async () => {
    const dir = await tempDir();
    const big = (fill: number, size = 300): Uint8Array => new Uint8Array(size).fill(fill);
    const first = openLmdbEngine({ path: dir });
    for (let i = 0; i < 50; i += 1) await first.partition(2).put(k(`k${i}`), big(i), []);
    await first.close();
    const second = openLmdbEngine({ path: dir });
    try {
      const p = second.partition(2);
      await Promise.all(Array.from({ length: 50 }, (_, i) => p.put(k(`n${i}`), big(100 + i), [])));
      await p.put(k('k3'), big(7, 310), []);
      for (let i = 0; i < 50; i += 1) assert.deepEqual(await p.get(k(`n${i}`)), big(100 + i));
      assert.deepEqual(await p.get(k('k3')), big(7, 310));
    } finally {
      await second.close();
    }
    const stats = lmdbFileStats(join(dir, LMDB_FILE_NAME));
    assert.equal(stats.records.find((r) => r.role === 'value')?.entries, 100);
  });

  it('a number freed by a removal is reused once the removal committed, so new values fill the holes', async () => {
    const dir = await tempDir();
    const engine = openLmdbEngine({ path: dir });
    const p = engine.partition(5);
    const big = new Uint8Array(1000).fill(9);
    try {
      for (let i = 0; i < 10; i += 1) await p.put(k(`k${i}`), big, []);
      await p.delete(k('k2'));
      await p.put(k('k7'), bytes('small now'), []);
      await p.putMany([{ key: k('k4'), value: bytes('small too'), indexes: [] }]);
      for (let i = 10; i < 14; i += 1) await p.put(k(`k${i}`), big, []);
    } finally {
      await engine.close();
    }
    const { references, values } = referencesAndValues(dir);
    assert.deepEqual(references, values);
    // Numbers 1..10 were drawn first; 2, 4 and 7's numbers were reused, and one new number drawn.
    assert.deepEqual(values.map((v) => Number.parseInt(v, 16)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('values move between the row and the value tree with no orphan and no dangling reference', async () => {
    // Sizes around a threshold of 8 bytes; one key per partition-local name, overwritten, deleted, batched.
    const op = fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd'),
      kind: fc.constantFrom('put', 'put', 'put-many', 'delete'),
      size: fc.constantFrom(0, 1, 7, 8, 9, 200),
      indexed: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const dir = await tempDir();
        const engine = openLmdbEngine({ path: dir, valueTreeBytesMin: 8 });
        const model = new Map<string, Uint8Array>();
        const p = engine.partition(3);
        try {
          for (const [i, o] of ops.entries()) {
            const value = new Uint8Array(o.size).fill(i);
            const indexes = o.indexed ? [{ index: 'i_int', value: i }] : [];
            if (o.kind === 'delete') {
              await p.delete(k(o.key));
              model.delete(o.key);
            } else {
              await (o.kind === 'put' ? p.put(k(o.key), value, indexes) : p.putMany([{ key: k(o.key), value, indexes }]));
              model.set(o.key, value);
            }
          }
          for (const key of ['a', 'b', 'c', 'd']) assert.deepEqual(await p.get(k(key)), model.get(key));
          const folded = await collect(p.foldObjects());
          assert.deepEqual(folded.map((f) => [text(f.key.key), [...f.value]]), [...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, v]) => [key, [...v]]));
        } finally {
          await engine.close();
        }
        // Every value in the tree is referenced by exactly one row, and every reference names a value.
        const { references, values } = referencesAndValues(dir);
        assert.deepEqual(references, values);
        const objectsInTree = [...model.values()].filter((v) => v.length >= 8).length;
        assert.ok(values.length >= objectsInTree);
        await rm(dir, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  });
});

/** The sequence numbers the rows refer to and those the value tree holds, both sorted (hex). */
function referencesAndValues(dir: string): { references: string[]; values: string[] } {
  const options = { keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false } as const;
  const root = open<Buffer, Buffer>({ path: join(dir, LMDB_FILE_NAME), readOnly: true, maxDbs: 2, ...options });
  try {
    const rows = root.openDB<Buffer, Buffer>({ name: 'rows', ...options });
    const values = root.openDB<Buffer, Buffer>({ name: 'values', ...options });
    const references: string[] = [];
    for (const { value } of rows.getRange({})) {
      if (value.length === 0 || value[0] === 0) continue;
      assert.ok(value[0] === 1 && value.length === 9, 'a row value is empty, inline or a reference');
      references.push(value.subarray(1).toString('hex'));
    }
    return { references: references.sort(), values: [...values.getKeys({})].map((key) => Buffer.from(key).toString('hex')) };
  } finally {
    void root.close();
  }
}
