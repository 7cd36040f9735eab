// `npm run test:faults [-- --time 600 --nemesis partition,kill,pause,skew,slow,membership --workload ... --seed N]`
//
// One fault run: build the lab (a namespace per node), start and form the
// cluster, run the workloads' clients while the nemesis injects faults for
// --time seconds, heal everything, wait for the ring and handoffs to settle,
// read every key back at R=all, check the history, print the summary table,
// and keep the history (and node logs) under --out. Exit code 0 only when
// every checker passes and no node crashed.
//
// `--check <history.json>` re-runs the checkers on a saved history.
import { Command } from 'commander';
import { setMaxListeners } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Prng } from '../../src/core/sim/prng.js';
import { REPO } from '../helpers/processes.js';
import { passes, type CheckResult } from './checkers.js';
import { FaultCluster, type FaultNode } from './cluster.js';
import { History, outcome, pairs, type HistoryFile, type Op } from './history.js';
import { Lab, labUnavailableReason } from './lab.js';
import { Nemesis, NEMESIS_KINDS, type NemesisKind } from './nemesis.js';
import { makeWorkload, WORKLOAD_NAMES, type Workload, type WorkloadName } from './workloads.js';

const FORM_TIMEOUT_MS = 120_000;
/** After healing: the ring must settle and handoffs go quiet within this long, or transfers count as stuck. */
const SETTLE_TIMEOUT_MS = 240_000;
/** Handoffs count as done once no node has a transfer running or waiting for this long. */
const TRANSFERS_QUIET_MS = 5_000;
const TYPE_READY_TIMEOUT_MS = 30_000;

interface RunOptions {
  timeS: number;
  nemesis: NemesisKind[];
  workloads: WorkloadName[];
  seed: number;
  nodes: number;
  ringSize: number;
  out: string;
}

function parseList<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const list = value === 'all' ? [...allowed] : value === 'none' ? [] : value.split(',').map((s) => s.trim());
  for (const item of list) if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}"; one of ${allowed.join(', ')}, all, none`);
  return list as T[];
}

function banner(text: string): void {
  const line = '!'.repeat(78);
  process.stderr.write(`\n${line}\n${text.split('\n').map((l) => `!! ${l}`).join('\n')}\n${line}\n\n`);
}

