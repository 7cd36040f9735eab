// Property test: random put/delete/get/fold sequences against a Map model.
// The model's fold order is written out independently of the engine's codec:
// (bucket type length, bucket type, bucket length, bucket, key), each by
// bytes — the order the row layout promises.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StorageEngine } from '../../../../src/kv/backend/index.js';
import { collect, hex, useEngine, type EngineSetup } from './helpers.js';

type Command =
  | { type: 'put'; partition: number; bucketType: string; bucket: string; key: Uint8Array; value: Uint8Array; tag: number }
  | { type: 'delete'; partition: number; bucketType: string; bucket: string; key: Uint8Array }
  | { type: 'get'; partition: number; bucketType: string; bucket: string; key: Uint8Array }
  | { type: 'fold'; partition: number; bucketType?: string; bucket?: string };

interface ModelEntry {
  bucketType: string;
  bucket: string;
  key: Uint8Array;
  value: Uint8Array;
  tag: number;
}

const target = {
  partition: fc.integer({ min: 0, max: 1 }),
  bucketType: fc.constantFrom('default', 'x', 'x\u0000'),
  bucket: fc.constantFrom('a', 'ab'),
  // A small key space, so overwrites and deletes of live keys are common.
  key: fc.constantFrom(...[[0], [0, 0], [1], [255]].map((key) => new Uint8Array(key))),
};
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), ...target, value: fc.uint8Array({ maxLength: 8 }), tag: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ type: fc.constant('delete' as const), ...target }),
  fc.record({ type: fc.constant('get' as const), ...target }),
  fc.record({ type: fc.constant('fold' as const), partition: target.partition, bucketType: fc.option(target.bucketType, { nil: undefined }) }, { requiredKeys: ['type', 'partition'] }),
  fc.record({ type: fc.constant('fold' as const), partition: target.partition, bucketType: target.bucketType, bucket: target.bucket }),
);

const id = (partition: number, bucketType: string, bucket: string, key: Uint8Array): string => JSON.stringify([partition, bucketType, bucket, hex(key)]);
function compareLength(a: string | Uint8Array, b: string | Uint8Array): number {
  const x = Buffer.from(a as string);
  const y = Buffer.from(b as string);
  return x.length - y.length;
}
function compareEntries(a: ModelEntry, b: ModelEntry): number {
  return (
    compareLength(a.bucketType, b.bucketType) ||
    Buffer.compare(Buffer.from(a.bucketType), Buffer.from(b.bucketType)) ||
    compareLength(a.bucket, b.bucket) ||
    Buffer.compare(Buffer.from(a.bucket), Buffer.from(b.bucket)) ||
    Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))
  );
}

async function check(engine: StorageEngine, base: number, commands: Command[]): Promise<void> {
  const model = new Map<string, ModelEntry & { partition: number }>();
  for (const c of commands) {
    const p = engine.partition(base + c.partition);
    if (c.type === 'put') {
      const index = [{ index: 'tag_int', value: c.tag }];
      await p.put({ bucketType: c.bucketType, bucket: c.bucket, key: c.key }, c.value, index);
      model.set(id(c.partition, c.bucketType, c.bucket, c.key), { ...c });
    } else if (c.type === 'delete') {
      await p.delete({ bucketType: c.bucketType, bucket: c.bucket, key: c.key });
      model.delete(id(c.partition, c.bucketType, c.bucket, c.key));
    } else if (c.type === 'get') {
      const got = await p.get({ bucketType: c.bucketType, bucket: c.bucket, key: c.key });
      assert.deepEqual(got && hex(got), model.get(id(c.partition, c.bucketType, c.bucket, c.key)) && hex(model.get(id(c.partition, c.bucketType, c.bucket, c.key))!.value));
    } else {
      const filter = c.bucketType === undefined ? {} : c.bucket === undefined ? { bucketType: c.bucketType } : { bucketType: c.bucketType, bucket: c.bucket };
      const folded = await collect(p.foldObjects(filter));
      const expected = [...model.values()]
        .filter((m) => m.partition === c.partition && (c.bucketType === undefined || m.bucketType === c.bucketType) && (c.bucket === undefined || m.bucket === c.bucket))
        .sort(compareEntries);
      const show = (e: { bucketType: string; bucket: string | Uint8Array; key: Uint8Array }, v: Uint8Array) => `${e.bucketType}/${Buffer.from(e.bucket as string).toString()}/${hex(e.key)}=${hex(v)}`;
      assert.deepEqual(folded.map((f) => show(f.key, f.value)), expected.map((m) => show(m, m.value)));
    }
  }
  // Index rows follow the objects: each live object appears under exactly its last tag.
  for (let partition = 0; partition < 2; partition += 1) {
    for (const bucketType of ['default', 'x', 'x\u0000']) {
      for (const bucket of ['a', 'ab']) {
        const hits = await collect(engine.partition(base + partition).indexRange({ bucketType, bucket, index: 'tag_int', start: 0, end: 3 }));
        const expected = [...model.values()].filter((m) => m.partition === partition && m.bucketType === bucketType && m.bucket === bucket);
        expected.sort((a, b) => a.tag - b.tag || Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
        assert.deepEqual(hits.map((h) => `${h.term}:${hex(h.key)}`), expected.map((m) => `${m.tag}:${hex(m.key)}`));
      }
    }
  }
}

export function runModelCompliance(setup: EngineSetup): void {
  describe('model-based property', () => {
    const engine = useEngine(setup);

    it('matches a Map model over random put/delete/get/fold sequences', async () => {
      const e = engine();
      let run = 0;
      // Each run gets fresh partitions of the same engine: opening an engine per run would dominate the runtime.
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 60 }), async (commands) => {
          const base = 2 * run++;
          await check(e, base, commands);
        }),
        { numRuns: 40 },
      );
    });
  });
}
