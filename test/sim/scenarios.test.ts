// The simulator scenarios over a fixed set of seeds (CI runs >= 200 per
// scenario), the regression seeds, and determinism of the trace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario, type ScenarioName, type ScenarioResult } from '../../src/core/scenarios/scenarios.js';
import { REGRESSION_SEEDS } from './regression-seeds.js';

const SEEDS_PER_SCENARIO = Number(process.env.RONDO_SIM_SEEDS ?? 200);

function explain(r: ScenarioResult): string {
  return `${r.scenario} seed ${r.seed} failed (replay: npm run sim -- --scenario ${r.scenario} --seed ${r.seed}):\n${r.problems.join('\n')}\n${r.traceTail.slice(-15).join('\n')}`;
}

async function sweep(scenario: ScenarioName, firstSeed: number, count: number): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const r = await runScenario(scenario, { seed });
    assert.ok(r.ok, explain(r));
    results.push(r);
  }
  return results;
}

function summarize(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return `${name}: min ${sorted[0]} p50 ${at(0.5)} p99 ${at(0.99)} max ${sorted[sorted.length - 1]} (n=${sorted.length})`;
}

describe('simulation scenarios', { timeout: 15 * 60_000 }, () => {
  it(`(a) nodes join one by one: rings converge and are balanced, ${SEEDS_PER_SCENARIO} seeds`, async () => {
    const results = await sweep('joins', 1, SEEDS_PER_SCENARIO);
    console.log(summarize('joins settleAfterCommitMsMax', results.map((r) => r.metrics.settleAfterCommitMsMax ?? NaN)));
  });

  it(`(b) crashes and partitions during joins and leaves, then heal: live nodes agree, ${SEEDS_PER_SCENARIO} seeds`, async () => {
    const results = await sweep('chaos', 1, SEEDS_PER_SCENARIO);
    console.log(summarize('chaos convergeAfterHealMs', results.map((r) => r.metrics.convergeAfterHealMs ?? NaN)));
  });

  it(`(c) a crashed node is declared down by all within 5 s and up within 2 s, ${SEEDS_PER_SCENARIO} seeds`, async () => {
    const results = await sweep('detector', 1, SEEDS_PER_SCENARIO);
    console.log(summarize('detector detectDownMs', results.map((r) => r.metrics.detectDownMs ?? NaN)));
    console.log(summarize('detector detectUpMs', results.map((r) => r.metrics.detectUpMs ?? NaN)));
  });

  it('regression seeds still pass', async () => {
    for (const { scenario, seed } of REGRESSION_SEEDS) {
      const r = await runScenario(scenario, { seed });
      assert.ok(r.ok, explain(r));
    }
  });

  it('same seed gives an identical trace; another seed does not', async () => {
    for (const scenario of ['joins', 'chaos', 'detector'] as const) {
      const a = await runScenario(scenario, { seed: 4242 });
      const b = await runScenario(scenario, { seed: 4242 });
      const c = await runScenario(scenario, { seed: 4243 });
      assert.equal(a.traceHash, b.traceHash, `${scenario}: same seed, different trace`);
      assert.equal(a.simulatedMs, b.simulatedMs);
      assert.notEqual(a.traceHash, c.traceHash, `${scenario}: different seeds, same trace`);
    }
  });
});
