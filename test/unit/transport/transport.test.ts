import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, MessageTooLargeError, OverloadError, UnknownPeerError } from '../../../src/core/errors.js';
import { CAPABILITIES, PROTOCOL_VERSION } from '../../../src/core/constants.js';
import { type Node, closedPort, introduce, startNode, stopAll, waitFor, withPair } from './helpers.js';

const REPO = resolve(import.meta.dirname, '../../..');

test('two transports exchange messages on control and bulk', { timeout: 10_000 }, async () => {
  await withPair(async (a, b) => {
    a.transport.send('b', { type: 'test.hello', n: 1 } as never);
    a.transport.send('b', { type: 'test.blob', data: Buffer.alloc(1000, 7) } as never, 'bulk');
    b.transport.send('a', { type: 'test.reply' });
    const nodeB = b;
    const nodeA = a;
    await waitFor('b receives 2', () => nodeB.received.length === 2);
    await waitFor('a receives 1', () => nodeA.received.length === 1);
    const types = nodeB.received.map((entry) => entry.msg.type).sort();
    assert.deepEqual(types, ['test.blob', 'test.hello']);
    assert.ok(nodeB.received.every((entry) => entry.from === 'a'));
    assert.deepEqual(nodeA.received[0], { from: 'b', msg: { type: 'test.reply' } });
    const stats = a.transport.stats();
    assert.equal(stats.peers.b?.control.connected, true);
    assert.equal(stats.peers.b?.bulk.connected, true);
    assert.equal(stats.messagesSent, 2);
    assert.equal(stats.messagesReceived, 1);
    assert.deepEqual(a.transport.peerCapabilities('b'), [...CAPABILITIES]);
    assert.equal(a.transport.peerProtocolVersion('b'), PROTOCOL_VERSION);
  });
});

test('many small messages arrive in order on one channel', { timeout: 10_000 }, async () => {
  await withPair(async (a, b) => {
    for (let seq = 0; seq < 2_000; seq += 1) a.transport.send('b', { type: 'test.seq', seq } as never);
    const nodeB = b;
    await waitFor('all arrive', () => nodeB.received.length === 2_000);
    assert.deepEqual(nodeB.received.map((entry) => (entry.msg as unknown as { seq: number }).seq), [...Array(2_000).keys()]);
    // Sent in one tick, they leave in a few socket writes and arrive in a few reads (batch frames).
    const sent = a.transport.stats();
    const received = b.transport.stats();
    assert.equal(sent.messagesSent, 2_000);
    assert.ok(sent.writes >= 1 && sent.writes < 100, `${sent.writes} writes for 2,000 messages`);
    assert.equal(received.messagesReceived, 2_000);
    assert.ok(received.reads >= 1 && received.reads < 2_000, `${received.reads} reads for 2,000 messages`);
  });
});

test('a bulk flood does not hold back a control message', { timeout: 60_000 }, async () => {
  const bulkCount = 200;
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    a = await startNode('a', { limits: { outboundQueueBytesMax: 512 * 1024 * 1024 } });
    b = await startNode('b');
    introduce(a, b);
    const nodeB = b;
    // Warm both links so connection setup is not part of the race.
    a.transport.send('b', { type: 'warm.control' });
    a.transport.send('b', { type: 'warm.bulk' }, 'bulk');
    await waitFor('warm-up', () => nodeB.received.length === 2);
    nodeB.received.length = 0;
    const data = Buffer.alloc(1024 * 1024, 1);
    for (let index = 0; index < bulkCount; index += 1) a.transport.send('b', { type: 'bulk.chunk', index, data } as never, 'bulk');
    a.transport.send('b', { type: 'control.ping' });
    await waitFor('all arrive', () => nodeB.received.length === bulkCount + 1, 50_000);
    const controlAt = nodeB.received.findIndex((entry) => entry.msg.type === 'control.ping');
    assert.ok(controlAt >= 0 && controlAt < bulkCount, `control message arrived at position ${controlAt} of ${bulkCount + 1}`);
  } finally {
    await stopAll(a, b);
  }
});

test('send to an unknown peer throws UnknownPeerError', { timeout: 5_000 }, async () => {
  const a = await startNode('a');
  try {
    assert.throws(() => a.transport.send('nobody', { type: 'x' }), UnknownPeerError);
  } finally {
    await stopAll(a);
  }
});

