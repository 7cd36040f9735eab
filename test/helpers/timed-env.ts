// A simulated Env that counts its live timers (tests check that nothing is
// left armed) and counts how many it ever set.
import type { Env, TimerId } from '../../src/core/env.js';
import { Simulation } from '../../src/core/sim/index.js';

export function timedEnv(seed = 1): { sim: Simulation; env: Env; liveTimers: Set<TimerId>; timersSet: () => number } {
  const sim = new Simulation({ seed });
  const base = sim.createEnv('n1');
  const liveTimers = new Set<TimerId>();
  let timersSet = 0;
  const env: Env = {
    ...base,
    setTimer: (delayMs, fire) => {
      timersSet++;
      const id = base.setTimer(delayMs, () => {
        liveTimers.delete(id);
        fire();
      });
      liveTimers.add(id);
      return id;
    },
    clearTimer: (id) => {
      liveTimers.delete(id);
      base.clearTimer(id);
    },
  };
  return { sim, env, liveTimers, timersSet: () => timersSet };
}
