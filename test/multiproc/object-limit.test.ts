// Two real node processes with a small objectBytesMax (from a config file):
// blind writes to an allow_mult bucket pile up siblings of a large value
// until the merged object would exceed the limit. That write is refused with
// a clear client error (HTTP 413, PB kv_object_too_large), nothing of it is
// stored, and both nodes stay up and go on answering. A limit that could not
// fit one internal frame keeps a node from starting.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminCall } from '../../src/cli/admin.js';
import type { MemberStatusRow } from '../../src/core/membership/index.js';
import { errmsgOf, RawPbConnection } from '../helpers/pb-raw.js';
import { freePort, readLog, startNodeProcess, stopProcess, tempDir, waitFor, waitForPing, type NodeProcess } from '../helpers/processes.js';

const SECRET = 'multiproc-object-limit-secret';
const OBJECT_BYTES_MAX = 256 * 1024;
const VALUE_BYTES = 60 * 1024;
const WRITES_MAX = 10;

interface Node {
  name: string;
  address: string;
  http: string;
  pb: string;
  proc: NodeProcess;
}

/** A blind write (no vclock): in an allow_mult bucket, one more sibling. W and DW all, so every replica has it before the next. */
async function blindPut(http: string, key: string, value: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${http}/buckets/sibs/keys/${key}?w=all&dw=all`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: value });
  return { status: res.status, body: await res.text() };
}

async function siblingCount(http: string, key: string): Promise<number> {
  const res = await fetch(`http://${http}/buckets/sibs/keys/${key}?r=all`);
  const body = await res.text();
  if (res.status === 200) return 1;
  assert.equal(res.status, 300, `GET ${key}: ${res.status} ${body.slice(0, 200)}`);
  return body.split('\n').slice(1).filter((line) => line !== '').length;
}

