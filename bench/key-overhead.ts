// Bytes per stored key, broken down: where the bytes beyond the value go, in
// one process, in seconds rather than the 12 minutes of memory-per-key.ts.
//
//   node --import tsx bench/key-overhead.ts                 # 200,000 keys
//   node --import tsx bench/key-overhead.ts --keys 1000000 --order random
//   node --import tsx bench/key-overhead.ts --overwrite --replace 0.5
//
// Writes N keys through one node's real write path: one KvVnode per partition
// (ring 64, node n1, actor n1/<partition>/0) on one LMDB engine with the
// production settings (fsync per commit), `put-coordinate` of keys k0..k<N-1>
// in bucket type `default`, bucket `mem` (allow_mult=false, as the default
// type), 1 KiB random values, blind writes. Each key goes to the partition the
// ring hashes it to (keyPartition), so every stored clock holds one actor, as
// on a 3-node cluster where the coordinating vnode's actor is the key's only
// one. `--concurrency` puts are in flight (64, as memory-per-key.ts); each
// waits for its write's durability, as the service does before replying.
//
// Churn, after the load: `--overwrite` rewrites every key once (random
// order, a blind write again); `--replace F` deletes a random fraction F of
// the keys (delete-coordinate, then the reap the service runs after its
// delete_mode delay) and writes as many new keys. Keys counted below are the
// ones stored at the end.
//
// Then it reads the file back and reports per key: the encoded object split
// into its parts (walking its bytes), the row key, LMDB's record headers, and
// the pages: leaf fill, page headers, branch pages, free pages, the file.
// RSS: the process's growth and the part that is the mapped LMDB file.
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '../src/core/sim/index.js';
import { keyPartition } from '../src/core/ring/hash.js';
import type { VnodeContext } from '../src/core/vnode/types.js';
import { openLmdbEngine, LMDB_FILE_NAME, type LmdbLayout } from '../src/kv/backend/lmdb.js';
import { LMDB_NODE_BYTES, LMDB_PAGE_HEADER_BYTES, lmdbFileStats, type LmdbFileStats, type LmdbRecordStats } from '../src/kv/backend/lmdb-stats.js';
import { HybridClock, contextOf } from '../src/kv/object/index.js';
import { encodedParts, type EncodedParts } from '../src/kv/object/codec-parts.js';
import { KvVnode, pendingDurability } from '../src/kv/vnode/index.js';
import type { KvCommand, KvReply } from '../src/kv/vnode/index.js';

const RING_SIZE = 64;
const BUCKET_TYPE = 'default';
const BUCKET = 'mem';
const NODE = 'n1';

const program = new Command()
  .option('--keys <n>', 'keys to write', (v) => Number(v), 200_000)
  .option('--value-bytes <n>', 'value size', (v) => Number(v), 1024)
  .option('--concurrency <n>', 'puts in flight', (v) => Number(v), 64)
  .option('--order <order>', 'sequential (k0, k1, ... as memory-per-key.ts) or random', 'sequential')
  .option('--overwrite', 'after the load, rewrite every key once, in random order')
  .option('--replace <fraction>', 'after the load, delete this fraction of the keys (random) and write as many new ones', (v) => Number(v), 0)
  .option('--page-size <bytes>', 'LMDB page size for the new environment (default: the engine\'s)', (v) => Number(v))
  .option('--layout <layout>', "LMDB layout of the new file: value-tree or single (default: the engine's)")
  .option('--dir <path>', 'where to create the environment (default: a scratch folder, removed after)')
  .option('--json', 'print the figures as JSON too')
  .parse();
const opts = program.opts<{ keys: number; valueBytes: number; concurrency: number; order: string; overwrite?: boolean; replace: number; pageSize?: number; layout?: LmdbLayout; dir?: string; json?: boolean }>();
if (!(opts.replace >= 0 && opts.replace <= 1)) throw new Error('--replace is a fraction in 0..1');
if (!['sequential', 'random'].includes(opts.order)) throw new Error('--order is sequential or random');

function rssBytes(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? NaN) * 1024;
}
/** Resident bytes of this process's mappings of the LMDB data file (/proc/self/smaps). */
function mappedFileRss(file: string): number {
  let total = 0;
  let inFile = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.trimEnd().endsWith(file);
    else if (inFile && line.startsWith('Rss:')) total += Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
  }
  return total;
}

const root = opts.dir ?? mkdtempSync(join(tmpdir(), 'rondo-key-overhead-'));
const file = join(root, LMDB_FILE_NAME);
const engine = openLmdbEngine({ path: root, ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }), ...(opts.layout === undefined ? {} : { layout: opts.layout }) });
const clock = new HybridClock();
const random = new Prng(1);
const vnodes = Array.from({ length: RING_SIZE }, (_, partition) =>
  new KvVnode({ node: NODE, partition, store: engine.partition(partition), clock, wallClockMs: () => Date.now(), random, vnodeEpoch: 0 }));
