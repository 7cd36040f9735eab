// The compliance suite every storage engine must pass (js-libp2p style:
// `runStorageEngineCompliance(name, setup)`). Engine-specific tests (LMDB
// crash safety, reopen) live next to the engine's own test file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AbortedError } from '../../../../src/core/errors.js';
import { FOLD_BATCH_ROWS_DEFAULT, VALUE_BYTES_MAX, ValueTooLargeError } from '../../../../src/kv/backend/index.js';
import { runErrorCompliance } from './compliance-errors.js';
import { runIndexCompliance } from './compliance-index.js';
import { runListingCompliance } from './compliance-listing.js';
import { runModelCompliance } from './compliance-model.js';
import { bytes, collect, hex, k, text, useEngine, type EngineSetup } from './helpers.js';

export type { EngineSetup } from './helpers.js';

export function runStorageEngineCompliance(name: string, setup: EngineSetup): void {
  describe(`storage engine compliance: ${name}`, () => {
    runBasicCompliance(setup);
    runFoldCompliance(setup);
    runIndexCompliance(setup);
    runListingCompliance(setup);
    runErrorCompliance(setup);
    runModelCompliance(setup);
  });
}

function runBasicCompliance(setup: EngineSetup): void {
  describe('get / put / delete', () => {
    const engine = useEngine(setup);

    it('round-trips, overwrites and deletes', async () => {
      const p = engine().partition(0);
      assert.equal(await p.get(k('a')), undefined);
      await p.put(k('a'), bytes('one'), []);
      assert.equal(text(await p.get(k('a'))), 'one');
      await p.put(k('a'), bytes('two'), []);
      assert.equal(text(await p.get(k('a'))), 'two');
      await p.delete(k('a'));
      assert.equal(await p.get(k('a')), undefined);
      await p.delete(k('never-written'));
      assert.equal(await p.isEmpty(), true);
    });

    it('stores empty values and copies buffers in both directions', async () => {
      const p = engine().partition(0);
      await p.put(k('empty'), new Uint8Array(0), []);
      assert.deepEqual(await p.get(k('empty')), new Uint8Array(0));
      const value = bytes('abc');
      const written = p.put(k('x'), value, []);
      value[0] = 0x7a; // the caller reuses its buffer before the commit
      await written;
      const read = (await p.get(k('x')))!;
      assert.equal(text(read), 'abc');
      read[0] = 0x7a;
      assert.equal(text(await p.get(k('x'))), 'abc');
    });

    it('getSync reads what get reads, as a plain Uint8Array the caller may change', async () => {
      const p = engine().partition(0);
      assert.equal(p.getSync(k('none')), undefined);
      await p.put(k('s'), bytes('sync'), []);
      const read = p.getSync(k('s'))!;
      assert.equal(Object.getPrototypeOf(read), Uint8Array.prototype);
      assert.deepEqual(read, await p.get(k('s')));
      read[0] = 0x7a;
      assert.equal(text(p.getSync(k('s'))), 'sync');
    });

    it('a put told the key had no index entries writes the value alone; later puts still manage entries', async () => {
      const p = engine().partition(0);
      const value = bytes('fast');
      const written = p.put(k('f'), value, [], { previousHadIndexes: false });
      value[0] = 0x7a; // the caller reuses its buffer before the commit
      await written;
      assert.equal(text(await p.get(k('f'))), 'fast');
      await p.put(k('f'), bytes('indexed'), [{ index: 'i_bin', value: 'x' }], { previousHadIndexes: false });
      assert.deepEqual((await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'i_bin', start: 'x' }))).map((h) => text(h.key)), ['f']);
      await p.put(k('f'), bytes('plain'), [], { previousHadIndexes: true });
      assert.deepEqual(await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'i_bin', start: 'x' })), [], 'entries removed by a put that knows there were some');
      await p.put(k('f'), bytes('again'), [], { previousHadIndexes: false });
      assert.equal(text(await p.get(k('f'))), 'again');
      await p.delete(k('f'));
      assert.equal(await p.isEmpty(), true, 'no reverse row left behind');
      await assert.rejects(p.put(k('big'), new Uint8Array(VALUE_BYTES_MAX + 1), [], { previousHadIndexes: false }), ValueTooLargeError);
      await assert.rejects(p.put(k('big'), new Uint8Array(VALUE_BYTES_MAX + 1), []), ValueTooLargeError);
    });

    it('putMany entries told the key had no index entries write the value alone (through its key row when given); the others still manage entries', async () => {
      const p = engine().partition(0);
      await p.putMany([{ key: k('m'), value: bytes('indexed'), indexes: [{ index: 'i_bin', value: 'x' }] }]);
      const row = p.keyRow(k('n'));
      assert.equal(p.getRowSync(row), undefined);
      await p.putMany([
        { key: k('n'), row, value: bytes('fresh'), indexes: [], previousHadIndexes: false },
        { key: k('m'), value: bytes('plain'), indexes: [], previousHadIndexes: true },
        { key: k('o'), value: bytes('tagged'), indexes: [{ index: 'i_bin', value: 'y' }], previousHadIndexes: false },
      ]);
      assert.equal(text(await p.get(k('n'))), 'fresh');
      assert.equal(text(p.getRowSync(row)!), 'fresh', 'a key row reads what get reads');
      assert.equal(text(await p.get(k('m'))), 'plain');
      assert.deepEqual((await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'i_bin', start: 'a', end: 'z' }))).map((h) => text(h.key)), ['o']);
      for (const key of ['m', 'n', 'o']) await p.delete(k(key));
      assert.equal(await p.isEmpty(), true, 'no index or reverse row left behind');
      await assert.rejects(p.putMany([{ key: k('big'), value: new Uint8Array(VALUE_BYTES_MAX + 1), indexes: [], previousHadIndexes: false }]), ValueTooLargeError);
      await assert.rejects(p.putMany([{ key: { bucketType: 'default', bucket: 'b', key: '' }, value: bytes('x'), indexes: [], previousHadIndexes: false }]), { code: 'kv_key_invalid' });
      assert.throws(() => p.keyRow({ bucketType: 'default', bucket: 'b', key: '' }), { code: 'kv_key_invalid' });
      assert.throws(() => engine().partition(1).getRowSync(row), /used by the store that made it/);
    });

    it('fold values and keys are the caller own: changing them changes neither the store nor a later fold', async () => {
      const p = engine().partition(0);
      await p.put(k('f1'), bytes('one'), []);
      await p.put(k('f2'), bytes('two'), []);
      const first = await collect(p.foldObjects());
      for (const { key, value } of first) {
        value[0] = 0x7a;
        key.key[0] = 0x7a;
        key.bucket[0] = 0x7a;
      }
      const again = await collect(p.foldObjects());
      assert.deepEqual(again.map(({ value }) => text(value)), ['one', 'two']);
      assert.equal(text(await p.get(k('f1'))), 'one');
      assert.deepEqual(again.map(({ key }) => `${text(key.bucket)}/${text(key.key)}`), ['b/f1', 'b/f2']);
    });

    it('applies concurrent writes to one key in call order', async () => {
      const p = engine().partition(0);
      await Promise.all([p.put(k('c'), bytes('1'), []), p.put(k('c'), bytes('2'), []), p.delete(k('c')), p.put(k('c'), bytes('3'), [])]);
      assert.equal(text(await p.get(k('c'))), '3');
    });

    it('keeps binary and unicode keys exact', async () => {
      const p = engine().partition(0);
      const binary = new Uint8Array([0, 255, 0, 1, 0]);
      const keys = [k(binary, new Uint8Array([0])), k('ключ😀', 'büket', 'tÿpe'), k(new Uint8Array([255, 255]), 'b')];
      for (const [i, key] of keys.entries()) await p.put(key, bytes(`v${i}`), []);
      for (const [i, key] of keys.entries()) assert.equal(text(await p.get(key)), `v${i}`);
      const folded = await collect(p.foldKeys());
      assert.equal(folded.length, 3);
      assert.ok(folded.some((f) => hex(f.key) === hex(binary) && hex(f.bucket) === '00'));
      assert.ok(folded.some((f) => text(f.key) === 'ключ😀' && text(f.bucket) === 'büket' && f.bucketType === 'tÿpe'));
    });

    it('isolates partitions', async () => {
      const e = engine();
      await e.partition(1).put(k('same'), bytes('p1'), [{ index: 'i_bin', value: 'x' }]);
      await e.partition(2).put(k('same'), bytes('p2'), [{ index: 'i_bin', value: 'x' }]);
      await e.partition(256).put(k('same'), bytes('p256'), []);
      assert.equal(text(await e.partition(1).get(k('same'))), 'p1');
      assert.equal(text(await e.partition(2).get(k('same'))), 'p2');
      assert.equal(await e.partition(3).get(k('same')), undefined);
      assert.equal((await collect(e.partition(1).foldObjects())).length, 1);
      assert.equal((await collect(e.partition(1).indexRange({ bucketType: 'default', bucket: 'b', index: 'i_bin', start: 'x' }))).length, 1);
      assert.deepEqual(await e.partitions(), [1, 2, 256]);
      await e.partition(1).drop();
      assert.equal(await e.partition(1).isEmpty(), true);
      assert.equal(await e.partition(2).isEmpty(), false);
      assert.equal(text(await e.partition(2).get(k('same'))), 'p2');
      assert.deepEqual(await e.partitions(), [2, 256]);
    });

    it('isolates buckets and types without prefix confusion', async () => {
      const p = engine().partition(0);
      await p.put(k('bc', 'a'), bytes('a/bc'), []);
      await p.put(k('c', 'ab'), bytes('ab/c'), []);
      await p.put(k('k', 'b', 'x'), bytes('x'), []);
      await p.put(k('k', 'b', 'x\0y'), bytes('x0y'), []);
      await p.put(k('k', 'b\0', 'x'), bytes('x/b0'), []);
      assert.equal(await p.get(k('c', 'a')), undefined);
      assert.equal(await p.get(k('bc', 'ab')), undefined);
      const inA = await collect(p.foldKeys({ bucketType: 'default', bucket: 'a' }));
      assert.deepEqual(inA.map((f) => text(f.key)), ['bc']);
      const inX = await collect(p.foldObjects({ bucketType: 'x' }));
      assert.deepEqual(inX.map((f) => text(f.value)).sort(), ['x', 'x/b0']);
      const inXb = await collect(p.foldObjects({ bucketType: 'x', bucket: 'b' }));
      assert.deepEqual(inXb.map((f) => text(f.value)), ['x']);
      assert.equal((await collect(p.foldKeys({ bucketType: 'x\0' }))).length, 0);
    });

    it('refuses use after close', async () => {
      const e = engine();
      await e.partition(0).put(k('a'), bytes('1'), []);
      await e.sync();
      await e.close();
      await assert.rejects(e.partition(0).get(k('a')), { code: 'kv_backend_closed' });
      await assert.rejects(e.partition(0).put(k('a'), bytes('1'), []), { code: 'kv_backend_closed' });
    });
  });
}

