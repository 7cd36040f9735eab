// Every seed that ever made a scenario fail is kept here and replayed in
// `npm test`, so a fixed bug stays fixed. Format: scenario, seed, what it found.
import type { ScenarioName } from '../../src/core/scenarios/scenarios.js';

export const REGRESSION_SEEDS: readonly { scenario: ScenarioName; seed: number; found: string }[] = [];

/** The KV scenario's (src/kv/scenarios), replayed by test/sim/kv.test.ts with the safety phase given. */
export const KV_REGRESSION_SEEDS: readonly { seed: number; durationMs: number; found: string }[] = [
  {
    seed: 1,
    durationMs: 20_000,
    found: 'a duplicated put-coordinate message was applied twice by the vnode: one write under two dots, a sibling of itself. Fixed: KvService drops a vnode request (sender, reqId) it already ran.',
  },
  { seed: 2, durationMs: 20_000, found: 'same bug as seed 1 (duplicate put-coordinate, value seen under two dots)' },
];
