import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { coveragePlan, keyspaceOf, keyspacesHeld, type CoveragePlan } from '../../../../src/core/coverage/index.js';
import { InsufficientVnodesForCoverageError, InvalidArgumentError } from '../../../../src/core/errors.js';
import { partitionStart } from '../../../../src/core/ring/hash.js';

const names = (count: number): string[] => Array.from({ length: count }, (_, i) => `n${i + 1}`);
const striped = (ringSize: number, nodes: number): string[] => Array.from({ length: ringSize }, (_, p) => `n${(p % nodes) + 1}`);

/** Keyspace -> how many vnodes of the plan answer for it; checks each vnode only answers for what it holds. */
function answers(plan: CoveragePlan, ringSize: number, nVal: number): number[] {
  const count = new Array<number>(ringSize).fill(0);
  for (const v of plan.vnodes) {
    const held = keyspacesHeld(v.partition, nVal, ringSize);
    for (const k of v.keyspaces ?? held) {
      assert.ok(held.includes(k), `partition ${v.partition} does not hold keyspace ${k}`);
      count[k]! += 1;
    }
    if (v.keyspaces !== undefined) {
      assert.ok(v.keyspaces.length > 0 && v.keyspaces.length < nVal, 'a filter is a proper, non-empty subset');
      assert.deepEqual(v.keyspaces, [...v.keyspaces].sort((a, b) => a - b));
    }
  }
  return count;
}

/** Riak's greedy set cover (most new keyspaces first, ties in ring order from offset), as a yardstick. */
function greedySetCoverSize(owners: readonly string[], nVal: number, up: ReadonlySet<string>, offset: number): number {
  const ringSize = owners.length;
  const covered = new Set<number>();
  let picks = 0;
  while (covered.size < ringSize) {
    let best = -1;
    let gain = 0;
    for (let i = 0; i < ringSize; i++) {
      const p = (offset + i) % ringSize;
      const g = up.has(owners[p]!) ? keyspacesHeld(p, nVal, ringSize).filter((k) => !covered.has(k)).length : 0;
      if (g > gain) [best, gain] = [p, g];
    }
    if (best < 0) return Infinity;
    for (const k of keyspacesHeld(best, nVal, ringSize)) covered.add(k);
    picks += 1;
  }
  return picks;
}

/** The true minimum by trying every subset of up partitions (small rings only). */
function bruteForceMinimum(owners: readonly string[], nVal: number, up: ReadonlySet<string>): number {
  const ringSize = owners.length;
  let best = Infinity;
  for (let mask = 1; mask < 1 << ringSize; mask++) {
    const chosen = Array.from({ length: ringSize }, (_, p) => p).filter((p) => (mask >> p) & 1);
    if (chosen.length >= best || chosen.some((p) => !up.has(owners[p]!))) continue;
    const covered = new Set(chosen.flatMap((p) => keyspacesHeld(p, nVal, ringSize)));
    if (covered.size === ringSize) best = chosen.length;
  }
  return best;
}

