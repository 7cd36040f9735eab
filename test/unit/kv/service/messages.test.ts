import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WireMessage } from '../../../../src/core/env.js';
import { isKvMessage, parseKvMessage, replyMapMessage, replyMessage, requestMapMessage, requestMessage } from '../../../../src/kv/coord/messages.js';
import type { KvCommand, KvReply } from '../../../../src/kv/vnode/index.js';
import { decode, formKvCluster, REF, text } from './harness.js';

const MALFORMED: WireMessage[] = [
  { type: 'kv.vnode-request' },
  { type: 'kv.vnode-request', reqId: 'n1:0:7', partition: 0, command: { kind: 'get', ...REF } } as WireMessage,
  { type: 'kv.vnode-request', reqId: -1, partition: 0, command: { kind: 'get', ...REF } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 1.5, partition: 0, command: { kind: 'get', ...REF } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: -1, command: { kind: 'get', ...REF } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'drop-table' } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'get', bucket: 'b' } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'get', ...REF }, primary: 3 } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'get', ...REF }, primary: { epoch: -1 } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'put-replicate', props: {}, bytes: 'nope' } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'put-replicate', props: {}, bytes: new Uint8Array(0) } } as WireMessage,
  { type: 'kv.vnode-request', reqId: 7, partition: 0, command: { kind: 'put-replicate', props: {}, bytes: new Uint8Array(3), object: {} } } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: null } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: { kind: 'object', object: { bucketType: 1 } } } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: { kind: 'object', bytes: [1, 2] } } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: { kind: 'stored', replaced: 'yes', warnings: [] } } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: { kind: 'stored', replaced: true, warnings: [{}] } } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: { kind: 'stored', replaced: true, warnings: [], bytes: 'x' } } as WireMessage,
  { type: 'kv.vnode-reply', reqId: 7, reply: { kind: 'error' } } as WireMessage,
  { type: 'kv.surprise', reqId: 7 } as WireMessage,
];

