// What a run leaves behind: CSV and text tables, the SVG plot, and compare's
// ratios. Results are made by hand (fixtures.ts), so no run is needed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compareResults, formatComparison } from '../../../src/bench/compare.js';
import { niceTicks, plotSvg } from '../../../src/bench/plot.js';
import { createProgress, formatProgress } from '../../../src/bench/progress.js';
import { formatResult, formatSummary, readResult, summaryCsv, toCsv } from '../../../src/bench/report.js';
import type { BenchProgress } from '../../../src/bench/runner.js';
import { tempDir } from '../../helpers/processes.js';
import { fakeResult } from './fixtures.js';

describe('bench reports', () => {
  it('the timeline CSV has one row per second under the documented header', () => {
    const lines = toCsv(fakeResult({ label: 'a', opsPerSec: 1000, scale: 1.23456, seconds: 3 })).trimEnd().split('\n');
    assert.equal(lines[0], 't_sec,ops_per_sec,errors,p50_ms,p99_ms');
    assert.deepEqual(lines.slice(1), ['1,1000,0,1.235,4.938', '2,1100,2,1.235,4.938', '3,1000,0,1.235,4.938']);
  });

  it('the summary CSV has a row per result and quotes labels that need it', () => {
    const withServer = { ...fakeResult({ label: 'say "pb"', opsPerSec: 2000, scale: 0.5 }), server: { processes: 3, cpuSec: 12.5, cpuUsPerOp: 312.34 } };
    const csv = summaryCsv([fakeResult({ label: 'rondo, http', opsPerSec: 1000, scale: 1 }), withServer]);
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines[0], 'label,driver,workload,ops_per_sec,p50_ms,p95_ms,p99_ms,p999_ms,max_ms,errors,generator_cpu_pct,server_cpu_us_per_op');
    assert.equal(lines[1], '"rondo, http",http,w50,1000,1,2,4,8,16,2,40,');
    assert.equal(lines[2], '"say ""pb""",http,w50,2000,0.5,1,2,4,8,2,40,312.3');
    assert.match(formatSummary([withServer]), /312\s*$/m, 'the table shows server CPU per operation');
  });

  it('the text tables align their columns and show every op', () => {
    const result = fakeResult({ label: 'rondo-http w50', opsPerSec: 1234, scale: 1 });
    result.notes.push('something to know');
    const text = formatResult(result);
    assert.match(text, /^rondo-http w50: http driver, workload w50/);
    const rows = text.split('\n').filter((line) => /^(op|get|put|all) /.test(line));
    assert.equal(rows.length, 4);
    assert.equal(new Set(rows.map((row) => row.length)).size, 1, 'rows are padded to one width');
    assert.match(text, /note: something to know/);
    const table = formatSummary([result, fakeResult({ label: 'b', opsPerSec: 99, scale: 2 })]);
    assert.equal(table.trimEnd().split('\n').length, 4);
    assert.match(table, /rondo-http w50 +http +w50 +1234/);
  });

  it('reads a result file back, and refuses what is not one', () => {
    const dir = tempDir('rondo-bench-report-');
    try {
      const good = join(dir.path, 'good.json');
      const result = fakeResult({ label: 'a', opsPerSec: 10, scale: 1 });
      writeFileSync(good, JSON.stringify(result));
      assert.deepEqual(readResult(good), result);
      const bad = join(dir.path, 'bad.json');
      writeFileSync(bad, JSON.stringify({ version: 2 }));
      assert.throws(() => readResult(bad), /bad\.json: not a bench result/);
      assert.throws(() => readResult(join(dir.path, 'missing.json')), /missing\.json/);
    } finally {
      dir.remove();
    }
  });
});

