// The riak-admin style status commands against three real node processes:
// status (the same stats as HTTP /stats), stat show, vnode-status, ringready,
// wait-for-service, transfer-limit and cluster status, each also with --json;
// bad input exits 2 and changes nothing; a SIGKILLed node shows as down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, readLog, runCli, startNodeProcess, stopProcess, tempDir, waitFor, waitForPing, type NodeProcess } from '../helpers/processes.js';

const SECRET = 'multiproc-admin-status-secret';
const KEYS = 12;

describe('admin status commands on a 3-node cluster', { timeout: 180_000 }, () => {
  const dir = tempDir('rondo-admin-status-');
  const procs: NodeProcess[] = [];
  const addresses: string[] = [];
  const https: string[] = [];
  const admin = (i: number, ...args: string[]) => runCli(['admin', '--node', addresses[i] as string, '--cluster-secret', SECRET, ...args]);
  const json = <T>(i: number, ...args: string[]): T => {
    const out = admin(i, '--json', ...args);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout) as T;
  };

  before(async () => {
    for (let i = 0; i < 3; i++) {
      addresses.push(`127.0.0.1:${await freePort()}`);
      https.push(`127.0.0.1:${await freePort()}`);
    }
    for (const [i, address] of addresses.entries()) {
      procs.push(startNodeProcess({ name: `n${i + 1}`, address, dataDir: dir.path, secret: SECRET, extraArgs: ['--http-listen', https[i] as string] }));
    }
    for (const [i, proc] of procs.entries()) await waitForPing(proc, https[i] as string);
    for (const i of [1, 2]) assert.equal(admin(i, 'cluster', 'join', addresses[0] as string).code, 0);
    assert.equal(admin(0, 'cluster', 'plan').code, 0);
    const commit = admin(0, 'cluster', 'commit');
    assert.equal(commit.code, 0, commit.stderr);
    const settled = await waitFor(async () => {
      for (const i of [0, 1, 2]) {
        const members = json<{ members: { status: string; ringPct: number; pendingPct: number }[] }>(i, 'member-status').members;
        if (members.length !== 3 || members.some((m) => m.status !== 'valid' || m.ringPct !== m.pendingPct)) return false;
      }
      return true;
    }, 60_000, 250);
    assert.ok(settled >= 0, `cluster did not settle; n1's log:\n${readLog(procs[0]!).slice(-3000)}`);
    for (let k = 0; k < KEYS; k++) {
      const res = await fetch(`http://${https[0]}/buckets/b/keys/k${k}`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: `v${k}` });
      assert.ok(res.status === 204 || res.status === 200, `put k${k}: ${res.status}`);
    }
  });

  after(async () => {
    await Promise.all(procs.map((p) => stopProcess(p, 'SIGKILL')));
    if (process.exitCode && process.exitCode !== 0) for (const p of procs) console.log(`--- ${p.name} log ---\n${readLog(p).slice(-4000)}`);
    dir.remove();
  });

  it("status prints every stat of /stats as 'name : value', with the same values", async () => {
    const stats = (await (await fetch(`http://${https[1]}/stats`)).json()) as Record<string, unknown>;
    const out = admin(1, 'status');
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    const names = lines.map((l) => l.slice(0, l.indexOf(' : ')));
    assert.deepEqual([...names].sort(), Object.keys(stats).sort(), 'the same stat names as /stats');
    for (const stable of ['nodename', 'cluster_name', 'ring_num_partitions', 'storage_backend']) {
      assert.ok(lines.includes(`${stable} : ${String(stats[stable])}`), `${stable} : ${String(stats[stable])} in\n${out.stdout}`);
    }
    assert.ok(lines.includes(`ring_members : ${JSON.stringify(stats.ring_members)}`));
    const data = json<Record<string, unknown>>(1, 'status');
    assert.deepEqual(Object.keys(data).sort(), Object.keys(stats).sort());
    assert.equal(data.nodename, 'n2');
    assert.deepEqual(data.ring_members, stats.ring_members);
  });

  it('stat show filters by pattern; bad syntax exits 2', () => {
    const out = admin(0, 'stat', 'show', 'handoff_*');
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.ok(lines.length >= 5, out.stdout);
    for (const line of lines) assert.match(line, /^handoff_[a-z_]+ : \d+$/);
    assert.ok(lines.some((l) => l.startsWith('handoff_completed : ')));
    const suffix = json<Record<string, unknown>>(0, 'stat', 'show', '*_active');
    assert.ok(Object.keys(suffix).length >= 2 && Object.keys(suffix).every((n) => n.endsWith('_active')), JSON.stringify(suffix));
    assert.match(admin(0, 'stat', 'show', 'no_such_stat_*').stdout, /No matching stats/);
    const bad = admin(0, 'stat', 'show', 'node_[a-z]');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /stat pattern "node_\[a-z\]"/);
  });

  it('ringready says TRUE with every member on a settled cluster', async () => {
    let last = '';
    const ms = await waitFor(async () => {
      const out = admin(2, 'ringready');
      last = out.stdout;
      return out.code === 0 && out.stdout.startsWith('TRUE');
    }, 20_000, 250);
    assert.ok(ms >= 0, `ringready: ${last}`);
    assert.equal(last.trim(), "TRUE All nodes agree on the ring ['n1','n2','n3']");
    assert.deepEqual(json(2, 'ringready'), { ready: true, nodes: ['n1', 'n2', 'n3'] });
  });

  it('wait-for-service returns 0 on a live node, 1 on a dead address, 2 on a bad name', async () => {
    const up = admin(0, 'wait-for-service', 'riak_kv');
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.trim(), 'riak_kv is up');
    const byName = json<{ up: boolean; node: string }>(0, 'wait-for-service', 'kv', 'n3');
    assert.equal(byName.up, true);
    assert.equal(byName.node, addresses[2]);
    const deadAddress = `127.0.0.1:${await freePort()}`;
    const startedMs = Date.now();
    const dead = runCli(['admin', '--node', deadAddress, '--cluster-secret', SECRET, 'wait-for-service', 'riak_kv', '--timeout', '1.5']);
    assert.equal(dead.code, 1, dead.stderr);
    assert.ok(Date.now() - startedMs < 15_000);
    assert.match(dead.stdout, /^riak_kv is not up: \[\]$/m);
    assert.match(dead.stderr, /riak_kv is not up on .* after 1.5 s/);
    assert.equal(admin(0, 'wait-for-service', 'riak_kv', 'n9', '--timeout', '2').code, 2);
    assert.equal(admin(0, 'wait-for-service', 'riak_kv', '--timeout', '-1').code, 2);
  });

  it('transfer-limit shows, sets on all, sets on one; bad input exits 2 and changes nothing', () => {
    type Row = { node: string; limit?: number; error?: string };
    const limits = (): Record<string, number | undefined> => Object.fromEntries(json<Row[]>(0, 'transfer-limit').map((r) => [r.node, r.limit]));
    assert.deepEqual(limits(), { n1: 2, n2: 2, n3: 2 });
    const shown = admin(1, 'transfer-limit');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /Transfer Limit/);
    assert.match(shown.stdout, /^ {4}2 {4}n3$/m);
    const all = admin(1, 'transfer-limit', '3');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /Set transfer limit for all nodes to 3\./);
    assert.deepEqual(limits(), { n1: 3, n2: 3, n3: 3 });
    const one = admin(2, 'transfer-limit', 'n2', '5');
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Set transfer limit for n2 to 5\./);
    assert.deepEqual(limits(), { n1: 3, n2: 5, n3: 3 });
    for (const bad of [['-1'], ['0'], ['n2', 'x'], ['n9', '4'], ['n1', '4', '5']]) {
      const out = admin(0, 'transfer-limit', ...bad);
      assert.equal(out.code, 2, `${bad.join(' ')}: ${out.stdout}${out.stderr}`);
      assert.match(out.stderr, /^rondo: /);
    }
    assert.deepEqual(limits(), { n1: 3, n2: 5, n3: 3 }, 'nothing changed');
    // The handoff report shows the node's current limit too.
    assert.match(admin(1, 'transfers').stdout, /handoff_concurrency: 5 per direction/);
  });

  it('vnode-status lists the local partitions with their objects', async () => {
    type Vnodes = { node: string; vnodes: { partition: number; role: string; objects: number; pendingWrites: number; queued: number; handoff: string[] }[] };
    let last: Vnodes | undefined;
    // Every key has a replica on each of the three nodes (n_val 3); the last replica may land just after the put answered.
    const ms = await waitFor(async () => {
      last = json<Vnodes>(0, 'vnode-status');
      return last.vnodes.reduce((sum, v) => sum + v.objects, 0) === KEYS;
    }, 10_000, 250);
    assert.ok(ms >= 0, JSON.stringify(last));
    const status = last as Vnodes;
    assert.equal(status.node, 'n1');
    const primaries = status.vnodes.filter((v) => v.role === 'primary');
    // Partitions n1 owned alone before the joins were handed off: their vnodes still run, empty.
    assert.ok(status.vnodes.every((v) => v.role === 'primary' || (v.role === 'idle' && v.objects === 0)), JSON.stringify(status.vnodes.filter((v) => v.role !== 'primary')));
    assert.ok(primaries.length === 21 || primaries.length === 22, `${primaries.length} primaries`);
    for (const v of status.vnodes) {
      assert.ok(Number.isSafeInteger(v.partition) && v.partition >= 0 && v.partition < 64);
      assert.ok(v.pendingWrites >= 0 && v.queued >= 0);
    }
    const out = admin(0, 'vnode-status');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^Vnodes on n1: \d+ \(2[12] primary, 0 fallback, 0 incoming, \d+ idle\)$/m);
    assert.match(out.stdout, /^\s+0\s+(primary|idle)\s+\d+/m);
    const noCount = json<Vnodes>(0, 'vnode-status', '--no-count');
    assert.ok(noCount.vnodes.every((v) => v.objects === undefined));
  });

  it('cluster status shows 3 valid members up, then the SIGKILLed one down; ringready then says FALSE', async () => {
    type Status = { claimant: string; ringReady: boolean; members: { name: string; status: string; up: boolean | undefined; ringPct: number }[] };
    const before = json<Status>(0, 'cluster', 'status');
    assert.equal(before.members.length, 3);
    assert.ok(before.members.every((m) => m.status === 'valid' && m.up === true), JSON.stringify(before));
    const table = admin(0, 'cluster', 'status');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /---- Cluster Status ----/);
    assert.match(table.stdout, new RegExp(`\\|\\s+\\(C\\) ${before.claimant}\\s+\\|\\s+valid\\s+\\|\\s+up\\s+\\|`));
    const victim = procs[2] as NodeProcess;
    await stopProcess(victim, 'SIGKILL');
    let last: Status | undefined;
    const ms = await waitFor(async () => {
      last = json<Status>(0, 'cluster', 'status');
      return last.members.find((m) => m.name === 'n3')?.up === false;
    }, 20_000, 250);
    assert.ok(ms >= 0, JSON.stringify(last));
    const after = admin(0, 'cluster', 'status');
    assert.match(after.stdout, /\|\s+n3\s+\|\s+valid\s+\|\s+down!\s+\|/);
    const ready = admin(0, 'ringready');
    assert.equal(ready.code, 0);
    assert.equal(ready.stdout.trim(), "FALSE ['n3'] down.  All nodes need to be up to check.");
    const limits = admin(0, '--json', 'transfer-limit');
    assert.deepEqual((JSON.parse(limits.stdout) as { node: string; error?: string }[]).find((r) => r.node === 'n3')?.error, 'down');
  });
});