test('a full queue to an unreachable peer throws OverloadError naming peer and limit', { timeout: 10_000 }, async () => {
  const a = await startNode('a', { limits: { outboundQueueMessagesMax: 5, outboundQueueBytesMax: 10_000 } });
  try {
    a.transport.setPeerAddress('ghost', `127.0.0.1:${await closedPort()}`);
    for (let index = 0; index < 5; index += 1) a.transport.send('ghost', { type: 'x' });
    assert.throws(() => a.transport.send('ghost', { type: 'x' }), (err: unknown) => err instanceof OverloadError && /ghost/.test(err.message) && /5 messages/.test(err.message));
    // Bulk has its own queue; the bytes limit applies too.
    assert.throws(() => a.transport.send('ghost', { type: 'big', data: Buffer.alloc(20_000) } as never, 'bulk'), /10000 bytes/);
    // Queued messages stay queued while the link keeps redialing.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stats = a.transport.stats().peers.ghost;
    assert.equal(stats?.control.queuedMessages, 5);
    assert.equal(stats?.control.connected, false);
  } finally {
    await stopAll(a);
  }
});

test('reconnects and delivers queued messages after the peer restarts on the same port', { timeout: 15_000 }, async () => {
  await withPair(async (a, b) => {
    a.transport.send('b', { type: 'before' });
    await waitFor('first delivery', () => b.received.length === 1);
    const port = Number(b.address.split(':')[1]);
    await b.transport.stop();
    await waitFor('a sees the link down', () => a.transport.stats().peers.b?.control.connected === false);
    a.transport.send('b', { type: 'while-down' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // a few failed dials
    // The restarted peer is not the pair's b: stop it here, whatever happens.
    const second = await startNode('b', { port });
    try {
      await waitFor('queued message delivered after restart', () => second.received.length === 1);
      assert.equal(second.received[0]?.msg.type, 'while-down');
    } finally {
      await stopAll(second);
    }
  });
});

test('a wrong cluster secret is refused and logged, and nobody crashes', { timeout: 10_000 }, async () => {
  let a: Node | undefined;
  let b: Node | undefined;
  let c: Node | undefined;
  try {
    a = await startNode('a', { secret: 'other-secret' });
    b = await startNode('b');
    c = await startNode('c');
    introduce(a, b);
    introduce(c, b);
    a.transport.send('b', { type: 'x' });
    const nodeB = b;
    await waitFor('refusal logged', () => nodeB.log.find('warn', /wrong cluster secret/) !== undefined);
    const line = nodeB.log.find('warn', /wrong cluster secret/);
    assert.match(String(line?.obj.remote), /^127\.0\.0\.1:\d+$/);
    assert.match(line?.msg ?? '', /127\.0\.0\.1:\d+/);
    assert.equal(b.received.length, 0);
    // b still serves a peer with the right secret.
    c.transport.send('b', { type: 'fine' });
    await waitFor('c delivers', () => nodeB.received.length === 1);
    assert.equal(b.received[0]?.from, 'c');
  } finally {
    await stopAll(a, b, c);
  }
});

test('a wrong cluster name is refused', { timeout: 10_000 }, async () => {
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    a = await startNode('a', { cluster: 'elsewhere' });
    b = await startNode('b');
    introduce(a, b);
    a.transport.send('b', { type: 'x' });
    const nodeA = a;
    const nodeB = b;
    await waitFor('refusal logged by b', () => nodeB.log.find('warn', /wrong cluster name/) !== undefined);
    await waitFor('a logs the refusal too', () => nodeA.log.lines.some((line) => /wrong cluster name/.test(line.msg)));
    assert.equal(b.received.length, 0);
    assert.equal(a.transport.stats().peers.b?.control.connected, false);
  } finally {
    await stopAll(a, b);
  }
});

test('a RondoError from the receive handler (a refused input) is logged and dropped; the connection and the rest of the batch go on', { timeout: 10_000 }, async () => {
  await withPair(async (a, b) => {
    const handled: string[] = [];
    b.transport.onReceive((_from, msg) => {
      handled.push(msg.type);
      if (msg.type === 'bad') throw new InvalidArgumentError('bad is refused');
    });
    // Queued in one tick: they leave in one batch frame.
    a.transport.send('b', { type: 'one' });
    a.transport.send('b', { type: 'bad' });
    a.transport.send('b', { type: 'two' });
    await waitFor('all three handled', () => handled.length === 3);
    assert.deepEqual(handled, ['one', 'bad', 'two']);
    assert.ok(b.log.find('warn', /dropped bad from a: bad is refused/));
    a.transport.send('b', { type: 'three' });
    await waitFor('the connection still carries messages', () => handled.length === 4);
    assert.equal(b.transport.stats().framesRejected, 0);
    assert.equal(a.transport.stats().peers.b?.control.connected, true);
  });
});

test('a programmer error in the receive handler is not swallowed: the process crashes loudly', { timeout: 30_000 }, () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'assert-in-handler.ts');
  const run = spawnSync(process.execPath, ['--import', 'tsx', fixture], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
  assert.notEqual(run.status, 0, `the process exited with ${String(run.status)}; stdout: ${run.stdout}`);
  assert.match(run.stderr, /assertion failed: the handler's invariant holds/);
  assert.doesNotMatch(run.stdout, /still running/);
  assert.match(run.stdout, /bug in connection handler; crashing/, 'one error line says what happened before the crash');
});

test('a message too large for a frame fails its own send only; the messages queued around it arrive, none rejected', { timeout: 10_000 }, async () => {
  const limits = { frameBytesMax: 64 * 1024 };
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    a = await startNode('a', { limits });
    b = await startNode('b', { limits });
    introduce(a, b);
    const nodeB = b;
    a.transport.send('b', { type: 'before' });
    assert.throws(
      () => a?.transport.send('b', { type: 'huge', blob: Buffer.alloc(64 * 1024) } as never),
      (err: unknown) => err instanceof MessageTooLargeError && err.code === 'message_too_large' && /huge to b is \d+ bytes, over the frame limit 65536/.test(err.message),
    );
    // The largest message that fits still travels, alone, between small ones batched in the same tick.
    a.transport.send('b', { type: 'largest', blob: Buffer.alloc(64 * 1024 - 64) } as never);
    a.transport.send('b', { type: 'after' });
    await waitFor('three messages arrive', () => nodeB.received.length === 3);
    assert.deepEqual(nodeB.received.map((r) => r.msg.type), ['before', 'largest', 'after']);
    assert.equal(b.transport.stats().framesRejected, 0);
    assert.equal(a.transport.stats().peers.b?.control.queuedMessages, 0);
  } finally {
    await stopAll(a, b);
  }
});

