import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeWatcher } from '../../../src/core/detector/index.js';

test('NodeWatcher: fans out real transitions in order, to every listener', () => {
  const w = new NodeWatcher();
  w.setMembers(['b', 'c']);
  const seenA: string[] = [];
  const seenB: string[] = [];
  w.on((ev) => seenA.push(`${ev.node}:${ev.up ? 'up' : 'down'}`));
  w.on((ev) => seenB.push(`${ev.node}:${ev.up ? 'up' : 'down'}`));
  assert.deepEqual([...w.upNodes('a')].sort(), ['a', 'b', 'c']);
  w.apply([{ node: 'c', up: false }, { node: 'c', up: false }, { node: 'b', up: true }]);
  assert.deepEqual(seenA, ['c:down'], 'repeats and no-op ups are not events');
  assert.equal(w.isUp('c'), false);
  assert.equal(w.isUp('b'), true);
  assert.deepEqual([...w.upNodes('a')].sort(), ['a', 'b']);
  w.apply([{ node: 'c', up: true }]);
  assert.deepEqual(seenA, ['c:down', 'c:up']);
  assert.deepEqual(seenB, seenA);
  assert.deepEqual([...w.upNodes('a')].sort(), ['a', 'b', 'c']);
});

test('NodeWatcher: unsubscribe, also from inside a listener', () => {
  const w = new NodeWatcher();
  const seen: string[] = [];
  const off = w.on((ev) => {
    seen.push(`once:${ev.node}`);
    off();
  });
  const offOther = w.on((ev) => seen.push(`other:${ev.node}`));
  w.apply([{ node: 'x', up: false }, { node: 'y', up: false }]);
  assert.deepEqual(seen, ['once:x', 'other:x', 'other:y']);
  offOther();
  offOther(); // idempotent
  w.apply([{ node: 'x', up: true }]);
  assert.deepEqual(seen, ['once:x', 'other:x', 'other:y']);
  assert.equal(w.isUp('x'), true);
});

test('NodeWatcher: setMembers forgets removed nodes; unknown nodes count as up', () => {
  const w = new NodeWatcher();
  w.setMembers(['b', 'c']);
  w.apply([{ node: 'c', up: false }]);
  w.setMembers(['b']);
  assert.equal(w.isUp('c'), true);
  assert.deepEqual([...w.upNodes('a')].sort(), ['a', 'b']);
  assert.equal(w.isUp('never-heard-of'), true);
});
