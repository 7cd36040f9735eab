// Every seed that ever made a scenario fail is kept here and replayed in
// `npm test`, so a fixed bug stays fixed. Format: scenario, seed, what it found.
import type { ScenarioName } from '../../src/core/scenarios/scenarios.js';

export const REGRESSION_SEEDS: readonly { scenario: ScenarioName; seed: number; found: string }[] = [];