const ctx = (partition: number): VnodeContext => ({ node: NODE, partition, signal: new AbortController().signal });
const contexts = vnodes.map((_, p) => ctx(p));

const shuffle = new Prng(2);
function shuffled(items: number[]): number[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = shuffle.int(i + 1);
    [items[i], items[j]] = [items[j] as number, items[i] as number];
  }
  return items;
}
const keysUpTo = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
const value = randomBytes(opts.valueBytes);
const PROPS = { allowMult: false, lastWriteWins: false };

async function run(partition: number, command: KvCommand): Promise<KvReply> {
  const directive = await (vnodes[partition] as KvVnode).handleCommand(command, contexts[partition] as VnodeContext);
  if (directive.kind !== 'reply' || directive.reply.kind === 'error') throw new Error(`${command.kind}: ${JSON.stringify(directive)}`);
  await pendingDurability(directive.reply);
  return directive.reply;
}
/** Runs `op` on every key of `ids`, `--concurrency` at a time. */
async function each(ids: number[], op: (key: string, partition: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (next < ids.length) {
      const key = `k${ids[next++] as number}`;
      await op(key, keyPartition(BUCKET_TYPE, BUCKET, key, RING_SIZE));
    }
  }));
}
const write = async (key: string, partition: number): Promise<void> => {
  const reply = await run(partition, { kind: 'put-coordinate', bucketType: BUCKET_TYPE, bucket: BUCKET, key, props: PROPS, context: [], content: { value, contentType: 'application/octet-stream' } });
  if (reply.kind !== 'stored') throw new Error(`put ${key}: ${reply.kind}`);
};
const remove = async (key: string, partition: number): Promise<void> => {
  const reply = await run(partition, { kind: 'delete-coordinate', bucketType: BUCKET_TYPE, bucket: BUCKET, key, props: PROPS, context: [] });
  if (reply.kind !== 'stored' || reply.object === undefined) throw new Error(`delete ${key}: ${reply.kind}`);
  const reaped = await run(partition, { kind: 'reap', bucketType: BUCKET_TYPE, bucket: BUCKET, key, expectedContext: contextOf(reply.object) });
  if (reaped.kind !== 'reaped') throw new Error(`reap ${key}: ${reaped.kind}`);
};

const rssBefore = rssBytes();
const started = performance.now();
const loaded = keysUpTo(opts.keys);
await each(opts.order === 'random' ? shuffled([...loaded]) : loaded, write);
if (opts.overwrite) await each(shuffled(keysUpTo(opts.keys)), write);
const replaced = Math.round(opts.replace * opts.keys);
if (replaced > 0) {
  await each(shuffled(keysUpTo(opts.keys)).slice(0, replaced), remove);
  await each(keysUpTo(replaced, opts.keys), write);
}
const seconds = (performance.now() - started) / 1000;
const rssAfter = rssBytes();
const rssOfFile = mappedFileRss(file);

// Every stored object, walked: exact averages, not a sample.
const parts: EncodedParts = {};
let objects = 0;
for (let p = 0; p < RING_SIZE; p += 1) {
  for await (const { value: bytes } of engine.partition(p).foldObjects()) {
    objects += 1;
    for (const [part, n] of Object.entries(encodedParts(bytes))) parts[part] = (parts[part] ?? 0) + n;
  }
}
if (objects !== opts.keys) throw new Error(`stored ${objects} objects, expected ${opts.keys}`);
await engine.close();

const lmdb: LmdbFileStats = lmdbFileStats(file);
const fileBytes = statSync(file).size;
const allocatedBytes = statSync(file).blocks * 512;
if (opts.dir === undefined) rmSync(root, { recursive: true, force: true });

