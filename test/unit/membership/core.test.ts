// MembershipCore: a golden gossip exchange (exact messages) and five cores
// converging under random delivery order, duplicates and loss.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MembershipCore, ringDigest } from '../../../src/core/membership/index.js';
import type { MembershipMessage, MembershipOutput, RingState } from '../../../src/core/membership/index.js';
import { CLUSTER, addressOf, seededRandom } from './helpers.js';

function core(self: string, ringSize: number, seed: number): MembershipCore {
  return new MembershipCore({ self, address: addressOf(self), clusterName: CLUSTER, ringSize, targetNVal: 4, random: seededRandom(seed) });
}

function show(from: string, to: string, msg: MembershipMessage): string {
  if (msg.type === 'ring.transfer-done') return `${from}->${to} transfer-done p${msg.partition} to=${msg.to} e${msg.epoch}`;
  const r: RingState = msg.ring;
  const members = Object.values(r.members).map((m) => `${m.name}:${m.status}/${m.version}`).join(',');
  return `${from}->${to} gossip e${r.ownership.epoch} ${members} owners=${r.ownership.owners.join('')} pending=${r.ownership.pending.length} done=${Object.keys(r.transfersDone).length}`;
}

test('golden: join, commit and transfers between two cores', () => {
  const n1 = core('n1', 8, 1);
  const n2 = core('n2', 8, 2);
  const lines: string[] = [];
  const deliver = (from: string, out: MembershipOutput): MembershipOutput => {
    lines.push(...out.send.map((s) => show(from, s.to, s.msg)));
    return out;
  };
  const join = deliver('n1', n1.step({ type: 'admin', cmd: { cmd: 'join-request', node: 'n2', address: addressOf('n2'), clusterName: CLUSTER } }, 0));
  assert.equal(join.reply?.kind, 'ring');
  assert.ok(join.persist);
  if (join.reply?.kind !== 'ring') return;
  lines.push('-- n2 adopts');
  deliver('n2', n2.step({ type: 'admin', cmd: { cmd: 'adopt', ring: join.reply.ring } }, 0));
  lines.push('-- n1 gets n2 gossip');
  deliver('n1', n1.step({ type: 'message', from: 'n2', msg: { type: 'ring.gossip', ring: n2.ring() } }, 1));
  lines.push('-- n1 commits');
  const committed = deliver('n1', n1.step({ type: 'admin', cmd: { cmd: 'commit' } }, 2));
  assert.deepEqual(committed.reply, { kind: 'commit', epoch: 1, changes: ['join n2'] });
  lines.push('-- n2 gets the commit');
  const atN2 = deliver('n2', n2.step({ type: 'message', from: 'n1', msg: { type: 'ring.gossip', ring: n1.ring() } }, 3));
  lines.push('-- n1 gets n2 gossip');
  deliver('n1', n1.step({ type: 'message', from: 'n2', msg: { type: 'ring.gossip', ring: n2.ring() } }, 4));
  lines.push('-- n1 gets the transfer reports');
  for (const s of atN2.send.filter((x) => x.msg.type === 'ring.transfer-done')) deliver('n1', n1.step({ type: 'message', from: 'n2', msg: s.msg }, 5));
  lines.push('-- n2 gets n1 gossip');
  deliver('n2', n2.step({ type: 'message', from: 'n1', msg: { type: 'ring.gossip', ring: n1.ring() } }, 6));
  lines.push('-- ticks');
  deliver('n1', n1.step({ type: 'tick' }, 600));
  deliver('n2', n2.step({ type: 'tick' }, 600));
  assert.deepEqual(lines, GOLDEN);
  assert.equal(ringDigest(n1.ring()), ringDigest(n2.ring()));
});

test('without autoCompleteTransfers the host reports completion; periodic gossip prefers live members', () => {
  const n1 = core('n1', 8, 1);
  const n2 = new MembershipCore({ self: 'n2', address: addressOf('n2'), clusterName: CLUSTER, ringSize: 8, targetNVal: 4, random: seededRandom(2), autoCompleteTransfers: false });
  for (const name of ['n2', 'n3', 'n4']) {
    const out = n1.step({ type: 'admin', cmd: { cmd: 'join-request', node: name, address: addressOf(name), clusterName: CLUSTER } }, 0);
    if (name === 'n2' && out.reply?.kind === 'ring') n2.step({ type: 'admin', cmd: { cmd: 'adopt', ring: out.reply.ring } }, 0);
  }
  n1.step({ type: 'admin', cmd: { cmd: 'commit' } }, 0);
  const seen = n2.step({ type: 'message', from: 'n1', msg: { type: 'ring.gossip', ring: n1.ring() } }, 1);
  assert.ok(seen.send.every((s) => s.msg.type === 'ring.gossip'), 'no report before the host says so');
  const mine = n2.ring().ownership.pending.find((t) => t.to === 'n2');
  assert.ok(mine !== undefined);
  const done = n2.step({ type: 'transfer-complete', partition: mine.partition }, 2);
  assert.ok(done.persist);
  assert.deepEqual(
    done.send.filter((s) => s.msg.type === 'ring.transfer-done'),
    [{ to: 'n1', msg: { type: 'ring.transfer-done', partition: mine.partition, to: 'n2', epoch: 1 } }],
  );
  n1.step({ type: 'message', from: 'n2', msg: { type: 'ring.transfer-done', partition: mine.partition, to: 'n2', epoch: 1 } }, 3);
  assert.equal(n1.ring().ownership.owners[mine.partition], 'n2');
  assert.equal(n1.ring().ownership.epoch, 2);

  n1.step({ type: 'liveness', node: 'n2', up: false }, 4);
  n1.step({ type: 'liveness', node: 'n3', up: false }, 4);
  for (let t = 1_000; t < 5_000; t += 500) {
    const out = n1.step({ type: 'tick' }, t);
    assert.deepEqual(out.send.map((s) => s.to), ['n4']);
  }
});

