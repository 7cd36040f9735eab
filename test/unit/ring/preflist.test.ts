import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { partitionStart, RING_TOP } from '../../../src/core/ring/hash.js';
import { preflist, primaryPartitions } from '../../../src/core/ring/preflist.js';
import { claim } from '../../../src/core/ring/claim.js';
import { InvalidArgumentError } from '../../../src/core/errors.js';

const names = (count: number): string[] => Array.from({ length: count }, (_, i) => `n${i + 1}`);

describe('primaryPartitions', () => {
  it('starts at the partition after the one holding the hash (riak_core)', () => {
    assert.deepEqual(primaryPartitions(partitionStart(5, 64), 3, 64), [6, 7, 8]);
    assert.deepEqual(primaryPartitions(partitionStart(6, 64) - 1n, 3, 64), [6, 7, 8]);
    assert.deepEqual(primaryPartitions(0n, 1, 8), [1]);
    assert.deepEqual(primaryPartitions(RING_TOP - 1n, 3, 8), [0, 1, 2]);
    assert.deepEqual(primaryPartitions(partitionStart(6, 8), 4, 8), [7, 0, 1, 2]);
  });

  it('rejects bad n', () => {
    assert.throws(() => primaryPartitions(0n, 0, 8), InvalidArgumentError);
    assert.throws(() => primaryPartitions(0n, 9, 8), InvalidArgumentError);
    assert.throws(() => primaryPartitions(0n, 1.5, 8), InvalidArgumentError);
    assert.throws(() => preflist(names(8), 0n, 0, new Set(names(8))), InvalidArgumentError);
  });
});

describe('preflist', () => {
  // Owners n1..n8 striped: partition i is owned by n(i+1).
  const owners = names(8);
  const hashBefore2 = partitionStart(1, 8); // preference partitions 2, 3, 4

  it('gives the owners as primaries when all are up', () => {
    const entries = preflist(owners, hashBefore2, 3, new Set(owners));
    assert.deepEqual(entries, [
      { partition: 2, node: 'n3', primary: true },
      { partition: 3, node: 'n4', primary: true },
      { partition: 4, node: 'n5', primary: true },
    ]);
  });

  it('stands in the next up nodes beyond the preference partitions for down owners', () => {
    const up = new Set(owners.filter((n) => n !== 'n3' && n !== 'n5' && n !== 'n6'));
    assert.deepEqual(preflist(owners, hashBefore2, 3, up), [
      { partition: 3, node: 'n4', primary: true },
      { partition: 2, node: 'n7', primary: false },
      { partition: 4, node: 'n8', primary: false },
    ]);
  });

  it('returns nothing when no node is up', () => {
    assert.deepEqual(preflist(owners, hashBefore2, 3, new Set()), []);
    assert.deepEqual(preflist(owners, hashBefore2, 3, new Set(['stranger'])), []);
  });

  it('reuses nodes only once every up node is used, when n exceeds the nodes', () => {
    const two = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const entries = preflist(two, 0n, 5, new Set(['a', 'b']));
    assert.deepEqual(entries.map((e) => e.node).sort(), ['a', 'a', 'b', 'b', 'b']);
    const oneUp = preflist(two, 0n, 3, new Set(['b']));
    assert.deepEqual(oneUp.map((e) => [e.partition, e.node, e.primary]), [
      [1, 'b', true],
      [3, 'b', true],
      [2, 'b', false],
    ]);
  });

  it('holds its invariants on claimed rings with random failures', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 64, 256),
        fc.integer({ min: 4, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.bigInt({ min: 0n, max: RING_TOP - 1n }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        (ringSize, memberCount, n, hash, upFlags) => {
          const members = names(memberCount);
          const ring = claim(null, members, { ringSize, targetNVal: 4 });
          const up = new Set(members.filter((_, i) => upFlags[i]));
          const entries = preflist(ring, hash, n, up);
          const primaries = primaryPartitions(hash, n, ringSize);
          // Only nodes owning a partition can stand in (a member of a ring of
          // 8 with 9 members may own none).
          const upOwners = new Set(ring.filter((node) => up.has(node)));
          if (upOwners.size === 0) return assert.deepEqual(entries, []);
          assert.equal(entries.length, n);
          assert.deepEqual(entries.map((e) => e.partition).sort((a, b) => a - b), [...primaries].sort((a, b) => a - b));
          for (const entry of entries) {
            assert.ok(up.has(entry.node));
            assert.equal(entry.primary, ring[entry.partition] === entry.node);
          }
          const used = entries.map((e) => e.node);
          if (upOwners.size >= n) assert.equal(new Set(used).size, n, 'distinct when enough nodes are up');
          else assert.equal(new Set(used).size, upOwners.size, 'every up node used before any reuse');
        },
      ),
      { numRuns: 300 },
    );
  });
});