const n = opts.keys;
const perKey = (bytes: number): number => bytes / n;
const rows: [string, number, string?][] = [];
const objectBytes = Object.values(parts).reduce((a, b) => a + b, 0);
for (const [part, bytes] of Object.entries(parts)) rows.push([`  object: ${part}`, perKey(bytes)]);
rows.push(['= encoded object', perKey(objectBytes)]);
const role = (name: string): LmdbRecordStats => lmdb.records.find((r) => r.role === name) ?? { role: name, entries: 0, keyBytes: 0, valueBytes: 0 };
rows.push(['row key (object row)', perKey(role('object').keyBytes)]);
// What the rows hold besides the keys and the encoded objects (a value's reference, its key in the value tree).
const storedObjectBytes = role('object').valueBytes + role('value').valueBytes;
if (storedObjectBytes !== objectBytes) rows.push(['object row value beyond the object', perKey(storedObjectBytes - objectBytes)]);
for (const r of lmdb.records) {
  if (r.role === 'object') continue;
  rows.push([`${r.role} rows: ${r.role === 'value' ? 'key' : 'key + value'}`, perKey(r.keyBytes + (r.role === 'value' ? 0 : r.valueBytes)), `${r.entries} entries`]);
}
const entries = lmdb.records.reduce((a, r) => a + r.entries, 0);
rows.push([`LMDB node header + slot (${LMDB_NODE_BYTES} B per entry)`, perKey(entries * LMDB_NODE_BYTES), `${(entries / n).toFixed(2)} entries per key`]);
const recordBytes = lmdb.records.reduce((a, r) => a + r.keyBytes + r.valueBytes, 0) + entries * LMDB_NODE_BYTES;
rows.push(['= records', perKey(recordBytes)]);
const leafPages = lmdb.dbs.reduce((a, d) => a + d.leafPages, 0);
const branchPages = lmdb.dbs.reduce((a, d) => a + d.branchPages, 0);
const overflowPages = lmdb.dbs.reduce((a, d) => a + d.overflowPages, 0);
rows.push([`leaf page headers (${LMDB_PAGE_HEADER_BYTES} B per page)`, perKey(leafPages * LMDB_PAGE_HEADER_BYTES)]);
let ownLeafPages = 0;
for (const d of lmdb.dbs) {
  if (d.recordBytes === undefined) {
    ownLeafPages += d.leafPages;
    continue;
  }
  const room = d.leafPages * (lmdb.pageSize - LMDB_PAGE_HEADER_BYTES);
  rows.push([`leaf page slack, ${d.name} tree`, perKey(room - d.recordBytes), `fill ${((100 * d.recordBytes) / Math.max(1, room)).toFixed(1)}%, ${(d.entries / Math.max(1, d.leafPages)).toFixed(2)} per page`]);
}
rows.push(['leaf pages of LMDB\'s own trees (main, free list)', perKey(ownLeafPages * (lmdb.pageSize - LMDB_PAGE_HEADER_BYTES))]);
rows.push(['overflow pages', perKey(overflowPages * lmdb.pageSize)]);
rows.push(['branch pages', perKey(branchPages * lmdb.pageSize)]);
const usedPages = leafPages + branchPages + overflowPages;
const freePages = lmdb.lastPage + 1 - usedPages - 2;
rows.push(['meta pages + free pages', perKey((freePages + 2) * lmdb.pageSize), `${freePages} free pages`]);
rows.push(['= LMDB pages in use (last page + 1)', perKey((lmdb.lastPage + 1) * lmdb.pageSize)]);
rows.push(['file size', perKey(fileBytes)]);
rows.push(['file allocated on disk', perKey(allocatedBytes)]);

const fmt = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const churn = [opts.overwrite ? 'then every key rewritten' : '', replaced > 0 ? `then ${replaced.toLocaleString('en-US')} deleted and as many new written` : ''].filter(Boolean).join(', ');
console.log(`${n.toLocaleString('en-US')} keys of ${opts.valueBytes} B, ${opts.order} order${churn ? `, ${churn}` : ''}, ${opts.concurrency} in flight: ${seconds.toFixed(1)} s`);
console.log(`LMDB: layout ${lmdb.layout}, page ${lmdb.pageSize} B; ${lmdb.dbs.map((d) => `${d.name}: depth ${d.depth}, ${d.entries} entries, ${d.leafPages} leaf / ${d.branchPages} branch / ${d.overflowPages} overflow pages (${(d.entries / Math.max(1, d.leafPages)).toFixed(2)} entries per leaf)`).join('; ')}; map ${(lmdb.mapSize / 2 ** 20).toFixed(0)} MiB, ${(100 * (lmdb.lastPage + 1) * lmdb.pageSize / lmdb.mapSize).toFixed(0)}% used`);
console.log('');
console.log('| bytes per stored key | bytes | |');
console.log('|---|---:|---|');
for (const [label, bytes, note] of rows) console.log(`| ${label} | ${fmt(bytes)} | ${note ?? ''} |`);
console.log(`| **beyond the value (file allocated − value)** | **${fmt(perKey(allocatedBytes) - opts.valueBytes)}** | |`);
console.log('');
console.log(`RSS: +${fmt(perKey(rssAfter - rssBefore))} B per key (${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB), of which the mapped LMDB file ${fmt(perKey(rssOfFile))} B per key`);
if (opts.json) {
  console.log(JSON.stringify({ keys: n, valueBytes: opts.valueBytes, order: opts.order, seconds, rows: Object.fromEntries(rows.map(([l, b]) => [l, b])), allocatedPerKey: perKey(allocatedBytes), rssPerKey: perKey(rssAfter - rssBefore), rssFilePerKey: perKey(rssOfFile), lmdb }));
}
