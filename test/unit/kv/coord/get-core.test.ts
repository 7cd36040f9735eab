// Named cases for GetCore: notfound_ok, basic_quorum, PR with fallbacks,
// messages, read repair, tombstone reaping, timeouts, duplicates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetCore, GetQuorumError, type GetCoreOptions, type GetResponse } from '../../../../src/kv/coord/quorum/index.js';

interface Obj {
  version: number;
  deleted?: boolean;
}
const merge = (values: Obj[]): Obj => values.reduce((a, b) => (b.version > a.version ? b : a));
const isStale = (value: Obj, merged: Obj): boolean => value.version < merged.version;

function core(options: Partial<GetCoreOptions<Obj>> = {}): GetCore<Obj> {
  return new GetCore<Obj>({ n: 3, r: 2, pr: 0, notfoundOk: true, basicQuorum: false, primaries: 3, isTombstone: (o) => o.deleted === true, ...options });
}
const p = (id: string) => ({ id, primary: true });
const f = (id: string) => ({ id, primary: false });
const ok = (version: number, deleted = false) => ({ type: 'ok' as const, value: { version, deleted } });
const notfound = { type: 'notfound' as const };
const error = (reason = 'disk') => ({ type: 'error' as const, reason });

function errorOf(response: GetResponse<Obj>): GetQuorumError {
  assert.equal(response.kind, 'error');
  return (response as { error: GetQuorumError }).error;
}

