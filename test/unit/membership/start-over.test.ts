// A node whose leave has completed starts over as a fresh one-node cluster
// (riak_core's fresh ring on removal): only then, never while it is still a
// member (even a leaving one); the fresh node ignores the old cluster's
// gossip about its leave, and can join again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MembershipCore, adoptableFromGossip, commit, hasLeft, housekeeping, isAlone, ringsEqual, stageChange, startOver } from '../../../src/core/membership/index.js';
import type { MembershipOutput, RingState } from '../../../src/core/membership/index.js';
import { CLUSTER, addressOf, cluster, completeTransfers, join, seededRandom } from './helpers.js';

/** n1..n3 formed; n3's leave committed (n3 leaving, its transfers pending), then completed (exiting), then removed. */
function leaveStages(): { valid: RingState; leaving: RingState; exiting: RingState; removed: RingState } {
  const valid = cluster(['n1', 'n2', 'n3']);
  const leaving = commit(stageChange(valid, 'n3', { kind: 'leave' }, 'n3'), 'n1').next;
  const exiting = completeTransfers(leaving);
  const removed = housekeeping(exiting, 'n1', { removeExiting: true });
  return { valid, leaving, exiting, removed };
}

function coreOf(state: RingState, self = 'n3', address = addressOf(self)): MembershipCore {
  return new MembershipCore({ self, address, clusterName: CLUSTER, ringSize: state.ringSize, targetNVal: state.targetNVal, random: seededRandom(7), state });
}

function gossip(core: MembershipCore, from: string, ring: RingState): MembershipOutput {
  return core.step({ type: 'message', from, msg: { type: 'ring.gossip', ring } }, 1_000);
}

test('the stages of a leave: only exiting and removed count as left', () => {
  const s = leaveStages();
  assert.equal(s.leaving.members.n3?.status, 'leaving');
  assert.equal(s.exiting.members.n3?.status, 'exiting');
  assert.equal(s.removed.members.n3?.status, 'removed');
  assert.deepEqual([s.valid, s.leaving, s.exiting, s.removed].map((ring) => hasLeft(ring, 'n3')), [false, false, true, true]);
  assert.ok(!s.exiting.ownership.owners.includes('n3'), 'an exiting node owns nothing');
  assert.ok(!hasLeft(s.removed, 'n1'));
});

test('start-over is refused while the node is a member, even a leaving one, and leaves the state untouched', () => {
  const s = leaveStages();
  for (const state of [s.valid, s.leaving]) {
    const core = coreOf(state);
    assert.throws(() => core.step({ type: 'start-over' }, 0), { name: 'PlanInvalidError', message: /only a node whose leave has completed/ });
    assert.equal(core.ring(), state);
    assert.throws(() => startOver(state, { self: 'n3', address: addressOf('n3'), clusterName: CLUSTER, ringSize: 64, targetNVal: 4 }), { name: 'PlanInvalidError' });
  }
  // An exiting entry with partitions still on it cannot happen (the claimant checks), but would be refused too.
  const inconsistent: RingState = { ...s.exiting, ownership: { ...s.exiting.ownership, owners: s.exiting.ownership.owners.map((o, i) => (i === 0 ? 'n3' : o)) } };
  assert.throws(() => coreOf(inconsistent).step({ type: 'start-over' }, 0), { name: 'PlanInvalidError', message: /still owns or awaits/ });
});

for (const stage of ['exiting', 'removed'] as const) {
  test(`once ${stage}, start-over gives a fresh one-node ring at the current address, saved and told to no one`, () => {
    const s = leaveStages();
    const core = coreOf(s[stage], 'n3', '127.0.0.1:9999'); // restarted on another port
    const out = core.step({ type: 'start-over' }, 0);
    assert.deepEqual(out.send, []);
    assert.equal(out.persist, true);
    assert.equal(out.ringChanged, true);
    assert.equal(out.left, false);
    const ring = core.ring();
    assert.ok(isAlone(ring, 'n3'));
    assert.deepEqual(ring.members.n3, { name: 'n3', address: '127.0.0.1:9999', status: 'valid', staged: null, version: 1, writer: 'n3' });
    assert.equal(ring.clusterName, CLUSTER);
    assert.equal(ring.ringSize, 64);
    assert.deepEqual(ring.ownership, { epoch: 0, claimant: 'n3', owners: new Array(64).fill('n3'), pending: [] });
    assert.deepEqual(ring.transfersDone, {});
    // A tick afterwards: alone, it gossips to no one and stays valid.
    const tick = core.step({ type: 'tick' }, 10_000);
    assert.deepEqual(tick.send, []);
    assert.equal(tick.left, false);
  });
}

test('a node that started over ignores gossip of its leave, and takes a ring that re-adds it (join reply lost)', () => {
  const s = leaveStages();
  const core = coreOf(s.removed);
  core.step({ type: 'start-over' }, 0);
  const fresh = core.ring();
  for (const stale of [s.leaving, s.exiting, s.removed]) {
    assert.equal(adoptableFromGossip(stale, 'n3'), false);
    const out = gossip(core, 'n1', stale);
    assert.equal(core.ring(), fresh, 'the old ring is not taken');
    assert.deepEqual(out.send, []);
    assert.equal(out.left, false);
  }
  // Any seed re-adds it under its name: a new version of its tombstone, joining.
  const rejoined = join(s.removed, 'n3', 'n1');
  assert.equal(rejoined.members.n3?.status, 'joining');
  assert.ok((rejoined.members.n3?.version ?? 0) > (s.removed.members.n3?.version ?? 0));
  assert.equal(adoptableFromGossip(rejoined, 'n3'), true);
  gossip(core, 'n1', rejoined);
  assert.ok(ringsEqual(core.ring(), rejoined));
  assert.ok(!hasLeft(core.ring(), 'n3'));
});

test('the old cluster is untouched by the fresh ring of a node that left it', () => {
  const s = leaveStages();
  const n1 = coreOf(s.removed, 'n1');
  const n3 = coreOf(s.removed);
  n3.step({ type: 'start-over' }, 0);
  const out = gossip(n1, 'n3', n3.ring()); // the fresh node never sends it; a misdirected copy must be harmless
  assert.ok(ringsEqual(n1.ring(), s.removed));
  assert.equal(out.ringChanged, false);
});
