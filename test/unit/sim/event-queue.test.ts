import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventQueue } from '../../../src/core/sim/index.js';

test('pops by time, ties in push order', () => {
  const queue = new EventQueue<string>();
  queue.push(5, 'c');
  queue.push(1, 'a');
  queue.push(5, 'd');
  queue.push(1, 'b');
  queue.push(3, 'x');
  const out: string[] = [];
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) out.push(e.value);
  assert.deepEqual(out, ['a', 'b', 'x', 'c', 'd']);
  assert.equal(queue.size, 0);
  assert.equal(queue.peek(), undefined);
});

test('matches a stable sort on (time, push order)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
      const queue = new EventQueue<number>();
      times.forEach((time, index) => queue.push(time, index));
      const expected = times.map((time, index) => ({ time, index })).sort((x, y) => x.time - y.time || x.index - y.index);
      const got: number[] = [];
      for (let e = queue.pop(); e !== undefined; e = queue.pop()) got.push(e.value);
      assert.deepEqual(got, expected.map((e) => e.index));
    }),
  );
});
