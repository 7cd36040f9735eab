// plan / commit / housekeeping on realistic sequences, and the refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownershipCounts } from '../../../src/core/ring/claim.js';
import { adoptRing, commit, countOwners, housekeeping, plan, requestJoin, stageChange } from '../../../src/core/membership/index.js';
import type { RingState } from '../../../src/core/membership/index.js';
import { CLUSTER, addressOf, cluster, completeTransfers, fresh, join } from './helpers.js';

function balanced(owners: readonly string[]): boolean {
  const counts = [...ownershipCounts(owners).values()];
  return Math.max(...counts) - Math.min(...counts) <= 1;
}

test('three nodes join: plan shows joins and transfers, commit then transfers give balanced ownership', () => {
  let ring = join(join(fresh('n1'), 'n2', 'n1'), 'n3', 'n1');
  const p = plan(ring);
  assert.deepEqual(p.changes, ['join n2', 'join n3']);
  assert.deepEqual(p.ownershipBefore, { n1: 64 });
  assert.deepEqual(Object.values(p.ownershipAfter).sort(), [21, 21, 22]);
  assert.equal(p.transfers.length, 64 - (p.ownershipAfter.n1 ?? 0));
  assert.ok(p.transfers.every((t) => t.from === 'n1' && t.to !== 'n1'));

  ring = commit(ring, 'n1').next;
  assert.equal(ring.ownership.epoch, 1);
  assert.equal(ring.members.n2?.status, 'valid');
  assert.equal(ring.members.n3?.status, 'valid');
  assert.ok(ring.ownership.owners.every((o) => o === 'n1'), 'old owner keeps partitions until transfers are done');
  assert.equal(ring.ownership.pending.length, p.transfers.length);

  ring = completeTransfers(ring);
  assert.equal(ring.ownership.epoch, 2);
  assert.deepEqual(ring.ownership.pending, []);
  assert.ok(balanced(ring.ownership.owners));
  assert.throws(() => plan(ring), { name: 'PlanEmptyError' });
});

test('leave: pending transfers, completion, exiting, then removed', () => {
  let ring = cluster(['n1', 'n2', 'n3']);
  const n3Partitions = countOwners(ring.ownership.owners).n3 ?? 0;
  ring = stageChange(ring, 'n3', { kind: 'leave' }, 'n2'); // any node may stage
  assert.deepEqual(plan(ring).changes, ['leave n3']);
  ring = commit(ring, 'n1').next;
  assert.equal(ring.members.n3?.status, 'leaving');
  assert.equal(ring.members.n3?.staged, null);
  // claim may also swap a few partitions between the stayers to keep spacing
  assert.equal(ring.ownership.pending.filter((t) => t.from === 'n3').length, n3Partitions);
  assert.ok(ring.ownership.pending.every((t) => t.to !== 'n3'));
  assert.equal(housekeeping(ring, 'n1', { removeExiting: true }), ring, 'nothing to do while transfers run');

  ring = completeTransfers(ring);
  assert.equal(ring.members.n3?.status, 'exiting');
  assert.ok(!ring.ownership.owners.includes('n3'));
  assert.ok(balanced(ring.ownership.owners));
  ring = housekeeping(ring, 'n1', { removeExiting: true });
  assert.equal(ring.members.n3?.status, 'removed');
});

test('the claimant leaving names the smallest remaining member claimant', () => {
  let ring = cluster(['n1', 'n2', 'n3']);
  ring = stageChange(ring, 'n1', { kind: 'leave' }, 'n1');
  ring = commit(ring, 'n1').next;
  assert.equal(ring.ownership.claimant, 'n2');
  assert.throws(() => commit(stageChange(ring, 'n3', { kind: 'leave' }, 'n1'), 'n1'), { name: 'NotClaimantError' });
  ring = completeTransfers(ring);
  assert.equal(ring.members.n1?.status, 'exiting');
});

