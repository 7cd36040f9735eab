// The coordinators as pure state machines, fed replies by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageTooLargeError } from '../../../../src/core/errors.js';
import { reapableContext } from '../../../../src/kv/coord/delete-fsm.js';
import { GetFsm } from '../../../../src/kv/coord/get-fsm.js';
import { PutFsm } from '../../../../src/kv/coord/put-fsm.js';
import { HybridClock, applyPut, contextOf, encodeObject, makeContent, makeTombstone, mergeReplicas, type RObject } from '../../../../src/kv/object/index.js';
import { REF } from './harness.js';

const PROPS = { allowMult: false, lastWriteWins: false };
const TARGETS = [
  { node: 'n1', partition: 1, primary: true },
  { node: 'n2', partition: 2, primary: true },
  { node: 'n3', partition: 3, primary: false },
];

function object(value: string, base?: RObject, deleted = false): RObject {
  const clock = new HybridClock();
  const lastModified = clock.now(1_700_000_000_000);
  const content = deleted ? makeTombstone(lastModified, 'vtagd') : makeContent({ value: new TextEncoder().encode(value), lastModified, vtag: `vtag${value}` });
  return applyPut(base, { ...REF, context: [], content }, 'n1/1/0', PROPS).object;
}

describe('coordinator state machines', () => {
  it('get: answers after R, then read repairs the notfound and stale replicas once all replied', () => {
    const fsm = new GetFsm({ ref: REF, targets: TARGETS, r: 2, pr: 0, notfoundOk: true, basicQuorum: false, props: PROPS, timeoutMs: 1_000, what: 'get' });
    assert.equal(fsm.start().send.length, 3);
    const old = object('old');
    const fresh = object('new', old);
    let out = fsm.result(0, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(fresh) } });
    assert.equal(out.answer, undefined);
    out = fsm.result(1, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(old) } });
    assert.equal(out.answer?.ok, true);
    assert.equal(out.done, false);
    out = fsm.result(2, { kind: 'reply', reply: { kind: 'notfound' } });
    assert.equal(out.done, true);
    assert.deepEqual(out.send.map((s) => [s.index, s.command.kind]), [[1, 'put-replicate'], [2, 'put-replicate']]);
    const repair = out.send[0]!.command;
    assert.ok(repair.kind === 'put-replicate');
    assert.deepEqual(repair.bytes, encodeObject(fresh), 'the repair carries the merge, encoded');
  });

  it('get: replicas in sync need no merge and no repair; corrupt or foreign bytes count as a failed replica', () => {
    const fsm = new GetFsm({ ref: REF, targets: TARGETS, r: 2, pr: 0, notfoundOk: true, basicQuorum: false, props: PROPS, timeoutMs: 1_000, what: 'get' });
    fsm.start();
    const value = object('v');
    fsm.result(0, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(value) } });
    const out = fsm.result(1, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(value) } });
    assert.ok(out.answer?.ok === true && out.answer.value.found);
    assert.deepEqual(out.answer.value.context, contextOf(value));
    const last = fsm.result(2, { kind: 'reply', reply: { kind: 'object', bytes: new Uint8Array([1, 2, 3]) } });
    assert.equal(last.done, true);
    assert.deepEqual(last.send, [], 'a corrupt replica is not a repair target (it failed)');

    const strict = new GetFsm({ ref: REF, targets: TARGETS, r: 3, pr: 0, notfoundOk: true, basicQuorum: false, props: PROPS, timeoutMs: 1_000, what: 'get' });
    strict.start();
    const foreign = applyPut(undefined, { ...REF, key: 'other', context: [], content: makeContent({ value: new Uint8Array([1]), lastModified: { wallMs: 1, logical: 0 }, vtag: 'x' }) }, 'n1/1/0', PROPS).object;
    strict.result(0, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(value) } });
    strict.result(1, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(value) } });
    const refused = strict.result(2, { kind: 'reply', reply: { kind: 'object', bytes: encodeObject(foreign) } });
    assert.ok(refused.answer !== undefined && !refused.answer.ok);
    assert.match(refused.answer.error.message, /kv_corrupt_object/);
  });

  it('put: the coordinator\'s bytes are replicated as they are; a replica that stored them replies none, one that merged replies its bytes', () => {
    const fsm = new PutFsm({
      targets: TARGETS, coordinator: 0, props: PROPS, w: 3, pw: 0, dw: 3, returnBody: true, timeoutMs: 1_000, what: 'put',
      command: { kind: 'put-coordinate', ...REF, props: PROPS, context: [], content: { value: new Uint8Array() } },
    });
    assert.deepEqual(fsm.start().send.map((s) => s.index), [0]);
    const written = object('w');
    const bytes = encodeObject(written);
    const out = fsm.result(0, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [], bytes, object: written } });
    assert.deepEqual(out.send.map((s) => s.index), [1, 2]);
    for (const s of out.send) {
      assert.ok(s.command.kind === 'put-replicate');
      assert.equal(s.command.bytes, bytes, 'the same bytes, not a re-encoding');
    }
    const concurrent = object('c');
    const merged = mergeReplicas(concurrent, written, PROPS);
    fsm.result(1, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [] } });
    const last = fsm.result(2, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [], bytes: encodeObject(merged) } });
    assert.ok(last.answer?.ok === true);
    assert.deepEqual(last.answer.value.context, contextOf(mergeReplicas(written, merged, PROPS)), 'the answer merges what each replica stored');
    assert.deepEqual(fsm.stored()[1], written, 'a replica replying no bytes stored the coordinator\'s object');
    assert.equal(last.done, true);
  });

  it('put: PW above the primaries up is refused before anything is sent', () => {
    const fsm = new PutFsm({
      targets: TARGETS, coordinator: 0, props: PROPS, w: 2, pw: 3, dw: 2, returnBody: false, timeoutMs: 1_000, what: 'put',
      command: { kind: 'put-coordinate', ...REF, props: PROPS, context: [], content: { value: new Uint8Array() } },
    });
    const out = fsm.start();
    assert.deepEqual(out.send, []);
    assert.equal(out.done, true);
    assert.ok(out.answer !== undefined && !out.answer.ok);
    assert.match(out.answer.error.message, /^PW=3 not met: only 2 primaries up/);
  });

  it('put: a coordinated write reported before it is durable is replicated at once, and counts toward DW only once durable', () => {
    const fsm = new PutFsm({
      targets: TARGETS, coordinator: 0, props: PROPS, w: 2, pw: 0, dw: 2, returnBody: false, timeoutMs: 1_000, what: 'put',
      command: { kind: 'put-coordinate', ...REF, props: PROPS, context: [], content: { value: new Uint8Array() } },
    });
    fsm.start();
    const written = object('w');
    const early = fsm.result(0, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [], bytes: encodeObject(written), object: written }, durable: false });
    assert.deepEqual(early.send.map((s) => s.index), [1, 2], 'replication does not wait for the local fsync');
    assert.equal(early.answer, undefined);
    const replica = fsm.result(1, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [] } });
    assert.equal(replica.answer, undefined, 'W=2 is met, but only one write is durable (DW=2)');
    const durable = fsm.result(0, { kind: 'durable' });
    assert.ok(durable.answer?.ok === true);
    assert.equal(durable.done, false, 'the third replica is still awaited');
    assert.equal(fsm.result(2, { kind: 'failed', reason: 'timeout' }).done, true);
  });

  it('put: a coordinated write whose durability fails fails the put with the local error', () => {
    const fsm = new PutFsm({
      targets: TARGETS, coordinator: 0, props: PROPS, w: 1, pw: 0, dw: 1, returnBody: false, timeoutMs: 1_000, what: 'put',
      command: { kind: 'put-coordinate', ...REF, props: PROPS, context: [], content: { value: new Uint8Array() } },
    });
    fsm.start();
    const written = object('w');
    fsm.result(0, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [], bytes: encodeObject(written), object: written }, durable: false });
    const failed = fsm.result(0, { kind: 'failed', reason: 'internal' });
    assert.ok(failed.answer !== undefined && !failed.answer.ok);
    assert.match(failed.answer.error.message, /internal/);
  });

  it('put: replicas refusing the merge for its size fail the put with kv_object_too_large, not a quorum error to retry; met anyway, it succeeds', () => {
    const refusal = { kind: 'error' as const, code: 'kv_object_too_large' as const, message: 'default/b/k: merging the replicated copy with the stored one would make the object 9000 bytes with 3 sibling(s) (max 4000); nothing was stored' };
    const run = (w: number): Pick<ReturnType<PutFsm['result']>, 'answer'> => {
      const fsm = new PutFsm({
        targets: TARGETS, coordinator: 0, props: PROPS, w, pw: 0, dw: w, returnBody: false, timeoutMs: 1_000, what: 'put default/b/k',
        command: { kind: 'put-coordinate', ...REF, props: PROPS, context: [], content: { value: new Uint8Array() } },
      });
      fsm.start();
      const written = object('w');
      const outs = [
        fsm.result(0, { kind: 'reply', reply: { kind: 'stored', replaced: true, warnings: [], bytes: encodeObject(written), object: written } }),
        fsm.result(1, { kind: 'reply', reply: refusal }),
        fsm.result(2, { kind: 'reply', reply: w === 3 ? refusal : { kind: 'stored', replaced: true, warnings: [] } }),
      ];
      const answers = outs.filter((out) => out.answer !== undefined);
      assert.equal(answers.length, 1, 'one answer');
      return answers[0]!;
    };
    const refused = run(3);
    assert.ok(refused.answer !== undefined && !refused.answer.ok);
    assert.equal(refused.answer.error.code, 'kv_object_too_large');
    assert.match(refused.answer.error.message, /^put default\/b\/k: default\/b\/k: merging the replicated copy .* \(max 4000\); nothing was stored; D?W=3 not met: .*the coordinating replica may hold the write/);
    assert.equal(run(2).answer?.ok, true, 'W=2 met by the coordinator and the replica that took it');
  });

  it('put: a command too large to reach a remote coordinating vnode fails the put with message_too_large', () => {
    const fsm = new PutFsm({
      targets: TARGETS, coordinator: 1, props: PROPS, w: 2, pw: 0, dw: 2, returnBody: false, timeoutMs: 1_000, what: 'put',
      command: { kind: 'put-coordinate', ...REF, props: PROPS, context: [], content: { value: new Uint8Array() } },
    });
    fsm.start();
    const error = new MessageTooLargeError('put-coordinate on vnode 2 of n2: message kv.vnode-request to n2 is 70000 bytes, over the frame limit 65536', 70_000, 65_536);
    const out = fsm.result(1, { kind: 'failed', reason: error.code, error });
    assert.ok(out.answer !== undefined && !out.answer.ok);
    assert.equal(out.answer.error, error);
  });

  it('delete: a tombstone is reapable only when all n primaries stored the same one', () => {
    const tomb = object('', object('v'), true);
    const primaries = TARGETS.map((t) => ({ ...t, primary: true }));
    assert.ok(reapableContext(primaries, [tomb, tomb, tomb], 3));
    assert.equal(reapableContext(TARGETS, [tomb, tomb, tomb], 3), undefined, 'a fallback holds one copy');
    assert.equal(reapableContext(primaries, [tomb, tomb, undefined], 3), undefined, 'one replica did not store');
    assert.equal(reapableContext(primaries, [tomb, tomb, object('v')], 3), undefined, 'one replica holds a live value');
  });
});