// Regenerate by printing `lines`; review every line before pasting.
const GOLDEN: string[] = [
  'n1->n2 gossip e0 n1:valid/1,n2:joining/1 owners=n1n1n1n1n1n1n1n1 pending=0 done=0',
  '-- n2 adopts',
  'n2->n1 gossip e0 n1:valid/1,n2:joining/1 owners=n1n1n1n1n1n1n1n1 pending=0 done=0',
  '-- n1 gets n2 gossip',
  '-- n1 commits',
  'n1->n2 gossip e1 n1:valid/1,n2:valid/2 owners=n1n1n1n1n1n1n1n1 pending=4 done=0',
  '-- n2 gets the commit',
  'n2->n1 gossip e1 n1:valid/1,n2:valid/2 owners=n1n1n1n1n1n1n1n1 pending=4 done=4',
  'n2->n1 transfer-done p0 to=n2 e1',
  'n2->n1 transfer-done p2 to=n2 e1',
  'n2->n1 transfer-done p4 to=n2 e1',
  'n2->n1 transfer-done p6 to=n2 e1',
  '-- n1 gets n2 gossip',
  'n1->n2 gossip e2 n1:valid/1,n2:valid/2 owners=n2n1n2n1n2n1n2n1 pending=0 done=4',
  '-- n1 gets the transfer reports',
  '-- n2 gets n1 gossip',
  '-- ticks',
  'n1->n2 gossip e2 n1:valid/1,n2:valid/2 owners=n2n1n2n1n2n1n2n1 pending=0 done=4',
  'n2->n1 gossip e2 n1:valid/1,n2:valid/2 owners=n2n1n2n1n2n1n2n1 pending=0 done=4',
];

test('gossip from a peer with another target_n_val, ring_size or cluster, or a malformed ring, is refused with the reason and changes nothing', () => {
  const n1 = core('n1', 8, 1);
  const n2 = core('n2', 8, 2);
  const join = n1.step({ type: 'admin', cmd: { cmd: 'join-request', node: 'n2', address: addressOf('n2'), clusterName: CLUSTER } }, 0);
  assert.ok(join.reply?.kind === 'ring');
  n2.step({ type: 'admin', cmd: { cmd: 'adopt', ring: join.reply.ring } }, 0);
  n1.step({ type: 'message', from: 'n2', msg: { type: 'ring.gossip', ring: n2.ring() } }, 1);
  const before = ringDigest(n1.ring());
  const other = n2.ring();
  const cases: [RingState, RegExp][] = [
    [{ ...other, targetNVal: 3 }, /target_n_val 3, this cluster's has 4/],
    [{ ...other, ringSize: 16, ownership: { ...other.ownership, owners: [...other.ownership.owners, ...other.ownership.owners] } }, /ring_size 16, this node's has 8/],
    [{ ...other, clusterName: 'elsewhere' }, /cluster "elsewhere"/],
    [{ ...other, ownership: { ...other.ownership, owners: other.ownership.owners.slice(1) } }, /owners is not a list of 8 names/],
    [{ ...other, members: { n2: { ...other.members.n2!, status: 'zombie' as never } } }, /unknown status zombie/],
    [{ ...other, members: undefined as never }, /members is not a map/],
    [{ ...other, members: { ...other.members, n2: { ...other.members.n2!, address: 'no-port' } } }, /member n2 without a host:port address/],
  ];
  for (const [ring, reason] of cases) {
    const out = n1.step({ type: 'message', from: 'n2', msg: { type: 'ring.gossip', ring } }, 2);
    assert.equal(out.refused?.from, 'n2');
    assert.match(out.refused?.reason ?? '', reason);
    assert.equal(out.ringChanged, false);
    assert.deepEqual(out.send, [], 'a refused ring is not answered');
    assert.equal(ringDigest(n1.ring()), before);
  }
  // The same ring with the right shape merges as before.
  assert.equal(n1.step({ type: 'message', from: 'n2', msg: { type: 'ring.gossip', ring: other } }, 3).refused, undefined);
});
