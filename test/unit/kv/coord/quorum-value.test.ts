// Quorum values: every spelling, PB's numeric encodings, garbage, resolution
// against n_val and bucket defaults, Riak's validation, delete's RW.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadQuorumError,
  checkTargets,
  DEFAULT_QUORUMS,
  deleteQuorums,
  InsufficientVnodesError,
  NValViolationError,
  parseQuorum,
  PB_QUORUM,
  QUORUM_NAMES,
  resolveQuorum,
  resolveQuorums,
  validateQuorums,
} from '../../../../src/kv/coord/quorum/index.js';

describe('parseQuorum', () => {
  it('accepts every spelling for every parameter', () => {
    for (const name of QUORUM_NAMES) {
      for (const symbol of ['one', 'quorum', 'all', 'default'] as const) {
        assert.equal(parseQuorum(symbol, name), symbol);
        assert.equal(parseQuorum(PB_QUORUM[symbol], name), symbol, 'PB encoding');
      }
      assert.equal(parseQuorum(0, name), 0);
      assert.equal(parseQuorum(3, name), 3);
      assert.equal(parseQuorum('2', name), 2);
      assert.equal(parseQuorum('0', name), 0);
      assert.equal(parseQuorum(undefined, name), 'default', 'absent parameter');
    }
  });

  it('PB encodings are UINT32_MAX minus 1..4', () => {
    assert.deepEqual(PB_QUORUM, { one: 4294967294, quorum: 4294967293, all: 4294967292, default: 4294967291 });
    assert.equal(parseQuorum(4294967295, 'w'), 4294967295, 'UINT32_MAX itself is a plain (too large) number, as in riak_pb');
  });

  it('rejects garbage naming the parameter and the value', () => {
    const garbage: unknown[] = [-1, Number.NaN, Infinity, 1.5, 'abc', '', ' 2', '2 ', '-1', '1.5', '1e1', '0x2', 'ONE', 'Quorum', null, true, {}, [], { r: 2 }, [2], 2n, Symbol('x')];
    for (const name of QUORUM_NAMES) {
      for (const value of garbage) {
        assert.throws(
          () => parseQuorum(value, name),
          (e: unknown) => e instanceof BadQuorumError && e.code === 'kv_bad_quorum' && e.parameter === name && e.message.startsWith(`${name}=`),
          `${name}=${String(value)}`,
        );
      }
    }
    assert.throws(() => parseQuorum('abc', 'pr'), /^BadQuorumError: pr="abc" is not a valid quorum value/);
    assert.throws(() => parseQuorum(-1, 'dw'), /dw=-1 is not a valid quorum value/);
    assert.throws(() => parseQuorum({ a: 1 }, 'rw'), /rw=\{"a":1\} is not/);
  });
});

describe('resolveQuorum', () => {
  it('one, quorum = floor(n/2)+1, all, numbers', () => {
    for (let n = 1; n <= 7; n += 1) {
      assert.equal(resolveQuorum('one', n, 'quorum'), 1);
      assert.equal(resolveQuorum('quorum', n, 'quorum'), Math.floor(n / 2) + 1);
      assert.equal(resolveQuorum('all', n, 'quorum'), n);
      for (let v = 0; v <= n; v += 1) assert.equal(resolveQuorum(v, n, 'quorum'), v);
    }
  });

  it('default takes the bucket property', () => {
    assert.equal(resolveQuorum('default', 5, 'quorum'), 3);
    assert.equal(resolveQuorum('default', 5, 'all'), 5);
    assert.equal(resolveQuorum('default', 5, 2), 2);
    assert.throws(() => resolveQuorum('default', 3, 'default', 'r'), BadQuorumError);
  });

  it('more than n_val is an n_val violation with a clear message', () => {
    assert.throws(
      () => resolveQuorum(4, 3, 'quorum', 'r'),
      (e: unknown) => e instanceof NValViolationError && e.code === 'kv_n_val_violation' && e.message === 'r=4 is more than n_val=3',
    );
    assert.throws(() => resolveQuorum('default', 3, 5, 'w'), /w=5 is more than n_val=3/);
  });
});

describe('validateQuorums / resolveQuorums / checkTargets', () => {
  it('raises dw to 1 and leaves dw > w alone (as riak_kv_put_fsm does)', () => {
    assert.deepEqual(validateQuorums({ w: 1, dw: 0 }, 3), { w: 1, dw: 1 });
    assert.deepEqual(validateQuorums({ w: 1, dw: 3 }, 3), { w: 1, dw: 3 });
  });

  it('rejects values above n_val (pw > n_val included) and r/rw of 0', () => {
    assert.throws(() => validateQuorums({ pw: 4 }, 3), /pw=4 is more than n_val=3/);
    assert.throws(() => validateQuorums({ r: 0 }, 3), /r=0 is not a valid quorum value \(expected at least 1\)/);
    assert.throws(() => validateQuorums({ rw: 0 }, 3), BadQuorumError);
    assert.deepEqual(validateQuorums({ pr: 0, pw: 0, w: 0 }, 3), { pr: 0, pw: 0, w: 0 });
  });

  it('resolves all six against Riak\'s bucket defaults', () => {
    assert.deepEqual(resolveQuorums({}, 3), { r: 2, pr: 0, w: 2, pw: 0, dw: 2, rw: 2 });
    assert.deepEqual(resolveQuorums({ r: 'all', pw: 'one', dw: 0 }, 5), { r: 5, pr: 0, w: 3, pw: 1, dw: 1, rw: 3 });
    assert.deepEqual(resolveQuorums({}, 3, { ...DEFAULT_QUORUMS, w: 'all' }).w, 3);
  });

  it('insufficient vnodes when a quorum exceeds the reachable replicas', () => {
    assert.throws(() => checkTargets({ r: 3 }, 2), (e: unknown) => e instanceof InsufficientVnodesError && e.message === 'R=3 cannot be met: only 2 replicas are reachable');
    assert.throws(() => checkTargets({ w: 0 }, 0), /W=1 cannot be met: only 0 replicas are reachable/);
    checkTargets({ r: 2, w: 2, dw: 2 }, 2);
  });
});

describe('deleteQuorums (riak_kv_delete)', () => {
  it('rw applies to both phases when r and w are not given', () => {
    assert.deepEqual(deleteQuorums({ rw: 'all' }, 3), { read: { r: 3, pr: 0 }, write: { w: 3, pw: 0, dw: 2 } });
    assert.deepEqual(deleteQuorums({}, 3), { read: { r: 2, pr: 0 }, write: { w: 2, pw: 0, dw: 2 } });
  });

  it('an explicit r or w wins over rw; giving w also makes the read use r', () => {
    assert.deepEqual(deleteQuorums({ rw: 3, r: 1 }, 3).read.r, 1);
    assert.deepEqual(deleteQuorums({ rw: 3, r: 1 }, 3).write.w, 3);
    assert.deepEqual(deleteQuorums({ rw: 3, w: 1 }, 3), { read: { r: 2, pr: 0 }, write: { w: 1, pw: 0, dw: 2 } });
  });

  it('passes pr, pw and dw through and validates', () => {
    assert.deepEqual(deleteQuorums({ pr: 1, pw: 'all', dw: 0 }, 3), { read: { r: 2, pr: 1 }, write: { w: 2, pw: 3, dw: 1 } });
    assert.throws(() => deleteQuorums({ rw: 4 }, 3), /rw=4 is more than n_val=3/);
  });
});