describe('coveragePlan', () => {
  it('uses ringSize / nVal unfiltered vnodes when every node is up and nVal divides the ring', () => {
    const owners = striped(64, 5);
    for (const offset of [0, 1, 17, 63]) {
      const plan = coveragePlan({ owners, nVal: 4, up: new Set(owners), offset });
      assert.equal(plan.vnodes.length, 16);
      assert.ok(plan.vnodes.every((v) => v.keyspaces === undefined));
      assert.ok(answers(plan, 64, 4).every((c) => c === 1));
    }
  });

  it('Q=64, n=3, all up: 22 vnodes (ceil(64/3), the minimum), exactly one filtered to one keyspace', () => {
    const owners = striped(64, 4);
    const plan = coveragePlan({ owners, nVal: 3, up: new Set(owners), offset: 0 });
    assert.equal(plan.vnodes.length, Math.ceil(64 / 3));
    const filtered = plan.vnodes.filter((v) => v.keyspaces !== undefined);
    assert.deepEqual(filtered, [{ partition: 63, node: 'n4', keyspaces: [61] }]);
    assert.deepEqual(plan.vnodes.map((v) => v.partition).filter((p) => p !== 63), Array.from({ length: 21 }, (_, i) => 3 * i));
    assert.ok(answers(plan, 64, 3).every((c) => c === 1));
  });

  it('offset rotates the choice, so plans spread over the ring', () => {
    const owners = striped(16, 4);
    const used = new Set<number>();
    for (let offset = 0; offset < 16; offset++) for (const v of coveragePlan({ owners, nVal: 2, up: new Set(owners), offset }).vnodes) used.add(v.partition);
    assert.equal(used.size, 16);
  });

  it('nVal = ring size: one vnode holds everything', () => {
    const owners = striped(8, 3);
    assert.deepEqual(coveragePlan({ owners, nVal: 8, up: new Set(['n2']), offset: 0 }).vnodes, [{ partition: 1, node: 'n2' }]);
  });

  it('routes around a down node with filters, with fewer vnodes than greedy set cover', () => {
    const owners = striped(8, 4); // n1 owns 0 and 4
    const up = new Set(['n2', 'n3', 'n4']);
    const plan = coveragePlan({ owners, nVal: 3, up, offset: 0 });
    // Greedy set cover takes 1, 5, then 2 and 6 for the last keyspaces: 4 vnodes.
    assert.equal(greedySetCoverSize(owners, 3, up, 0), 4);
    assert.deepEqual(plan.vnodes, [
      { partition: 1, node: 'n2' },
      { partition: 3, node: 'n4', keyspaces: [2, 3] },
      { partition: 6, node: 'n3' },
    ]);
    assert.ok(answers(plan, 8, 3).every((c) => c === 1));
  });

  it('refuses, naming the lost keyspaces, when no up primary holds them', () => {
    const owners = striped(8, 4);
    assert.throws(
      () => coveragePlan({ owners, nVal: 1, up: new Set(['n1', 'n2', 'n3']), offset: 0 }),
      (err: unknown) => err instanceof InsufficientVnodesForCoverageError && err.code === 'insufficient_vnodes' && /2 of 8 keyspaces/.test(err.message) && /\b3 \(partitions 3@n4\)/.test(err.message),
    );
  });

  it('refuses bad arguments', () => {
    const owners = striped(8, 2);
    const up = new Set(owners);
    assert.throws(() => coveragePlan({ owners, nVal: 9, up, offset: 0 }), InvalidArgumentError);
    assert.throws(() => coveragePlan({ owners, nVal: 0, up, offset: 0 }), InvalidArgumentError);
    assert.throws(() => coveragePlan({ owners, nVal: 2, up, offset: 8 }), InvalidArgumentError);
    assert.throws(() => coveragePlan({ owners, nVal: 2, up, offset: 0.5 }), InvalidArgumentError);
    assert.throws(() => coveragePlan({ owners: [], nVal: 1, up, offset: 0 }), InvalidArgumentError);
  });

  it('keyspaceOf is the first preference partition', () => {
    assert.equal(keyspaceOf(partitionStart(5, 64), 64), 6);
    assert.equal(keyspaceOf(partitionStart(63, 64), 64), 0);
  });

  it('property: a plan covers every keyspace exactly once with up primaries only; a refusal is justified', () => {
    const arbitrary = fc
      .record({ ringSize: fc.constantFrom(8, 16, 32, 64), nodes: fc.integer({ min: 1, max: 6 }), nVal: fc.integer({ min: 1, max: 5 }) })
      .chain(({ ringSize, nodes, nVal }) =>
        fc.record({
          ringSize: fc.constant(ringSize),
          nVal: fc.constant(nVal),
          owners: fc.array(fc.integer({ min: 1, max: nodes }).map((i) => `n${i}`), { minLength: ringSize, maxLength: ringSize }),
          down: fc.subarray(names(nodes)),
          offset: fc.integer({ min: 0, max: ringSize - 1 }),
        }),
      );
    fc.assert(
      fc.property(arbitrary, ({ ringSize, nVal, owners, down, offset }) => {
        const up = new Set(names(6).filter((n) => !down.includes(n)));
        // Keyspace k is held by partitions k .. k + nVal - 1.
        const lost = Array.from({ length: ringSize }, (_, k) => k).filter((k) => Array.from({ length: nVal }, (_, i) => owners[(k + i) % ringSize]!).every((n) => !up.has(n)));
        let plan: CoveragePlan;
        try {
          plan = coveragePlan({ owners, nVal, up, offset });
        } catch (err) {
          assert.ok(err instanceof InsufficientVnodesForCoverageError, String(err));
          assert.ok(lost.length > 0, 'refused although every keyspace has an up holder');
          return;
        }
        assert.equal(lost.length, 0, 'planned although some keyspace has no up holder');
        for (const v of plan.vnodes) {
          assert.equal(v.node, owners[v.partition]);
          assert.ok(up.has(v.node));
        }
        assert.equal(new Set(plan.vnodes.map((v) => v.partition)).size, plan.vnodes.length);
        assert.ok(answers(plan, ringSize, nVal).every((c) => c === 1));
        assert.ok(plan.vnodes.length >= Math.ceil(ringSize / nVal));
        if (owners.every((n) => up.has(n))) assert.equal(plan.vnodes.length, Math.ceil(ringSize / nVal));
        assert.ok(plan.vnodes.length <= greedySetCoverSize(owners, nVal, up, offset));
      }),
      { numRuns: 500 },
    );
  });

  it('property: on 8-partition rings the plan is as small as the best of all subsets', () => {
    const arbitrary = fc.record({
      nVal: fc.integer({ min: 1, max: 5 }),
      owners: fc.array(fc.integer({ min: 1, max: 6 }).map((i) => `n${i}`), { minLength: 8, maxLength: 8 }),
      down: fc.subarray(names(6)),
      offset: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(arbitrary, ({ nVal, owners, down, offset }) => {
        const up = new Set(names(6).filter((n) => !down.includes(n)));
        const minimum = bruteForceMinimum(owners, nVal, up);
        if (minimum === Infinity) assert.throws(() => coveragePlan({ owners, nVal, up, offset }), InsufficientVnodesForCoverageError);
        else assert.equal(coveragePlan({ owners, nVal, up, offset }).vnodes.length, minimum);
      }),
      { numRuns: 300 },
    );
  });
});
