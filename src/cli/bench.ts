// `rondo bench`: run a workload against servers, then compare, plot and
// summarise result files. Parsing and printing only; the engine is src/bench.
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { compareResults, formatComparison } from '../bench/compare.js';
import { driverFactory } from '../bench/drivers/index.js';
import { plotSvg } from '../bench/plot.js';
import { createProgress } from '../bench/progress.js';
import { formatResult, formatSummary, readResult, summaryCsv, toCsv } from '../bench/report.js';
import { runBench } from '../bench/runner.js';
import { resolveWorkload, type WorkloadFlags } from '../bench/workload.js';

/** Where `rondo dev` listens by default, per driver. */
const DEFAULT_TARGETS: Record<string, string> = {
  http: '127.0.0.1:8098,127.0.0.1:8099,127.0.0.1:8100',
  pb: '127.0.0.1:8087,127.0.0.1:8088,127.0.0.1:8089',
};
const SEED_DEFAULT = 42;
const TIMEOUT_MS_DEFAULT = 5000;

interface RunFlags extends WorkloadFlags {
  driver: string;
  targets?: string;
  param: string[];
  bucket: string;
  timeoutMs: string;
  seed: string;
  label?: string;
  out?: string;
  csv?: string;
  plot?: string;
  quiet?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`--${flag}: expected a positive integer, got "${text}"`);
  return value;
}

function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`--param: expected name=value, got "${pair}"`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

function writeOutput(path: string, text: string, what: string): void {
  writeFileSync(path, text);
  process.stderr.write(`wrote ${what} to ${path}\n`);
}

async function run(flags: RunFlags): Promise<void> {
  const spec = resolveWorkload(flags);
  const factory = driverFactory(flags.driver);
  const targetList = flags.targets ?? DEFAULT_TARGETS[flags.driver];
  if (!targetList) throw new InvalidArgumentError(`--targets: the ${flags.driver} driver has no default; give host:port[,host:port...]`);
  const targets = targetList.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const driver = factory({ targets, bucket: flags.bucket, timeoutMs: positiveInteger('timeout-ms', flags.timeoutMs), params: parseParams(flags.param) });
  const seed = Number(flags.seed);
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`--seed: expected an integer, got "${flags.seed}"`);
  const progress = createProgress({ stream: process.stderr, quiet: flags.quiet });
  const aborter = new AbortController();
  const onSigint = (): void => aborter.abort();
  process.once('SIGINT', onSigint);
  try {
    const result = await runBench(spec, driver, { label: flags.label ?? `${driver.name} ${spec.name}`, seed, signal: aborter.signal, targets, onProgress: (p) => progress.update(p) });
    progress.done();
    process.stdout.write(formatResult(result));
    if (flags.out) writeOutput(flags.out, `${JSON.stringify(result, null, 2)}\n`, 'the result');
    if (flags.csv) writeOutput(flags.csv, toCsv(result), 'the timeline CSV');
    if (flags.plot) writeOutput(flags.plot, plotSvg([result], result.label), 'the plot');
  } finally {
    progress.done();
    process.off('SIGINT', onSigint);
  }
}

export function benchCommand(): Command {
  const bench = new Command('bench').description('load generator in the spirit of basho_bench: run a workload, then compare, plot and summarise results');
  bench
    .command('run')
    .description('run a workload against servers and print the latency and throughput table')
    .option('--driver <name>', "protocol: http or pb (Rondo's Riak APIs), etcd (v3 JSON gateway) or redis (RESP); etcd and redis need --targets", 'http')
    .option('--targets <list>', 'host:port,host:port,... (default: the ports of `rondo dev` for the driver)')
    .option('--workload <name|file>', 'a standard workload (w50, w95, w50-1m, w95-1m, quick-w50, quick-w95) or a JSON file; flags below override its fields')
    .option('--keys <n>', 'size of the key space (keys k0..k<n-1>)')
    .option('--key-gen <kind>', 'uniform, pareto (80/20) or sequential')
    .option('--value-bytes <n>', 'size of each value written')
    .option('--mix <weights>', 'operation weights, e.g. get=95,put=5')
    .option('--concurrency <n>', 'clients, each with one operation in flight')
    .option('--duration <sec>', 'measure for this long (or give --count)')
    .option('--count <n>', 'measure this many operations (or give --duration)')
    .option('--warmup <sec>', 'run this long, unrecorded, before measuring')
    .option('--preload', 'write every key once before the warm-up')
    .option('--no-preload', 'do not preload')
    .option('--param <name=value>', 'driver parameter, repeatable: r=2, w=2, pr, pw, dw (HTTP: any query parameter)', collect, [])
    .option('--bucket <name>', 'bucket to read and write', 'bench')
    .option('--timeout-ms <ms>', 'per-operation deadline; a late reply is an error', String(TIMEOUT_MS_DEFAULT))
    .option('--seed <n>', 'seed of the key and operation choices', String(SEED_DEFAULT))
    .option('--label <text>', 'name of this run in tables and plots (default: "<driver> <workload>")')
    .option('--out <file>', 'write the result as JSON (for compare, plot, summary)')
    .option('--csv <file>', 'write the per-second timeline as CSV')
    .option('--plot <file>', 'write an SVG plot of the timeline')
    .option('--quiet', 'no progress line')
    .action((flags: RunFlags) => run(flags));
  bench
    .command('compare <a> <b>')
    .description('compare two result files: a, b, b/a and change, overall and per operation')
    .action((a: string, b: string) => {
      process.stdout.write(formatComparison(compareResults(readResult(a), readResult(b))));
    });
  bench
    .command('plot <files...>')
    .description('plot throughput and latency over time of one or more result files as SVG')
    .requiredOption('--out <file>', 'SVG file to write')
    .option('--title <text>', 'title of the plot', 'rondo bench')
    .action((files: string[], opts: { out: string; title: string }) => {
      writeOutput(opts.out, plotSvg(files.map(readResult), opts.title), 'the plot');
    });
  bench
    .command('summary <files...>')
    .description('one table row per result file')
    .option('--csv <file>', 'also write the rows as CSV')
    .action((files: string[], opts: { csv?: string }) => {
      const results = files.map(readResult);
      process.stdout.write(formatSummary(results));
      if (opts.csv) writeOutput(opts.csv, summaryCsv(results), 'the summary CSV');
    });
  return bench;
}
