// The Redis and etcd drivers against fake servers: timeouts, dropped
// connections and reconnects, without the real binaries.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { etcdDriver } from '../../../src/bench/drivers/etcd.js';
import { redisDriver } from '../../../src/bench/drivers/redis.js';
import type { DriverClient } from '../../../src/bench/types.js';

/** A server whose n-th connection (from 1) behaves as `behaviour(n)` says: silent, hang up on the first request, or answer each request with a reply. */
async function fakeServer(behaviour: (connection: number) => 'silent' | 'hang-up' | string): Promise<{ target: string; server: Server }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    const mode = behaviour(++connections);
    socket.on('error', () => {});
    socket.on('data', () => {
      if (mode === 'hang-up') socket.destroy();
      else if (mode !== 'silent') socket.write(mode);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { target: `127.0.0.1:${address.port}`, server };
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

const HTTP_OK_EMPTY = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}';
const signal = new AbortController().signal;

async function expectTimeoutThenReconnect(client: DriverClient, afterReconnect: string): Promise<void> {
  const startedMs = Date.now();
  assert.equal(await client.get('k1'), 'error', 'no reply within timeoutMs');
  const tookMs = Date.now() - startedMs;
  assert.ok(tookMs >= 140 && tookMs < 1_000, `timed out after ${tookMs} ms`);
  assert.equal(await client.get('k1'), afterReconnect, 'the next op reconnects');
  client.close();
}

test('redis driver: a late reply is an error, the next command reconnects', async () => {
  const fake = await fakeServer((n) => (n === 1 ? 'silent' : '$-1\r\n'));
  servers.push(fake.server);
  await expectTimeoutThenReconnect(await redisDriver({ targets: [fake.target], bucket: 'b', timeoutMs: 150, params: {} }).connect(0, signal), 'notfound');
});

test('redis driver: a hang-up mid-command is an error, then an error reply and +OK', async () => {
  const fake = await fakeServer((n) => (n === 1 ? 'hang-up' : n === 2 ? '-ERR busy\r\n' : '+OK\r\n'));
  servers.push(fake.server);
  const client = await redisDriver({ targets: [fake.target], bucket: 'b', timeoutMs: 2_000, params: {} }).connect(0, signal);
  assert.equal(await client.put('k', Buffer.from('v')), 'error');
  assert.equal(await client.put('k', Buffer.from('v')), 'error', 'the server answered -ERR');
  client.close();
  const third = await redisDriver({ targets: [fake.target], bucket: 'b', timeoutMs: 2_000, params: {} }).connect(0, signal);
  assert.equal(await third.put('k', Buffer.from('v')), 'ok');
  third.close();
});

test('etcd driver: a late reply is an error, the next request reconnects; non-2xx is an error', async () => {
  const fake = await fakeServer((n) => (n === 1 ? 'silent' : n === 2 ? HTTP_OK_EMPTY : 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}'));
  servers.push(fake.server);
  await expectTimeoutThenReconnect(await etcdDriver({ targets: [fake.target], bucket: 'b', timeoutMs: 150, params: {} }).connect(0, signal), 'notfound');
  const client = await etcdDriver({ targets: [fake.target], bucket: 'b', timeoutMs: 2_000, params: {} }).connect(0, signal);
  assert.equal(await client.put('k', Buffer.from('v')), 'error');
  client.close();
});

test('redis and etcd drivers: one op at a time per client; a second one meanwhile is refused and does not disturb the first', async () => {
  const redis = await fakeServer(() => '+OK\r\n');
  const etcd = await fakeServer(() => HTTP_OK_EMPTY);
  servers.push(redis.server, etcd.server);
  for (const driver of [redisDriver({ targets: [redis.target], bucket: 'b', timeoutMs: 2_000, params: {} }), etcdDriver({ targets: [etcd.target], bucket: 'b', timeoutMs: 2_000, params: {} })]) {
    const client = await driver.connect(0, signal);
    const first = client.put('k', Buffer.from('v'));
    await assert.rejects(client.get('k'), /one operation at a time/);
    assert.equal(await first, 'ok', `${driver.name}: the put in flight is still judged as a put`);
    assert.equal(await client.put('k', Buffer.from('v')), 'ok', `${driver.name}: the next op goes through`);
    client.close();
  }
});

test('drivers: clients spread over targets round-robin; an aborted connect rejects; unknown params are refused', async () => {
  const a = await fakeServer(() => HTTP_OK_EMPTY);
  const b = await fakeServer(() => 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
  servers.push(a.server, b.server);
  const driver = etcdDriver({ targets: [a.target, b.target], bucket: 'b', timeoutMs: 2_000, params: {} });
  const clients = await Promise.all([0, 1, 2].map((i) => driver.connect(i, signal)));
  assert.deepEqual(await Promise.all(clients.map((c) => c.put('k', Buffer.from('v')))), ['ok', 'error', 'ok']);
  for (const client of clients) client.close();
  await assert.rejects(driver.connect(0, AbortSignal.abort()));
  assert.throws(() => etcdDriver({ targets: [a.target], bucket: 'b', timeoutMs: 1, params: { r: '2' } }), /unknown params r/);
  assert.throws(() => redisDriver({ targets: [a.target], bucket: 'b', timeoutMs: 1, params: { w: '2' } }), /unknown params w/);
});
