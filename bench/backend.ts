// Storage backend benchmark: puts and gets per second of 1 KiB values for the
// memory engine and LMDB (syncWrites true and false). "seq" awaits each put
// before the next (latency-bound: one commit, and with syncWrites one fsync,
// per put); "c64" keeps 64 puts in flight, which lmdb-js batches into shared
// transactions. Run: node --import tsx bench/backend.ts [count]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdbEngine, openMemoryEngine, type PartitionStore, type StorageEngine } from '../src/kv/backend/index.js';

const COUNT = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = 64;
const VALUE = Buffer.alloc(1024, 0x61);
const keyOf = (i: number): { bucketType: string; bucket: string; key: string } => ({ bucketType: 'default', bucket: 'bench', key: `key-${i}` });

async function rate(count: number, run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function putsSequential(p: PartitionStore, count: number, offset: number): Promise<number> {
  return rate(count, async () => {
    for (let i = 0; i < count; i += 1) await p.put(keyOf(offset + i), VALUE, []);
  });
}

async function putsConcurrent(p: PartitionStore, count: number, offset: number): Promise<number> {
  return rate(count, async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) await p.put(keyOf(offset + next++), VALUE, []);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  });
}

async function gets(p: PartitionStore, count: number): Promise<number> {
  return rate(count, async () => {
    for (let i = 0; i < count; i += 1) if ((await p.get(keyOf(i))) === undefined) throw new Error(`key ${i} missing`);
  });
}

async function measure(label: string, engine: StorageEngine, sequentialCount: number): Promise<Record<string, string>> {
  const p = engine.partition(0);
  const seq = await putsSequential(p, sequentialCount, COUNT);
  const concurrent = await putsConcurrent(p, COUNT, 0);
  const read = await gets(p, COUNT);
  await engine.close();
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  return { engine: label, 'put/s seq': fmt(seq), 'put/s c64': fmt(concurrent), 'get/s': fmt(read) };
}

const rows: Array<Record<string, string>> = [];
rows.push(await measure('memory', openMemoryEngine(), COUNT));
for (const syncWrites of [true, false]) {
  const dir = mkdtempSync(join(tmpdir(), 'rondo-bench-'));
  try {
    // Sequential durable puts pay one fsync each; fewer keep the run short.
    rows.push(await measure(`lmdb syncWrites=${syncWrites}`, openLmdbEngine({ path: dir, syncWrites }), syncWrites ? 2_000 : COUNT));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`${COUNT} keys, 1 KiB values`);
console.table(rows);
