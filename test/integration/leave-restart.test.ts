// Real nodes in one process (startNode: TCP, LMDB), on what a node does once
// its leave has completed (node.ts finishLeaving):
// - stopped at the moment its leave completes (ownership transfers applied,
//   its copies not yet dropped), its saved ring still says it left: started
//   again, it hands off what it still holds, then starts over as a fresh
//   one-node cluster and runs on, without reporting its leave over;
// - it joins again, and every key written before is readable with R=2;
// - leaving while it runs, it starts over (saved) and then reports its leave
//   over (main.ts shuts it down); started again, it is the fresh node at once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../../src/cli/config.js';
import { isAlone } from '../../src/core/membership/index.js';
import type { AdminRequest } from '../../src/core/node/admin-messages.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { freePort, tempDir, waitFor } from '../helpers/processes.js';

const KEYS = 40;
const STEP_TIMEOUT_MS = 30_000;
const text = new TextEncoder();
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const ref = (i: number): { bucketType: string; bucket: string; key: string } => ({ bucketType: 'default', bucket: 'b', key: `k${i}` });

describe('a node that has left, started again', { timeout: 150_000 }, () => {
  const dir = tempDir('rondo-leave-restart-');
  const running = new Set<RunningNode>();
  after(async () => {
    for (const node of running) await node.stop();
    dir.remove();
  });

  // Each node keeps its address across restarts, as a configured node does (peers reply to the address they know).
  const listen = new Map<string, string>();
  async function start(name: string): Promise<RunningNode> {
    if (!listen.has(name)) listen.set(name, `127.0.0.1:${await freePort()}`);
    const node = await startNode(resolveConfig({ name, listen: listen.get(name), dataDir: join(dir.path, name), clusterName: 'leave-test', clusterSecret: 'leave-test-secret', ringSize: 8, logLevel: 'error' }));
    running.add(node);
    return node;
  }

  async function stop(node: RunningNode): Promise<void> {
    running.delete(node);
    await node.stop();
  }

  async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
    assert.ok((await waitFor(async () => check(), STEP_TIMEOUT_MS, 50)) >= 0, `not within ${STEP_TIMEOUT_MS} ms: ${what}`);
  }

  /** Both nodes valid on one ring with nothing pending. */
  function settled(a: RunningNode, b: RunningNode): boolean {
    return [a, b].every((n) => {
      const ring = n.cluster.ring();
      return ring.ownership.pending.length === 0 && ring.ownership.epoch === a.cluster.ring().ownership.epoch && Object.values(ring.members).filter((m) => m.status !== 'removed').every((m) => m.status === 'valid') && ring.ownership.owners.includes(b.config.name);
    });
  }

  async function joinAndCommit(joiner: RunningNode, seed: RunningNode): Promise<void> {
    const join: AdminRequest = { type: 'admin.join', seed: seed.address };
    await joiner.cluster.handleAdmin(join);
    await seed.cluster.handleAdmin({ type: 'admin.commit' });
    await until(`${joiner.config.name} joined ${seed.config.name}`, () => settled(seed, joiner));
  }

  async function leaveAndCommit(leaver: RunningNode, claimant: RunningNode): Promise<void> {
    await leaver.cluster.handleAdmin({ type: 'admin.leave' });
    await until('the claimant sees the staged leave', () => claimant.cluster.ring().members[leaver.config.name]?.staged !== null);
    await claimant.cluster.handleAdmin({ type: 'admin.commit' });
  }

  async function readAll(node: RunningNode, prefix: string): Promise<void> {
    for (let i = 0; i < KEYS; i++) {
      const got = await node.kv.get(ref(i), { r: 2 });
      assert.ok(got.found, `k${i} not found on ${node.config.name}`);
      assert.equal(decode(got.siblings[0]!.value), `${prefix}${i}`);
    }
  }

  it('finishes handing off, starts over, runs on, joins again; a leave while running starts over and is reported', async () => {
    const n1 = await start('n1');
    let n2 = await start('n2');
    await joinAndCommit(n2, n1);
    for (let i = 0; i < KEYS; i++) await n1.kv.put(ref(i), { content: { value: text.encode(`v${i}`), contentType: 'text/plain' } }, { w: 2 });

    // Stop n2 the moment its leave completes: its copies of the moved partitions are still there (drop grace).
    let stopping: Promise<void> | undefined;
    n2.cluster.onLeft(() => {
      stopping ??= stop(n2);
    });
    const leaving = n2;
    await leaveAndCommit(n2, n1);
    await until('n2 left and stopped', () => stopping !== undefined);
    await stopping;
    assert.ok(leaving.cluster.leftCluster(), 'the saved ring says n2 left');

    n2 = await start('n2');
    let leaveOver = 0;
    n2.onLeft(() => leaveOver++);
    assert.ok(n2.cluster.leftCluster(), 'restarted, n2 still has its old ring');
    await until('n2 started over', () => isAlone(n2.cluster.ring(), 'n2'));
    assert.ok(!n2.cluster.leftCluster());
    assert.equal(leaveOver, 0, 'a node started already having left runs on as the fresh node');
    assert.equal(await n2.kv.handoff.idle(), true);
    const handedOff = n2.kv.handoff.stats();
    assert.ok((handedOff.handoff_completed ?? 0) > 0 && (handedOff.handoff_items_sent ?? 0) > 0, `restarted, n2 first handed off what it still held: ${JSON.stringify(handedOff)}`);
    await readAll(n1, 'v'); // nothing was lost: n1 holds every key (three vnodes of its own per key)

    await until('n1 removed n2', () => n1.cluster.ring().members.n2?.status === 'removed');
    await joinAndCommit(n2, n1);
    await readAll(n2, 'v');
    for (let i = 0; i < KEYS; i++) await n2.kv.put(ref(i), { content: { value: text.encode(`w${i}`), contentType: 'text/plain' } }, { w: 2 });
    await readAll(n1, 'w');

    // A leave while it runs: it starts over (saved), then reports the leave over.
    let aloneWhenReported: boolean | undefined;
    n2.onLeft(() => {
      aloneWhenReported ??= isAlone(n2.cluster.ring(), 'n2');
    });
    await leaveAndCommit(n2, n1);
    await until('n2 reported its leave over', () => aloneWhenReported !== undefined);
    assert.equal(aloneWhenReported, true, 'it started over before reporting');
    assert.equal(leaveOver, 1);
    await stop(n2);
    await readAll(n1, 'w');

    n2 = await start('n2');
    assert.ok(isAlone(n2.cluster.ring(), 'n2'), 'started again, it is the fresh node at once');
    assert.ok(!n2.cluster.leftCluster());
  });
});
