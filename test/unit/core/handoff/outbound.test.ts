// One outbound transfer against a scripted receiver, on the simulator's
// clock: the form its batches take (packed only for a receiver whose start
// reply says it takes them), that every item arrives once, and when the
// transfer gives up its concurrency slot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { OutboundTransfer, type HandoffLimits } from '../../../../src/core/handoff/outbound.js';
import { parseHandoffMessage, type OutgoingHandoffMessage } from '../../../../src/core/handoff/messages.js';
import type { TransferPhase } from '../../../../src/core/handoff/types.js';
import type { WireMessage } from '../../../../src/core/env.js';
import { Simulation } from '../../../../src/core/sim/index.js';
import { VnodeHost } from '../../../../src/core/vnode/host.js';
import type { HandoffItem, VnodeBehaviour, VnodeDirective } from '../../../../src/core/vnode/types.js';

class ItemsVnode implements VnodeBehaviour<never, never> {
  deleted = false;
  constructor(readonly items: HandoffItem[]) {}
  handleCommand(): VnodeDirective<never> {
    throw new Error('no commands here');
  }
  async handoffStarting(): Promise<boolean> {
    return true;
  }
  async handoffCancelled(): Promise<void> {}
  async handoffFinished(): Promise<void> {}
  async handleHandoffData(): Promise<void> {}
  async takeHandoffChanges(): Promise<HandoffItem[]> {
    return [];
  }
  async *foldHandoffItems(): AsyncIterable<HandoffItem> {
    for (const item of this.items) yield item;
  }
  async handoffSize(): Promise<number> {
    return this.items.length;
  }
  async isEmpty(): Promise<boolean> {
    return this.deleted;
  }
  async delete(): Promise<void> {
    this.deleted = true;
  }
  async terminate(): Promise<void> {}
}

const LIMITS: HandoffLimits = { batchItemsMax: 3, batchBytesMax: 1_000, inflightBytesMax: 10_000, stallTimeoutMs: 10_000, resendMs: 500, checkIntervalMs: 100, dropGraceMs: 0 };
const wire = new Packr({ useRecords: false, moreTypes: false }); // as the transport would carry them

async function transfer(receiverTakesPacked: boolean) {
  const sim = new Simulation({ seed: 1 });
  const env = sim.createEnv('n1');
  const items = Array.from({ length: 10 }, (_, i) => ({ key: new Uint8Array([i]), value: new Uint8Array(100).fill(i) }));
  const vnode = new ItemsVnode(items);
  const host = new VnodeHost<never, never>({ env, node: 'n1', create: () => vnode });
  const forms: string[] = [];
  const received: number[] = [];
  const slotFreedIn: TransferPhase[] = [];
  const replyLater = (msg: WireMessage) => env.setTimer(1, () => t.onReply(msg as never));
  const t: OutboundTransfer<never, never> = new OutboundTransfer({ id: 'n1:x:1', kind: 'hinted', partition: 3, targetPartition: 3, to: 'n2', epoch: 0, attempt: 1 }, {
    env,
    host,
    limits: LIMITS,
    send(_to, out: OutgoingHandoffMessage) {
      const msg = parseHandoffMessage(wire.unpack(wire.pack(out)) as WireMessage);
      assert.ok(typeof msg === 'object', String(msg));
      if (msg.type === 'handoff.start') replyLater({ type: 'handoff.reply', id: msg.id, to: 'start', seq: 0, ok: true, ...(receiverTakesPacked ? { packed: true } : {}) } as WireMessage);
      if (msg.type === 'handoff.batch') {
        forms.push(out.type === 'handoff.batch' && out.packed !== undefined ? 'packed' : 'items');
        for (const item of msg.items) received.push(item.key[0]!);
        replyLater({ type: 'handoff.reply', id: msg.id, to: 'batch', seq: msg.seq, ok: true } as WireMessage);
      }
      if (msg.type === 'handoff.finish') replyLater({ type: 'handoff.reply', id: msg.id, to: 'finish', seq: 0, ok: true } as WireMessage);
      return true;
    },
    switchState: () => 'switched',
    onSlotFreed: () => void slotFreedIn.push(t.phase),
    mayDrop: () => true,
  });
  let done = false;
  t.run().then(() => (done = true), (err: unknown) => assert.fail(String(err)));
  for (let i = 0; i < 1_000 && !done; i++) {
    for (let j = 0; j < 5; j++) await new Promise((resolve) => setImmediate(resolve));
    sim.runFor(1);
  }
  assert.ok(done, 'the transfer completed');
  return { forms, received, slotFreedIn, vnode, t };
}

test('outbound: batches are packed only for a receiver whose start reply says it takes them', async () => {
  const plain = await transfer(false);
  assert.deepEqual(plain.forms, ['items', 'items', 'items', 'items']);
  const packed = await transfer(true);
  assert.deepEqual(packed.forms, ['packed', 'packed', 'packed', 'packed']);
  for (const r of [plain, packed]) {
    assert.deepEqual(r.received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every item once, in fold order');
    assert.equal(r.t.items, 10);
    assert.equal(r.vnode.deleted, true, 'a hinted transfer drops the local copy once done');
  }
});

test('outbound: the slot is freed once only the final ack is awaited, before the drop', async () => {
  const r = await transfer(true);
  assert.deepEqual(r.slotFreedIn, ['finishing', 'dropping']);
  for (const phase of ['starting', 'folding', 'draining', 'finishing'] as const) assert.ok((r.t.phaseMs[phase] ?? -1) >= 0, `time of ${phase} recorded`);
});
