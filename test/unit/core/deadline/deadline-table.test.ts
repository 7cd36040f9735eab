// DeadlineTable: many deadlines on one Env timer; expiry order, removal,
// re-arming for an earlier deadline, and a heap that stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeadlineTable, HEAP_SLACK_FACTOR, HEAP_SLACK_MIN } from '../../../../src/core/deadline/index.js';
import { timedEnv } from '../../../helpers/timed-env.js';

function setup() {
  const { sim, env, liveTimers, timersSet } = timedEnv();
  return { sim, table: new DeadlineTable(env), liveTimers, timersSet };
}

test('deadlines fire in deadline order, each once, at their time', () => {
  const { sim, table, liveTimers } = setup();
  const fired: [string, number][] = [];
  const start = sim.nowMs();
  table.add(30, () => fired.push(['c', sim.nowMs() - start]));
  table.add(10, () => fired.push(['a', sim.nowMs() - start]));
  table.add(20, () => fired.push(['b', sim.nowMs() - start]));
  assert.equal(liveTimers.size, 1, 'one Env timer for all of them');
  sim.runFor(100);
  assert.deepEqual(fired, [['a', 10], ['b', 20], ['c', 30]]);
  assert.equal(table.size, 0);
  assert.equal(liveTimers.size, 0, 'no timer left once the table is empty');
});

test('a removed deadline never fires; removing the last disarms the timer', () => {
  const { sim, table, liveTimers } = setup();
  const fired: string[] = [];
  const a = table.add(10, () => fired.push('a'));
  table.add(20, () => fired.push('b'));
  table.remove(a);
  table.remove(a); // twice is a no-op
  sim.runFor(15);
  assert.equal(fired.length, 0);
  sim.runFor(10);
  assert.deepEqual(fired, ['b']);
  const c = table.add(50, () => fired.push('c'));
  assert.equal(liveTimers.size, 1);
  table.remove(c);
  assert.equal(liveTimers.size, 0);
  sim.runFor(100);
  assert.deepEqual(fired, ['b']);
});

test('later deadlines with the same delay never re-arm the timer', () => {
  const { sim, table, timersSet } = setup();
  for (let i = 0; i < 100; i++) {
    table.add(1_000, () => undefined);
    sim.runFor(1);
  }
  assert.equal(timersSet(), 1, 'armed once, for the first');
  table.add(5, () => undefined);
  assert.equal(timersSet(), 2, 'an earlier deadline re-arms');
});

test('a callback may add deadlines, including already-due ones', () => {
  const { sim, table } = setup();
  const fired: string[] = [];
  table.add(10, () => {
    fired.push('a');
    table.add(0, () => fired.push('a0'));
    table.add(5, () => fired.push('a5'));
  });
  sim.runFor(12);
  assert.deepEqual(fired, ['a', 'a0']);
  sim.runFor(10);
  assert.deepEqual(fired, ['a', 'a0', 'a5']);
});

test('clear forgets everything without calling anything', () => {
  const { sim, table, liveTimers } = setup();
  let calls = 0;
  for (let i = 0; i < 10; i++) table.add(i, () => calls++);
  table.clear();
  sim.runFor(100);
  assert.equal(calls, 0);
  assert.equal(liveTimers.size, 0);
});

test('the heap stays within its slack bound under add/remove churn (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 1_000 })), { maxLength: 600 }), (ops) => {
      const { sim, table } = setup();
      const live: number[] = [];
      const expected = new Set<number>();
      const fired = new Set<number>();
      for (const [add, delay] of ops) {
        if (add || live.length === 0) {
          const id = table.add(delay, () => fired.add(id));
          live.push(id);
          expected.add(id);
        } else {
          const id = live.splice(delay % live.length, 1)[0]!;
          table.remove(id);
          expected.delete(id);
        }
        const heapSlots = (table as unknown as { heap: unknown[] }).heap.length;
        assert.ok(heapSlots <= HEAP_SLACK_FACTOR * table.size + HEAP_SLACK_MIN + 1, `heap ${heapSlots} slots for ${table.size} live`);
      }
      sim.runFor(2_000);
      assert.deepEqual([...fired].sort((a, b) => a - b), [...expected].sort((a, b) => a - b), 'exactly the live deadlines fired');
    }),
    { numRuns: 50 },
  );
});
