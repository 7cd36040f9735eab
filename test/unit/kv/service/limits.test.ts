// Size and count limits of the KV service in the simulator: a message too
// large for one frame fails its own request with message_too_large (on the
// replicate, reply and coordinate paths) and the node goes on; scheduled
// reaps are bounded and their record pruned as they fire.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_BYTES_MAX } from '../../../../src/core/constants.js';
import { RondoError } from '../../../../src/core/errors.js';
import { OBJECT_BYTES_MAX_CEILING } from '../../../../src/kv/constants.js';
import { isTombstone } from '../../../../src/kv/object/index.js';
import type { KeyRef } from '../../../../src/kv/vnode/index.js';
import { decode, formKvCluster, REF, text } from './harness.js';

const MESSAGE_BYTES_MAX = 4_096;
const BIG = 'x'.repeat(6_000);

function isCode(code: string, message: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof RondoError, `expected a RondoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  };
}

describe('KvService: messages too large for one frame', () => {
  it('a put whose replicas cannot be sent the object fails with message_too_large; the node then serves other requests', async () => {
    const c = await formKvCluster(3, { seed: 41 });
    c.sim.setFaults({ messageBytesMax: MESSAGE_BYTES_MAX });
    await assert.rejects(c.drive(c.kv('n1').put(REF, { content: text(BIG) }, { w: 2 })), isCode('message_too_large', /over the frame limit 4096.*W=2 not met/));
    const other: KeyRef = { ...REF, key: 'other' };
    await c.drive(c.kv('n1').put(other, { content: text('small') }, { w: 3 }));
    const got = await c.drive(c.kv('n2').get(other, { r: 3 }));
    assert.ok(got.found);
    assert.equal(decode(got.siblings[0]!.value), 'small');
  });

  it('a reply too large for one frame is answered with its error at once, not left to time out', async () => {
    const c = await formKvCluster(3, { seed: 42 });
    c.sim.setFaults({ messageBytesMax: MESSAGE_BYTES_MAX });
    // Only n1's own replica takes the object (the others cannot be sent it); W=1 and DW=1 are met there.
    await c.drive(c.kv('n1').put(REF, { content: text(BIG) }, { w: 1, dw: 1 }));
    const startMs = c.sim.nowMs();
    await assert.rejects(c.drive(c.kv('n2').get(REF, { r: 3 })), isCode('kv_r_val_unsatisfied', /message_too_large/));
    assert.ok(c.sim.nowMs() - startMs < 1_000, `answered after ${c.sim.nowMs() - startMs} ms, before any timeout`);
    assert.ok(c.sim.trace.tail().some((line) => / warn n1 get on vnode \d+ of n1: the reply is \d+ bytes, over the frame limit 4096/.test(line)));
    // Through n1 itself the object reads back (no message carries it).
    const local = await c.drive(c.kv('n1').get(REF, { r: 1 }));
    assert.equal(local.found && decode(local.siblings[0]!.value), BIG);
  });

  it('a put whose coordinating vnode is on another node, with a command too large to send there, fails with message_too_large', async () => {
    const c = await formKvCluster(3, { seed: 43 });
    c.sim.setFaults({ messageBytesMax: MESSAGE_BYTES_MAX });
    let ref: KeyRef | undefined;
    for (let i = 0; ref === undefined; i++) {
      const candidate = { ...REF, key: `k${i}` };
      if (c.kv('n1').preflist(candidate, 1)[0]?.node !== 'n1') ref = candidate;
    }
    const props = { nVal: 1 };
    await assert.rejects(c.drive(c.kv('n1').put(ref, { content: text(BIG) }, { props, w: 1, dw: 1 })), isCode('message_too_large', /put-coordinate on vnode \d+ of n[23]: (n1: )?message kv.vnode-request to n[23] is \d+ bytes, over the frame limit 4096/));
    await c.drive(c.kv('n1').put(ref, { content: text('small') }, { props, w: 1, dw: 1 }));
    const got = await c.drive(c.kv('n1').get(ref, { props, r: 1 }));
    assert.equal(got.found && decode(got.siblings[0]!.value), 'small');
  });
});

describe('KvService: scheduled reaps are bounded', () => {
  it('beyond reapsScheduledMax a tombstone is kept; reaps leave the record as they fire, so later deletes are reaped again', async () => {
    const c = await formKvCluster(3, { seed: 44, service: { reapsScheduledMax: 2 } });
    const keys: KeyRef[] = ['a', 'b', 'c', 'd'].map((key) => ({ ...REF, key }));
    for (const ref of keys) await c.drive(c.kv('n1').put(ref, { content: text('v') }, { w: 3 }));
    for (const ref of keys.slice(0, 3)) await c.drive(c.kv('n1').delete(ref, { w: 3 }));
    assert.deepEqual(c.kv('n1').reapStats(), { scheduled: 2, skipped: 1 });
    await c.advance(4_000);
    assert.deepEqual(c.kv('n1').reapStats(), { scheduled: 0, skipped: 1 }, 'fired reaps are pruned');
    const storedEverywhere = async (ref: KeyRef): Promise<boolean[]> =>
      Promise.all(c.kv('n1').preflist(ref).map(async (t) => {
        const o = await c.stored(t.node, t.partition, ref);
        return o !== undefined && isTombstone(o);
      }));
    for (const ref of keys.slice(0, 2)) assert.deepEqual(await storedEverywhere(ref), [false, false, false], `${ref.key} reaped`);
    assert.deepEqual(await storedEverywhere(keys[2]!), [true, true, true], 'the third tombstone is kept');
    await c.drive(c.kv('n1').delete(keys[3]!, { w: 3 }));
    assert.deepEqual(c.kv('n1').reapStats(), { scheduled: 1, skipped: 1 });
    await c.advance(4_000);
    assert.deepEqual(await storedEverywhere(keys[3]!), [false, false, false], 'a delete after the record drained is reaped');
  });
});

describe('KvService: object limits', () => {
  it('refuses an objectBytesMax that cannot fit one frame with its message', async () => {
    await assert.rejects(formKvCluster(1, { service: { objectLimits: { objectBytesMax: FRAME_BYTES_MAX } } }), isCode('invalid_argument', new RegExp(`objectBytesMax must be an integer in 1\\.\\.${OBJECT_BYTES_MAX_CEILING}`)));
  });
});