describe('GetCore named cases', () => {
  it('R=2 answers after two oks with both values', () => {
    const c = core();
    c.addResult(p('a'), ok(1));
    assert.equal(c.enough(), false);
    c.addResult(p('b'), ok(2));
    assert.deepEqual(c.response(), { kind: 'ok', values: [{ version: 1, deleted: false }, { version: 2, deleted: false }] });
  });

  it('notfound_ok=true: two notfounds meet R=2 and answer notfound', () => {
    const c = core();
    c.addResult(p('a'), notfound);
    c.addResult(p('b'), notfound);
    assert.deepEqual(c.response(), { kind: 'notfound', tombstones: [] });
  });

  it('notfound_ok=false: ok, notfound, notfound fails R=2 naming the counts (Riak r_val_unsatisfied)', () => {
    const c = core({ notfoundOk: false });
    c.addResult(p('a'), ok(1));
    c.addResult(p('b'), notfound);
    assert.equal(c.enough(), false);
    c.addResult(p('c'), notfound);
    const e = errorOf(c.response());
    assert.equal(e.code, 'kv_r_val_unsatisfied');
    assert.equal(e.message, 'R=2 not met: 1 of 3 replicas answered; 1 ok, 2 notfound (notfound_ok=false)');
  });

  it('notfound_ok=false: two notfounds give up as notfound (n - r + 1 threshold)', () => {
    const c = core({ notfoundOk: false });
    c.addResult(p('a'), notfound);
    assert.equal(c.enough(), false);
    c.addResult(p('b'), notfound);
    assert.deepEqual(c.response(), { kind: 'notfound', tombstones: [] });
  });

  it('basic_quorum: n=5 r=1, three notfounds (a majority) end the read; without it the read waits for all 5', () => {
    const without = core({ n: 5, r: 1, primaries: 5, notfoundOk: false });
    const withBq = core({ n: 5, r: 1, primaries: 5, notfoundOk: false, basicQuorum: true });
    for (const id of ['a', 'b', 'c']) {
      without.addResult(p(id), notfound);
      withBq.addResult(p(id), notfound);
    }
    assert.equal(without.enough(), false, 'r=1 without basic_quorum waits for all 5');
    assert.deepEqual(withBq.response(), { kind: 'notfound', tombstones: [] });
  });

  it('basic_quorum with errors names R and the errors', () => {
    const c = core({ n: 5, r: 1, primaries: 5, notfoundOk: false, basicQuorum: true });
    c.addResult(p('a'), notfound);
    c.addResult(p('b'), error('overload'));
    c.addResult(p('c'), error('disk'));
    const e = errorOf(c.response());
    assert.equal(e.message, 'R=1 not met: 0 of 5 replicas answered; 1 notfound (notfound_ok=false), 2 failed (overload, disk), 2 no reply yet');
    assert.equal(e.overload, true);
  });

  it('PR counts primaries only; fallback oks meet R but not PR', () => {
    const c = core({ pr: 2, primaries: 2 });
    c.addResult(f('x'), ok(1));
    c.addResult(p('a'), ok(1));
    assert.equal(c.enough(), false);
    c.addResult(p('b'), ok(1));
    assert.equal(c.response().kind, 'ok');
  });

  it('PR=2 with one primary up fails before anyone answers', () => {
    const c = core({ pr: 2, primaries: 1 });
    assert.equal(c.enough(), true);
    const e = errorOf(c.response());
    assert.equal(e.code, 'kv_pr_val_unsatisfied');
    assert.match(e.message, /^PR=2 not met: only 1 primary up/);
  });

  it('PR fails as soon as too few primaries remain, naming how many answered', () => {
    const c = core({ pr: 2, primaries: 2 });
    c.addResult(p('a'), ok(1));
    c.addResult(p('b'), error('disk'));
    const e = errorOf(c.response());
    assert.match(e.message, /^PR=2 not met: 1 primary replica answered; 1 ok, 1 failed \(disk\), 1 no reply yet$/);
  });

  it('a lone notfound from a primary does not end a PR read early (no premature notfound)', () => {
    const c = core({ pr: 2, primaries: 2, notfoundOk: false });
    c.addResult(p('a'), notfound);
    assert.equal(c.enough(), false);
    c.addResult(p('b'), ok(3));
    assert.equal(errorOf(c.response()).parameter, 'pr');
  });

  it('tombstones: a read that meets R on tombstones only answers notfound with them', () => {
    const c = core();
    c.addResult(p('a'), ok(4, true));
    c.addResult(p('b'), ok(4, true));
    assert.deepEqual(c.response(), { kind: 'notfound', tombstones: [{ version: 4, deleted: true }, { version: 4, deleted: true }] });
  });

  it('read repair targets notfound and stale replicas, not failed ones', () => {
    const c = core({ n: 4, primaries: 4 });
    c.addResult(p('a'), ok(2));
    c.addResult(p('b'), ok(1));
    c.addResult(p('c'), notfound);
    c.addResult(p('d'), error());
    assert.deepEqual(c.finalAction(merge, isStale), { kind: 'read-repair', targets: ['b', 'c'] });
  });

  it('nothing to repair: nop; all notfound: nop', () => {
    const same = core();
    for (const id of ['a', 'b', 'c']) same.addResult(p(id), ok(5));
    assert.deepEqual(same.finalAction(merge, isStale), { kind: 'nop' });
    const none = core();
    for (const id of ['a', 'b', 'c']) none.addResult(p(id), notfound);
    assert.deepEqual(none.finalAction(merge, isStale), { kind: 'nop' });
  });

  it('all n primaries hold the same tombstone: delete (reap)', () => {
    const c = core();
    for (const id of ['a', 'b', 'c']) c.addResult(p(id), ok(7, true));
    assert.deepEqual(c.finalAction(merge, isStale), { kind: 'delete' });
  });

  it('tombstone on a fallback, an older tombstone, or a missing replica: no delete', () => {
    const fallback = core({ primaries: 2 });
    fallback.addResult(p('a'), ok(7, true));
    fallback.addResult(p('b'), ok(7, true));
    fallback.addResult(f('x'), ok(7, true));
    assert.deepEqual(fallback.finalAction(merge, isStale), { kind: 'nop' });
    const older = core();
    older.addResult(p('a'), ok(7, true));
    older.addResult(p('b'), ok(6, true));
    older.addResult(p('c'), ok(7, true));
    assert.deepEqual(older.finalAction(merge, isStale), { kind: 'read-repair', targets: ['b'] });
    const partial = core();
    partial.addResult(p('a'), ok(7, true));
    partial.addResult(p('b'), ok(7, true));
    partial.timeout();
    assert.deepEqual(partial.finalAction(merge, isStale), { kind: 'nop' });
  });

  it('timeout mid-way answers with what is known, marked as timed out', () => {
    const c = core({ r: 3 });
    c.addResult(p('a'), ok(1));
    c.addResult(p('b'), notfound);
    c.timeout();
    const e = errorOf(c.response());
    assert.equal(e.timedOut, true);
    assert.equal(e.message, 'R=3 not met: 2 of 3 replicas answered; 1 ok, 1 notfound, 1 no reply before the timeout');
    assert.deepEqual(c.finalAction(merge, isStale), { kind: 'read-repair', targets: ['b'] });
  });

  it('a timeout after the answer changes nothing', () => {
    const c = core();
    c.addResult(p('a'), ok(1));
    c.addResult(p('b'), ok(1));
    c.timeout();
    assert.equal(c.response().kind, 'ok');
  });

  it('refuses response() before enough() and finalAction() before all replies', () => {
    const c = core();
    assert.throws(() => c.response(), /before enough/);
    c.addResult(p('a'), ok(1));
    c.addResult(p('b'), ok(1));
    assert.throws(() => c.finalAction(merge, isStale), /before all replies/);
  });

  it('ignores a duplicate reply from the same replica', () => {
    const c = core();
    assert.equal(c.addResult(p('a'), ok(1)), true);
    assert.equal(c.addResult(p('a'), ok(1)), false);
    assert.equal(c.enough(), false);
  });

  it('rejects impossible options and more primary replies than primaries', () => {
    assert.throws(() => core({ r: 4 }), /r must be in 1..n=3/);
    assert.throws(() => core({ r: 0 }), /r must be/);
    assert.throws(() => core({ pr: 4 }), /pr must be/);
    const c = core({ primaries: 1 });
    c.addResult(p('a'), ok(1));
    assert.throws(() => c.addResult(p('b'), ok(1)), /more primary replies/);
  });
});
