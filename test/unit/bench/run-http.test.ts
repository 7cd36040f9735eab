// The runner end to end with the http driver against a tiny node:http server
// backed by a Map: preload, a counted run, the mix, the timeline, params in
// the query; then connect failures, deadlines, server-closed connections and aborts.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AbortedError, PeerUnreachableError } from '../../../src/core/errors.js';
import { createHttpDriver } from '../../../src/bench/drivers/http.js';
import { preloadKeys, runBench } from '../../../src/bench/runner.js';
import type { WorkloadSpec } from '../../../src/bench/types.js';
import { startStubServer, type StubServer } from './stub-server.js';

const spec = (changes: Partial<WorkloadSpec>): WorkloadSpec => ({ name: 'test', keys: 200, keyGen: 'uniform', valueBytes: 100, mix: { get: 50, put: 50 }, concurrency: 8, count: 2000, warmupSec: 0, preload: true, ...changes });
const driverFor = (address: string, timeoutMs = 2000, params: Record<string, string> = {}) => createHttpDriver({ targets: [address], bucket: 'b', timeoutMs, params });

/** A TCP server that accepts and reads but never answers. */
async function silentServer(): Promise<{ address: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('bench runner with the http driver', { timeout: 20_000 }, () => {
  let stub: StubServer;
  before(async () => {
    stub = await startStubServer();
  });
  after(async () => {
    await stub?.close();
  });

  it('preloads, then runs a counted workload with no errors, the mix honoured and a timeline', async () => {
    const result = await runBench(spec({ warmupSec: 0.2 }), driverFor(stub.address, 2000, { w: '2' }), { label: 'stub run', seed: 7, targets: [stub.address] });
    assert.equal(stub.store.size, 200, 'every key preloaded');
    assert.ok(stub.store.get('b/k199')?.length === 100, 'values of valueBytes');
    assert.equal(result.totalOps, 2000);
    assert.equal(result.errors, 0);
    const gets = (result.ops.get?.count ?? 0) + (result.ops.get?.errors ?? 0);
    const puts = (result.ops.put?.count ?? 0) + (result.ops.put?.errors ?? 0);
    assert.equal(gets + puts, 2000);
    assert.ok(Math.abs(gets - 1000) < 150, `gets ${gets} of 2000 at 50%`);
    assert.ok(result.timeline.length >= 1);
    assert.equal(result.timeline.reduce((sum, p) => sum + p.errors, 0), 0);
    assert.ok(result.opsPerSec > 0 && result.durationSec > 0);
    assert.ok(result.all.p50Ms > 0 && result.all.p99Ms >= result.all.p50Ms);
    assert.equal(result.version, 1);
    assert.equal(result.label, 'stub run');
    assert.equal(result.driver, 'http');
    assert.deepEqual(result.targets, [stub.address]);
    assert.equal(result.generator.tool, 'node');
    assert.ok(typeof result.ops.get?.histogram === 'string');
    assert.ok(stub.queries.has('w=2'), 'params go into the query string');
  });

  it('a get of a key never written is notfound, not an error', async () => {
    const client = await driverFor(stub.address).connect(0, new AbortController().signal);
    try {
      assert.equal(await client.get('never-written'), 'notfound');
      assert.equal(await client.put('written', Buffer.from('v')), 'ok');
      assert.equal(await client.get('written'), 'ok');
    } finally {
      client.close();
    }
  });

  it('preloadKeys alone writes every key once', async () => {
    const fresh = await startStubServer();
    try {
      const { failed } = await preloadKeys(spec({ keys: 50 }), driverFor(fresh.address), { label: 'p', seed: 1, preloadConcurrency: 4 });
      assert.equal(failed, 0);
      assert.equal(fresh.requests.PUT, 50);
      assert.equal(fresh.store.size, 50);
    } finally {
      await fresh.close();
    }
  });

  it('reconnects when the server closes the connection after each response', async () => {
    const closing = await startStubServer({ closeEach: true });
    try {
      const result = await runBench(spec({ count: 100, concurrency: 2, preload: false }), driverFor(closing.address), { label: 'close', seed: 1 });
      assert.equal(result.totalOps, 100);
      assert.equal(result.errors, 0);
    } finally {
      await closing.close();
    }
  });

  it('a server that cannot be reached fails the run with a clear error', async () => {
    const gone = await silentServer();
    const address = gone.address;
    await gone.close();
    await assert.rejects(runBench(spec({}), driverFor(address), { label: 'x', seed: 1 }), (err: unknown) => err instanceof PeerUnreachableError && err.message.includes(address));
  });

  it('an operation past its deadline is an error, and the client reconnects', async () => {
    const silent = await silentServer();
    try {
      const result = await runBench(spec({ count: 3, concurrency: 1, preload: false }), driverFor(silent.address, 100), { label: 'silent', seed: 1 });
      assert.equal(result.totalOps, 3);
      assert.equal(result.errors, 3);
      assert.equal(silent.connections(), 3, 'a new connection after each timeout');
      assert.ok(result.durationSec >= 0.29 && result.durationSec < 2, `took ${result.durationSec} s`);
      assert.ok(result.notes.some((n) => n.includes('3 errors')));
    } finally {
      await silent.close();
    }
  });

  it('stops promptly when aborted, closing its clients', async () => {
    const controller = new AbortController();
    const startedMs = performance.now();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(runBench(spec({ count: undefined, durationSec: 30, preload: false, concurrency: 4 }), driverFor(stub.address), { label: 'abort', seed: 1, signal: controller.signal }), AbortedError);
    assert.ok(performance.now() - startedMs < 2000, 'stopped within 2 s');
  });
});
