// mergeRings is a join-semilattice on realistic ring states: replicas start
// from one cluster, run random joins, stages, commits, transfer reports and
// gossip, and any of their states then merge commutatively, associatively
// and idempotently; tombstones never lose to stale gossip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  clearStaged,
  commit,
  compareMemberEntries,
  housekeeping,
  mergeRings,
  ringDigest,
  ringsEqual,
  stageChange,
  transferKey,
} from '../../../src/core/membership/index.js';
import type { RingState } from '../../../src/core/membership/index.js';
import { PlanInvalidError } from '../../../src/core/errors.js';
import { cluster, join } from './helpers.js';

const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
type Op = [kind: number, replica: number, a: number, b: number];

function tryApply(ring: RingState, f: (r: RingState) => RingState): RingState {
  try {
    return f(ring);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('assertion failed')) throw err;
    return ring; // refused operations are part of realistic histories
  }
}

function applyOp(rings: RingState[], [kind, replica, a, b]: Op): void {
  let i = replica % rings.length;
  const x = NAMES[a % NAMES.length] as string;
  const y = NAMES[b % NAMES.length] as string;
  const reportDone = (r: RingState, self: string): RingState => {
    const done = { ...r.transfersDone };
    for (const t of r.ownership.pending) if (t.to === self) done[transferKey(t.partition, t.to)] = t.epoch;
    return housekeeping({ ...r, transfersDone: done }, self, { removeExiting: b % 2 === 0 });
  };
  const merge = (r: RingState): RingState => mergeRings(r, rings[a % rings.length] as RingState);
  const ops: ((r: RingState, self: string) => RingState)[] = [
    (r, self) => join(r, x, self),
    (r, self) => stageChange(r, x, { kind: 'leave' }, self),
    (r, self) => stageChange(r, x, { kind: 'replace', by: y }, self),
    (r, self) => stageChange(r, x, { kind: 'force-remove' }, self),
    (r, self) => clearStaged(r, self),
    (r, self) => {
      try {
        return commit(r, self).next;
      } catch (err) {
        // as an operator would: drop a plan that cannot apply
        if (err instanceof PlanInvalidError) return clearStaged(r, self);
        throw err;
      }
    },
    reportDone,
    merge,
  ];
  const k = [0, 0, 1, 2, 3, 4, 5, 5, 5, 6, 6, 7, 7, 7][kind % 14] as number;
  if (k === 5 || (k === 7 && b % 2 === 1)) {
    // commits happen where the replica believes it is the claimant (else it would refuse);
    // half the merges feed that replica, so staged changes reach it
    const claimant = rings.findIndex((r, j) => r.ownership.claimant === `n${j + 1}`);
    if (claimant >= 0) i = claimant;
  }
  const self = `n${i + 1}`;
  rings[i] = tryApply(rings[i] as RingState, (r) => (ops[k] as (r: RingState, self: string) => RingState)(r, self));
}

const historyArb = fc.array(fc.tuple(fc.nat(13), fc.nat(4), fc.nat(6), fc.nat(6)), { minLength: 10, maxLength: 150 });

function histories(ops: Op[]): RingState[] {
  const origin = cluster(['n1', 'n2', 'n3'], 16);
  const rings = [origin, origin, origin, origin, origin];
  for (const op of ops) applyOp(rings, op);
  return rings;
}

test('merge is commutative, associative and idempotent on realistic states', () => {
  fc.assert(
    fc.property(historyArb, fc.nat(4), fc.nat(4), fc.nat(4), (ops, i, j, k) => {
      const rings = histories(ops);
      const [a, b, c] = [rings[i], rings[j], rings[k]] as [RingState, RingState, RingState];
      assert.ok(ringsEqual(mergeRings(a, b), mergeRings(b, a)), 'commutative');
      assert.ok(ringsEqual(mergeRings(mergeRings(a, b), c), mergeRings(a, mergeRings(b, c))), 'associative');
      assert.ok(ringsEqual(mergeRings(a, a), a), 'idempotent');
      assert.equal(ringDigest(mergeRings(a, b)), ringDigest(mergeRings(b, a)));
    }),
    { numRuns: 200 },
  );
});

test('merge only moves entries forward: nothing a replica has seen is undone', () => {
  fc.assert(
    fc.property(historyArb, fc.nat(4), fc.nat(4), (ops, i, j) => {
      const rings = histories(ops);
      const a = rings[i] as RingState;
      const merged = mergeRings(a, rings[j] as RingState);
      for (const [name, entry] of Object.entries(a.members)) {
        const after = merged.members[name];
        assert.ok(after !== undefined && compareMemberEntries(after, entry) >= 0, `${name} kept or advanced`);
        if (entry.status === 'removed' && after.status !== 'removed') assert.ok(after.version > entry.version, 'only a newer join revives');
      }
      assert.ok(merged.ownership.epoch >= a.ownership.epoch);
    }),
    { numRuns: 200 },
  );
});

test('stale gossip cannot resurrect a removed member', () => {
  let ring = cluster(['n1', 'n2', 'n3', 'n4'], 16);
  const stale = ring;
  ring = stageChange(ring, 'n3', { kind: 'force-remove' }, 'n2');
  ring = commit(ring, 'n1').next;
  assert.equal(ring.members.n3?.status, 'removed');
  for (const merged of [mergeRings(ring, stale), mergeRings(stale, ring), mergeRings(mergeRings(stale, stale), ring)]) {
    assert.equal(merged.members.n3?.status, 'removed');
    assert.ok(!merged.ownership.owners.includes('n3'));
  }
  // A later, explicit join does bring the name back, with a newer version.
  const rejoined = join(ring, 'n3', 'n1');
  assert.equal(mergeRings(stale, rejoined).members.n3?.status, 'joining');
});

test('rings of another cluster do not merge', () => {
  const a = cluster(['n1', 'n2'], 16);
  assert.throws(() => mergeRings(a, { ...a, clusterName: 'other' }), { name: 'InvalidArgumentError' });
});
