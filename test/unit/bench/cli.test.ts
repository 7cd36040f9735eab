// `rondo bench` as a user runs it: a child process against an in-test stub
// server, writing result, CSV and plot; then compare and plot on the result;
// and a bad flag refused with exit code 2 and a message naming it.
// (An unreachable target is a PeerUnreachableError, tested in run-http.test.ts;
// main.ts maps every RondoError to exit code 2, as for the bad flag here.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BenchResult } from '../../../src/bench/types.js';
import { BIN, tempDir } from '../../helpers/processes.js';
import { startStubServer, type StubServer } from './stub-server.js';

const run = promisify(execFile);

/** Runs `rondo bench ...`; resolves with the exit code and output, whatever the code. */
async function rondoBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'bench', ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

// The two tests run at once: each waits mostly on child processes.
describe('rondo bench CLI', { timeout: 30_000, concurrency: true }, () => {
  const dir = tempDir('rondo-bench-cli-');
  const file = (name: string): string => join(dir.path, name);
  let stub: StubServer;

  before(async () => {
    stub = await startStubServer();
  });
  after(async () => {
    await stub?.close();
    dir.remove();
  });

  it('run writes the result, the timeline CSV and the plot; compare and plot read them', async () => {
    const first = await rondoBench(['run', '--targets', stub.address, '--workload', 'quick-w50', '--count', '300', '--keys', '100', '--concurrency', '4', '--warmup', '0', '--param', 'w=2', '--label', 'first', '--out', file('a.json'), '--csv', file('a.csv'), '--plot', file('a.svg')]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /wrote the result to/);
    assert.match(first.stdout, /^first: http driver, workload quick-w50/);
    assert.match(first.stdout, /\nall +300 /);
    const result = JSON.parse(readFileSync(file('a.json'), 'utf8')) as BenchResult;
    assert.equal(result.totalOps, 300);
    assert.equal(result.errors, 0);
    assert.equal(result.workload.keys, 100);
    assert.match(readFileSync(file('a.csv'), 'utf8'), /^t_sec,ops_per_sec,errors,p50_ms,p99_ms\n\d/);
    assert.match(readFileSync(file('a.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\n$/);
    assert.ok(stub.queries.has('w=2'));
    // A second result to compare with: the first, relabelled, on another key generator and twice as fast.
    const second: BenchResult = { ...result, label: 'second', workload: { ...result.workload, keyGen: 'pareto' }, opsPerSec: result.opsPerSec * 2 };
    writeFileSync(file('b.json'), JSON.stringify(second));

    // (summary's table and CSV are tested without a process, in outputs.test.ts: each process costs a second of CPU.)
    const [compare, plot] = await Promise.all([
      rondoBench(['compare', file('a.json'), file('b.json')]),
      rondoBench(['plot', file('a.json'), file('b.json'), '--out', file('ab.svg'), '--title', 'a vs b']),
    ]);
    assert.equal(compare.code, 0, compare.stderr);
    assert.match(compare.stdout, /a: first\nb: second/);
    assert.match(compare.stdout, /warning: workloads differ: keyGen/);
    assert.match(compare.stdout, /all +ops\/s +\d+ +\d+ +2\.000 +\+100\.0%/);
    assert.equal(plot.code, 0, plot.stderr);
    assert.ok(existsSync(file('ab.svg')));
    assert.match(readFileSync(file('ab.svg'), 'utf8'), /a vs b[\s\S]*first[\s\S]*second/);
  });

  it('a bad flag exits 2 with a message naming it', async () => {
    const zipf = await rondoBench(['run', '--targets', stub.address, '--key-gen', 'zipf', '--count', '10']);
    assert.equal(zipf.code, 2);
    assert.match(zipf.stderr, /keyGen.*zipf/);
    assert.equal(zipf.stdout, '');
  });
});