function log(text: string): void {
  process.stdout.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

async function createBucketTypes(steady: FaultNode, workloads: Workload[], clientNodes: FaultNode[]): Promise<void> {
  const types = new Map(workloads.map((w) => [w.bucketType.name, w.bucketType.props]));
  for (const [name, props] of types) {
    await steady.admin({ type: 'bucket-type.create', name, props: JSON.stringify({ props }) });
    const deadline = performance.now() + TYPE_READY_TIMEOUT_MS;
    for (;;) {
      try {
        await steady.admin({ type: 'bucket-type.activate', name });
        break;
      } catch (err) {
        if (performance.now() > deadline) throw new Error(`bucket type ${name} did not activate: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  // Every client node must see every type active before the clients start.
  for (const node of new Set([steady, ...clientNodes])) {
    for (const name of types.keys()) {
      const deadline = performance.now() + TYPE_READY_TIMEOUT_MS;
      while (((await node.admin({ type: 'bucket-type.status', name })).data as { status?: string } | undefined)?.status !== 'active') {
        if (performance.now() > deadline) throw new Error(`${node.name} does not see bucket type ${name} active`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

/** Waits until the ring has settled on the members the steady node sees and no node reports a transfer for TRANSFERS_QUIET_MS. */
async function settle(cluster: FaultCluster, steady: FaultNode, spare: FaultNode | undefined): Promise<{ ok: boolean; why: string }> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let quietSince: number | undefined;
  let why = 'not checked yet';
  while (performance.now() < deadline) {
    try {
      const members = (await steady.members()).map((m) => m.name);
      const leftButRunning = spare !== undefined && !members.includes(spare.name) && spare.running;
      if (leftButRunning) why = `${spare.name} left but is still running (handing off)`;
      else if (!(await cluster.ringSettled(members))) why = `ring not settled on ${members.join(', ')}`;
      else {
        const report = (await steady.admin({ type: 'handoff.transfers' })).data as { nodes?: { node: string; rows: unknown[]; error?: string }[] } | undefined;
        const busy = (report?.nodes ?? []).filter((n) => n.rows.length > 0 || n.error !== undefined);
        // Transfers waiting for a slot or a retry show in no report row, only in handoff_pending.
        const waiting = [];
        for (const node of cluster.nodes.filter((n) => n.running)) if (((await node.stats()).handoff_pending ?? 1) > 0) waiting.push(node.name);
        if (report?.nodes === undefined) why = 'no transfers report';
        else if (busy.length > 0) why = `transfers running on ${busy.map((n) => `${n.node}${n.error ? ` (${n.error})` : ` (${n.rows.length})`}`).join(', ')}`;
        else if (waiting.length > 0) why = `transfers waiting on ${waiting.join(', ')}`;
        else {
          quietSince ??= performance.now();
          if (performance.now() - quietSince >= TRANSFERS_QUIET_MS) return { ok: true, why: 'settled' };
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
      }
    } catch (err) {
      why = `admin: ${(err as Error).message}`;
    }
    quietSince = undefined;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return { ok: false, why: `not settled after ${SETTLE_TIMEOUT_MS} ms: ${why}` };
}

function nemesisCounts(ops: readonly Op[]): string {
  const counts = new Map<string, { ok: number; failed: number }>();
  for (const p of pairs(ops, (op) => op.process.startsWith('nemesis'))) {
    if (p.invoke.f.startsWith('heal-')) continue;
    const c = counts.get(p.invoke.f) ?? { ok: 0, failed: 0 };
    if (outcome(p) === 'ok') c.ok++;
    else c.failed++;
    counts.set(p.invoke.f, c);
  }
  return [...counts].map(([f, c]) => `${f} ${c.ok}${c.failed > 0 ? ` (+${c.failed} failed)` : ''}`).join(', ') || 'none';
}

export function summaryTable(results: CheckResult[]): string {
  const header = ['workload', 'ok', 'failed', 'unknown', 'lost', 'duplicated', 'violations', 'verdict'];
  const rows = results.map((r) => [r.workload, r.ok, r.failed, r.unknown, r.lost, r.duplicated, r.violations, passes(r) ? (r.lossFails ? 'pass' : 'pass (losses measured)') : 'FAIL'].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w - 1)}:-`)).join('|')}|`, ...rows.map(line)];
  for (const r of results) out.push(`  ${r.workload}: ${Object.entries(r.figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return out.join('\n');
}

function report(ops: readonly Op[], workloads: Workload[], extraProblems: string[]): { text: string; ok: boolean; results: CheckResult[] } {
  const results = workloads.map((w) => w.check(ops));
  const lines = [summaryTable(results), `  nemesis: ${nemesisCounts(ops)}`];
  for (const r of results) for (const p of r.problems) lines.push(`  ${r.workload}: ${p}`);
  for (const p of extraProblems) lines.push(`  run: ${p}`);
  return { text: lines.join('\n'), ok: results.every(passes) && extraProblems.length === 0, results };
}

async function runFaults(o: RunOptions): Promise<boolean> {
  const unavailable = labUnavailableReason();
  if (unavailable !== undefined) {
    const required = process.env.RONDO_FAULTS_REQUIRED === '1';
    banner(`FAULT SUITE ${required ? 'CANNOT RUN' : 'SKIPPED'}: ${unavailable}.\nIt needs root, iproute2, iptables and (for clock skew) faketime: .ci/run installs them.${required ? '\nRONDO_FAULTS_REQUIRED=1, so this is a failure.' : ''}`);
    return !required;
  }
  mkdirSync(o.out, { recursive: true });
  const random = new Prng(o.seed);
  const workloads = o.workloads.map(makeWorkload);
  const membership = o.nemesis.includes('membership');
  log(`seed ${o.seed}, ${o.timeS} s, nemesis ${o.nemesis.join(',') || 'none'}, workloads ${o.workloads.join(',')}; history and logs in ${o.out}`);
  const lab = Lab.create(o.nodes);
  const cluster = new FaultCluster({ lab, runDir: o.out, members: membership ? o.nodes - 1 : o.nodes, ringSize: o.ringSize });
  const history = new History();
  const problems: string[] = [];
  try {
    if (o.nemesis.includes('skew') && !cluster.hasClockControl) throw new Error('the skew nemesis needs libfaketime (apt-get install faketime)');
    if (o.nemesis.includes('slow') && !lab.hasNetem) log('this kernel has no netem qdisc: slow links are a tbf rate limit plus random iptables drops (no added delay or reordering)');
    const started = performance.now();
    await cluster.form(FORM_TIMEOUT_MS);
    const members = cluster.nodes.slice(0, membership ? o.nodes - 1 : o.nodes);
    const [steady, ...others] = members as [FaultNode, ...FaultNode[]];
    const spare = membership ? cluster.nodes.at(-1) : undefined;
    log(`cluster of ${members.length} formed in ${((performance.now() - started) / 1000).toFixed(1)} s (${lab.hosts.map((h) => `${h.name} ${h.ip}`).join(', ')})${spare ? `; ${spare.name} is the spare` : ''}`);
    await createBucketTypes(steady, workloads, members);
    const stop = new AbortController();
    setMaxListeners(64, stop.signal); // every client and nemesis loop waits on it
    const env = { history, clientNodes: members, steadyNode: steady, random: random.fork('clients'), signal: stop.signal };
    const nemesis = new Nemesis({ kinds: new Set(o.nemesis), lab, cluster, history, random: random.fork('nemesis'), targets: others, steady, spare });
    const timer = setTimeout(() => stop.abort(), o.timeS * 1000);
    const progress = setInterval(() => log(`${history.ops.length} ops so far; nemesis: ${nemesisCounts(history.ops)}`), 15_000);
    try {
      await Promise.all([...workloads.map((w) => w.run(env)), nemesis.run(stop.signal)]);
    } finally {
      clearTimeout(timer);
      clearInterval(progress);
    }
    log(`clients stopped after ${o.timeS} s (${history.ops.length} ops); healing`);
    await nemesis.healAll();
    const settleDone = history.invoke('final/handoff/settle', 'settle');
    const settled = await settle(cluster, steady, spare);
    settleDone(settled.ok ? 'ok' : 'fail', settled.ok ? {} : { error: settled.why });
    log(settled.ok ? `ring settled and handoffs quiet after ${((performance.now() - started) / 1000).toFixed(1)} s of run` : `NOT SETTLED: ${settled.why}`);
    if (!settled.ok && !workloads.some((w) => w.name === 'handoff')) problems.push(settled.why);
    for (const w of workloads) await w.finalRead(env);
    log('final reads done');
  } catch (err) {
    problems.push(`harness: ${(err as Error).stack ?? String(err)}`);
  } finally {
    for (const node of cluster.nodes) problems.push(...node.unexpectedExits);
    await cluster.stop();
    lab.destroy();
  }
  history.write(join(o.out, 'history.json'), { ...o });
  const { text, ok, results } = report(history.ops, workloads, problems);
  writeFileSync(join(o.out, 'summary.txt'), `${text}\n`);
  writeFileSync(join(o.out, 'summary.json'), JSON.stringify({ options: o, ok, results, problems }, null, 2));
  process.stdout.write(`\n${text}\n\n${ok ? 'PASS' : 'FAIL'} (seed ${o.seed}); history: ${join(o.out, 'history.json')}\n`);
  if (ok) rmSync(join(o.out, 'data'), { recursive: true, force: true });
  return ok;
}

function recheck(path: string): boolean {
  const file = JSON.parse(readFileSync(path, 'utf8')) as HistoryFile;
  const names = (file.options.workloads as WorkloadName[] | undefined) ?? [...WORKLOAD_NAMES];
  const { text, ok } = report(file.ops, names.map(makeWorkload), []);
  process.stdout.write(`${text}\n\n${ok ? 'PASS' : 'FAIL'}\n`);
  return ok;
}

const program = new Command();
program
  .name('test:faults')
  .option('--time <s>', 'seconds of faults and client load', '60')
  .option('--nemesis <kinds>', `comma-separated: ${NEMESIS_KINDS.join(', ')}, all or none`, 'all')
  .option('--workload <names>', `comma-separated: ${WORKLOAD_NAMES.join(', ')} or all`, 'all')
  .option('--seed <n>', 'seed for every random choice (default: from the clock, printed)')
  .option('--nodes <n>', 'nodes, one per namespace (the last is the spare when membership is on)', '5')
  .option('--ring-size <n>', 'partitions in the ring', '32')
  .option('--out <dir>', 'where the history, summary and node logs go (default faults-results/<time>-seed<seed>)')
  .option('--check <history>', 'only re-check a saved history.json')
  .action(async (opts: { time: string; nemesis: string; workload: string; seed?: string; nodes: string; ringSize: string; out?: string; check?: string }) => {
    if (opts.check) {
      process.exitCode = recheck(opts.check) ? 0 : 1;
      return;
    }
    const seed = opts.seed === undefined ? Date.now() % 1_000_000 : Number(opts.seed);
    const timeS = Number(opts.time);
    const nodes = Number(opts.nodes);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer');
    if (!(timeS > 0)) throw new Error('--time must be positive');
    if (!Number.isInteger(nodes) || nodes < 3 || nodes > 9) throw new Error('--nodes must be 3..9');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const out = resolve(opts.out ?? join(REPO, 'faults-results', `${stamp}-seed${seed}`));
    const ok = await runFaults({ timeS, nemesis: parseList(opts.nemesis, NEMESIS_KINDS, 'nemesis'), workloads: parseList(opts.workload, WORKLOAD_NAMES, 'workload'), seed, nodes, ringSize: Number(opts.ringSize), out });
    process.exitCode = ok ? 0 : 1;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`test:faults: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
