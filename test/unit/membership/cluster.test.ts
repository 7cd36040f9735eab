// Five MembershipCores in one loop: messages delivered in seeded random order,
// with duplicates and loss; every live core must end on the same ring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Random } from '../../../src/core/env.js';
import { MembershipCore, countOwners, ringDigest } from '../../../src/core/membership/index.js';
import type { AdminCommand, AdminReply, MembershipMessage, MembershipOutput } from '../../../src/core/membership/index.js';
import { CLUSTER, addressOf, seededRandom } from './helpers.js';

const TICK_MS = 100;
const DELIVERIES_PER_TICK_MAX = 10_000;

class Cluster {
  readonly cores = new Map<string, MembershipCore>();
  readonly left = new Set<string>();
  private queue: { from: string; to: string; msg: MembershipMessage }[] = [];
  nowMs = 0;

  constructor(
    names: string[],
    private readonly random: Random,
  ) {
    for (const [i, self] of names.entries()) {
      const core = new MembershipCore({ self, address: addressOf(self), clusterName: CLUSTER, ringSize: 64, targetNVal: 4, random: seededRandom(i + 1) });
      this.cores.set(self, core);
    }
  }

  core(name: string): MembershipCore {
    const core = this.cores.get(name);
    assert.ok(core !== undefined);
    return core;
  }

  private collect(from: string, out: MembershipOutput): void {
    for (const s of out.send) this.queue.push({ from, to: s.to, msg: s.msg });
    if (out.left) this.left.add(from); // the host shuts the node down
  }

  /** The host of a node that has left has handed everything off: it starts over and runs on (messages reach it again). */
  startOver(name: string): MembershipOutput {
    assert.ok(this.left.has(name), `${name} has left`);
    const out = this.core(name).step({ type: 'start-over' }, this.nowMs);
    this.left.delete(name);
    this.collect(name, out);
    return out;
  }

  admin(at: string, cmd: AdminCommand): AdminReply | undefined {
    const out = this.core(at).step({ type: 'admin', cmd }, this.nowMs);
    this.collect(at, out);
    return out.reply;
  }

  run(ms: number): void {
    for (const end = this.nowMs + ms; this.nowMs < end; this.nowMs += TICK_MS) {
      for (const [name, core] of this.cores) if (!this.left.has(name)) this.collect(name, core.step({ type: 'tick' }, this.nowMs));
      for (let n = 0; n < DELIVERIES_PER_TICK_MAX && this.queue.length > 0; n++) {
        const [m] = this.queue.splice(this.random.int(this.queue.length), 1);
        assert.ok(m !== undefined);
        if (this.random.next() < 0.1 || this.left.has(m.to)) continue; // lost
        if (this.random.next() < 0.2) this.queue.push(m); // duplicated
        this.collect(m.to, this.core(m.to).step({ type: 'message', from: m.from, msg: m.msg }, this.nowMs));
      }
    }
  }

  liveDigests(): Set<string> {
    return new Set([...this.cores].filter(([name]) => !this.left.has(name)).map(([, core]) => ringDigest(core.ring())));
  }
}

