// `npm start` after `cluster leave` (issue 14): n3 leaves the dev cluster,
// hands everything off, starts over as a fresh one-node cluster and exits;
// the next `rondo dev` on the same data and ports starts n3 as that fresh
// node and joins it back, and every key written before is still readable
// with R=2 from every node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pidAlive, startDevCluster, type DevCluster } from '../helpers/dev-cluster.js';
import { runCli, waitFor } from '../helpers/processes.js';

const KEYS = 60;
const LEAVE_BOUND_MS = 90_000;

function members(cluster: DevCluster, i: number): string[] {
  const status = runCli(['admin', '--config', cluster.configPath(i), '--json', 'member-status']);
  assert.equal(status.code, 0, status.stderr);
  return (JSON.parse(status.stdout) as { members: { name: string; status: string }[] }).members.map((m) => `${m.name}:${m.status}`);
}

async function readAll(cluster: DevCluster, node: number, prefix: string): Promise<void> {
  for (let k = 0; k < KEYS; k++) {
    const res = await fetch(`http://${cluster.http[node - 1]}/buckets/left/keys/k${k}?r=2`);
    const body = await res.text();
    assert.equal(res.status, 200, `GET k${k} with r=2 on n${node}: ${res.status} ${body}`);
    assert.equal(body, `${prefix}${k}`);
  }
}

describe('rondo dev after a cluster leave (issue 14)', { timeout: 300_000 }, () => {
  let first: DevCluster | undefined;
  let second: DevCluster | undefined;
  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('n3 leaves and exits; the next rondo dev joins it back, with the data readable at R=2 everywhere', async () => {
    first = await startDevCluster();
    const cluster = first;
    try {
      for (let k = 0; k < KEYS; k++) {
        const res = await fetch(`http://${cluster.http[0]}/buckets/left/keys/k${k}?w=3`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: `v${k}` });
        assert.ok(res.status === 200 || res.status === 204, `PUT k${k}: ${res.status} ${await res.text()}`);
      }
      const leave = runCli(['admin', '--config', cluster.configPath(3), 'cluster', 'leave']);
      assert.equal(leave.code, 0, leave.stderr);
      assert.match(leave.stdout, /staged: leave n3/);
      // The staged leave reaches the claimant by gossip; plan there until it shows it.
      const plannedMs = await waitFor(async () => /leave\s+n3/.test(runCli(['admin', '--config', cluster.configPath(1), 'cluster', 'plan']).stdout), 10_000, 200);
      assert.ok(plannedMs >= 0, 'the claimant never showed the staged leave');
      const commit = runCli(['admin', '--config', cluster.configPath(1), 'cluster', 'commit']);
      assert.equal(commit.code, 0, commit.stderr);

      const n3Pid = cluster.nodePids[2] as number;
      const goneMs = await waitFor(async () => !pidAlive(n3Pid) && members(cluster, 1).join(' ') === 'n1:valid n2:valid', LEAVE_BOUND_MS, 250);
      assert.ok(goneMs >= 0, `n3 did not leave and exit within ${LEAVE_BOUND_MS} ms (alive: ${pidAlive(n3Pid)}, n1 sees ${members(cluster, 1).join(' ')})`);
      assert.match(cluster.output(), /node n3 exited \(0\)/);
      const n3Log = readFileSync(join(cluster.dataDir, 'n3', 'node.log'), 'utf8');
      assert.match(n3Log, /left the cluster and handed everything off/);
      assert.match(n3Log, /starting over as a fresh one-node cluster/);
      await readAll(cluster, 1, 'v');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${cluster.logs()}`, { cause: err });
    }
    await cluster.stop({ keepData: true });

    second = await startDevCluster({ reuse: { dataDir: cluster.dataDir, ports: cluster.ports } });
    const again = second;
    try {
      assert.match(again.output(), /n3 is a one-node cluster of its own \(it left the cluster\): joining it back via n1/);
      for (const i of [1, 2, 3]) assert.deepEqual(members(again, i), ['n1:valid', 'n2:valid', 'n3:valid'], `members as n${i} sees them`);
      for (const node of [1, 2, 3]) await readAll(again, node, 'v');
      // The cluster answers writes too, through the node that came back.
      const put = await fetch(`http://${again.http[2]}/buckets/left/keys/after?w=3`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'back' });
      assert.ok(put.status === 200 || put.status === 204, `PUT after: ${put.status}`);
      const got = await fetch(`http://${again.http[0]}/buckets/left/keys/after?r=2`);
      assert.equal(got.status, 200);
      assert.equal(await got.text(), 'back');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${again.logs()}`, { cause: err });
    }
  });
});