test('per-peer capabilities and receive counts are pruned: by removePeer, and for an unknown peer when its last connection closes', { timeout: 10_000 }, async () => {
  let a: Node | undefined;
  let b: Node | undefined;
  let c: Node | undefined;
  try {
    a = await startNode('a');
    b = await startNode('b');
    c = await startNode('c');
    // a and c know b; b knows only c (a is a peer it hears from, unknown to it).
    a.transport.setPeerAddress('b', b.address);
    c.transport.setPeerAddress('b', b.address);
    b.transport.setPeerAddress('c', c.address);
    a.transport.send('b', { type: 'from-a' });
    c.transport.send('b', { type: 'from-c' });
    const nodeB = b;
    await waitFor('b hears both', () => nodeB.received.length === 2);
    assert.ok(a.transport.peerCapabilities('b') !== undefined);
    assert.ok(b.transport.peerCapabilities('a') !== undefined && b.transport.stats().peers.a?.messagesReceived === 1);
    assert.ok(b.transport.peerCapabilities('c') !== undefined && b.transport.stats().peers.c?.messagesReceived === 1);
    // removePeer forgets b at once on a; its connection to b closes, and b, which never knew a, forgets a.
    a.transport.removePeer('b');
    assert.equal(a.transport.peerCapabilities('b'), undefined);
    assert.equal(a.transport.stats().peers.b, undefined);
    await waitFor('b forgets the unknown peer a', () => nodeB.transport.peerCapabilities('a') === undefined && nodeB.transport.stats().peers.a === undefined);
    // c's connection closing does not make b forget c, a peer it knows; removePeer does.
    await c.transport.stop();
    await waitFor('c is disconnected', () => nodeB.transport.stats().inboundConnections === 0);
    assert.ok(b.transport.peerCapabilities('c') !== undefined && b.transport.stats().peers.c?.messagesReceived === 1);
    b.transport.removePeer('c');
    assert.equal(b.transport.peerCapabilities('c'), undefined);
    assert.equal(b.transport.stats().peers.c, undefined);
    assert.equal(b.transport.stats().messagesReceived, 2, 'the totals keep what removed peers sent');
  } finally {
    await stopAll(a, b, c);
  }
});

test('removePeer drops the queue; setPeerAddress to a new address redials there', { timeout: 10_000 }, async () => {
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    a = await startNode('a');
    b = await startNode('b');
    a.transport.setPeerAddress('b', `127.0.0.1:${await closedPort()}`);
    a.transport.send('b', { type: 'queued' });
    a.transport.setPeerAddress('b', b.address);
    const nodeB = b;
    await waitFor('delivered at new address', () => nodeB.received.length === 1);
    a.transport.removePeer('b');
    assert.equal(a.transport.stats().peers.b?.address, undefined);
    assert.throws(() => a?.transport.send('b', { type: 'x' }), UnknownPeerError);
  } finally {
    await stopAll(a, b);
  }
});

test('stop is idempotent and refuses further sends', { timeout: 5_000 }, async () => {
  const a = await startNode('a');
  a.transport.setPeerAddress('b', '127.0.0.1:1');
  await a.transport.stop();
  await a.transport.stop();
  assert.throws(() => a.transport.send('b', { type: 'x' }), UnknownPeerError);
});
