// What the KV simulation tests print: a failing seed with its replay command,
// and a metric summed over seeds.
interface SimResult {
  scenario: string;
  seed: number;
  problems: string[];
  traceTail: string[];
  metrics: Record<string, number>;
}

/** `durationMs` is what the test passed as --duration (the kv safety phase, the handoff phase). */
export function explain(r: SimResult, durationMs: number): string {
  return `${r.scenario} seed ${r.seed} failed (replay: npm run sim -- --scenario ${r.scenario} --seed ${r.seed} --duration ${durationMs / 1000}):\n${r.problems.join('\n')}\n${r.traceTail.slice(-15).join('\n')}`;
}

export function total(results: readonly SimResult[], metric: string): number {
  return results.reduce((sum, r) => sum + (r.metrics[metric] ?? 0), 0);
}
