// Secondary index part of the storage compliance suite.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IndexRangeQuery, PartitionStore } from '../../../../src/kv/backend/index.js';
import { bytes, collect, k, text, useEngine, type EngineSetup } from './helpers.js';

type Query = Omit<IndexRangeQuery, 'bucketType' | 'bucket'>;
async function query(p: PartitionStore, q: Query, bucket = 'b'): Promise<string[]> {
  const hits = await collect(p.indexRange({ bucketType: 'default', bucket, ...q }));
  return hits.map((hit) => `${hit.term}:${text(hit.key)}`);
}

export function runIndexCompliance(setup: EngineSetup): void {
  describe('secondary indexes', () => {
    const engine = useEngine(setup);

    it('answers equality and _bin ranges ordered by (term, key)', async () => {
      const p = engine().partition(0);
      await p.put(k('k3'), bytes('3'), [{ index: 'email_bin', value: 'bob@x' }]);
      await p.put(k('k1'), bytes('1'), [{ index: 'email_bin', value: 'bob@x' }]);
      await p.put(k('k2'), bytes('2'), [{ index: 'email_bin', value: 'alice@x' }, { index: 'email_bin', value: 'carol@x' }]);
      await p.put(k('k4'), bytes('4'), [{ index: 'other_bin', value: 'bob@x' }]);
      await p.put(k('k5', 'b2'), bytes('5'), [{ index: 'email_bin', value: 'bob@x' }]);
      assert.deepEqual(await query(p, { index: 'email_bin', start: 'bob@x' }), ['bob@x:k1', 'bob@x:k3']);
      assert.deepEqual(await query(p, { index: 'email_bin', start: 'a', end: 'bz' }), ['alice@x:k2', 'bob@x:k1', 'bob@x:k3']);
      assert.deepEqual(await query(p, { index: 'email_bin', start: 'alice@x', end: 'carol@x' }), ['alice@x:k2', 'bob@x:k1', 'bob@x:k3', 'carol@x:k2']);
      assert.deepEqual(await query(p, { index: 'email_bin', start: 'c', end: 'a' }), []);
      assert.deepEqual(await query(p, { index: 'email_bin', start: 'bob@x' }, 'b2'), ['bob@x:k5']);
      assert.deepEqual(await query(p, { index: 'missing_bin', start: 'bob@x' }), []);
    });

    it('orders _bin terms by bytes, with no confusion between a term and its extension', async () => {
      const p = engine().partition(0);
      const terms = ['ab', 'a', 'a\u0000', 'b', '', 'a\u0000b', 'é', 'Z'];
      for (const [i, term] of terms.entries()) await p.put(k(`k${i}`), bytes('v'), [{ index: 't_bin', value: term }]);
      const hits = await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 't_bin', start: '', end: '\u{10ffff}' }));
      const expected = [...terms].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(hits.map((hit) => hit.term), expected);
      assert.deepEqual(await query(p, { index: 't_bin', start: 'a' }), ['a:k1']);
      assert.deepEqual(await query(p, { index: 't_bin', start: 'a\u0000' }), ['a\u0000:k2']);
    });

    it('orders _int terms numerically, including negatives and large values', async () => {
      const p = engine().partition(0);
      const terms = [0, -1, 1, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 255, 256, -256, 2 ** 40, -(2 ** 40)];
      for (const [i, term] of terms.entries()) await p.put(k(`k${i}`), bytes('v'), [{ index: 'age_int', value: term }]);
      const all = await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'age_int', start: -Number.MAX_SAFE_INTEGER, end: Number.MAX_SAFE_INTEGER }));
      assert.deepEqual(all.map((hit) => hit.term), [...terms].sort((x, y) => x - y));
      assert.deepEqual(await query(p, { index: 'age_int', start: -256, end: 1 }), ['-256:k7', '-1:k1', '0:k0', '1:k2']);
      assert.deepEqual(await query(p, { index: 'age_int', start: 256 }), ['256:k6']);
    });

    it('replaces an object\'s entries on put and removes them on delete', async () => {
      const p = engine().partition(0);
      await p.put(k('k'), bytes('1'), [{ index: 'a_bin', value: 'old' }, { index: 'n_int', value: 1 }]);
      await p.put(k('k'), bytes('2'), [{ index: 'a_bin', value: 'new' }]);
      assert.deepEqual(await query(p, { index: 'a_bin', start: 'old' }), []);
      assert.deepEqual(await query(p, { index: 'n_int', start: 1 }), []);
      assert.deepEqual(await query(p, { index: 'a_bin', start: 'new' }), ['new:k']);
      await p.put(k('k'), bytes('3'), []);
      assert.deepEqual(await query(p, { index: 'a_bin', start: 'new' }), []);
      await p.put(k('k'), bytes('4'), [{ index: 'a_bin', value: 'again' }, { index: 'a_bin', value: 'again' }]);
      assert.deepEqual(await query(p, { index: 'a_bin', start: 'again' }), ['again:k']);
      await p.delete(k('k'));
      assert.deepEqual(await query(p, { index: 'a_bin', start: '', end: 'zzz' }), []);
      assert.equal(await p.isEmpty(), true, 'no index or reverse rows are left behind');
    });

    it('keeps only the last entries when puts to one key share a transaction', async () => {
      const p = engine().partition(0);
      // Issued in one event turn, so lmdb-js commits them in one transaction:
      // each put must see the reverse row the previous one wrote.
      await Promise.all([1, 2, 3].map((n) => p.put(k('k'), bytes(`${n}`), [{ index: 'n_int', value: n }])));
      assert.deepEqual(await query(p, { index: 'n_int', start: 0, end: 9 }), ['3:k']);
      await Promise.all([p.put(k('k'), bytes('4'), [{ index: 'n_int', value: 4 }]), p.delete(k('k'))]);
      assert.equal(await p.isEmpty(), true);
    });

    it('paginates with startAfterKey (and startAfterTerm for ranges)', async () => {
      const p = engine().partition(0);
      for (let i = 0; i < 10; i += 1) await p.put(k(`k${i}`), bytes('v'), [{ index: 'g_int', value: i % 3 }, { index: 's_bin', value: 'same' }]);
      const page1 = await query(p, { index: 's_bin', start: 'same' });
      assert.equal(page1.length, 10);
      assert.deepEqual(await query(p, { index: 's_bin', start: 'same', startAfterKey: 'k4' }), ['same:k5', 'same:k6', 'same:k7', 'same:k8', 'same:k9']);
      // Walk a range query page by page (3 hits per page) and compare with one pass.
      const whole = await collect(p.indexRange({ bucketType: 'default', bucket: 'b', index: 'g_int', start: 0, end: 2 }));
      const pages: string[] = [];
      let after: { term: number | string; key: Uint8Array } | undefined;
      for (;;) {
        const page: string[] = [];
        const q: IndexRangeQuery = { bucketType: 'default', bucket: 'b', index: 'g_int', start: 0, end: 2 };
        if (after) Object.assign(q, { startAfterKey: after.key, startAfterTerm: after.term });
        for await (const hit of p.indexRange(q)) {
          page.push(`${hit.term}:${text(hit.key)}`);
          after = hit;
          if (page.length === 3) break;
        }
        pages.push(...page);
        if (page.length < 3) break;
      }
      assert.deepEqual(pages, whole.map((hit) => `${hit.term}:${text(hit.key)}`));
      assert.equal(pages.length, 10);
    });
  });
}
