// Key generators: bounds, reproducibility, sequential order, pareto's 80/20.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng, deriveSeed, keyName, keyPicker } from '../../../src/bench/keys.js';

const DRAWS = 100_000;

describe('bench key generators', () => {
  it('the PRNG is seeded: same seed, same sequence; another seed, another one', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const seqA = Array.from({ length: 5 }, a);
    assert.deepEqual(seqA, Array.from({ length: 5 }, b));
    assert.notDeepEqual(seqA, Array.from({ length: 5 }, c));
    for (const x of seqA) assert.ok(x >= 0 && x < 1);
    assert.notEqual(deriveSeed(42, 0), deriveSeed(42, 1));
  });

  for (const kind of ['uniform', 'pareto', 'sequential'] as const) {
    it(`${kind} stays in [0, keys)`, () => {
      for (const keys of [1, 2, 10, 1000]) {
        const pick = keyPicker(kind, keys);
        const rng = createRng(1);
        for (let i = 0; i < 20_000; i++) {
          const index = pick(rng);
          assert.ok(Number.isInteger(index) && index >= 0 && index < keys, `${kind} drew ${index} of ${keys}`);
        }
      }
    });
  }

  it('uniform covers the key space about evenly', () => {
    const keys = 10;
    const pick = keyPicker('uniform', keys);
    const rng = createRng(3);
    const hits = new Array<number>(keys).fill(0);
    for (let i = 0; i < DRAWS; i++) hits[pick(rng)]!++;
    for (const h of hits) assert.ok(Math.abs(h - DRAWS / keys) < DRAWS / keys / 10, `uneven: ${hits.join(',')}`);
  });

  it('sequential walks the keys in order, shared by all callers, and wraps', () => {
    const pick = keyPicker('sequential', 3);
    const rngA = createRng(1);
    const rngB = createRng(2);
    assert.deepEqual([pick(rngA), pick(rngB), pick(rngA), pick(rngB), pick(rngA)], [0, 1, 2, 0, 1]);
  });

  it('pareto puts 70-90% of draws on the first 20% of keys, reproducibly', () => {
    const keys = 10_000;
    const draw = (seed: number): number[] => {
      const pick = keyPicker('pareto', keys);
      const rng = createRng(seed);
      return Array.from({ length: DRAWS }, () => pick(rng));
    };
    const draws = draw(11);
    const hot = draws.filter((k) => k < keys * 0.2).length / DRAWS;
    assert.ok(hot > 0.7 && hot < 0.9, `hot share ${hot}`);
    assert.deepEqual(draws.slice(0, 100), draw(11).slice(0, 100));
    // Draws beyond the key space wrap: no single key takes them (basho_bench's clamp would give the last key ~2.7%).
    const hits = new Map<number, number>();
    for (const k of draws) hits.set(k, (hits.get(k) ?? 0) + 1);
    const busiest = Math.max(...hits.values());
    assert.ok(busiest / DRAWS < 0.01, `one key got ${busiest} draws`);
    assert.ok((hits.get(keys - 1) ?? 0) / DRAWS < 0.001, 'the last key is no hot spot');
  });

  it('keys are k<n>; bad key counts are refused', () => {
    assert.equal(keyName(0), 'k0');
    assert.equal(keyName(123), 'k123');
    assert.throws(() => keyPicker('uniform', 0), /keys/);
  });
});
