import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Prng, chance, exponential, intBetween, logNormal, shuffle } from '../../../src/core/sim/index.js';

const draw = (prng: Prng, count: number): number[] => Array.from({ length: count }, () => prng.next());

test('same seed gives the same stream; different seeds differ', () => {
  assert.deepEqual(draw(new Prng(42), 100), draw(new Prng(42), 100));
  assert.notDeepEqual(draw(new Prng(42), 10), draw(new Prng(43), 10));
  // Seeds differing only in the high bits must differ too.
  assert.notDeepEqual(draw(new Prng(1), 10), draw(new Prng(1 + 2 ** 40), 10));
});

test('next is in [0, 1) and int in [0, bound)', () => {
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 31 }), (seed, bound) => {
      const prng = new Prng(seed);
      for (let i = 0; i < 20; i++) {
        const x = prng.next();
        assert.ok(x >= 0 && x < 1);
        const n = prng.int(bound);
        assert.ok(Number.isInteger(n) && n >= 0 && n < bound);
      }
    }),
    { numRuns: 200 },
  );
});

test('int is roughly uniform', () => {
  const prng = new Prng(7);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 40_000; i++) counts[prng.int(4)]!++;
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `count ${count}`);
});

test('fork is deterministic and independent of the parent position', () => {
  const a = new Prng(99);
  const b = new Prng(99);
  draw(b, 1000); // drawing from the parent must not shift the fork
  assert.deepEqual(draw(a.fork('n1'), 50), draw(b.fork('n1'), 50));
  assert.notDeepEqual(draw(a.fork('n1'), 10), draw(a.fork('n2'), 10));
  assert.notDeepEqual(draw(a.fork('n1'), 10), draw(new Prng(100).fork('n1'), 10));
  assert.notDeepEqual(draw(a.fork('n1'), 10), draw(a, 10));
  // Drawing from one fork does not shift a sibling.
  const parent = new Prng(5);
  const first = draw(parent.fork('x'), 5);
  draw(parent.fork('y'), 500);
  assert.deepEqual(draw(parent.fork('x'), 5), first);
});

test('helpers stay in range', () => {
  const prng = new Prng(3);
  assert.equal(chance(prng, 0), false);
  assert.equal(chance(prng, 1), true);
  for (let i = 0; i < 1000; i++) {
    const n = intBetween(prng, 3, 5);
    assert.ok(n >= 3 && n <= 5);
    const x = prng.between(2, 4);
    assert.ok(x >= 2 && x < 4);
    assert.ok(exponential(prng, 10) >= 0);
    assert.ok(logNormal(prng, 10, 0.5) > 0);
  }
  let total = 0;
  for (let i = 0; i < 20_000; i++) total += exponential(prng, 10);
  assert.ok(Math.abs(total / 20_000 - 10) < 0.5, 'exponential mean');
  assert.deepEqual(shuffle(prng, [1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
  assert.throws(() => prng.int(0));
  assert.throws(() => new Prng(-1));
});