for (const seed of [1, 2, 3, 4, 5]) {
  test(`five cores converge after joins, commit, transfers and a leave (seed ${seed})`, () => {
    const c = new Cluster(['n1', 'n2', 'n3', 'n4', 'n5'], seededRandom(1000 + seed));
    for (const name of ['n2', 'n3', 'n4', 'n5']) {
      const reply = c.admin('n1', { cmd: 'join-request', node: name, address: addressOf(name), clusterName: CLUSTER });
      assert.ok(reply?.kind === 'ring');
      c.admin(name, { cmd: 'adopt', ring: reply.ring });
    }
    c.run(3_000);
    assert.equal(c.liveDigests().size, 1, 'joins converged');
    const planned = c.admin('n3', { cmd: 'plan' });
    assert.ok(planned?.kind === 'plan');
    assert.deepEqual(planned.plan.changes, ['join n2', 'join n3', 'join n4', 'join n5']);
    assert.throws(() => c.admin('n3', { cmd: 'commit' }), { name: 'NotClaimantError' });
    c.admin('n1', { cmd: 'commit' });
    c.run(5_000);
    assert.equal(c.liveDigests().size, 1, 'commit and transfers converged');
    const ring = c.core('n4').ring();
    assert.deepEqual(ring.ownership.pending, []);
    assert.deepEqual(Object.values(countOwners(ring.ownership.owners)).sort(), [12, 13, 13, 13, 13]);
    const status = c.admin('n5', { cmd: 'member-status' });
    assert.ok(status?.kind === 'member-status');
    assert.deepEqual(status.members.map((m) => `${m.name}:${m.status}`), ['n1:valid', 'n2:valid', 'n3:valid', 'n4:valid', 'n5:valid']);

    c.admin('n4', { cmd: 'leave', node: 'n2' });
    c.run(2_000);
    c.admin('n1', { cmd: 'commit' });
    c.run(10_000);
    assert.ok(c.left.has('n2'), 'n2 was told it left');
    assert.equal(c.liveDigests().size, 1, 'leave converged');
    const after = c.core('n3').ring();
    assert.equal(after.members.n2?.status, 'removed');
    assert.ok(!after.ownership.owners.includes('n2'));
    assert.deepEqual(Object.values(countOwners(after.ownership.owners)).sort(), [16, 16, 16, 16]);
    const rs = c.admin('n3', { cmd: 'ring-status' });
    assert.ok(rs?.kind === 'ring-status');
    assert.equal(rs.status.claimant, 'n1');
    assert.deepEqual(rs.status.pending, []);
  });
}

for (const seed of [1, 2, 3]) {
  test(`a node that left starts over alone, then joins again and the cluster converges (seed ${seed})`, () => {
    const names = ['n1', 'n2', 'n3', 'n4'];
    const c = new Cluster(names, seededRandom(2000 + seed));
    for (const name of names.slice(1)) {
      const reply = c.admin('n1', { cmd: 'join-request', node: name, address: addressOf(name), clusterName: CLUSTER });
      assert.ok(reply?.kind === 'ring');
      c.admin(name, { cmd: 'adopt', ring: reply.ring });
    }
    c.run(3_000);
    c.admin('n1', { cmd: 'commit' });
    c.run(5_000);
    c.admin('n4', { cmd: 'leave' });
    c.run(2_000);
    c.admin('n1', { cmd: 'commit' });
    c.run(10_000);
    assert.ok(c.left.has('n4'), 'n4 was told it left');

    // From here on messages reach n4 again, and the stayers' periodic gossip goes on around it.
    const out = c.startOver('n4');
    assert.deepEqual(out.send, []);
    c.run(3_000);
    const alone = c.core('n4').ring();
    assert.deepEqual(Object.keys(alone.members), ['n4'], 'n4 stays a one-node cluster');
    assert.ok(alone.ownership.owners.every((o) => o === 'n4'));
    assert.equal(c.liveDigests().size, 2, 'the three stayers agree; n4 has its own ring');
    assert.equal(c.core('n2').ring().members.n4?.status, 'removed');

    const reply = c.admin('n2', { cmd: 'join-request', node: 'n4', address: addressOf('n4'), clusterName: CLUSTER });
    assert.ok(reply?.kind === 'ring');
    c.admin('n4', { cmd: 'adopt', ring: reply.ring });
    c.run(3_000);
    c.admin('n1', { cmd: 'commit' });
    c.run(10_000);
    assert.equal(c.liveDigests().size, 1, 'rejoin converged');
    const ring = c.core('n4').ring();
    assert.deepEqual(ring.ownership.pending, []);
    assert.deepEqual(Object.values(countOwners(ring.ownership.owners)).sort(), [16, 16, 16, 16]);
    const status = c.admin('n3', { cmd: 'member-status' });
    assert.ok(status?.kind === 'member-status');
    assert.deepEqual(status.members.map((m) => `${m.name}:${m.status}`), ['n1:valid', 'n2:valid', 'n3:valid', 'n4:valid']);
  });
}