/** Every opened element is closed or self-closing, in order. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
}

describe('bench plot', () => {
  it('draws throughput and p50/p99 lines per result, with a legend', () => {
    const svg = plotSvg([fakeResult({ label: 'rondo <http>', opsPerSec: 5000, scale: 1 }), fakeResult({ label: 'rondo pb', opsPerSec: 9000, scale: 0.5, seconds: 8 })], 'W50 & friends');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assertBalanced(svg);
    assert.equal((svg.match(/<polyline class="throughput"/g) ?? []).length, 2);
    assert.equal((svg.match(/<polyline class="p50"/g) ?? []).length, 2);
    assert.equal((svg.match(/<polyline class="p99"[^>]*stroke-dasharray/g) ?? []).length, 2);
    assert.match(svg, /rondo &lt;http&gt;/);
    assert.match(svg, /W50 &amp; friends/);
    assert.match(svg, /time \(s\)/);
    assert.match(svg, /throughput \(ops\/s\)/);
    assert.match(svg, /latency \(ms/);
    assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
    const colours = new Set([...svg.matchAll(/class="throughput"[^>]*stroke="(#[0-9a-f]+)"/g)].map((m) => m[1]));
    assert.equal(colours.size, 2);
  });

  it('draws a result without a timeline flat, says so, and survives empty or zero data', () => {
    const wrk = fakeResult({ label: 'wrk run', opsPerSec: 7000, scale: 1, withTimeline: false });
    const svg = plotSvg([fakeResult({ label: 'node run', opsPerSec: 5000, scale: 1 }), wrk], 't');
    assertBalanced(svg);
    assert.match(svg, /wrk run \(no timeline/);
    const zero = fakeResult({ label: 'zero', opsPerSec: 0, scale: 0 });
    for (const results of [[wrk], [zero], []]) {
      const out = plotSvg(results, 'edge');
      assertBalanced(out);
      assert.doesNotMatch(out, /NaN|Infinity|undefined/);
    }
  });

  it('picks round ticks', () => {
    assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(niceTicks(0, 47), [0, 10, 20, 30, 40]);
    assert.deepEqual(niceTicks(0, 0.5), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  });
});

describe('bench compare', () => {
  it('gives ratios b/a and changes, overall and per op', () => {
    const a = fakeResult({ label: 'before', opsPerSec: 1000, scale: 2 });
    const b = fakeResult({ label: 'after', opsPerSec: 1500, scale: 1 });
    const { rows, workloadDifferences } = compareResults(a, b);
    const find = (scope: string, metric: string) => rows.find((r) => r.scope === scope && r.metric === metric);
    assert.deepEqual(find('all', 'ops/s'), { scope: 'all', metric: 'ops/s', a: 1000, b: 1500, ratio: 1.5, changePct: 50 });
    assert.equal(find('all', 'p99 ms')?.ratio, 0.5);
    assert.equal(find('all', 'p99 ms')?.changePct, -50);
    assert.equal(find('put', 'max ms')?.ratio, 0.5);
    assert.equal(find('get', 'ops/s')?.ratio, 1.5);
    for (const metric of ['p50 ms', 'p95 ms', 'p99.9 ms', 'errors']) assert.ok(find('get', metric), `get ${metric}`);
    assert.ok(find('all', 'generator CPU %'));
    assert.deepEqual(workloadDifferences, []);
    const text = formatComparison(compareResults(a, b));
    assert.match(text, /a: before\nb: after/);
    assert.match(text, /all +ops\/s +1000 +1500 +1\.500 +\+50\.0%/);
    assert.match(text, /all +p99 ms +8\.00 +4\.00 +0\.500 +-50\.0%/);
    assert.match(text, /errors +2 +2 +1\.000 +0\.0%/);
  });

  it('a zero in a gives no ratio, and different workloads are flagged', () => {
    const a = fakeResult({ label: 'a', opsPerSec: 0, scale: 1 });
    const b = fakeResult({ label: 'b', opsPerSec: 10, scale: 1 });
    b.workload = { ...b.workload, name: 'w95', mix: { get: 95, put: 5 } };
    const comparison = compareResults(a, b);
    assert.ok(Number.isNaN(comparison.rows[0]?.ratio));
    assert.deepEqual(comparison.workloadDifferences, ['name: "w50" vs "w95"', 'mix: {"get":50,"put":50} vs {"get":95,"put":5}']);
    const text = formatComparison(comparison);
    assert.match(text, /warning: workloads differ: mix/);
    assert.match(text, /all +ops\/s +0 +10 +- +-/);
  });
});

describe('bench progress line', () => {
  const progress = (elapsedSec: number, phase: BenchProgress['phase'] = 'measure'): BenchProgress => ({ phase, elapsedSec, totalSec: 20, last: { tSec: 1, opsPerSec: 1234.4, errors: 0, p50Ms: 1.234, p99Ms: 9.876 }, errors: 3, cpuPctOfOneCore: 41.6 });
  const sink = (isTTY: boolean) => {
    const written: string[] = [];
    return { stream: { isTTY, write: (text: string) => written.push(text) }, written };
  };

  it('says elapsed/total, ops/s, p50/p99 of the last second, errors and generator CPU', () => {
    assert.equal(formatProgress(progress(3.2)), 'measure 3/20 s: 1234 ops/s, p50 1.23 ms, p99 9.88 ms, errors 3, generator CPU 42%');
    assert.match(formatProgress({ ...progress(1, 'preload'), totalSec: undefined, done: 500, total: 10_000, last: undefined }), /^preload 500\/10000 ops: no full second yet/);
  });

  it('rewrites one line on a terminal, prints a line every 5 s (and per phase) elsewhere, nothing when quiet', () => {
    const tty = sink(true);
    const onTty = createProgress({ stream: tty.stream });
    onTty.update(progress(1));
    onTty.update(progress(2));
    onTty.done();
    assert.deepEqual(tty.written.map((w) => w.slice(0, 6)), ['\r\x1b[2Km', '\r\x1b[2Km', '\n']);
    const pipe = sink(false);
    const onPipe = createProgress({ stream: pipe.stream });
    for (let sec = 1; sec <= 11; sec++) onPipe.update(progress(sec, sec <= 2 ? 'warmup' : 'measure'));
    assert.deepEqual(pipe.written.map((w) => w.split(':')[0]), ['warmup  1/20 s', 'measure 3/20 s', 'measure 8/20 s']);
    assert.ok(pipe.written.every((w) => w.endsWith('\n') && !w.includes('\r')));
    const quiet = sink(true);
    createProgress({ stream: quiet.stream, quiet: true }).update(progress(1));
    assert.deepEqual(quiet.written, []);
  });
});
