// The KV store on three real node processes over loopback and LMDB: values
// stored through one node read back through every node; with one node
// SIGKILLed, W=2/R=2 writes and reads still succeed; after its restart, read
// repair gives it back the writes it missed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall } from '../../src/cli/admin.js';
import type { MemberStatusRow } from '../../src/core/membership/index.js';
import { freePort, readLog, startNodeProcess, stopProcess, tempDir, waitFor, type NodeProcess } from '../helpers/processes.js';

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
    for (const node of nodes) assert.ok((await waitFor(async () => (await fetch(`http://${node.http}/ping`)).status === 200, 30_000, 100)) >= 0);
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

  it('after a restart, read repair gives the node back what it missed', async () => {
    const n3 = nodes[2]!;
    n3.proc = start(2, n3.address, n3.http);
    assert.ok((await waitFor(async () => (await fetch(`http://${n3.http}/ping`)).status === 200, 30_000, 100)) >= 0);
    // Wait until n1 sees n3 up again, so reads ask n3 (its primary) rather than a fallback.
    assert.ok((await waitFor(async () => {
      const rows = ((await adminCall({ address: nodes[0]!.address, clusterSecret: SECRET }, { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
      return rows.find((r) => r.name === 'n3')?.up === true;
    }, 10_000)) >= 0);
    // Before any repair, strict reads of keys n3 is a primary for must fail: it missed those writes.
    let missing = 0;
    for (let i = 0; i < 20; i++) if ((await get(nodes[0]!.http, `down${i}`, 'r=3&pr=3&notfound_ok=false')).status !== 200) missing++;
    assert.ok(missing > 0, 'n3 already had every write: the repair check below would prove nothing');
    console.log(`${missing} of 20 keys written while n3 was down were missing on it before read repair`);
    // All three replicas must hold the value for r=3 with notfound_ok=false: only true once n3 was repaired.
    for (let i = 0; i < 20; i++) {
      const repairedMs = await waitFor(async () => {
        const answer = await get(nodes[0]!.http, `down${i}`, 'r=2');
        if (answer.body !== `d-${i}`) return false;
        return (await get(nodes[0]!.http, `down${i}`, 'r=3&pr=3&notfound_ok=false')).status === 200;
      }, 15_000, 100);
      assert.ok(repairedMs >= 0, `down${i} was not repaired onto n3`);
    }
  });
});
