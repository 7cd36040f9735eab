// Builders for the KV vnode tests: a memory engine, a fake wall clock and a
// seeded Random, so every run is the same.
import assert from 'node:assert/strict';
import { Prng } from '../../../../src/core/sim/index.js';
import type { VnodeContext } from '../../../../src/core/vnode/types.js';
import { openMemoryEngine } from '../../../../src/kv/backend/index.js';
import type { PartitionStore, StorageEngine } from '../../../../src/kv/backend/index.js';
import { HybridClock, contextOf, decodeObject, siblings } from '../../../../src/kv/object/index.js';
import type { ObjectLimits, ObjectProps, RObject } from '../../../../src/kv/object/index.js';
import { KvVnode, pendingDurability, withoutPending } from '../../../../src/kv/vnode/index.js';
import type { KvCommand, KvReply, PutContent } from '../../../../src/kv/vnode/index.js';

export const MULT: ObjectProps = { allowMult: true, lastWriteWins: false };
export const SINGLE: ObjectProps = { allowMult: false, lastWriteWins: false };
export const KEY: { bucketType: string; bucket: string; key: string } = { bucketType: 'default', bucket: 'b', key: 'k' };
export const T0 = 1_700_000_000_000;

export interface Harness {
  vnode: KvVnode;
  engine: StorageEngine;
  partition: number;
  /** Advances the fake wall clock. */
  tick(ms?: number): void;
  /** Runs a command and, like the service, waits until the write its reply reports is durable. */
  run(command: KvCommand): Promise<KvReply>;
  /** Runs a command and returns its reply as the vnode gave it (its durability, if pending, attached). */
  raw(command: KvCommand): Promise<KvReply>;
}

export function harness(
  opts: {
    node?: string; partition?: number; engine?: StorageEngine; seed?: number; limits?: Partial<ObjectLimits>; foldRowsPerPageMax?: number;
    store?: (store: PartitionStore) => PartitionStore; pendingWritesMax?: number;
  } = {},
): Harness {
  let now = T0;
  const engine = opts.engine ?? openMemoryEngine();
  const partition = opts.partition ?? 0;
  const vnode = new KvVnode({
    node: opts.node ?? 'n1',
    partition,
    store: opts.store === undefined ? engine.partition(partition) : opts.store(engine.partition(partition)),
    clock: new HybridClock(),
    wallClockMs: () => now,
    random: new Prng(opts.seed ?? 1),
    vnodeEpoch: 0,
    ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    ...(opts.foldRowsPerPageMax === undefined ? {} : { foldRowsPerPageMax: opts.foldRowsPerPageMax }),
    ...(opts.pendingWritesMax === undefined ? {} : { pendingWritesMax: opts.pendingWritesMax }),
  });
  const ctx: VnodeContext = { node: opts.node ?? 'n1', partition, signal: new AbortController().signal };
  return {
    vnode,
    engine,
    partition,
    tick: (ms = 1) => void (now += ms),
    async raw(command) {
      const directive = await vnode.handleCommand(command, ctx);
      assert.equal(directive.kind, 'reply');
      return (directive as { kind: 'reply'; reply: KvReply }).reply;
    },
    async run(command) {
      const directive = await vnode.handleCommand(command, ctx);
      assert.equal(directive.kind, 'reply');
      const reply = (directive as { kind: 'reply'; reply: KvReply }).reply;
      // As the service does: a reply about a write is delivered once the write is durable.
      const durable = pendingDurability(reply);
      if (durable !== undefined) await durable;
      return withoutPending(reply);
    },
  };
}

export function body(text: string, extra: Partial<PutContent> = {}): PutContent {
  return { value: new TextEncoder().encode(text), contentType: 'text/plain', ...extra };
}

export function texts(obj: RObject, filter: (deleted: boolean) => boolean = (d) => !d): string[] {
  return siblings(obj)
    .filter((c) => filter(c.meta.deleted))
    .map((c) => new TextDecoder().decode(c.value))
    .sort();
}

export function expectKind<K extends KvReply['kind']>(reply: KvReply, kind: K): Extract<KvReply, { kind: K }> {
  assert.equal(reply.kind, kind, `expected ${kind}, got ${JSON.stringify(reply.kind === 'error' ? reply : reply.kind)}`);
  return reply as Extract<KvReply, { kind: K }>;
}

export async function put(h: Harness, text: string, context: RObject | undefined, props: ObjectProps = MULT, extra: Partial<PutContent> = {}): Promise<RObject> {
  const ctxVv = context === undefined ? [] : contextOf(context);
  const stored = expectKind(await h.run({ kind: 'put-coordinate', ...KEY, props, context: ctxVv, content: body(text, extra) }), 'stored');
  return storedObject(stored);
}

/** A coordinated write's stored object: its in-process object, checked against the bytes it replied. */
export function storedObject(stored: Extract<KvReply, { kind: 'stored' }>): RObject {
  assert.ok(stored.bytes !== undefined && stored.object !== undefined, 'a coordinated write replies its bytes and its object');
  assert.deepEqual(decodeObject(stored.bytes), stored.object);
  return stored.object;
}

export async function get(h: Harness): Promise<RObject | undefined> {
  const reply = await h.run({ kind: 'get', ...KEY });
  return reply.kind === 'notfound' ? undefined : decodeObject(expectKind(reply, 'object').bytes);
}

/**
 * A PartitionStore whose writes (put, putMany, delete) commit only when the
 * test says so, as an engine's commit would: `release()` applies the oldest
 * held write and resolves it, `fail()` rejects it and applies nothing.
 */
export class HeldWrites {
  readonly held: { resolve: () => void; reject: (err: Error) => void }[] = [];
  wrap = (store: PartitionStore): PartitionStore => {
    const hold = (apply: () => Promise<void>): Promise<void> =>
      new Promise<void>((resolve, reject) => this.held.push({ resolve: () => void apply().then(resolve, reject), reject }));
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'put' || prop === 'putMany' || prop === 'delete') {
          return (...args: unknown[]) => hold(() => (value as (...a: unknown[]) => Promise<void>).apply(target, args));
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  release(): void {
    const next = this.held.shift();
    assert.ok(next, 'a held write to release');
    next.resolve();
  }
  fail(err: Error): void {
    const next = this.held.shift();
    assert.ok(next, 'a held write to fail');
    next.reject(err);
  }
}
