import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WireMessage } from '../../../../src/core/env.js';
import { isKvMessage, parseKvMessage, replyMessage, requestMessage } from '../../../../src/kv/coord/messages.js';
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

  it('the wire forms leave in-process decoded objects behind', () => {
    const object = { bucketType: 'default', bucket: 'b', key: 'k', clock: { entries: [] } };
    const bytes = new Uint8Array([1, 2, 3]);
    const props = { allowMult: false, lastWriteWins: false };
    const request = requestMessage(5, 1, { kind: 'put-replicate', props, bytes, object }, { forwarded: false });
    assert.deepEqual(request, { type: 'kv.vnode-request', reqId: 5, partition: 1, command: { kind: 'put-replicate', props, bytes } });
    assert.deepEqual(requestMessage(5, 1, { kind: 'get', ...REF }, { forwarded: true }).forwarded, true);
    assert.deepEqual(requestMessage(5, 1, { kind: 'get', ...REF }, { forwarded: false, primaryEpoch: 7 }).primary, { epoch: 7 });
    const reply = replyMessage(6, { kind: 'stored', replaced: true, warnings: [], bytes, object });
    assert.deepEqual(reply, { type: 'kv.vnode-reply', reqId: 6, reply: { kind: 'stored', replaced: true, warnings: [], bytes } });
    assert.ok(isKvMessage(request) && isKvMessage(reply));
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
