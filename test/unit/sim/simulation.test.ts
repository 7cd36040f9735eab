import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventLimitExceededError, SIM_EPOCH_MS, Simulation } from '../../../src/core/sim/index.js';

test('timers fire at their virtual time, ties in order, clearTimer cancels', () => {
  const sim = new Simulation({ seed: 1 });
  const env = sim.createEnv('n1');
  const fired: [string, number][] = [];
  env.setTimer(10, () => fired.push(['a', env.nowMs()]));
  env.setTimer(5, () => fired.push(['b', env.nowMs()]));
  env.setTimer(10, () => fired.push(['c', env.nowMs()]));
  const cancelled = env.setTimer(7, () => fired.push(['never', env.nowMs()]));
  env.clearTimer(cancelled);
  env.setTimer(3, () => env.setTimer(4, () => fired.push(['nested', env.nowMs()])));
  sim.runFor(9);
  assert.deepEqual(fired, [['b', 5], ['nested', 7]]);
  assert.equal(sim.nowMs(), 9);
  sim.runFor(100);
  assert.deepEqual(fired, [['b', 5], ['nested', 7], ['a', 10], ['c', 10]]);
  assert.equal(sim.nowMs(), 109);
  assert.equal(sim.stats().timersFired, 5);
});

test('wall clock is epoch + virtual time + skew; nowMs is shared', () => {
  const sim = new Simulation({ seed: 1 });
  const a = sim.createEnv('a');
  const b = sim.createEnv('b', { clockSkewMs: -250 });
  sim.runFor(1000);
  assert.equal(a.nowMs(), 1000);
  assert.equal(b.nowMs(), 1000);
  assert.equal(a.wallClockMs(), SIM_EPOCH_MS + 1000);
  assert.equal(b.wallClockMs(), SIM_EPOCH_MS + 750);
});

test('a crashed node timers never fire, its old Env stays inert after restart', () => {
  const sim = new Simulation({ seed: 1 });
  const old = sim.createEnv('n1');
  const fired: string[] = [];
  old.setTimer(10, () => fired.push('old'));
  sim.crash('n1');
  assert.equal(sim.isUp('n1'), false);
  old.setTimer(1, () => fired.push('while-down'));
  sim.runFor(20);
  const fresh = sim.restart('n1');
  assert.equal(sim.isUp('n1'), true);
  old.setTimer(1, () => fired.push('old-after-restart'));
  fresh.setTimer(1, () => fired.push('fresh'));
  sim.runFor(20);
  assert.deepEqual(fired, ['fresh']);
  assert.throws(() => sim.restart('n1'), /is down/);
});

test('MetaStore survives restart, is wiped with wipe:true, and copies values', () => {
  const sim = new Simulation({ seed: 1 });
  const env = sim.createEnv('n1');
  const value = new Uint8Array([1, 2, 3]);
  env.meta.save('ring', value);
  value[0] = 9;
  assert.deepEqual(env.meta.load('ring'), new Uint8Array([1, 2, 3]));
  sim.crash('n1');
  const again = sim.restart('n1');
  assert.deepEqual(again.meta.load('ring'), new Uint8Array([1, 2, 3]));
  sim.crash('n1');
  const wiped = sim.restart('n1', { wipe: true });
  assert.equal(wiped.meta.load('ring'), undefined);
});

test('runUntil returns as soon as the predicate holds, or false at maxMs', () => {
  const sim = new Simulation({ seed: 1 });
  const env = sim.createEnv('n1');
  let count = 0;
  const tick = (): void => {
    count++;
    env.setTimer(10, tick);
  };
  env.setTimer(10, tick);
  assert.equal(sim.runUntil(() => count === 3, { maxMs: 1000 }), true);
  assert.equal(sim.nowMs(), 30);
  assert.equal(sim.runUntil(() => count === 1000, { maxMs: 100 }), false);
  assert.equal(sim.nowMs(), 130);
  assert.equal(count, 13);
  // With nothing scheduled, time still advances to maxMs.
  const idle = new Simulation({ seed: 1 });
  assert.equal(idle.runUntil(() => false, { maxMs: 50 }), false);
  assert.equal(idle.nowMs(), 50);
});

test('the event cap stops a livelock with a clear error', () => {
  const sim = new Simulation({ seed: 1, eventsPerRunMax: 1000 });
  const env = sim.createEnv('n1');
  const spin = (): void => void env.setTimer(0, spin);
  env.setTimer(0, spin);
  assert.throws(
    () => sim.runFor(1),
    (err: unknown) => err instanceof EventLimitExceededError && /more than 1000 events/.test(err.message) && /seed=1/.test(err.message),
  );
});

test('simulation-level timers survive crashes and can be cancelled', () => {
  const sim = new Simulation({ seed: 1 });
  sim.createEnv('n1');
  const fired: number[] = [];
  sim.schedule(5, () => fired.push(sim.nowMs()));
  const id = sim.schedule(6, () => fired.push(-1));
  sim.cancel(id);
  sim.crash('n1');
  sim.runFor(10);
  assert.deepEqual(fired, [5]);
});

test('the trace keeps the last traceLimit lines and hashes all of them', () => {
  const sim = new Simulation({ seed: 1, traceLimit: 3 });
  const env = sim.createEnv('n1');
  for (let i = 1; i <= 10; i++) env.setTimer(i, () => env.log.debug({ i }, `tick ${i}`));
  const before = sim.traceHash();
  sim.runFor(20);
  assert.notEqual(sim.traceHash(), before);
  assert.deepEqual(sim.trace.tail(), ['9 debug n1 tick 9', '10 timer #10 n1', '10 debug n1 tick 10']);
  assert.ok(sim.trace.eventsTotal > 10, 'every event was hashed');
  assert.match(sim.report(), /^seed=1 nowMs=20 traceHash=[0-9a-f]{64}/);
});
