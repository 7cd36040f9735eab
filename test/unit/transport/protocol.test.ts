// Misbehaving remotes, driven at the socket level: each must cost only its own
// connection (one warn line), never the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { CAPABILITY_BATCH_FRAMES, PROTOCOL_VERSION, PROTOCOL_VERSION_MIN } from '../../../src/core/constants.js';
import type { WireMessage } from '../../../src/core/env.js';
import { HandshakeRefusedError, type RondoError } from '../../../src/core/errors.js';
import { Connection } from '../../../src/core/transport/connection.js';
import { FrameDecoder, decodePayload, encodeFrame, frameHeader } from '../../../src/core/transport/frame.js';
import { startHandshake, type HandshakeOptions, type HandshakeResult } from '../../../src/core/transport/handshake.js';
import { CLUSTER, MemoryLogger, SECRET, type Node, introduce, startNode, stopAll, waitFor } from './helpers.js';

interface FakePeer {
  readonly conn: Connection;
  readonly socket: Socket;
  readonly outcome: HandshakeResult | RondoError;
  readonly frames: unknown[];
  readonly closed: Promise<void>;
}

/** Dial `address` and run a real handshake with the given overrides. */
async function fakePeer(address: string, overrides: Partial<HandshakeOptions> = {}): Promise<FakePeer> {
  const [host, port] = address.split(':');
  const socket = connect({ host: host ?? '', port: Number(port) });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const conn = new Connection({ socket, log: new MemoryLogger(), remote: address, frameBytesMax: 1 << 20 });
  const frames: unknown[] = [];
  const options: HandshakeOptions = { side: 'dial', cluster: CLUSTER, node: 'fake', role: 'peer', channel: 'control', secret: SECRET, timeoutMs: 2_000, ...overrides };
  const outcome = await new Promise<HandshakeResult | RondoError>((resolve) =>
    startHandshake(conn, options, (result) => {
      if (!(result instanceof Error)) conn.setHandlers({ frame: (value) => frames.push(value), close: () => undefined });
      resolve(result);
    }),
  );
  return { conn, socket, outcome, frames, closed };
}

async function rawSocket(address: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const [host, port] = address.split(':');
  const socket = connect({ host: host ?? '', port: Number(port) });
  socket.on('error', () => undefined);
  socket.resume(); // consume the server's hello so the close is seen
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed };
}

/** After each abuse, the node still serves a well-behaved peer. */
async function assertStillServes(server: Node, peer: Node): Promise<void> {
  const before = server.received.length;
  peer.transport.send(server.name, { type: 'still.alive' });
  await waitFor('well-behaved peer served', () => server.received.length > before);
}

async function withPair(run: (server: Node, peer: Node) => Promise<void>, limits = {}): Promise<void> {
  let server: Node | undefined;
  let peer: Node | undefined;
  try {
    server = await startNode('srv', { limits });
    peer = await startNode('good');
    introduce(server, peer);
    await run(server, peer);
  } finally {
    await stopAll(server, peer);
  }
}

test('a well-behaved fake peer handshakes and its message is delivered', { timeout: 10_000 }, () =>
  withPair(async (server) => {
    const fake = await fakePeer(server.address);
    assert.ok(!(fake.outcome instanceof Error));
    assert.equal(fake.outcome.node, 'srv');
    fake.conn.sendValue({ v: PROTOCOL_VERSION, m: { type: 'from.fake' } });
    await waitFor('delivered', () => server.received.some((entry) => entry.from === 'fake'));
    fake.conn.close('done');
  }));

test('garbage bytes before the handshake close that connection only', { timeout: 10_000 }, () =>
  withPair(async (server, peer) => {
    const { socket, closed } = await rawSocket(server.address);
    socket.write(Buffer.concat([frameHeader(2), Buffer.from([0x92, 0x01])]));
    await closed;
    assert.ok(server.log.find('warn', /closing connection from 127\.0\.0\.1:\d+: undecodable payload/));
    await assertStillServes(server, peer);
  }));

test('a message before the handshake is refused', { timeout: 10_000 }, () =>
  withPair(async (server, peer) => {
    const { socket, closed } = await rawSocket(server.address);
    socket.write(encodeFrame({ v: PROTOCOL_VERSION, m: { type: 'sneaky' } }));
    await closed;
    assert.ok(server.log.find('warn', /unexpected frame before handshake/));
    assert.equal(server.received.length, 0);
    await assertStillServes(server, peer);
  }));

