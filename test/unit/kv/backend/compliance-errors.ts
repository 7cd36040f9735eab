// Bad input: every case answers a typed error and writes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUCKET_BYTES_MAX,
  BUCKET_TYPE_BYTES_MAX,
  INDEX_ENTRIES_PER_OBJECT_MAX,
  INDEX_NAME_BYTES_MAX,
  INDEX_TERM_BYTES_MAX,
  KEY_BYTES_MAX,
  VALUE_BYTES_MAX,
  type IndexEntry,
  type StoreKey,
} from '../../../../src/kv/backend/index.js';
import { bytes, collect, k, text, useEngine, type EngineSetup } from './helpers.js';

const badKeys: Array<[string, StoreKey]> = [
  ['empty key', k('')],
  ['empty binary key', k(new Uint8Array(0))],
  ['oversized key', k('x'.repeat(KEY_BYTES_MAX + 1))],
  ['oversized multi-byte key', k('é'.repeat(KEY_BYTES_MAX / 2 + 1))],
  ['empty bucket', k('a', '')],
  ['oversized bucket', k('a', 'b'.repeat(BUCKET_BYTES_MAX + 1))],
  ['empty bucket type', k('a', 'b', '')],
  ['oversized bucket type', k('a', 'b', 't'.repeat(BUCKET_TYPE_BYTES_MAX + 1))],
];
const badIndexes: Array<[string, IndexEntry[]]> = [
  ['no suffix', [{ index: 'email', value: 'x' }]],
  ['suffix only', [{ index: '_bin', value: 'x' }]],
  ['wrong suffix', [{ index: 'email_str', value: 'x' }]],
  ['fractional _int', [{ index: 'n_int', value: 1.5 }]],
  ['unsafe _int', [{ index: 'n_int', value: 2 ** 53 }]],
  ['NaN _int', [{ index: 'n_int', value: Number.NaN }]],
  ['string _int', [{ index: 'n_int', value: '12' }]],
  ['number _bin', [{ index: 'e_bin', value: 12 }]],
  ['oversized term', [{ index: 'e_bin', value: 'x'.repeat(INDEX_TERM_BYTES_MAX + 1) }]],
  ['oversized name', [{ index: `${'i'.repeat(INDEX_NAME_BYTES_MAX)}_bin`, value: 'x' }]],
  ['a good entry then a bad one', [{ index: 'ok_bin', value: 'x' }, { index: 'bad', value: 'x' }]],
  ['too many entries', Array.from({ length: INDEX_ENTRIES_PER_OBJECT_MAX + 1 }, (_, i) => ({ index: 'n_int', value: i }))],
];

export function runErrorCompliance(setup: EngineSetup): void {
  describe('bad input', () => {
    const engine = useEngine(setup);

    it('refuses bad keys with kv_key_invalid and writes nothing', async () => {
      const e = engine();
      const p = e.partition(0);
      for (const [what, key] of badKeys) {
        await assert.rejects(p.put(key, bytes('v'), []), { code: 'kv_key_invalid' }, what);
        await assert.rejects(p.get(key), { code: 'kv_key_invalid' }, what);
        await assert.rejects(p.delete(key), { code: 'kv_key_invalid' }, what);
      }
      assert.equal(await p.isEmpty(), true);
      assert.deepEqual(await e.partitions(), []);
    });

    it('accepts keys exactly at the limits', async () => {
      const p = engine().partition(0);
      const key = k('k'.repeat(KEY_BYTES_MAX), 'b'.repeat(BUCKET_BYTES_MAX), 't'.repeat(BUCKET_TYPE_BYTES_MAX));
      const index = [{ index: `${'i'.repeat(INDEX_NAME_BYTES_MAX - 4)}_bin`, value: '\u0000'.repeat(INDEX_TERM_BYTES_MAX) }];
      await p.put(key, bytes('v'), index);
      assert.equal(text(await p.get(key)), 'v');
      const hits = await collect(p.indexRange({ bucketType: key.bucketType, bucket: key.bucket, index: index[0]!.index, start: index[0]!.value }));
      assert.equal(hits.length, 1);
    });

    it('refuses an oversized value with kv_value_too_large', async () => {
      const p = engine().partition(0);
      await assert.rejects(p.put(k('a'), new Uint8Array(VALUE_BYTES_MAX + 1), []), { code: 'kv_value_too_large' });
      assert.equal(await p.isEmpty(), true);
    });

    it('refuses bad index entries with kv_index_invalid and leaves the old object intact', async () => {
      const p = engine().partition(0);
      await p.put(k('a'), bytes('old'), [{ index: 'ok_bin', value: 'old' }]);
      for (const [what, indexes] of badIndexes) {
        await assert.rejects(p.put(k('a'), bytes('new'), indexes), { code: 'kv_index_invalid' }, what);
        await assert.rejects(p.put(k('fresh'), bytes('new'), indexes), { code: 'kv_index_invalid' }, what);
      }
      assert.equal(text(await p.get(k('a'))), 'old');
      assert.equal(await p.get(k('fresh')), undefined);
      assert.deepEqual((await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'ok_bin', start: '', end: 'z' }))).map((h) => h.term), ['old']);
      await assert.rejects(collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'nosuffix', start: 'x' })), { code: 'kv_index_invalid' });
      await assert.rejects(collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'n_int', start: 'x' })), { code: 'kv_index_invalid' });
    });

    it('putMany writes a whole batch in one go, or nothing when any entry is bad', async () => {
      const p = engine().partition(0);
      await p.putMany([
        { key: k('a'), value: bytes('1'), indexes: [{ index: 'n_int', value: 1 }] },
        { key: k('b'), value: bytes('2'), indexes: [] },
      ]);
      assert.equal(await p.countObjects(), 2, 'index rows are not objects');
      await assert.rejects(
        p.putMany([
          { key: k('a'), value: bytes('changed'), indexes: [] },
          { key: k('c'), value: bytes('3'), indexes: [{ index: 'bad', value: 'x' }] },
        ]),
        { code: 'kv_index_invalid' },
      );
      assert.equal(text(await p.get(k('a'))), '1', 'the good entry of a refused batch was not written');
      assert.equal(await p.get(k('c')), undefined);
      assert.equal(await p.countObjects(), 2);
      await p.putMany([]);
      assert.equal(await p.countObjects(), 2);
    });

    it('refuses bad partitions and filters as invalid arguments', async () => {
      const e = engine();
      for (const p of [-1, 1.5, 65_536]) assert.throws(() => e.partition(p), { code: 'invalid_argument' });
      await assert.rejects(collect(e.partition(0).foldKeys({ bucket: 'b' })), { code: 'invalid_argument' });
    });
  });
}
