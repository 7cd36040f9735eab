// `npm run sim -- --seed 7 --nodes 5 --duration 20 [--scenario chaos]` runs one
// scenario; `npm run sim:campaign -- --seeds 10000` runs many seeds of every
// scenario. A failure prints the seed and the exact command that replays it.
// The KV scenarios ('kv' and 'handoff', src/kv/scenarios) run beside the
// cluster ones; for 'handoff', --duration is each phase's length.
import { Command } from 'commander';
import { runScenario, SCENARIOS, type ScenarioOptions, type ScenarioName } from '../core/scenarios/scenarios.js';
import { runHandoffScenario } from '../kv/scenarios/handoff-scenario.js';
import { runKvScenario, type KvScenarioResult } from '../kv/scenarios/kv-scenario.js';

type AnyScenario = ScenarioName | 'kv' | 'handoff';
const ALL_SCENARIOS: readonly AnyScenario[] = [...SCENARIOS, 'kv', 'handoff'];
type AnyResult = { scenario: AnyScenario } & Omit<KvScenarioResult, 'scenario'>;

function runAny(name: AnyScenario, opts: ScenarioOptions): Promise<AnyResult> {
  if (name === 'handoff') return runHandoffScenario({ seed: opts.seed, ...(opts.durationMs ? { phaseMs: opts.durationMs } : {}), ...(opts.verbose ? { verbose: true } : {}) });
  if (name !== 'kv') return runScenario(name, opts);
  return runKvScenario({ seed: opts.seed, ...(opts.nodes ? { nodes: opts.nodes } : {}), ...(opts.durationMs ? { durationMs: opts.durationMs } : {}), ...(opts.verbose ? { verbose: true } : {}) });
}

function replayCommand(r: AnyResult, nodes: number | undefined, durationS: number | undefined): string {
  return `npm run sim -- --scenario ${r.scenario} --seed ${r.seed}${nodes ? ` --nodes ${nodes}` : ''}${durationS ? ` --duration ${durationS}` : ''}`;
}

function printFailure(r: AnyResult, nodes: number | undefined, durationS: number | undefined): void {
  process.stdout.write(`FAIL ${r.scenario} seed=${r.seed} traceHash=${r.traceHash}\n`);
  for (const p of r.problems) process.stdout.write(`  - ${p}\n`);
  process.stdout.write(`  last trace lines:\n${r.traceTail.map((l) => `    ${l}`).join('\n')}\n`);
  process.stdout.write(`  replay: ${replayCommand(r, nodes, durationS)}\n`);
}

function parseScenarios(value: string): AnyScenario[] {
  const list = value === 'all' ? [...ALL_SCENARIOS] : value.split(',');
  for (const s of list) if (!ALL_SCENARIOS.includes(s as AnyScenario)) throw new Error(`unknown scenario ${s}; one of ${ALL_SCENARIOS.join(', ')}, all`);
  return list as AnyScenario[];
}

const program = new Command();
// Options after `campaign` are the campaign's own (both define --scenario and --nodes).
program.enablePositionalOptions();
program
  .name('sim')
  .option('--scenario <names>', `comma-separated: ${ALL_SCENARIOS.join(', ')} or all`, 'all')
  .option('--seed <n>', 'seed', '1')
  .option('--nodes <n>', 'nodes in the cluster')
  .option('--duration <s>', 'simulated seconds of faults (chaos, kv)')
  .option('--verbose', 'echo node logs')
  .action(async (opts: { scenario: string; seed: string; nodes?: string; duration?: string; verbose?: boolean }) => {
    const nodes = opts.nodes ? Number(opts.nodes) : undefined;
    const durationS = opts.duration ? Number(opts.duration) : undefined;
    let failed = 0;
    for (const scenario of parseScenarios(opts.scenario)) {
      const r = await runAny(scenario, { seed: Number(opts.seed), ...(nodes ? { nodes } : {}), ...(durationS ? { durationMs: durationS * 1000 } : {}), ...(opts.verbose ? { verbose: true } : {}) });
      process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${scenario} seed=${r.seed} simulated=${r.simulatedMs}ms traceHash=${r.traceHash.slice(0, 16)} ${JSON.stringify(r.metrics)}\n`);
      if (!r.ok) {
        failed++;
        printFailure(r, nodes, durationS);
      }
    }
    process.exitCode = failed > 0 ? 1 : 0;
  });

program
  .command('campaign')
  .option('--scenario <names>', 'scenarios', 'all')
  .option('--seeds <n>', 'how many seeds per scenario', '1000')
  .option('--first-seed <n>', 'first seed', '1')
  .option('--nodes <n>', 'nodes in the cluster')
  .action(async (opts: { scenario: string; seeds: string; firstSeed: string; nodes?: string }) => {
    const nodes = opts.nodes ? Number(opts.nodes) : undefined;
    const started = performance.now();
    let runs = 0;
    const failures: AnyResult[] = [];
    for (const scenario of parseScenarios(opts.scenario)) {
      for (let seed = Number(opts.firstSeed); seed < Number(opts.firstSeed) + Number(opts.seeds); seed++) {
        const r = await runAny(scenario, { seed, ...(nodes ? { nodes } : {}) });
        runs++;
        if (!r.ok) {
          failures.push(r);
          printFailure(r, nodes, undefined);
        }
        if (runs % 100 === 0) process.stdout.write(`${runs} runs, ${failures.length} failed, ${(runs / ((performance.now() - started) / 1000)).toFixed(1)} runs/s\n`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`campaign: ${runs} runs in ${seconds.toFixed(1)} s (${(runs / seconds).toFixed(1)} runs/s), ${failures.length} failed\n`);
    for (const f of failures) process.stdout.write(`  failing seed: ${replayCommand(f, nodes, undefined)}\n`);
    process.exitCode = failures.length > 0 ? 1 : 0;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