test('an oversized frame length closes the connection before the body arrives', { timeout: 10_000 }, () =>
  withPair(
    async (server, peer) => {
      const { socket, closed } = await rawSocket(server.address);
      socket.write(frameHeader(1_000_001));
      await closed;
      assert.ok(server.log.find('warn', /frame length 1000001 exceeds limit 1000000/));
      assert.equal(server.transport.stats().framesRejected, 1);
      await assertStillServes(server, peer);
    },
    { frameBytesMax: 1_000_000 },
  ));

test('an unknown envelope version after the handshake closes the connection', { timeout: 10_000 }, () =>
  withPair(async (server, peer) => {
    const fake = await fakePeer(server.address);
    fake.conn.sendValue({ v: 99, m: { type: 'x' } });
    await fake.closed;
    assert.ok(server.log.find('warn', /unknown envelope version 99/));
    await assertStillServes(server, peer);
  }));

test('an envelope whose message has no type closes the connection', { timeout: 10_000 }, () =>
  withPair(async (server, peer) => {
    const fake = await fakePeer(server.address);
    fake.conn.sendValue({ v: PROTOCOL_VERSION, m: { kind: 'untyped' } });
    await fake.closed;
    assert.ok(server.log.find('warn', /no string type/));
    await assertStillServes(server, peer);
  }));

test('an incompatible protocol version range is refused, with the reason sent back', { timeout: 10_000 }, () =>
  withPair(async (server, peer) => {
    const fake = await fakePeer(server.address, { versionRange: { min: PROTOCOL_VERSION + 1, max: PROTOCOL_VERSION + 2 } });
    assert.ok(fake.outcome instanceof HandshakeRefusedError);
    assert.match(fake.outcome.message, /incompatible protocol versions/);
    await waitFor('server logs the refusal', () => server.log.find('warn', new RegExp(`incompatible protocol versions: ours ${PROTOCOL_VERSION_MIN}\\.\\.${PROTOCOL_VERSION}, theirs ${PROTOCOL_VERSION + 1}\\.\\.${PROTOCOL_VERSION + 2}`)) !== undefined);
    // A client that does not check for itself still learns why.
    const { socket, closed } = await rawSocket(server.address);
    const decoder = new FrameDecoder(1 << 20);
    const frames: unknown[] = [];
    socket.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk).map((payload) => decodePayload(payload))));
    const nonce = Buffer.alloc(16, 1);
    socket.write(encodeFrame({ kind: 'hello', cluster: CLUSTER, node: 'future', role: 'peer', channel: 'control', version: 9, minVersion: 9, caps: [], nonce }));
    await closed;
    assert.ok(frames.some((frame) => (frame as { kind?: string }).kind === 'hello'));
    const refusal = frames.find((frame) => (frame as { kind?: string }).kind === 'refused') as { reason: string } | undefined;
    assert.match(refusal?.reason ?? '', /incompatible protocol versions/);
    await assertStillServes(server, peer);
  }));

test('a newer peer that still speaks our version negotiates down to it', { timeout: 10_000 }, () =>
  withPair(async (server) => {
    const fake = await fakePeer(server.address, { versionRange: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION + 2 } });
    assert.ok(!(fake.outcome instanceof Error));
    assert.equal(fake.outcome.version, PROTOCOL_VERSION);
    await waitFor('server records caps', () => server.transport.peerProtocolVersion('fake') === PROTOCOL_VERSION);
    fake.conn.close('done');
  }));

test('a silent client is dropped at the handshake timeout', { timeout: 10_000 }, () =>
  withPair(
    async (server, peer) => {
      const { closed } = await rawSocket(server.address);
      await closed;
      assert.ok(server.log.find('warn', /handshake timed out after 200 ms/));
      await assertStillServes(server, peer);
    },
    { handshakeTimeoutMs: 200 },
  ));

test('inbound connections beyond the limit are refused', { timeout: 10_000 }, () =>
  withPair(
    async (server) => {
      const first = await rawSocket(server.address);
      await waitFor('first counted', () => server.transport.stats().inboundConnections === 1);
      const second = await rawSocket(server.address);
      await second.closed;
      assert.ok(server.log.find('warn', /1 inbound connections max/));
      first.socket.destroy();
    },
    { inboundConnectionsMax: 1 },
  ));

