// Listing part of the storage compliance suite: resuming folds by seeking, and
// bucket folds whose cost follows the number of buckets, not keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, collect, hex, k, text, useEngine, type EngineSetup } from './helpers.js';

export function runListingCompliance(setup: EngineSetup): void {
  describe('listing', () => {
    const engine = useEngine(setup);

    it('resumes a fold strictly after a key by seeking, for string and binary keys', async () => {
      const e = engine();
      const p = e.partition(3);
      const keys = Array.from({ length: 2_000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
      await Promise.all(keys.map((key) => p.put(k(key), bytes(key), [])));
      await p.put(k('z', 'other'), bytes('other'), []);
      const after = await collect(p.foldKeys({ bucketType: 'default', bucket: 'b', after: 'k01500' }));
      assert.deepEqual(after.map((f) => text(f.key)), keys.slice(1_501));
      assert.deepEqual((await collect(p.foldObjects({ bucketType: 'default', bucket: 'b', after: 'k00001x' }))).map((f) => text(f.value))[0], 'k00002');
      assert.deepEqual(await collect(p.foldKeys({ bucketType: 'default', bucket: 'b', after: 'k99999' })), []);
      assert.equal((await collect(p.foldKeys({ bucketType: 'default', bucket: 'b', after: '' }))).length, keys.length);
      // Cost: only the rows after the resume point are read.
      const before = e.stats().rowsScanned;
      await collect(p.foldKeys({ bucketType: 'default', bucket: 'b', after: 'k01990' }));
      assert.equal(e.stats().rowsScanned - before, 9);

      await p.put(k(new Uint8Array([1])), bytes('x'), []);
      await p.put(k(new Uint8Array([1, 0])), bytes('x'), []);
      await p.put(k(new Uint8Array([1, 0, 0])), bytes('x'), []);
      const binary = await collect(p.foldKeys({ bucketType: 'default', bucket: 'b', after: new Uint8Array([1]) }));
      assert.deepEqual(binary.slice(0, 2).map((f) => hex(f.key)), ['0100', '010000']);
    });

    it('starts a fold at a key inclusive with `from`; the later of `from` and `after` wins', async () => {
      const p = engine().partition(2);
      for (const key of ['a', 'b', 'ba', 'c', 'd']) await p.put(k(key), bytes(key), []);
      const keys = async (opts: { from?: string; after?: string }) => (await collect(p.foldKeys({ bucketType: 'default', bucket: 'b', ...opts }))).map((f) => text(f.key));
      assert.deepEqual(await keys({ from: 'b' }), ['b', 'ba', 'c', 'd']);
      assert.deepEqual(await keys({ from: 'bb' }), ['c', 'd']);
      assert.deepEqual(await keys({ from: 'b', after: 'ba' }), ['c', 'd']);
      assert.deepEqual(await keys({ from: 'c', after: 'a' }), ['c', 'd']);
    });

    it('refuses `after` or `from` without a bucket', async () => {
      const p = engine().partition(0);
      await assert.rejects(collect(p.foldKeys({ bucketType: 'default', after: 'a' })), { code: 'invalid_argument' });
      await assert.rejects(collect(p.foldObjects({ bucketType: 'default', from: 'a' })), { code: 'invalid_argument' });
    });

    it('folds distinct buckets in row order, filtered by type, resumable', async () => {
      const p = engine().partition(4);
      const puts: [string, string | Uint8Array, string][] = [
        ['k1', 'b', 'default'], ['k2', 'b', 'default'], ['k1', 'a', 'default'], ['k1', 'ab', 'default'],
        ['k1', 'b', 'maps'], ['k1', new Uint8Array([0xff, 0xff]), 'default'], ['k1', 'c', 'default'],
      ];
      for (const [key, bucket, type] of puts) await p.put(k(key, bucket, type), bytes('v'), [{ index: 'i_bin', value: 'x' }]);
      await p.put(k('gone', 'deleted'), bytes('v'), []);
      await p.delete(k('gone', 'deleted'));
      const all = await collect(p.foldBuckets());
      // Type name length first (the row layout), then type, then bucket length, then bucket.
      assert.deepEqual(all.map((b) => `${b.bucketType}/${hex(b.bucket)}`), [
        'maps/62', 'default/61', 'default/62', 'default/63', 'default/6162', 'default/ffff',
      ]);
      const defaults = await collect(p.foldBuckets({ bucketType: 'default' }));
      assert.equal(defaults.length, 5);
      assert.ok(defaults.every((b) => b.bucketType === 'default'));
      const resumed = await collect(p.foldBuckets({ bucketType: 'default', after: { bucketType: 'default', bucket: 'b' } }));
      assert.deepEqual(resumed.map((b) => hex(b.bucket)), ['63', '6162', 'ffff']);
      const acrossTypes = await collect(p.foldBuckets({ after: { bucketType: 'maps', bucket: 'b' } }));
      assert.equal(acrossTypes.length, 5);
      assert.deepEqual(await collect(p.foldBuckets({ bucketType: 'nothing' })), []);
      await assert.rejects(collect(p.foldBuckets({ bucketType: 'default', after: { bucketType: 'maps', bucket: 'b' } })), { code: 'invalid_argument' });
    });

    it('folds buckets with one seek per bucket, whatever their key counts', async () => {
      const e = engine();
      const p = e.partition(9);
      for (const bucket of ['big', 'mid', 'one']) {
        const count = bucket === 'big' ? 3_000 : bucket === 'mid' ? 300 : 1;
        await Promise.all(Array.from({ length: count }, (_, i) => p.put(k(`key${i}`, bucket), bytes('v'), [{ index: 'n_int', value: i }])));
      }
      const before = e.stats();
      const buckets = await collect(p.foldBuckets({ bucketType: 'default' }));
      const after = e.stats();
      assert.deepEqual(buckets.map((b) => text(b.bucket)), ['big', 'mid', 'one']);
      assert.equal(after.rowsScanned - before.rowsScanned, 3);
      assert.ok(after.scanBatches - before.scanBatches <= 4);
    });
  });
}
