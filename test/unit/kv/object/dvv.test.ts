// Worked examples of dotted version vector sets (after Preguiça et al. and
// Riak's dvvset tests): what siblings a history must leave, and nothing more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyClock, join, size, sync, update, values, vvDescends, vvLeq, vvMerge } from '../../../../src/kv/object/index.js';
import type { DvvSet } from '../../../../src/kv/object/index.js';

const A = 'n1/0';
const B = 'n2/64';
const sorted = (c: DvvSet<string>) => values(c).sort();

test('two clients writing concurrently with an empty context make two siblings', () => {
  let a = emptyClock<string>();
  a = update(a, [], 'x', A);
  a = update(a, [], 'y', A);
  assert.deepEqual(sorted(a), ['x', 'y']);
  assert.deepEqual(join(a), [[A, 2]]);
});

test('a write whose context covers both siblings leaves one value', () => {
  let a = update(update(emptyClock<string>(), [], 'x', A), [], 'y', A);
  a = update(a, join(a), 'z', A);
  assert.deepEqual(values(a), ['z']);
  assert.deepEqual(a.entries, [{ actor: A, counter: 3, values: [[3, 'z']] }]);
});

test('stale contexts through one coordinator: only what each context saw is replaced (no false siblings, no lost value)', () => {
  let a = update(emptyClock<string>(), [], 'v1', A); // both clients read v1: context [A:1]
  const ctx = join(a);
  a = update(a, ctx, 'v2', A);
  a = update(a, ctx, 'v3', A);
  // v2 and v3 are truly concurrent; v1 was seen by both and is gone. A plain
  // per-vnode version vector could not tell v3's context from v2's.
  assert.deepEqual(sorted(a), ['v2', 'v3']);
  assert.equal(size(a), 2);
});

test('sequential writes through different coordinators with fresh contexts never make siblings', () => {
  let a = update(emptyClock<string>(), [], 'v1', A);
  let b = emptyClock<string>(); // B has not received v1 yet
  b = update(b, join(a), 'v2', B); // the client read v1 from A, writes via B
  assert.deepEqual(values(b), ['v2']);
  assert.deepEqual(join(b), [[A, 1], [B, 1]]);
  // Replication in either direction drops v1: B has seen its dot.
  assert.deepEqual(values(sync(a, b)), ['v2']);
  assert.deepEqual(sync(a, b), sync(b, a));
  a = sync(a, b);
  a = update(a, join(a), 'v3', A);
  assert.deepEqual(values(sync(a, b)), ['v3']);
});

test('concurrent writes through different coordinators are kept by sync', () => {
  const a = update(emptyClock<string>(), [], 'x', A);
  const b = update(emptyClock<string>(), [], 'y', B);
  const ab = sync(a, b);
  assert.deepEqual(sorted(ab), ['x', 'y']);
  assert.deepEqual(sync(ab, a), ab);
  assert.deepEqual(sync(ab, ab), ab);
});

test('a replica that is behind keeps values the other has not seen, drops those it has replaced', () => {
  // A: v1 (A1), then v2 (A2) replacing v1, then v3 (A3) concurrent with v2.
  let a = update(emptyClock<string>(), [], 'v1', A);
  const old = a;
  a = update(a, join(a), 'v2', A);
  a = update(a, join(old), 'v3', A);
  assert.deepEqual(sorted(a), ['v2', 'v3']);
  assert.deepEqual(sorted(sync(old, a)), ['v2', 'v3']);
  const c = update(old, [], 'w', B); // a third write elsewhere, concurrent with all
  assert.deepEqual(sorted(sync(c, a)), ['v2', 'v3', 'w']);
});

test('version vectors: order, merge, descends', () => {
  const x: [string, number][] = [[A, 2]];
  const y: [string, number][] = [[A, 1], [B, 3]];
  assert.equal(vvLeq(x, y), false);
  assert.equal(vvLeq([[A, 1]], y), true);
  assert.equal(vvLeq([], x), true);
  assert.deepEqual(vvMerge(y, x), [[A, 2], [B, 3]]);
  assert.equal(vvDescends(vvMerge(x, y), x), true);
  assert.equal(vvDescends(x, y), false);
});
