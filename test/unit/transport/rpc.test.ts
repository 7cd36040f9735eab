import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortedError, HandshakeRefusedError, MessageTooLargeError, NotClaimantError, NotMemberError, OverloadError, PeerUnreachableError, TimeoutError } from '../../../src/core/errors.js';
import { RemoteInternalError, errorFromWire, rpcRequest } from '../../../src/core/transport/rpc.js';
import type { RequestContext } from '../../../src/core/transport/tcp-transport.js';
import { CLUSTER, SECRET, type Node, closedPort, startNode, stopAll, waitFor } from './helpers.js';

async function withServer(run: (server: Node) => Promise<void>): Promise<void> {
  const server = await startNode('srv');
  try {
    await run(server);
  } finally {
    await stopAll(server);
  }
}

test('admin request gets the handler reply; ctx says who asked', { timeout: 10_000 }, () =>
  withServer(async (server) => {
    const seen: Omit<RequestContext, 'signal'>[] = [];
    server.transport.onRequest(async (req, ctx) => {
      seen.push({ role: ctx.role, from: ctx.from });
      return { type: 'status.reply', echo: req.type } as never;
    });
    // An admin CLI may not know the cluster name: only the secret counts.
    const reply = await rpcRequest({ address: server.address, clusterSecret: SECRET, msg: { type: 'status' } });
    assert.deepEqual(reply, { type: 'status.reply', echo: 'status' });
    assert.equal(seen[0]?.role, 'admin');
    assert.match(seen[0]?.from ?? '', /^admin@127\.0\.0\.1:\d+$/);
    // A peer doing an RPC is identified by its node name.
    await rpcRequest({ address: server.address, clusterSecret: SECRET, clusterName: CLUSTER, role: 'peer', fromName: 'n9', msg: { type: 'status' } });
    assert.deepEqual(seen[1], { role: 'peer', from: 'n9' });
  }));

test('handler errors come back typed; unknown errors as internal', { timeout: 10_000 }, () =>
  withServer(async (server) => {
    server.transport.onRequest(async (req) => {
      if (req.type === 'member') throw new NotMemberError('n7 is not a member');
      if (req.type === 'claimant') throw new NotClaimantError('n2', 'ask n2');
      throw new Error('boom');
    });
    const ask = (type: string) => rpcRequest({ address: server.address, clusterSecret: SECRET, msg: { type } });
    await assert.rejects(ask('member'), (err: unknown) => err instanceof NotMemberError && err.message === 'n7 is not a member' && err.code === 'not_member');
    await assert.rejects(ask('claimant'), (err: unknown) => err instanceof NotClaimantError && err.claimant === 'n2');
    await assert.rejects(ask('other'), (err: unknown) => err instanceof RemoteInternalError && err.code === 'internal' && /boom/.test(err.message));
    assert.ok(server.log.find('error', /request handler threw/));
  }));

test('a reply too large for one frame is answered message_too_large; the server goes on answering', { timeout: 10_000 }, async () => {
  const server = await startNode('srv', { limits: { frameBytesMax: 16 * 1024 } });
  try {
    server.transport.onRequest(async (req) => ({ type: 'reply', blob: Buffer.alloc(req.type === 'big' ? 32 * 1024 : 16) }) as never);
    const ask = (type: string) => rpcRequest({ address: server.address, clusterSecret: SECRET, msg: { type } });
    await assert.rejects(ask('big'), (err: unknown) => err instanceof MessageTooLargeError && err.code === 'message_too_large' && /reply to big is \d+ bytes, over the frame limit 16384/.test(err.message));
    assert.ok(server.log.find('warn', /reply to big .* answering message_too_large/));
    const small = (await ask('small')) as unknown as { blob: Uint8Array };
    assert.equal(small.blob.length, 16);
    assert.equal(server.transport.stats().framesRejected, 0);
  } finally {
    await stopAll(server);
  }
});

test('errorFromWire maps unknown codes to internal', () => {
  const err = errorFromWire({ code: 'from_the_future', message: 'hm' });
  assert.ok(err instanceof RemoteInternalError);
  assert.equal(err.code, 'internal');
  assert.match(err.message, /from_the_future: hm/);
  assert.ok(errorFromWire({ code: 'overload', message: 'x' }) instanceof OverloadError);
  assert.ok(errorFromWire({ code: 'toString', message: 'x' }) instanceof RemoteInternalError);
});

test('an unreachable address is PeerUnreachableError naming it', { timeout: 10_000 }, async () => {
  const address = `127.0.0.1:${await closedPort()}`;
  await assert.rejects(rpcRequest({ address, clusterSecret: SECRET, msg: { type: 'x' } }), (err: unknown) => err instanceof PeerUnreachableError && err.message.includes(address) && /ECONNREFUSED/.test(err.message));
});

test('a wrong secret is HandshakeRefusedError saying so', { timeout: 10_000 }, () =>
  withServer(async (server) => {
    server.transport.onRequest(async () => ({ type: 'ok' }));
    await assert.rejects(rpcRequest({ address: server.address, clusterSecret: 'nope', msg: { type: 'x' } }), (err: unknown) => err instanceof HandshakeRefusedError && /wrong cluster secret/.test(err.message));
    await assert.rejects(rpcRequest({ address: server.address, clusterSecret: SECRET, clusterName: 'other', msg: { type: 'x' } }), /wrong cluster name/);
  }));

test('a slow handler times out; its signal aborts when the client leaves', { timeout: 10_000 }, () =>
  withServer(async (server) => {
    let signal: AbortSignal | undefined;
    server.transport.onRequest((_req, ctx) => {
      signal = ctx.signal;
      return new Promise(() => undefined);
    });
    await assert.rejects(rpcRequest({ address: server.address, clusterSecret: SECRET, msg: { type: 'slow' }, timeoutMs: 200 }), (err: unknown) => err instanceof TimeoutError && /200 ms/.test(err.message));
    await waitFor('server-side abort', () => signal?.aborted === true);
  }));

test('an aborted request rejects with AbortedError', { timeout: 10_000 }, () =>
  withServer(async (server) => {
    server.transport.onRequest(() => new Promise(() => undefined));
    const controller = new AbortController();
    const pending = rpcRequest({ address: server.address, clusterSecret: SECRET, msg: { type: 'slow' }, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, AbortedError);
    await assert.rejects(rpcRequest({ address: server.address, clusterSecret: SECRET, msg: { type: 'x' }, signal: controller.signal }), AbortedError);
  }));
