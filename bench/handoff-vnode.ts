// Handoff CPU per MB at each end, in one process and without the network: a
// KV vnode on LMDB holding K keys of 1 KiB (written as coordinated puts, as
// the HTTP load of bench/handoff.ts writes them) is folded into batches and
// encoded as the sender does (packed), then decoded and applied by a second
// vnode on another LMDB environment, whose partition is emptied before each
// round. The figures are per MB of item bytes (keys plus stored objects, what
// /stats counts), wall and CPU (process.cpuUsage: every thread, so LMDB's
// write thread and GC helpers count too). Compare rounds after the first
// (warm-up); on a shared machine, look at the best.
// Usage: node --import tsx bench/handoff-vnode.ts [--keys 20000] [--rounds 6]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { WireMessage } from '../src/core/env.js';
import { HANDOFF_DEFAULTS } from '../src/core/handoff/manager.js';
import { packItems, parseHandoffMessage } from '../src/core/handoff/messages.js';
import { batchesOf } from '../src/core/handoff/outbound.js';
import { Prng } from '../src/core/sim/index.js';
import { decodePayload, encodePayload } from '../src/core/transport/frame.js';
import { openLmdbEngine, type StorageEngine } from '../src/kv/backend/index.js';
import { HybridClock } from '../src/kv/object/index.js';
import { KvVnode, pendingDurability } from '../src/kv/vnode/index.js';

const { values: args } = parseArgs({ options: { keys: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '6' } } });
const KEYS = Number(args.keys);
const ROUNDS = Number(args.rounds);
const PENDING_MAX = 512;

const dir = mkdtempSync(join(tmpdir(), 'rondo-handoff-vnode-'));
const sourceEngine = openLmdbEngine({ path: join(dir, 'a') });
const targetEngine = openLmdbEngine({ path: join(dir, 'b') });
const vnodeOn = (engine: StorageEngine, node: string): KvVnode =>
  new KvVnode({ node, partition: 0, store: engine.partition(0), clock: new HybridClock(), wallClockMs: () => Date.now(), random: new Prng(1), vnodeEpoch: 0 });

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

try {
  const source = vnodeOn(sourceEngine, 'a');
  const ctx = { node: 'a', partition: 0, signal: new AbortController().signal };
  const value = new Uint8Array(1024).fill(104);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < KEYS; i++) {
    const content = { value, contentType: 'application/octet-stream' };
    const directive = await source.handleCommand({ kind: 'put-coordinate', bucketType: 'default', bucket: 'handoff-bench', key: `k${i}`, props: { allowMult: false, lastWriteWins: false }, context: [], content }, ctx);
    const durable = directive.kind === 'reply' ? pendingDurability(directive.reply) : undefined;
    if (durable !== undefined) pending.push(durable);
    if (pending.length >= PENDING_MAX) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  for (let round = 1; round <= ROUNDS; round++) {
    const target = vnodeOn(targetEngine, 'b');
    await target.delete();
    const sendCpu = process.cpuUsage();
    const sendStart = performance.now();
    const bodies: Buffer[] = [];
    let bytes = 0;
    for await (const batch of batchesOf(source.foldHandoffItems(new AbortController().signal), HANDOFF_DEFAULTS)) {
      bodies.push(encodePayload({ type: 'handoff.batch', id: 'bench:1', seq: bodies.length, packed: packItems(batch.items) }));
      bytes += batch.bytes;
    }
    const sendWallMs = performance.now() - sendStart;
    const sendCpuMs = cpuMs(sendCpu);
    const applyCpu = process.cpuUsage();
    const applyStart = performance.now();
    for (const body of bodies) {
      const msg = parseHandoffMessage(decodePayload(body) as WireMessage);
      if (typeof msg === 'string' || msg.type !== 'handoff.batch') throw new Error(`bad batch: ${String(msg)}`);
      await target.handleHandoffData(msg.items);
    }
    const applyWallMs = performance.now() - applyStart;
    const applyCpuMs = cpuMs(applyCpu);
    const mb = bytes / 1e6;
    const f = (ms: number): string => (ms / mb).toFixed(1);
    console.log(`round ${round}: ${mb.toFixed(1)} MB in ${bodies.length} batches; sender ${f(sendWallMs)} ms/MB wall, ${f(sendCpuMs)} ms/MB CPU; receiver ${f(applyWallMs)} ms/MB wall, ${f(applyCpuMs)} ms/MB CPU`);
  }
} finally {
  await sourceEngine.close();
  await targetEngine.close();
  rmSync(dir, { recursive: true, force: true });
}
