// The KV simulation scenario (issue 3, "Done when") over a fixed set of seeds:
// clients writing with contexts under crashes, partitions, clogs, drops,
// duplicates and delays, then heal: no acknowledged write lost, siblings only
// for concurrent writes, replicas converge. CI runs an 8 s safety phase
// (KV_SAFETY_MS_CI) so 200 seeds stay near a minute on two cores;
// `npm run sim:campaign -- --scenario kv` runs the full 20 s.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runKvScenario, type KvScenarioResult } from '../../src/kv/scenarios/kv-scenario.js';
import { KV_REGRESSION_SEEDS } from './regression-seeds.js';
import { explain, total } from './report.js';

const SEEDS = Number(process.env.RONDO_SIM_SEEDS ?? 200);
const KV_SAFETY_MS_CI = 8_000;

describe('KV simulation: N=3 R=2 W=2, allow_mult, faults then heal', { timeout: 15 * 60_000 }, () => {
  it(`no acknowledged write lost, no false siblings, replicas converge: ${SEEDS} seeds`, async () => {
    const results: KvScenarioResult[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runKvScenario({ seed, durationMs: KV_SAFETY_MS_CI });
      assert.ok(r.ok, explain(r, KV_SAFETY_MS_CI));
      results.push(r);
    }
    const siblingsMax = Math.max(...results.map((r) => r.metrics.siblingsMax ?? 0));
    console.log(`kv: ${results.length} seeds, acked ${total(results, 'acked')}, failed ${total(results, 'failed')}, unknown ${total(results, 'unknown')}, lost ${total(results, 'lost')}, siblings max ${siblingsMax}, hinted-only ${total(results, 'hintedOnly')}, crashes ${total(results, 'crashes')}`);
    assert.equal(total(results, 'lost'), 0);
    assert.ok(total(results, 'acked') > 0, 'the workload acknowledged writes');
    assert.ok(siblingsMax > 1, 'concurrent writers made siblings somewhere');
  });

  it('regression seeds still pass', async () => {
    for (const { seed, durationMs } of KV_REGRESSION_SEEDS) {
      const r = await runKvScenario({ seed, durationMs });
      assert.ok(r.ok, explain(r, durationMs));
    }
  });

  it('same seed gives an identical trace; another seed does not', async () => {
    const a = await runKvScenario({ seed: 4242, durationMs: 5_000 });
    const b = await runKvScenario({ seed: 4242, durationMs: 5_000 });
    const c = await runKvScenario({ seed: 4243, durationMs: 5_000 });
    assert.equal(a.traceHash, b.traceHash, 'same seed, different trace');
    assert.equal(a.simulatedMs, b.simulatedMs);
    assert.deepEqual(a.metrics, b.metrics);
    assert.notEqual(a.traceHash, c.traceHash, 'different seeds, same trace');
  });
});
