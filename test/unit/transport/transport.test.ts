import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverloadError, UnknownPeerError } from '../../../src/core/errors.js';
import { CAPABILITIES, PROTOCOL_VERSION } from '../../../src/core/constants.js';
import { type Node, closedPort, introduce, startNode, stopAll, waitFor, withPair } from './helpers.js';

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

test('an exception in the receive handler is logged, not fatal', { timeout: 10_000 }, async () => {
  await withPair(async (a, b) => {
    let calls = 0;
    b.transport.onReceive(() => {
      calls += 1;
      if (calls === 1) throw new Error('handler bug');
    });
    a.transport.send('b', { type: 'one' });
    a.transport.send('b', { type: 'two' });
    await waitFor('both handled', () => calls === 2);
    assert.ok(b.log.find('error', /receive handler threw/));
  });
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