describe('KvService: messages', () => {
  it('parseKvMessage refuses malformed messages with a reason and accepts well-formed ones', () => {
    for (const msg of MALFORMED) {
      assert.equal(typeof parseKvMessage(msg), 'string', JSON.stringify(msg));
      assert.equal(isKvMessage(msg), false);
    }
    assert.ok(isKvMessage({ type: 'kv.vnode-request', reqId: 1, partition: 3, command: { kind: 'get', ...REF } } as WireMessage));
    assert.ok(isKvMessage({ type: 'kv.vnode-reply', reqId: 1, reply: { kind: 'notfound' } } as WireMessage));
    assert.ok(isKvMessage({ type: 'kv.vnode-reply', reqId: 2 ** 52, reply: { kind: 'stored', replaced: true, warnings: [], bytes: new Uint8Array(4) } } as WireMessage));
  });

  it('the map forms leave in-process decoded objects and durability behind', () => {
    const object = { bucketType: 'default', bucket: 'b', key: 'k', clock: { entries: [] } };
    const bytes = new Uint8Array([1, 2, 3]);
    const props = { allowMult: false, lastWriteWins: false };
    const request = requestMapMessage(5, 1, { kind: 'put-replicate', props, bytes, object }, { forwarded: false });
    assert.deepEqual(request, { type: 'kv.vnode-request', reqId: 5, partition: 1, command: { kind: 'put-replicate', props, bytes } });
    assert.deepEqual(requestMapMessage(5, 1, { kind: 'get', ...REF }, { forwarded: true }).forwarded, true);
    assert.deepEqual(requestMapMessage(5, 1, { kind: 'get', ...REF }, { forwarded: false, primaryEpoch: 7 }).primary, { epoch: 7 });
    const reply = replyMapMessage(6, { kind: 'stored', replaced: true, warnings: [], bytes, object, durable: Promise.resolve() });
    assert.deepEqual(reply, { type: 'kv.vnode-reply', reqId: 6, reply: { kind: 'stored', replaced: true, warnings: [], bytes } });
    assert.ok(isKvMessage(request) && isKvMessage(reply));
  });

  it('gets, replicated writes and their replies travel in the binary form and parse back to the same message', () => {
    const bytes = new Uint8Array([9, 8, 7, 6]);
    const props = { allowMult: true, lastWriteWins: false };
    const unicode = { bucketType: 'tÿpe', bucket: 'büket', key: 'ключ😀' };
    const requests: [KvCommand, { forwarded: boolean; primaryEpoch?: number }][] = [
      [{ kind: 'get', ...REF }, { forwarded: false }],
      [{ kind: 'get', ...unicode }, { forwarded: true, primaryEpoch: 12 }],
      [{ kind: 'put-replicate', props, bytes }, { forwarded: false, primaryEpoch: 0 }],
      [{ kind: 'put-replicate', props: { allowMult: false, lastWriteWins: true }, bytes }, { forwarded: true }],
    ];
    for (const [command, opts] of requests) {
      const wire = requestMessage(2 ** 40 + 3, 65_535, command, opts);
      assert.equal(wire.type, 'kv.q');
      assert.deepEqual(parseKvMessage(wire), { ...requestMapMessage(2 ** 40 + 3, 65_535, command, opts), command: { ...command, ...('bytes' in command ? { bytes: Buffer.from(bytes) } : {}) } });
    }
    const replies: KvReply[] = [
      { kind: 'object', bytes },
      { kind: 'notfound' },
      { kind: 'stored', replaced: true, warnings: [] },
      { kind: 'stored', replaced: false, warnings: [], bytes },
    ];
    for (const reply of replies) {
      const wire = replyMessage(77, reply);
      assert.equal(wire.type, 'kv.a');
      const parsed = parseKvMessage(wire);
      assert.ok(typeof parsed === 'object' && parsed.type === 'kv.vnode-reply');
      assert.deepEqual(parsed.reply, 'bytes' in reply && reply.bytes !== undefined ? { ...reply, bytes: Buffer.from(bytes) } : reply);
    }
    // No binary form: the map form.
    assert.equal(replyMessage(1, { kind: 'stored', replaced: true, warnings: [{ kind: 'siblings', siblings: 30, limit: 25, message: 'm' }] }).type, 'kv.vnode-reply');
    assert.equal(replyMessage(1, { kind: 'error', code: 'timeout', message: 'm' }).type, 'kv.vnode-reply');
    assert.equal(requestMessage(1, 0, { kind: 'reap', ...REF, expectedContext: [] }, { forwarded: false }).type, 'kv.vnode-request');
    assert.equal(requestMessage(1, 70_000, { kind: 'get', ...REF }, { forwarded: false }).type, 'kv.vnode-request');
    // Truncated or garbled binary messages are refused with a reason, never thrown.
    const good = (requestMessage(1, 0, { kind: 'get', ...REF }, { forwarded: false }) as unknown as { b: Uint8Array }).b;
    for (let cut = 0; cut < good.length; cut++) assert.equal(typeof parseKvMessage({ type: 'kv.q', b: good.subarray(0, cut) } as WireMessage), 'string', `cut at ${cut}`);
    const garbled = Buffer.from(good);
    garbled[0] = 99;
    assert.equal(typeof parseKvMessage({ type: 'kv.q', b: garbled } as WireMessage), 'string');
    assert.equal(typeof parseKvMessage({ type: 'kv.a', b: Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0, 1]) } as WireMessage), 'string', 'trailing bytes');
    assert.equal(typeof parseKvMessage({ type: 'kv.a', b: 'x' } as unknown as WireMessage), 'string');
  });

  it('a malformed kv message is dropped without a crash, and the service keeps working', async () => {
    const c = await formKvCluster(3, { seed: 31 });
    const env = c.envs.get('n1')!;
    for (const msg of MALFORMED) env.net.send('n2', msg);
    // A well-formed request for a partition outside the ring is answered with an error, not a crash.
    env.net.send('n2', { type: 'kv.vnode-request', reqId: 1, partition: 9_999, command: { kind: 'get', ...REF } } as WireMessage);
    await c.advance(500);
    await c.drive(c.kv('n2').put(REF, { content: text('still here') }, { w: 3 }));
    const got = await c.drive(c.kv('n1').get(REF, { r: 3 }));
    assert.ok(got.found);
    assert.equal(decode(got.siblings[0]!.value), 'still here');
  });

  it('the vnode epoch is bumped at every service start', async () => {
    const c = await formKvCluster(3, { seed: 32 });
    const before = c.kv('n3').vnodeEpoch;
    c.crash('n3');
    c.restart('n3');
    assert.equal(c.kv('n3').vnodeEpoch, before + 1);
  });
});