test('requests beyond the in-flight limit on one connection answer overload', { timeout: 10_000 }, () =>
  withPair(
    async (server) => {
      let release: () => void = () => undefined;
      server.transport.onRequest(() => new Promise((resolve) => (release = () => resolve({ type: 'done' }))));
      const fake = await fakePeer(server.address, { role: 'admin', cluster: '', node: '' });
      fake.conn.sendValue({ v: PROTOCOL_VERSION, id: 1, req: { type: 'slow' } });
      fake.conn.sendValue({ v: PROTOCOL_VERSION, id: 2, req: { type: 'slow' } });
      await waitFor('overload reply', () => fake.frames.length === 1);
      assert.deepEqual((fake.frames[0] as { id: number; err: { code: string } }).id, 2);
      assert.equal((fake.frames[0] as { err: { code: string } }).err.code, 'overload');
      release();
      await waitFor('first reply', () => fake.frames.length === 2);
      assert.deepEqual(fake.frames[1], { v: PROTOCOL_VERSION, id: 1, res: { type: 'done' } });
      fake.conn.close('done');
    },
    { rpcInflightPerConnectionMax: 1 },
  ));

test('an admin connection may not send peer messages', { timeout: 10_000 }, () =>
  withPair(async (server) => {
    const fake = await fakePeer(server.address, { role: 'admin', cluster: '', node: '' });
    fake.conn.sendValue({ v: PROTOCOL_VERSION, m: { type: 'x' } });
    await fake.closed;
    assert.ok(server.log.find('warn', /admin connection sent a peer message/));
    assert.equal(server.received.length, 0);
  }));

/** A listener that accepts one peer with its own handshake (capabilities chosen by the test) and records the frames it gets. */
async function fakeListener(caps: readonly string[]): Promise<{ address: string; frames: unknown[]; stop: () => Promise<void> }> {
  const frames: unknown[] = [];
  const conns: Connection[] = [];
  const server = createServer((socket) => {
    const conn = new Connection({ socket, log: new MemoryLogger(), remote: 'dialer', frameBytesMax: 1 << 20 });
    conns.push(conn);
    startHandshake(conn, { side: 'accept', cluster: CLUSTER, node: 'old', role: 'peer', channel: 'control', secret: SECRET, timeoutMs: 2_000, caps }, (result) => {
      if (!(result instanceof Error)) conn.setHandlers({ frame: (value) => frames.push(value), close: () => undefined });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    frames,
    stop: async () => {
      for (const conn of conns) conn.close('test over');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const batches of [true, false]) {
  test(`messages queued together leave ${batches ? 'in batch frames to a peer that takes them' : 'one per frame to a peer without batch frames'}, in order`, { timeout: 10_000 }, async () => {
    const listener = await fakeListener(batches ? [CAPABILITY_BATCH_FRAMES] : []);
    const sender = await startNode('sender');
    try {
      sender.transport.setPeerAddress('old', listener.address);
      sender.transport.send('old', { type: 'warm.up' });
      await waitFor('connected', () => listener.frames.length === 1);
      for (let i = 0; i < 50; i++) sender.transport.send('old', { type: 'kv.x', i } as WireMessage);
      const received = (): number[] =>
        listener.frames.slice(1).flatMap((f) => {
          const e = f as { m?: { i: number }; ms?: { i: number }[] };
          return e.ms !== undefined ? e.ms.map((m) => m.i) : e.m !== undefined ? [e.m.i] : [];
        });
      await waitFor('all 50 delivered', () => received().length === 50);
      assert.deepEqual(received(), Array.from({ length: 50 }, (_, i) => i));
      const batchFrames = listener.frames.slice(1).filter((f) => (f as { ms?: unknown }).ms !== undefined).length;
      if (batches) assert.ok(batchFrames >= 1 && listener.frames.length - 1 < 50, `batched into ${listener.frames.length - 1} frames`);
      else assert.equal(batchFrames, 0, 'no batch envelope to a peer that did not advertise them');
    } finally {
      await stopAll(sender);
      await listener.stop();
    }
  });
}