function runFoldCompliance(setup: EngineSetup): void {
  describe('folds', () => {
    const engine = useEngine(setup);

    it('orders keys by bytes within a bucket and returns their values', async () => {
      const p = engine().partition(5);
      const keys = ['m', 'a', 'ab', 'b', '\u0000', 'zz', 'A', 'é'];
      await Promise.all(keys.map((key) => p.put(k(key), bytes(`v:${key}`), [])));
      const folded = await collect(p.foldObjects({ bucketType: 'default', bucket: 'b' }));
      const expected = keys.map((key) => Buffer.from(key, 'utf8')).sort(Buffer.compare);
      assert.deepEqual(folded.map((f) => hex(f.key.key)), expected.map((key) => key.toString('hex')));
      for (const f of folded) assert.equal(text(f.value), `v:${text(f.key.key)}`);
    });

    it('streams 10k keys in batches, stops when the consumer breaks, and aborts', async () => {
      const e = engine();
      const p = e.partition(7);
      const total = 10_000;
      for (let start = 0; start < total; start += 1_000) {
        const chunk = Array.from({ length: 1_000 }, (_, i) => `key-${String(start + i).padStart(6, '0')}`);
        await Promise.all(chunk.map((key) => p.put(k(key), bytes(key), [])));
      }
      let count = 0;
      let previous = '';
      for await (const f of p.foldKeys()) {
        const key = text(f.key)!;
        assert.ok(key > previous, 'ascending');
        previous = key;
        count += 1;
      }
      assert.equal(count, total);

      const before = e.stats();
      let seen = 0;
      for await (const _ of p.foldObjects()) if (++seen === 10) break;
      const after = e.stats();
      assert.ok(after.rowsScanned - before.rowsScanned <= FOLD_BATCH_ROWS_DEFAULT, 'read at most one batch');
      assert.equal(after.scanBatches - before.scanBatches, 1);

      const controller = new AbortController();
      seen = 0;
      await assert.rejects(async () => {
        for await (const _ of p.foldKeys({ signal: controller.signal })) if (++seen === 300) controller.abort();
      }, AbortedError);
      assert.equal(seen, 300);
      await assert.rejects(collect(p.foldKeys({ signal: AbortSignal.abort() })), AbortedError);
    });

    it('sees writes made between batches and survives deletes during a fold', async () => {
      const p = engine().partition(8);
      const keys = Array.from({ length: 3 * FOLD_BATCH_ROWS_DEFAULT }, (_, i) => `k${String(i).padStart(5, '0')}`);
      await Promise.all(keys.map((key) => p.put(k(key), bytes(key), [])));
      const folded: string[] = [];
      for await (const f of p.foldKeys()) {
        folded.push(text(f.key)!);
        if (folded.length === 1) await p.delete(k(keys[keys.length - 1]!));
      }
      assert.equal(folded.length, keys.length - 1);
      assert.deepEqual(folded, keys.slice(0, -1));
    });
  });
}