describe('siblings past objectBytesMax on 2 real processes', { timeout: 120_000 }, () => {
  const dir = tempDir('rondo-objlimit-');
  const nodes: Node[] = [];

  before(async () => {
    const configPath = join(dir.path, 'limits.json');
    writeFileSync(configPath, JSON.stringify({ objectBytesMax: OBJECT_BYTES_MAX, objectBytesWarn: OBJECT_BYTES_MAX / 2 }));
    for (let i = 0; i < 2; i++) {
      const name = `n${i + 1}`;
      const address = `127.0.0.1:${await freePort()}`;
      const http = `127.0.0.1:${await freePort()}`;
      const pb = `127.0.0.1:${await freePort()}`;
      const proc = startNodeProcess({ name, address, dataDir: dir.path, secret: SECRET, extraArgs: ['--config', configPath, '--http-listen', http, '--pb-listen', pb] });
      nodes.push({ name, address, http, pb, proc });
    }
    for (const node of nodes) await waitForPing(node.proc, node.http);
    const target = (address: string) => ({ address, clusterSecret: SECRET });
    await adminCall(target(nodes[1]!.address), { type: 'admin.join', seed: nodes[0]!.address });
    assert.ok((await waitFor(async () => (await adminCall(target(nodes[0]!.address), { type: 'admin.member-status' })).lines.join('\n').includes('Joining:1'), 10_000)) >= 0);
    await adminCall(target(nodes[0]!.address), { type: 'admin.commit' });
    const settled = await waitFor(async () => {
      for (const node of nodes) {
        const rows = ((await adminCall(target(node.address), { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
        if (rows.length !== 2 || rows.some((r) => r.status !== 'valid' || r.ringPct !== r.pendingPct || r.up === false)) return false;
      }
      return true;
    }, 30_000, 100);
    assert.ok(settled >= 0, 'cluster did not settle');
    const props = await fetch(`http://${nodes[0]!.http}/buckets/sibs/props`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ props: { allow_mult: true } }) });
    assert.equal(props.status, 204, await props.text());
    // Every node must know allow_mult=true before the blind writes (they alternate between the nodes).
    const known = await waitFor(async () => {
      for (const node of nodes) {
        const got = (await (await fetch(`http://${node.http}/buckets/sibs/props`)).json()) as { props: { allow_mult?: boolean } };
        if (got.props.allow_mult !== true) return false;
      }
      return true;
    }, 10_000);
    assert.ok(known >= 0, 'allow_mult=true did not reach every node');
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopProcess(n.proc, 'SIGKILL')));
    if (process.exitCode && process.exitCode !== 0) for (const n of nodes) console.log(`--- ${n.name} log ---\n${readLog(n.proc).slice(-3000)}`);
    dir.remove();
  });

  it('the write that would push the merged object over the limit is refused with 413 / kv_object_too_large; nothing of it is stored; both nodes keep serving', async () => {
    let stored = 0;
    let refused: { status: number; body: string } | undefined;
    for (let i = 0; i < WRITES_MAX && refused === undefined; i++) {
      const reply = await blindPut(nodes[i % 2]!.http, 'big', `${i}`.padEnd(VALUE_BYTES, 'v'));
      if (reply.status === 204) stored++;
      else refused = reply;
    }
    assert.ok(refused !== undefined, `${WRITES_MAX} writes of ${VALUE_BYTES} bytes were all accepted under a ${OBJECT_BYTES_MAX}-byte limit`);
    // 60 KiB siblings under a 256 KiB limit: four fit, the fifth would not.
    assert.equal(stored, 4);
    assert.equal(refused.status, 413, refused.body);
    assert.match(refused.body, new RegExp(`sibs/big: .*object would be \\d+ bytes with ${stored + 1} sibling\\(s\\) \\(max ${OBJECT_BYTES_MAX}\\)`));
    // Through the other node, and over PB, the same write is refused the same way.
    const again = await blindPut(nodes[stored % 2 === 0 ? 1 : 0]!.http, 'big', 'x'.repeat(VALUE_BYTES));
    assert.equal(again.status, 413, again.body);
    const pb = await RawPbConnection.open(nodes[1]!.pb);
    try {
      const reply = await pb.request('RpbPutReq', { bucket: Buffer.from('sibs'), key: Buffer.from('big'), content: { value: Buffer.alloc(VALUE_BYTES, 0x70), content_type: Buffer.from('text/plain') } });
      assert.match(errmsgOf(reply), /^kv_object_too_large: .*sibs\/big: .*\(max 262144\)/);
      // The connection is still usable for the next request.
      const ping = await pb.request('RpbPingReq', {});
      assert.equal(ping.name, 'RpbPingResp');
    } finally {
      pb.close();
    }
    // Nothing of the refused writes was stored: every node reads back exactly the accepted siblings.
    for (const node of nodes) assert.equal(await siblingCount(node.http, 'big'), stored, `siblings via ${node.name}`);
    // Both processes are up and serve other keys, through both nodes.
    for (const node of nodes) {
      assert.equal(node.proc.child.exitCode, null, `${node.name} exited`);
      assert.equal((await fetch(`http://${node.http}/ping`)).status, 200);
      const put = await fetch(`http://${node.http}/buckets/other/keys/${node.name}?w=all`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: `hello from ${node.name}` });
      assert.equal(put.status, 204);
    }
    for (const node of nodes) {
      for (const writer of nodes) {
        const res = await fetch(`http://${node.http}/buckets/other/keys/${writer.name}?r=all`);
        assert.deepEqual({ status: res.status, body: await res.text() }, { status: 200, body: `hello from ${writer.name}` });
      }
    }
    for (const node of nodes) assert.doesNotMatch(readLog(node.proc), /unhandled|uncaught|FrameInvalidError/i, `${node.name} log`);
  });

  it('a node configured with an objectBytesMax that cannot fit one internal frame refuses to start, saying why', async () => {
    const configPath = join(dir.path, 'too-large.json');
    writeFileSync(configPath, JSON.stringify({ objectBytesMax: 64 * 1024 * 1024 }));
    const address = `127.0.0.1:${await freePort()}`;
    const proc = startNodeProcess({ name: 'n9', address, dataDir: dir.path, secret: SECRET, extraArgs: ['--config', configPath] });
    const code = proc.child.exitCode ?? (await new Promise<number | null>((resolve) => proc.child.once('exit', (exitCode) => resolve(exitCode))));
    assert.equal(code, 2, readLog(proc));
    assert.match(readLog(proc), /rondo: objectBytesMax must be 1\.\.\d+ bytes: an object travels between nodes in one frame of at most 67108864 bytes/);
  });
});
