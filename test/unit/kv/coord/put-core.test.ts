// Named cases for PutCore: W/DW/PW, messages, fallbacks, local write,
// return_body, timeouts, duplicates and late replies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalWriteError, PutCore, PutQuorumError, type PutCoreOptions, type PutResponse } from '../../../../src/kv/coord/quorum/index.js';

function core(options: Partial<PutCoreOptions> = {}): PutCore<string> {
  return new PutCore<string>({ n: 3, w: 2, pw: 0, dw: 2, primaries: 3, returnBody: false, ...options });
}
const p = (id: string) => ({ id, primary: true });
const f = (id: string) => ({ id, primary: false });
const w = { type: 'w' as const };
const dw = (value?: string) => ({ type: 'dw' as const, value });
const fail = (reason = 'disk full') => ({ type: 'fail' as const, reason });

function errorOf(response: PutResponse<string>): PutQuorumError | LocalWriteError {
  assert.equal(response.kind, 'error');
  return (response as { error: PutQuorumError | LocalWriteError }).error;
}

describe('PutCore named cases', () => {
  it('W=2 DW=2: two acknowledgements are not enough until two durable writes', () => {
    const c = core();
    c.addResult(p('a'), w);
    c.addResult(p('b'), w);
    assert.equal(c.enough(), false);
    c.addResult(p('a'), dw());
    c.addResult(p('b'), dw());
    assert.deepEqual(c.response(), { kind: 'ok', values: [] });
  });

  it('a dw reply also counts as that replica\'s w, once', () => {
    const c = core({ w: 3, dw: 1 });
    c.addResult(p('a'), w);
    c.addResult(p('a'), dw());
    c.addResult(p('b'), dw());
    assert.equal(c.enough(), false);
    c.addResult(p('c'), dw());
    assert.equal(c.response().kind, 'ok');
  });

  it('DW failure: "DW=2 not met: 1 durable write of 3"', () => {
    const c = core();
    c.addResult(p('a'), dw());
    c.addResult(p('b'), fail());
    assert.equal(c.enough(), false);
    c.addResult(p('c'), fail('overload'));
    const e = errorOf(c.response()) as PutQuorumError;
    assert.equal(e.code, 'kv_dw_val_unsatisfied');
    assert.equal(e.message, 'DW=2 not met: 1 durable write of 3; 1 written, 2 failed (disk full, overload)');
    assert.equal(e.overload, true);
  });

  it('W failure when replicas fail before acknowledging: "W=2 not met: 1 of 3 replicas answered"', () => {
    const c = core({ dw: 1 });
    c.addResult(p('a'), dw());
    c.addResult(p('b'), fail('unreachable'));
    c.addResult(p('c'), fail('unreachable'));
    const e = errorOf(c.response()) as PutQuorumError;
    assert.match(e.message, /^W=2 not met: 1 of 3 replicas answered; /);
  });

  it('PW counts durable writes on primaries only; fallbacks help W and DW', () => {
    const c = core({ pw: 2, primaries: 2 });
    c.addResult(f('x'), dw());
    c.addResult(p('a'), dw());
    assert.equal(c.enough(), false);
    c.addResult(p('b'), dw());
    assert.equal(c.response().kind, 'ok');
  });

  it('PW=2 with one primary up: "PW=2 not met: only 1 primary up" before any reply', () => {
    const c = core({ pw: 2, primaries: 1 });
    assert.equal(c.enough(), true);
    const e = errorOf(c.response()) as PutQuorumError;
    assert.equal(e.code, 'kv_pw_val_unsatisfied');
    assert.match(e.message, /^PW=2 not met: only 1 primary up; 3 no reply yet$/);
  });

  it('PW fails as soon as a primary fails and too few remain', () => {
    const c = core({ pw: 2, primaries: 2, w: 1, dw: 1 });
    c.addResult(p('a'), fail());
    const e = errorOf(c.response()) as PutQuorumError;
    assert.match(e.message, /^PW=2 not met: 0 primary replicas wrote; 1 failed \(disk full\), 2 no reply yet$/);
  });

  it('return_body gathers the stored objects from dw replies', () => {
    const c = core({ returnBody: true });
    c.addResult(p('a'), dw('v1'));
    c.addResult(p('b'), dw('v2'));
    assert.deepEqual(c.response(), { kind: 'ok', values: ['v1', 'v2'] });
  });

  it('the coordinator\'s local write counts like any replica; its failure fails the put', () => {
    const good = core({ w: 1, dw: 1 });
    good.addResult({ id: 'local', primary: true, local: true }, dw('v'));
    assert.equal(good.response().kind, 'ok');
    const bad = core();
    bad.addResult({ id: 'local', primary: true, local: true }, fail('no space'));
    assert.equal(bad.enough(), true);
    const e = errorOf(bad.response());
    assert.ok(e instanceof LocalWriteError);
    assert.equal(e.code, 'kv_local_write_failed');
    assert.match(e.message, /no space/);
  });

  it('timeout names the missing quorum with the largest value', () => {
    const c = core({ w: 3, dw: 1 });
    c.addResult(p('a'), w);
    c.addResult(p('a'), dw());
    c.timeout();
    const e = errorOf(c.response()) as PutQuorumError;
    assert.equal(e.timedOut, true);
    assert.equal(e.message, 'W=3 not met: 1 of 3 replicas answered; 1 written, 2 no reply before the timeout');
  });

  it('a timeout after the answer changes nothing', () => {
    const c = core({ w: 1, dw: 1 });
    c.addResult(p('a'), dw());
    c.timeout();
    assert.equal(c.response().kind, 'ok');
  });

  it('ignores duplicates and replies after a final one', () => {
    const c = core();
    assert.equal(c.addResult(p('a'), w), true);
    assert.equal(c.addResult(p('a'), w), false);
    assert.equal(c.addResult(p('a'), fail()), true);
    assert.equal(c.addResult(p('a'), dw()), false);
    assert.equal(c.addResult(p('b'), dw()), true);
    assert.equal(c.addResult(p('b'), fail()), false);
  });

  it('refuses response() before enough() and impossible options', () => {
    assert.throws(() => core().response(), /before enough/);
    assert.throws(() => core({ dw: 0 }), /dw must be in 1..n=3/);
    assert.throws(() => core({ w: 4 }), /w must be/);
    assert.throws(() => core({ primaries: 4 }), /primaries must be/);
  });
});
