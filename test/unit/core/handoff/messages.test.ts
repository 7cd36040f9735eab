// Handoff wire messages are checked before use: anything malformed is named,
// never trusted (the manager drops it with a warning).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packItems, parseHandoffMessage, unpackItems } from '../../../../src/core/handoff/messages.js';
import type { WireMessage } from '../../../../src/core/env.js';

const item = { key: new Uint8Array([1, 2]), value: new Uint8Array([3]) };

test('well-formed handoff messages parse', () => {
  const good: WireMessage[] = [
    { type: 'handoff.start', id: 'a:1', kind: 'ownership', partition: 3, targetPartition: 3, epoch: 7 } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, items: [item] } as WireMessage,
    { type: 'handoff.finish', id: 'a:1', batches: 1 } as WireMessage,
    { type: 'handoff.close', id: 'a:1' } as WireMessage,
    { type: 'handoff.reply', id: 'a:1', to: 'batch', seq: 0, ok: false, reason: 'overload' } as WireMessage,
    { type: 'handoff.status-request', reqId: '1' } as WireMessage,
    { type: 'handoff.repair-request', partition: 1, targetPartition: 2, to: 'n1' } as WireMessage,
  ];
  for (const msg of good) assert.equal(typeof parseHandoffMessage(msg), 'object', msg.type);
});

test('malformed handoff messages are named, not trusted', () => {
  const bad: WireMessage[] = [
    { type: 'handoff.start', id: 'a:1', kind: 'steal', partition: 3, targetPartition: 3, epoch: 7 } as WireMessage,
    { type: 'handoff.start', id: '', kind: 'hinted', partition: 3, targetPartition: 3, epoch: 0 } as WireMessage,
    { type: 'handoff.start', id: 'a', kind: 'hinted', partition: -1, targetPartition: 3, epoch: 0 } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, items: [{ key: 'x', value: new Uint8Array() }] } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 1.5, items: [] } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, items: 'nope' } as WireMessage,
    { type: 'handoff.finish', id: 'a:1' } as WireMessage,
    { type: 'handoff.reply', id: 'a:1', to: 'nothing', seq: 0, ok: true } as WireMessage,
    { type: 'handoff.reply', id: 'a:1', to: 'start', seq: 0, ok: 'yes' } as WireMessage,
    { type: 'handoff.repair-request', partition: 1, targetPartition: 2 } as WireMessage,
    { type: 'handoff.unknown' } as WireMessage,
  ];
  for (const msg of bad) assert.equal(typeof parseHandoffMessage(msg), 'string', JSON.stringify(msg));
});

test('packed batches carry the same items as the map form, as views; malformed packing is named', () => {
  const items = [item, { key: new Uint8Array(300).fill(7), value: new Uint8Array(70_000).fill(9) }, { key: new Uint8Array([1]), value: new Uint8Array() }];
  const packed = packItems(items);
  const parsed = parseHandoffMessage({ type: 'handoff.batch', id: 'a:1', seq: 2, packed } as WireMessage);
  assert.ok(typeof parsed === 'object' && parsed.type === 'handoff.batch');
  assert.deepEqual(parsed.items.map((i) => [[...i.key], [...i.value]]), items.map((i) => [[...i.key], [...i.value]]));
  assert.equal(parsed.items[1]!.value.buffer, packed.buffer, 'views into the packed bytes, not copies');
  assert.deepEqual(unpackItems(new Uint8Array()), []);
  const bad: WireMessage[] = [
    { type: 'handoff.batch', id: 'a:1', seq: 0, packed: packed.subarray(0, packed.length - 1) } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, packed: packed.subarray(0, 3) } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, packed: Buffer.concat([packed, Buffer.from([0, 0, 0, 9])]) } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, packed: 'nope' } as WireMessage,
    { type: 'handoff.batch', id: 'a:1', seq: 0, packed, items: [item] } as WireMessage,
    { type: 'handoff.reply', id: 'a:1', to: 'start', seq: 0, ok: true, packed: 'yes' } as WireMessage,
  ];
  for (const msg of bad) assert.equal(typeof parseHandoffMessage(msg), 'string', JSON.stringify(msg).slice(0, 80));
  assert.equal(typeof parseHandoffMessage({ type: 'handoff.reply', id: 'a:1', to: 'start', seq: 0, ok: true, packed: true } as WireMessage), 'object');
});
