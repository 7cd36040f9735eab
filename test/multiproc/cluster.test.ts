// Three real node processes on loopback, joined through the CLI with plan and
// commit; one is SIGKILLed and restarted. Failure detection is measured from
// outside, over the same admin channel the CLI uses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall } from '../../src/cli/admin.js';
import type { MemberStatusRow } from '../../src/core/membership/index.js';
import { freePort, readLog, runCli, startNodeProcess, stopProcess, tempDir, waitFor, type NodeProcess } from '../helpers/processes.js';

const SECRET = 'multiproc-test-secret';
const DOWN_BOUND_MS = 5_000;
const UP_BOUND_MS = 2_000;

async function members(address: string): Promise<MemberStatusRow[]> {
  const reply = await adminCall({ address, clusterSecret: SECRET, timeoutMs: 2_000 }, { type: 'admin.member-status' });
  return (reply.data as { members: MemberStatusRow[] }).members;
}

describe('a 3-node cluster of real processes', { timeout: 120_000 }, () => {
  const dir = tempDir('rondo-multiproc-');
  const procs: NodeProcess[] = [];
  let addresses: string[] = [];

  before(async () => {
    addresses = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    for (const [i, address] of addresses.entries()) procs.push(startNodeProcess({ name: `n${i + 1}`, address, dataDir: dir.path, secret: SECRET }));
    for (const [i, address] of addresses.entries()) {
      const ms = await waitFor(async () => (await members(address)).length === 1, 30_000, 100);
      assert.ok(ms >= 0, `node at ${address} did not start; end of its log:\n${readLog(procs[i]!).slice(-3000)}`);
    }
  });

  after(async () => {
    await Promise.all(procs.map((p) => stopProcess(p, 'SIGKILL')));
    if (process.exitCode && process.exitCode !== 0) for (const p of procs) console.log(`--- ${p.name} log ---\n${readLog(p).slice(-4000)}`);
    dir.remove();
  });

  it('joins via the CLI, plans, commits, and shows 3 valid members with balanced ownership', () => {
    const admin = (address: string, ...args: string[]) => runCli(['admin', '--node', address, '--cluster-secret', SECRET, ...args]);
    for (const address of addresses.slice(1)) {
      const joined = admin(address, 'cluster', 'join', addresses[0] as string);
      assert.equal(joined.code, 0, joined.stderr);
      assert.match(joined.stdout, /joined the cluster/);
    }
    const plan = admin(addresses[1] as string, 'cluster', 'plan'); // not the claimant: the CLI finds it
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /join\s+n2/);
    assert.match(plan.stdout, /join\s+n3/);
    const commit = admin(addresses[1] as string, 'cluster', 'commit');
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /committed/);
  });

  it('every node converges on 3 valid members owning 21 or 22 of 64 partitions', async () => {
    const ms = await waitFor(async () => {
      for (const address of addresses) {
        const rows = await members(address);
        if (rows.length !== 3 || rows.some((r) => r.status !== 'valid' || r.pendingPct !== r.ringPct)) return false;
      }
      return true;
    }, 20_000, 100);
    assert.ok(ms >= 0, 'cluster did not converge');
    const rows = await members(addresses[0] as string);
    for (const row of rows) assert.ok(Math.abs(row.ringPct - 100 / 3) < 1.6, `${row.name} owns ${row.ringPct}%`);
    const status = runCli(['admin', '--node', addresses[2] as string, '--cluster-secret', SECRET, 'member-status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Valid:3 \/ Leaving:0 \/ Exiting:0 \/ Joining:0 \/ Down:0/);
  });

  it(`marks a SIGKILLed node down within ${DOWN_BOUND_MS} ms and up within ${UP_BOUND_MS} ms of its restart`, async () => {
    // Let the detectors see everyone alive first.
    const allUp = await waitFor(async () => (await members(addresses[0] as string)).every((r) => r.up !== false), 10_000);
    assert.ok(allUp >= 0);
    const victim = procs[2] as NodeProcess;
    await stopProcess(victim, 'SIGKILL');
    const downMs = await waitFor(async () => {
      for (const address of addresses.slice(0, 2)) if ((await members(address)).find((r) => r.name === 'n3')?.up !== false) return false;
      return true;
    }, DOWN_BOUND_MS * 3);
    console.log(`real detection: SIGKILLed node seen down by both others after ${downMs.toFixed(0)} ms`);
    assert.ok(downMs >= 0 && downMs <= DOWN_BOUND_MS, `seen down after ${downMs} ms`);

    const restarted = startNodeProcess({ name: 'n3', address: addresses[2] as string, dataDir: dir.path, secret: SECRET });
    procs[2] = restarted;
    // Count from when the restarted process answers, not from spawn: the bound is about detection, not Node's start-up.
    const startMs = await waitFor(async () => (await members(addresses[2] as string)).length === 3, 30_000, 20);
    assert.ok(startMs >= 0, 'restarted node did not come back with its ring');
    const upMs = await waitFor(async () => {
      for (const address of addresses.slice(0, 2)) if ((await members(address)).find((r) => r.name === 'n3')?.up !== true) return false;
      return true;
    }, UP_BOUND_MS * 5);
    console.log(`real recovery: restarted node seen up by both others ${upMs.toFixed(0)} ms after it began answering`);
    assert.ok(upMs >= 0 && upMs <= UP_BOUND_MS, `seen up after ${upMs} ms`);
  });

  it('creates and activates a bucket type through the CLI; every node lists it', async () => {
    const admin = (address: string, ...args: string[]) => runCli(['admin', '--node', address, '--cluster-secret', SECRET, ...args]);
    const created = admin(addresses[0] as string, 'bucket-type', 'create', 'maps', '{"props":{"n_val":2}}');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /maps created/);
    const activatedMs = await waitFor(async () => admin(addresses[0] as string, 'bucket-type', 'activate', 'maps').code === 0, 20_000, 200);
    assert.ok(activatedMs >= 0, 'maps never became activatable');
    const listedMs = await waitFor(async () => admin(addresses[2] as string, 'bucket-type', 'list').stdout.includes('maps (active)'), 20_000, 200);
    assert.ok(listedMs >= 0, 'n3 does not list maps as active');
    const bad = admin(addresses[1] as string, 'bucket-type', 'create', 'broken', '{"props":{"n_val":"three"}}');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /n_val/);
    const unbuilt = admin(addresses[1] as string, 'bucket-type', 'create', 'counters', '{"props":{"datatype":"counter"}}');
    assert.equal(unbuilt.code, 2, 'a datatype type is refused until data types are built');
    assert.match(unbuilt.stderr, /data types \(datatype counter\) are not available/);
  });

  it('refuses an admin request with the wrong secret, with a clear error', () => {
    const result = runCli(['admin', '--node', addresses[0] as string, '--cluster-secret', 'not-the-secret', 'member-status']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /secret|refused|auth/i);
  });

  it('reports an unreachable node clearly', async () => {
    const result = runCli(['admin', '--node', `127.0.0.1:${await freePort()}`, '--cluster-secret', SECRET, 'member-status']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unreachable|refused|connect/i);
  });
});
