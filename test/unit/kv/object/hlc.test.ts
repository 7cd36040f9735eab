// Hybrid logical clock: monotonic whatever the wall clock does, always past
// what it observed, and refusing timestamps beyond the drift bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HybridClock, compareHlc } from '../../../../src/kv/object/index.js';
import type { Hlc } from '../../../../src/kv/object/index.js';
import { ClockDriftError } from '../../../../src/kv/errors.js';

test('now is strictly monotonic even when the wall clock goes backwards', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 1, maxLength: 200 }), (walls) => {
      const clock = new HybridClock();
      let previous: Hlc | undefined;
      for (const wall of walls) {
        const t = clock.now(wall);
        if (previous !== undefined) assert.ok(compareHlc(t, previous) > 0);
        assert.ok(t.wallMs >= wall, 'never behind the wall clock');
        previous = t;
      }
    }),
  );
});

test('a backwards step keeps the last wall time and counts logically', () => {
  const clock = new HybridClock();
  assert.deepEqual(clock.now(1_000), { wallMs: 1_000, logical: 0 });
  assert.deepEqual(clock.now(900), { wallMs: 1_000, logical: 1 });
  assert.deepEqual(clock.now(1_000), { wallMs: 1_000, logical: 2 });
  assert.deepEqual(clock.now(1_001), { wallMs: 1_001, logical: 0 });
});

test('observe returns a timestamp after both the remote and everything local', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 120_000 }), fc.nat(5)), { maxLength: 100 }),
      (steps) => {
        const clock = new HybridClock({ maxDriftMs: 60_000 });
        let previous: Hlc = { wallMs: 0, logical: 0 };
        for (const [isObserve, wall, remoteWall, remoteLogical] of steps) {
          const remote = { wallMs: remoteWall, logical: remoteLogical };
          if (isObserve && remoteWall - wall > 60_000) {
            assert.throws(() => clock.observe(remote, wall), ClockDriftError);
            assert.deepEqual(clock.last, previous, 'a refused observe changes nothing');
            continue;
          }
          const t = isObserve ? clock.observe(remote, wall) : clock.now(wall);
          assert.ok(compareHlc(t, previous) > 0);
          if (isObserve) assert.ok(compareHlc(t, remote) > 0);
          previous = t;
        }
      },
    ),
  );
});

test('observe of an equal wall time takes the larger logical counter plus one', () => {
  const clock = new HybridClock();
  clock.now(500);
  assert.deepEqual(clock.observe({ wallMs: 500, logical: 7 }, 400), { wallMs: 500, logical: 8 });
  assert.deepEqual(clock.observe({ wallMs: 600, logical: 2 }, 400), { wallMs: 600, logical: 3 });
  assert.deepEqual(clock.observe({ wallMs: 10, logical: 2 }, 700), { wallMs: 700, logical: 0 });
});

test('drift bound: a remote just within is adopted, just beyond is refused with the numbers', () => {
  const clock = new HybridClock({ maxDriftMs: 1_000 });
  assert.deepEqual(clock.observe({ wallMs: 11_000, logical: 0 }, 10_000), { wallMs: 11_000, logical: 1 });
  assert.throws(() => clock.observe({ wallMs: 12_001, logical: 0 }, 10_000), (e: unknown) => {
    assert.ok(e instanceof ClockDriftError);
    assert.equal(e.code, 'kv_clock_drift');
    assert.equal(e.aheadMs, 2_001);
    assert.match(e.message, /2001 ms ahead/);
    return true;
  });
  // Temporary by construction: once local time catches up the same timestamp is fine.
  assert.doesNotThrow(() => clock.observe({ wallMs: 12_001, logical: 0 }, 11_500));
});

test('a restarted clock continues after its persisted last timestamp', () => {
  const clock = new HybridClock({ last: { wallMs: 5_000, logical: 3 } });
  assert.deepEqual(clock.now(4_000), { wallMs: 5_000, logical: 4 });
});

test('default drift bound is 60 s', () => {
  assert.equal(new HybridClock().maxDriftMs, 60_000);
});