test('replace hands the replaced node its partitions to the replacement', () => {
  let ring = join(cluster(['n1', 'n2', 'n3']), 'n4', 'n3');
  const n2Partitions = ring.ownership.owners.flatMap((o, p) => (o === 'n2' ? [p] : []));
  ring = stageChange(ring, 'n2', { kind: 'replace', by: 'n4' }, 'n1');
  const p = plan(ring);
  assert.deepEqual(p.changes, ['join n4', 'replace n2 with n4']);
  assert.deepEqual(p.transfers, n2Partitions.map((partition) => ({ partition, from: 'n2', to: 'n4' })));
  ring = commit(ring, 'n1').next;
  assert.equal(ring.members.n2?.status, 'leaving');
  assert.equal(ring.members.n4?.status, 'valid');
  ring = completeTransfers(ring);
  assert.equal(ring.members.n2?.status, 'exiting');
  assert.equal(countOwners(ring.ownership.owners).n4, n2Partitions.length);
});

test('force-remove moves partitions at once, with no transfer', () => {
  let ring = cluster(['n1', 'n2', 'n3', 'n4']);
  ring = stageChange(ring, 'n3', { kind: 'force-remove' }, 'n4');
  const p = plan(ring);
  assert.deepEqual(p.changes, ['force-remove n3']);
  // n3's partitions switch owner now; claim may still swap some between the stayers (those wait for transfer)
  assert.ok(p.transfers.every((t) => t.from !== 'n3' && t.to !== 'n3'));
  ring = commit(ring, 'n1').next;
  assert.equal(ring.members.n3?.status, 'removed');
  assert.ok(!ring.ownership.owners.includes('n3'));
  assert.ok(balanced(completeTransfers(ring).ownership.owners));
});

test('refusals: empty plan, non-claimant commit, last node, non-member, claimant force-remove', () => {
  const ring = cluster(['n1', 'n2']);
  assert.throws(() => plan(ring), { name: 'PlanEmptyError' });
  const staged = stageChange(ring, 'n2', { kind: 'leave' }, 'n2');
  assert.throws(
    () => commit(staged, 'n2'),
    (err: Error & { claimant?: string }) => err.name === 'NotClaimantError' && err.claimant === 'n1' && err.message.includes(addressOf('n1')),
  );
  const alone = stageChange(fresh('n1'), 'n1', { kind: 'leave' }, 'n1');
  assert.throws(() => plan(alone), { name: 'PlanInvalidError', message: /no valid member/ });
  const both = stageChange(staged, 'n1', { kind: 'leave' }, 'n1');
  assert.throws(() => plan(both), { name: 'PlanInvalidError' });
  assert.throws(() => stageChange(ring, 'n2', { kind: 'replace', by: 'n9' }, 'n1'), { name: 'PlanInvalidError', message: /not a member/ });
  assert.throws(() => stageChange(ring, 'n9', { kind: 'leave' }, 'n1'), { name: 'NotMemberError' });
  assert.throws(() => stageChange(ring, 'n1', { kind: 'force-remove' }, 'n2'), { name: 'PlanInvalidError', message: /claimant/ });
});

test('join: wrong cluster, taken name, and adopting only from a fresh ring', () => {
  const seed = cluster(['n1', 'n2']);
  assert.throws(() => requestJoin(seed, { node: 'n3', address: addressOf('n3'), clusterName: 'other' }, 'n1'), {
    name: 'PlanInvalidError',
    message: /cluster/,
  });
  assert.throws(() => requestJoin(seed, { node: 'n2', address: '10.0.0.9:1', clusterName: CLUSTER }, 'n1'), {
    name: 'PlanInvalidError',
    message: /taken/,
  });
  const offered = join(seed, 'n3', 'n1');
  assert.equal(join(offered, 'n3', 'n2'), offered, 'a repeated request changes nothing');
  const adopted: RingState = adoptRing(fresh('n3'), 'n3', offered);
  assert.equal(adopted, offered);
  assert.throws(() => adoptRing(seed, 'n2', offered), { name: 'PlanInvalidError', message: /leave first/ });
});
