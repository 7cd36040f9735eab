import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Prng } from '../../../src/core/sim/prng.js';
import { backoffMs, chooseNode, type NodeLoad } from '../../../src/client/balancer.js';

/** A seeded generator: the same seed, the same choices. */
function seeded(seed: number): () => number {
  const prng = new Prng(seed >>> 0);
  return () => prng.next();
}

const up = (inFlight: number): NodeLoad => ({ inFlight, downUntilMs: 0 });

test('of the two drawn, the less loaded wins; the most loaded node is never chosen', () => {
  const random = seeded(42);
  const nodes = [up(5), up(0), up(9)];
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[chooseNode(nodes, new Set(), 0, random)]!++;
  assert.equal(counts[2], 0, 'the most loaded of three always loses its pair');
  // Node 1 wins both pairs it is in (2 of 3 pairs), node 0 wins one.
  assert.ok(Math.abs(counts[1]! / 3000 - 2 / 3) < 0.05, `node 1 chosen ~2/3 of the time: ${counts}`);
});

test('two distinct candidates: with equal loads every node is chosen, evenly', () => {
  const random = seeded(7);
  const nodes = [up(0), up(0), up(0), up(0)];
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[chooseNode(nodes, new Set(), 0, random)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 150, `even spread: ${counts}`);
});

test('excluded and down nodes are skipped while another remains; with all down, down ones are tried', () => {
  const random = seeded(1);
  const nodes: NodeLoad[] = [{ inFlight: 0, downUntilMs: 1000 }, up(50), up(60)];
  for (let i = 0; i < 100; i++) assert.notEqual(chooseNode(nodes, new Set(), 500, random), 0, 'node 0 is down until 1000');
  assert.equal(chooseNode(nodes, new Set([1, 2]), 500, random), 0, 'only the down node is left: try it');
  assert.equal(chooseNode(nodes, new Set([0, 1, 2]), 500, random), -1);
  assert.equal(chooseNode(nodes, new Set(), 1000, random), 0, 'back up at 1000 and the least loaded... when drawn');
});

test('property: the choice is allowed, never the strictly most loaded of 2+ candidates, and deterministic per seed', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 8 }), fc.integer(), (loads, seed) => {
      const nodes = loads.map(up);
      const a = chooseNode(nodes, new Set(), 0, seeded(seed));
      assert.equal(a, chooseNode(nodes, new Set(), 0, seeded(seed)));
      assert.ok(a >= 0 && a < nodes.length);
      const max = Math.max(...loads);
      if (loads.filter((l) => l === max).length === 1 && loads.length >= 2) assert.notEqual(loads[a], max);
    }),
  );
});

test('backoff is jittered below a ceiling that doubles up to the max', () => {
  assert.equal(backoffMs(1, 10, 250, () => 0.999), 9);
  assert.equal(backoffMs(3, 10, 250, () => 0.999), 39);
  assert.equal(backoffMs(10, 10, 250, () => 0.999), 249);
  assert.equal(backoffMs(10, 10, 250, () => 0), 0);
});
