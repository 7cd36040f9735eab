// The coverage merge: sorted, de-duplicated, chunked, bounded look-ahead,
// failures and aborts surface; the continuation codec refuses what it did not issue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareUtf8, decodeContinuation, encodeContinuation } from '../../../../src/kv/index/index.js';
import { mergeSorted, type PageSource } from '../../../../src/kv/index/merge.js';
import { RondoError } from '../../../../src/core/errors.js';

/** A source serving `items` (sorted) in pages of `pageSize`; counts fetches. */
function source(items: string[], pageSize: number, stats = { fetches: 0 }): PageSource<string> {
  let at = 0;
  return async () => {
    stats.fetches++;
    const page = items.slice(at, at + pageSize);
    at += page.length;
    return { items: page, more: at < items.length };
  };
}

async function all<T>(gen: AsyncGenerator<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const chunk of gen) out.push(chunk);
  return out;
}

test('merge: the sorted union of sorted sources, each item once, in chunks of at most chunkItems', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 40 }), { minLength: 0, maxLength: 6 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 9 }),
      async (lists, pageSize, chunkItems) => {
        const sorted = lists.map((l) => [...l].sort(compareUtf8));
        const chunks = await all(mergeSorted(sorted.map((l) => source(l, pageSize)), { compare: compareUtf8, chunkItems }));
        const expected = [...new Set(sorted.flat())].sort(compareUtf8);
        assert.deepEqual(chunks.flat(), expected);
        for (const chunk of chunks) assert.ok(chunk.length >= 1 && chunk.length <= chunkItems);
      },
    ),
    { numRuns: 300 },
  );
});

test('merge: reads at most two pages ahead of what was consumed, per source', async () => {
  const stats = { fetches: 0 };
  const items = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
  const gen = mergeSorted([source(items, 10, stats)], { compare: compareUtf8, chunkItems: 10 });
  const first = await gen.next();
  assert.equal((first.value as string[]).length, 10);
  assert.ok(stats.fetches <= 2, `fetched ${stats.fetches} pages after one chunk`);
  await gen.return(undefined);
});

test('merge: a failing source fails the merge; an aborted signal stops it', async () => {
  const failing: PageSource<string> = async () => {
    throw new RondoError('timeout', 'vnode 3 timed out');
  };
  await assert.rejects(all(mergeSorted([source(['a', 'b'], 1), failing], { compare: compareUtf8, chunkItems: 5 })), /vnode 3 timed out/);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(all(mergeSorted([source(['a'], 1)], { compare: compareUtf8, chunkItems: 5, signal: controller.signal })), { code: 'aborted' });
});

test('merge: a source out of order fails the query with a typed error, not an assertion', async () => {
  await assert.rejects(all(mergeSorted([source(['b', 'a'], 5)], { compare: compareUtf8, chunkItems: 5 })), { code: 'internal' });
});

test('compareUtf8 is the byte order of UTF-8', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }),
    { numRuns: 2000 },
  );
  // U+FF21 (3 UTF-8 bytes, EF ...) sorts before U+1F600 (4 bytes, F0 ...), though its UTF-16 unit is larger.
  assert.ok(compareUtf8('\uff21', '\u{1f600}') < 0);
});

test('continuations round-trip and refuse what we did not issue', () => {
  for (const p of [{ term: 42, key: 'k' }, { term: -7, key: 'é/x' }, { term: 'abc', key: 'z' }, { term: '', key: 'only-key' }]) {
    assert.deepEqual(decodeContinuation(encodeContinuation(p)), p);
  }
  for (const bad of ['', '!!!', Buffer.from('[1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1.5,"k"]').toString('base64url'), Buffer.from('[1,""]').toString('base64url'), 'x'.repeat(5000)]) {
    assert.throws(() => decodeContinuation(bad), { code: 'invalid_argument' }, `accepted ${bad.slice(0, 20)}`);
  }
});
