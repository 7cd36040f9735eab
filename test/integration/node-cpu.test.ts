// A node's own CPU figures: process CPU time and pid in /stats, and an
// on-demand V8 CPU profile over the admin channel (`admin.cpu-profile`,
// `rondo admin cpu-profile`), on one real node (TCP, LMDB) in this process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { adminCall, type AdminTarget } from '../../src/cli/admin.js';
import { resolveConfig } from '../../src/cli/config.js';
import { analyzeProfile } from '../../src/bench/cpu-roles.js';
import { InvalidArgumentError, OverloadError, RondoError } from '../../src/core/errors.js';
import type { CpuProfileData } from '../../src/core/host/cpu-profiler.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { BIN, tempDir, waitFor } from '../helpers/processes.js';

const SECRET = 'cpu-test-secret';
const THIS_FILE = fileURLToPath(import.meta.url);

/** Keeps the main thread busy for `ms`: the profile must show this function, at this file's line. */
function spinForProfile(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

/** Spins until this process has used `us` more CPU time (however long that takes on a loaded machine). */
function burnCpu(us: number): void {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
    const used = process.cpuUsage(start);
    if (used.user + used.system >= us) return;
  }
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Asynchronous: the node answering it runs in this process.
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('node CPU: /stats and admin cpu-profile', { timeout: 120_000 }, () => {
  const dir = tempDir('rondo-cpu-');
  let node: RunningNode;
  let base = '';
  let target: AdminTarget;

  before(async () => {
    node = await startNode(resolveConfig({ name: 'c1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir.path, 'c1'), clusterSecret: SECRET, logLevel: 'warn' }));
    base = `http://${node.httpAddress}`;
    target = { address: node.address, clusterSecret: SECRET };
  });
  after(async () => {
    await node.stop();
    dir.remove();
  });

  const stats = async (): Promise<Record<string, unknown>> => (await (await fetch(`${base}/stats`)).json()) as Record<string, unknown>;
  const someWrites = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${base}/buckets/cpu/keys/k${i}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: `v${i}`.repeat(100) });
      assert.equal(res.status, 204);
    }
  };

  it('/stats carries the process CPU time (µs, all threads) and pid, growing with work', async () => {
    const first = await stats();
    for (const field of ['process_cpu_user_us', 'process_cpu_system_us', 'pid']) {
      const value = first[field];
      assert.ok(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, `${field} is a non-negative integer, got ${String(value)}`);
    }
    assert.equal(first.pid, process.pid);
    await someWrites(50);
    burnCpu(30_000);
    const second = await stats();
    assert.ok((second.process_cpu_user_us as number) > (first.process_cpu_user_us as number), 'user CPU grew');
    assert.ok((second.process_cpu_system_us as number) >= (first.process_cpu_system_us as number), 'system CPU never shrinks');
    assert.ok((second.process_cpu_user_us as number) + (second.process_cpu_system_us as number) - (first.process_cpu_user_us as number) - (first.process_cpu_system_us as number) >= 20_000, 'the 30 ms of CPU burnt show');
  });

  it('profiles for the asked duration: samples, stack nodes mapped to TypeScript lines, CPU deltas', async () => {
    const profiling = adminCall({ ...target, timeoutMs: 20_000 }, { type: 'admin.cpu-profile', durationMs: 300 });
    let done = false;
    profiling.then(
      () => (done = true),
      () => (done = true),
    );
    // Work inside the window, until it ends: writes through the HTTP API and
    // spins of a known function, yielding between them so that the profile can end.
    for (let i = 0; !done; i++) {
      if (i < 20) await someWrites(1);
      spinForProfile(10);
      await new Promise((r) => setImmediate(r));
    }
    const reply = await profiling;
    const data = reply.data as CpuProfileData;
    assert.ok(data.profile.nodes.length > 1, 'stack nodes');
    const samples = data.profile.samples ?? [];
    // Few under load: V8's sampling thread, too, waits for a CPU.
    assert.ok(samples.length >= 10, `samples: ${samples.length}`);
    assert.equal(data.profile.timeDeltas?.length, samples.length);
    for (const field of ['cpuUserUs', 'cpuSystemUs'] as const) assert.ok(Number.isSafeInteger(data[field]) && data[field] >= 0, `${field} is a non-negative integer`);
    assert.ok(data.cpuUserUs + data.cpuSystemUs >= 10_000, `the spins count: ${data.cpuUserUs + data.cpuSystemUs} µs`);
    assert.ok(data.wallMs >= 295 && data.wallMs < 5_000, `wall ${data.wallMs} ms`);
    assert.equal(data.samplingIntervalUs, 500);
    assert.equal(data.pid, process.pid);
    if (existsSync(`/proc/self/task/${process.pid}/schedstat`)) {
      assert.ok(data.mainThread !== undefined && data.mainThread.cpuUs >= 10_000 && data.mainThread.runQueueWaitUs >= 0, `main thread figures on Linux: ${JSON.stringify(data.mainThread)}`);
      assert.ok(data.mainThread.cpuUs <= data.cpuUserUs + data.cpuSystemUs + 20_000, 'the main thread is part of the process');
    }
    assert.match(reply.lines.join('\n'), /CPU profile of c1 .* over \d+ ms: \d+ samples every 500 µs/);

    const spin = data.profile.nodes.find((n) => n.callFrame.functionName === 'spinForProfile');
    assert.ok(spin, 'the spin is in the profile');
    const declaredAt = readFileSync(THIS_FILE, 'utf8').split('\n').findIndex((line) => line.startsWith('function spinForProfile('));
    assert.equal(spin.callFrame.lineNumber, declaredAt, 'its line is the TypeScript line (0-based), not the compiled one');
    const breakdown = analyzeProfile(data.profile);
    assert.ok(breakdown.busyUs > 0 && breakdown.busyUs <= breakdown.sampledUs, `sampled busy ${breakdown.busyUs} µs`);
  });

  it('refuses a bad duration with invalid_argument, saying the range', async () => {
    for (const durationMs of [99, 120_001, 1.5, -1, '300', undefined]) {
      await assert.rejects(
        adminCall(target, { type: 'admin.cpu-profile', durationMs } as never),
        (err: unknown) => err instanceof InvalidArgumentError && /durationMs must be an integer from 100 to 120000/.test(err.message),
        `durationMs ${String(durationMs)}`,
      );
    }
  });

  it('runs one profile at a time; a profile whose requester went away ends and frees the node', async () => {
    const first = adminCall({ ...target, timeoutMs: 20_000 }, { type: 'admin.cpu-profile', durationMs: 400 });
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(adminCall(target, { type: 'admin.cpu-profile', durationMs: 100 }), (err: unknown) => err instanceof OverloadError && /already running on c1/.test(err.message));
    await first;

    // The client gives up after 300 ms of a 60 s profile and closes its connection.
    await assert.rejects(adminCall({ ...target, timeoutMs: 300 }, { type: 'admin.cpu-profile', durationMs: 60_000 }), (err: unknown) => err instanceof RondoError && err.code === 'timeout');
    const freedMs = await waitFor(async () => {
      try {
        await adminCall({ ...target, timeoutMs: 5_000 }, { type: 'admin.cpu-profile', durationMs: 100 });
        return true;
      } catch (err) {
        if (err instanceof OverloadError) return false;
        throw err;
      }
    }, 5_000, 50);
    assert.ok(freedMs >= 0, 'a new profile can start soon after the abandoned one');
  });

  it('rondo admin cpu-profile writes a .cpuprofile and prints the CPU figures; a bad --seconds exits 2', async () => {
    const out = join(dir.path, 'n.cpuprofile');
    const ok = await runCli(['admin', '--node', node.address, '--cluster-secret', SECRET, 'cpu-profile', '--seconds', '0.3', '--out', out]);
    assert.equal(ok.code, 0, ok.stderr);
    const profile = JSON.parse(readFileSync(out, 'utf8')) as { nodes: unknown[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
    assert.ok(profile.nodes.length > 0 && profile.samples.length > 0 && profile.timeDeltas.length === profile.samples.length);
    assert.ok(profile.endTime > profile.startTime);
    assert.match(ok.stdout, /process CPU \(all threads\): user [\d.]+ ms \+ system [\d.]+ ms/);
    assert.match(ok.stdout, /main thread, sampled: busy [\d.]+ ms, idle [\d.]+ ms/);
    assert.match(ok.stdout, new RegExp(`profile written to ${out}`));

    const bad = await runCli(['admin', '--node', node.address, '--cluster-secret', SECRET, 'cpu-profile', '--seconds', '0.05', '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /durationMs must be an integer from 100 to 120000/);
  });
});
