// The pool and connection against an in-process listener (no cluster): lazy
// connections, the bounded wait queue, hand-over on release, pipelined
// replies matched in order, and close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { encodeMessage, FrameDecoder } from '../../../src/api/pb/codec/index.js';
import { request } from '../../../src/client/connection.js';
import { RondoClientError } from '../../../src/client/errors.js';
import { NodePool } from '../../../src/client/pool.js';

/** Answers every frame with RpbPingResp, or with an RpbErrorResp "overload" for code 7 (RpbGetServerInfoReq). */
async function pingServer(): Promise<{ address: string; sockets: Set<Socket>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    socket.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        if (event.kind !== 'frame') continue;
        socket.write(event.code === 7 ? encodeMessage('RpbErrorResp', { errmsg: Buffer.from('overload'), errcode: 1 }) : encodeMessage('RpbPingResp', {}));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const soon = (): { deadlineMs: number } => ({ deadlineMs: Date.now() + 2_000 });

test('one connection, one waiter: the next caller is refused with overload; release hands the connection over', async () => {
  const server = await pingServer();
  const pool = new NodePool(server.address, { connectionsMax: 1, waitersMax: 1 });
  try {
    const first = await pool.acquire(soon());
    assert.equal(pool.openConnections, 1);
    const second = pool.acquire(soon());
    await assert.rejects(pool.acquire(soon()), (e: unknown) => e instanceof RondoClientError && e.code === 'overload' && e.retryable);
    pool.release(first);
    assert.equal(await second, first, 'the waiter gets the released connection');
    await request(first, 'RpbPingReq', {}, 'RpbPingResp', soon());
    await assert.rejects(request(first, 'RpbGetServerInfoReq', {}, 'RpbGetServerInfoResp', soon()), (e: unknown) => e instanceof RondoClientError && e.code === 'overload');
    await request(first, 'RpbPingReq', {}, 'RpbPingResp', soon()); // a server error leaves the connection in step
    pool.release(first);
    assert.equal(await pool.acquire(soon()), first, 'an idle connection is reused');
  } finally {
    pool.close();
    await server.close();
  }
});

test('pipelined requests are answered in order; close() fails waiters and closes every connection', async () => {
  const server = await pingServer();
  const pool = new NodePool(server.address, { connectionsMax: 1 });
  try {
    const conn = await pool.acquire(soon());
    const replies = await Promise.allSettled([
      request(conn, 'RpbPingReq', {}, 'RpbPingResp', soon()),
      request(conn, 'RpbGetServerInfoReq', {}, 'RpbGetServerInfoResp', soon()),
      request(conn, 'RpbPingReq', {}, 'RpbPingResp', soon()),
    ]);
    assert.deepEqual(replies.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const waiting = pool.acquire(soon());
    pool.close();
    await assert.rejects(waiting, (e: unknown) => e instanceof RondoClientError && e.code === 'connection');
    assert.equal(conn.closed, true);
    await assert.rejects(pool.acquire(soon()), /closed/);
  } finally {
    await server.close();
  }
});

test('a connection the server closes fails its pending request with a retryable connection error and frees its slot', async () => {
  const server = await pingServer();
  const pool = new NodePool(server.address, { connectionsMax: 1 });
  try {
    const conn = await pool.acquire(soon());
    await new Promise((r) => setTimeout(r, 20));
    const pending = request(conn, 'RpbPingReq', {}, 'RpbPingResp', soon());
    for (const s of server.sockets) s.destroy();
    await pending.then(
      () => undefined, // the reply may have won the race
      (e: unknown) => assert.ok(e instanceof RondoClientError && e.code === 'connection' && e.retryable),
    );
    await new Promise((r) => setTimeout(r, 50));
    pool.release(conn);
    assert.equal(pool.openConnections, 0, 'the closed connection gave its slot back');
    const fresh = await pool.acquire(soon());
    assert.notEqual(fresh, conn);
    await request(fresh, 'RpbPingReq', {}, 'RpbPingResp', soon());
  } finally {
    pool.close();
    await server.close();
  }
});
