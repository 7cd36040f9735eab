// Outbound transfers against a scripted receiver, on the simulator's clock:
// the form their batches take (packed only for a receiver whose start reply
// says it takes them), that every item arrives once, when a transfer gives
// up its concurrency slot, and how folds share the node's fold turns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { FoldTurns } from '../../../../src/core/handoff/fold-turns.js';
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

interface Run {
  forms: string[];
  received: number[];
  /** Batches in the order sent: `${partition}:${first key}`. */
  sent: string[];
  slotFreedIn: TransferPhase[];
  vnode: ItemsVnode;
  t: OutboundTransfer<never, never>;
}

async function transfer(receiverTakesPacked: boolean): Promise<Run> {
  return (await transfers({ receiverTakesPacked, partitions: [3] }))[0]!;
}

/** Transfers of `partitions` (10 items each) at once, to one scripted receiver; with `foldTurns`, sharing them. */
async function transfers(opts: { receiverTakesPacked: boolean; partitions: number[]; foldTurns?: FoldTurns; limits?: Partial<HandoffLimits>; replyDelayMs?: number }): Promise<Run[]> {
  const sim = new Simulation({ seed: 1 });
  const env = sim.createEnv('n1');
  const vnodes = new Map(opts.partitions.map((p) => [p, new ItemsVnode(Array.from({ length: 10 }, (_, i) => ({ key: new Uint8Array([i]), value: new Uint8Array(100).fill(i) })))]));
  const host = new VnodeHost<never, never>({ env, node: 'n1', create: (p) => vnodes.get(p)! });
  const sent: string[] = [];
  const runs = opts.partitions.map((partition) => run(partition));
  let done = 0;
  for (const r of runs) r.t.run().then(() => done++, (err: unknown) => assert.fail(String(err)));
  for (let i = 0; i < 2_000 && done < runs.length; i++) {
    for (let j = 0; j < 5; j++) await new Promise((resolve) => setImmediate(resolve));
    sim.runFor(1);
  }
  assert.equal(done, runs.length, 'every transfer completed');
  return runs;

  function run(partition: number): Run {
    const receiverTakesPacked = opts.receiverTakesPacked;
    const vnode = vnodes.get(partition)!;
    const forms: string[] = [];
    const received: number[] = [];
    const slotFreedIn: TransferPhase[] = [];
    const replyLater = (msg: WireMessage) => env.setTimer(opts.replyDelayMs ?? 1, () => t.onReply(msg as never));
    const t: OutboundTransfer<never, never> = new OutboundTransfer({ id: `n1:x:${partition}`, kind: 'hinted', partition, targetPartition: partition, to: 'n2', epoch: 0, attempt: 1 }, {
      env,
      host,
      limits: { ...LIMITS, ...opts.limits },
      ...(opts.foldTurns === undefined ? {} : { foldTurns: opts.foldTurns }),
      send(_to, out: OutgoingHandoffMessage) {
        const msg = parseHandoffMessage(wire.unpack(wire.pack(out)) as WireMessage);
        assert.ok(typeof msg === 'object', String(msg));
        if (msg.type === 'handoff.start') replyLater({ type: 'handoff.reply', id: msg.id, to: 'start', seq: 0, ok: true, ...(receiverTakesPacked ? { packed: true } : {}) } as WireMessage);
        if (msg.type === 'handoff.batch') {
          forms.push(out.type === 'handoff.batch' && out.packed !== undefined ? 'packed' : 'items');
          sent.push(`${partition}:${msg.items[0]!.key[0]!}`);
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
    return { forms, received, sent, slotFreedIn, vnode, t };
  }
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

test('outbound: with fold turns, one fold reads at a time; a fold waiting for its receiver lets the other read', async () => {
  const turns = new FoldTurns();
  const [first, second] = await transfers({ receiverTakesPacked: true, partitions: [3, 4], foldTurns: turns });
  assert.deepEqual(first!.sent, ['3:0', '3:3', '3:6', '3:9', '4:0', '4:3', '4:6', '4:9'], 'the second fold starts once the first is done');
  assert.deepEqual(second!.received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(turns.queued, 0);
  // A window of one batch: each fold waits for an ack after every batch, and gives its turn up meanwhile.
  const narrow = await transfers({ receiverTakesPacked: true, partitions: [3, 4], foldTurns: new FoldTurns(), limits: { batchBytesMax: 303, inflightBytesMax: 303 }, replyDelayMs: 5 });
  const order = narrow[0]!.sent;
  assert.ok(order.indexOf('4:0') < order.indexOf('3:9'), `the folds interleave while waiting: ${order.join(' ')}`);
  for (const r of narrow) assert.deepEqual(r.received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('fold turns: granted in request order; released turns pass on; a waiter that gives up is skipped', async () => {
  const turns = new FoldTurns();
  const [a, b, c] = [{}, {}, {}];
  const granted: string[] = [];
  await turns.acquire(a);
  void turns.acquire(b).then(() => granted.push('b'));
  void turns.acquire(c).then(() => granted.push('c'));
  assert.equal(turns.queued, 2);
  turns.release(b); // b stops waiting
  turns.release(a);
  await Promise.resolve();
  assert.deepEqual(granted, ['c']);
  turns.release(a); // not the holder: nothing
  assert.throws(() => turns.acquire(c), /asks for its turn once/);
  turns.release(c);
  await turns.acquire(a);
  assert.equal(turns.queued, 0);
});
