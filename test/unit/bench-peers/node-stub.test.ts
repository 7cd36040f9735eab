// The Node stub in its own process, then a short wrk run against it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNodeStub } from '../../../bench/peers/node-stub.js';
import type { Peer } from '../../../bench/peers/peer.js';
import { runWrk } from '../../../src/bench/wrk.js';
import type { WorkloadSpec } from '../../../src/bench/types.js';
import { assertProcessGone, dataRoot, freePort } from './helpers.js';

const root = dataRoot();
let stub: Peer;
let base: string;

before(async () => {
  stub = await startNodeStub({ port: await freePort(), dataRoot: root.path });
  base = `http://${stub.targets[0]}`;
});

after(async () => {
  await stub?.stop();
  root.remove();
});

test('node stub: PUT 204, GET 200 with the body, GET of an absent key 404, query strings ignored', async () => {
  const put = await fetch(`${base}/buckets/b/keys/k1?w=3`, { method: 'PUT', body: 'hello', headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 204);
  const got = await fetch(`${base}/buckets/b/keys/k1?r=1`);
  assert.equal(got.status, 200);
  assert.equal(await got.text(), 'hello');
  const absent = await fetch(`${base}/buckets/b/keys/nope`);
  assert.equal(absent.status, 404);
  await absent.arrayBuffer();
  const otherBucket = await fetch(`${base}/buckets/c/keys/k1`);
  assert.equal(otherBucket.status, 404);
  await otherBucket.arrayBuffer();
  const notAnObject = await fetch(`${base}/stats`);
  assert.equal(notAnObject.status, 400);
  await notAnObject.arrayBuffer();
});

test('runWrk: 2 s of W50 on preloaded keys against the stub', async () => {
  const spec: WorkloadSpec = { name: 'wrk-smoke', keys: 50, keyGen: 'uniform', valueBytes: 64, mix: { get: 50, put: 50 }, concurrency: 4, durationSec: 2, warmupSec: 0, preload: true };
  await Promise.all(Array.from({ length: spec.keys }, (_, n) => fetch(`${base}/buckets/wrk/keys/k${n}`, { method: 'PUT', body: 'v', headers: { 'Content-Type': 'application/octet-stream' } }).then((r) => assert.equal(r.status, 204))));
  const result = await runWrk(spec, { label: 'stub wrk', targets: stub.targets, kind: 'riak-http', bucket: 'wrk', params: { r: '1' } });
  assert.ok(result.totalOps > 0, 'requests > 0');
  assert.equal(result.errors, 0);
  assert.ok(result.opsPerSec > 0);
  assert.ok(result.durationSec >= 1.9 && result.durationSec < 4, `durationSec ${result.durationSec}`);
  assert.ok(result.all.p50Ms > 0 && result.all.p50Ms <= result.all.p99Ms && result.all.p99Ms <= result.all.maxMs);
  assert.equal(result.generator.tool, 'wrk');
  assert.ok(result.generator.cpuPctOfOneCore > 0, 'wrk used some CPU');
  assert.ok(result.notes.some((n) => n.includes('requests issued')));
});

test('node stub: stop kills the process and removes its temp folder', async () => {
  await stub.stop();
  for (const pid of stub.pids) await assertProcessGone(pid);
  root.assertEmpty();
});
