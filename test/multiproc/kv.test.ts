// The KV store on three real node processes over loopback and LMDB: values
// stored through one node read back through every node; with one node
// SIGKILLed, W=2/R=2 writes and reads still succeed; after its restart,
// hinted handoff gives it back the writes it missed (read repair is tested
// through the KV service in the simulator: test/unit/kv/service/faults.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall } from '../../src/cli/admin.js';
import type { MemberStatusRow } from '../../src/core/membership/index.js';
import { freePort, readLog, startNodeProcess, stopProcess, tempDir, waitFor, waitForPing, type NodeProcess } from '../helpers/processes.js';

const SECRET = 'multiproc-kv-secret';

interface Node {
  name: string;
  address: string;
  http: string;
  proc: NodeProcess;
}

async function put(http: string, key: string, value: string, query = 'w=2'): Promise<number> {
  const res = await fetch(`http://${http}/buckets/mp/keys/${key}?${query}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: value });
  await res.arrayBuffer();
  return res.status;
}

async function get(http: string, key: string, query = 'r=2'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${http}/buckets/mp/keys/${key}?${query}`);
  return { status: res.status, body: await res.text() };
}

describe('the KV store on 3 real processes', { timeout: 180_000 }, () => {
  const dir = tempDir('rondo-kv-');
  const nodes: Node[] = [];

  function start(i: number, address: string, http: string): NodeProcess {
    return startNodeProcess({ name: `n${i + 1}`, address, dataDir: dir.path, secret: SECRET, extraArgs: ['--http-listen', http] });
  }

  before(async () => {
    for (let i = 0; i < 3; i++) {
      const address = `127.0.0.1:${await freePort()}`;
      const http = `127.0.0.1:${await freePort()}`;
      nodes.push({ name: `n${i + 1}`, address, http, proc: start(i, address, http) });
    }
    for (const node of nodes) await waitForPing(node.proc, node.http);
    const target = (address: string) => ({ address, clusterSecret: SECRET });
    for (const node of nodes.slice(1)) await adminCall(target(node.address), { type: 'admin.join', seed: nodes[0]!.address });
    assert.ok((await waitFor(async () => (await adminCall(target(nodes[0]!.address), { type: 'admin.member-status' })).lines.join('\n').includes('Joining:2'), 10_000)) >= 0);
    await adminCall(target(nodes[0]!.address), { type: 'admin.commit' });
    const settled = await waitFor(async () => {
      for (const node of nodes) {
        const rows = ((await adminCall(target(node.address), { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
        if (rows.length !== 3 || rows.some((r) => r.status !== 'valid' || r.ringPct !== r.pendingPct || r.up === false)) return false;
      }
      return true;
    }, 20_000, 100);
    assert.ok(settled >= 0, 'cluster did not settle');
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopProcess(n.proc, 'SIGKILL')));
    if (process.exitCode && process.exitCode !== 0) for (const n of nodes) console.log(`--- ${n.name} log ---\n${readLog(n.proc).slice(-3000)}`);
    dir.remove();
  });

  it('stores through each node and reads back through every node', async () => {
    for (let i = 0; i < 30; i++) assert.equal(await put(nodes[i % 3]!.http, `k${i}`, `value-${i}`), 204);
    for (let i = 0; i < 30; i++) {
      for (const node of nodes) assert.deepEqual(await get(node.http, `k${i}`), { status: 200, body: `value-${i}` }, `k${i} via ${node.name}`);
    }
  });

  it('keeps serving W=2 writes and R=2 reads with one node SIGKILLed', async () => {
    await stopProcess(nodes[2]!.proc, 'SIGKILL');
    // Straight after the kill, before anyone has noticed: writes to n3 queue up in the transport.
    for (let i = 0; i < 10; i++) assert.equal(await put(nodes[i % 2]!.http, `early${i}`, `e-${i}`), 204, `put early${i}`);
    // Once n3 is seen down, writes go to fallbacks and n3 misses them for good.
    const seenDown = await waitFor(async () => {
      for (const node of nodes.slice(0, 2)) {
        const rows = ((await adminCall({ address: node.address, clusterSecret: SECRET }, { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
        if (rows.find((r) => r.name === 'n3')?.up !== false) return false;
      }
      return true;
    }, 10_000);
    assert.ok(seenDown >= 0, 'n3 never seen down');
    for (let i = 0; i < 20; i++) assert.equal(await put(nodes[i % 2]!.http, `down${i}`, `d-${i}`), 204, `put down${i}`);
    for (let i = 0; i < 20; i++) assert.deepEqual(await get(nodes[(i + 1) % 2]!.http, `down${i}`), { status: 200, body: `d-${i}` });
    for (let i = 0; i < 10; i++) assert.deepEqual(await get(nodes[(i + 1) % 2]!.http, `early${i}`), { status: 200, body: `e-${i}` });
    for (let i = 0; i < 30; i++) assert.equal((await get(nodes[0]!.http, `k${i}`)).body, `value-${i}`);
  });

  it('after a restart, hinted handoff gives the node back what it missed', async () => {
    const n3 = nodes[2]!;
    const stats = async (http: string): Promise<Record<string, number>> => (await (await fetch(`http://${http}/stats`)).json()) as Record<string, number>;
    // While n3 is down, the fallbacks holding its writes report them as pending handoffs.
    const pendingWhileDown = await waitFor(async () => (await Promise.all(nodes.slice(0, 2).map(async (n) => (await stats(n.http)).handoff_pending ?? 0))).some((p) => p > 0), 5_000, 100);
    assert.ok(pendingWhileDown >= 0, 'no handoff_pending on n1 or n2 while n3 is down');
    n3.proc = start(2, n3.address, n3.http);
    await waitForPing(n3.proc, n3.http);
    // Wait until n1 sees n3 up again, so reads ask n3 (its primary) rather than a fallback.
    assert.ok((await waitFor(async () => {
      const rows = ((await adminCall({ address: nodes[0]!.address, clusterSecret: SECRET }, { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
      return rows.find((r) => r.name === 'n3')?.up === true;
    }, 10_000)) >= 0);
    // The fallbacks hand n3 back the writes it missed: wait until n3 has received items and no node has
    // a transfer running or waiting (a transfer n3 refused while busy waits for a retry).
    let last = -1;
    const handedBack = await waitFor(async () => {
      const received = (await stats(n3.http)).handoff_items_received ?? 0;
      const busy = (await Promise.all(nodes.map(async (n) => stats(n.http)))).some((s) => (s.handoff_outbound_active ?? 0) > 0 || (s.handoff_pending ?? 1) > 0);
      const stable = received > 0 && received === last && !busy;
      last = received;
      return stable;
    }, 20_000, 500);
    assert.ok(handedBack >= 0, `n3 was not handed its missed writes back (received ${last})`);
    console.log(`hinted handoff gave n3 ${last} items back within ${handedBack} ms of it being seen up`);
    // Every replica holds each key now, before any read could repair it: the first strict read succeeds.
    for (let i = 0; i < 20; i++) assert.deepEqual(await get(nodes[0]!.http, `down${i}`, 'r=3&pr=3&notfound_ok=false'), { status: 200, body: `d-${i}` }, `down${i} on all three`);
  });
});
