// The handoff planner: what a node must hand off, from the ring and which of
// its partitions hold data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wantedTransfers } from '../../../../src/core/handoff/planner.js';
import type { RingState } from '../../../../src/core/membership/index.js';

function ring(owners: string[], pending: RingState['ownership']['pending'] = [], transfersDone: Record<string, number> = {}): RingState {
  const members = Object.fromEntries(['n1', 'n2', 'n3'].map((name) => [name, { name, address: `${name}:1`, status: 'valid' as const, staged: null, version: 1, writer: name }]));
  return { clusterName: 'c', ringSize: owners.length, targetNVal: 2, members, ownership: { epoch: 3, claimant: 'n1', owners, pending }, transfersDone };
}

test('ownership transfers from this node are wanted with or without data; hinted data goes to the owner', () => {
  const r = ring(['n1', 'n2', 'n3', 'n1'], [{ partition: 3, from: 'n1', to: 'n2', epoch: 3 }]);
  assert.deepEqual(wantedTransfers(r, 'n1', [0, 1]), [
    { partition: 3, kind: 'ownership', to: 'n2', epoch: 3, reported: false },
    { partition: 1, kind: 'hinted', to: 'n2', epoch: 0, reported: false },
  ]);
  assert.deepEqual(wantedTransfers(r, 'n2', [1]), [], 'an owner with its own data hands nothing off');
});

test('a partition this node is about to receive is not handed off; a reported transfer says so', () => {
  const r = ring(['n1', 'n2', 'n3', 'n1'], [{ partition: 2, from: 'n3', to: 'n1', epoch: 3 }], { '2:n1': 3 });
  assert.deepEqual(wantedTransfers(r, 'n1', [2]), [], 'incoming: keep it');
  assert.deepEqual(wantedTransfers(r, 'n3', [2]), [{ partition: 2, kind: 'ownership', to: 'n1', epoch: 3, reported: true }]);
  assert.deepEqual(wantedTransfers(r, 'n2', [2, 9]), [{ partition: 2, kind: 'hinted', to: 'n3', epoch: 0, reported: false }], 'partitions beyond the ring are ignored');
});

test('a node that left hands every partition it holds to the owners', () => {
  const r = ring(['n1', 'n2', 'n1', 'n2']);
  r.members.n3 = { ...r.members.n3!, status: 'removed' };
  assert.deepEqual(wantedTransfers(r, 'n3', [0, 3]).map((w) => `${w.kind}:${w.partition}->${w.to}`), ['hinted:0->n1', 'hinted:3->n2']);
});
