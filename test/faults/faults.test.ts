// The short fault run, as `npm test` (and so CI) runs it: every nemesis and
// every workload for FAULTS_TEST_TIME_S seconds on real processes in network
// namespaces (test/faults/run.ts; `npm run test:faults -- --time 600` runs a
// long one). The run is a child process so that its own signal handling
// cleans up namespaces and nodes even if this test is cancelled.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/processes.js';
import { labUnavailableReason } from './lab.js';

const FAULTS_TEST_TIME_S = Number(process.env.RONDO_FAULTS_TIME_S ?? 60);
/** Setup, healing, settling and final reads come on top of the faults' time. */
const RUN_BOUND_MS = FAULTS_TEST_TIME_S * 1000 + 420_000;

const unavailable = labUnavailableReason();
if (unavailable !== undefined) {
  process.stderr.write(`\n!!! FAULT SUITE SKIPPED: ${unavailable} !!!\n\n`);
  if (process.env.RONDO_FAULTS_REQUIRED === '1') throw new Error(`RONDO_FAULTS_REQUIRED=1 but the fault suite cannot run: ${unavailable}`);
}

describe('fault suite (short run)', { skip: unavailable, timeout: RUN_BOUND_MS + 60_000 }, () => {
  it(`all nemeses, all workloads, ${FAULTS_TEST_TIME_S} s: nothing acknowledged lost on allow_mult, session guarantees hold, handoff settles`, async () => {
    const out = mkdtempSync(join(tmpdir(), 'rondo-faults-'));
    {
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/faults/run.ts'), '--time', String(FAULTS_TEST_TIME_S), '--out', out], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
      const killer = setTimeout(() => {
        child.kill('SIGTERM'); // the run cleans up on SIGTERM
        setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
      }, RUN_BOUND_MS);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(killer);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { ok: boolean; results: { workload: string; ok: number; lost: number; violations: number }[]; problems: string[] };
      assert.deepEqual(summary.problems, [], 'the run itself had problems');
      for (const r of summary.results) assert.ok(r.ok > 0, `${r.workload}: no operation succeeded, so nothing was tested`);
      assert.equal(summary.ok, true, 'a checker failed: see the table above');
      assert.equal(code, 0);
    }
    rmSync(out, { recursive: true, force: true }); // kept when the run failed, for its history and node logs
  });
});
