// Real node processes for multi-process tests. Every process started here is
// tracked by PID and killed when the test ends, fails, or the runner exits.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const BIN = join(REPO, 'bin', 'rondo.mjs');

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface NodeProcess {
  name: string;
  address: string;
  logPath: string;
  child: ChildProcess;
}

export function startNodeProcess(opts: { name: string; address: string; dataDir: string; secret: string; clusterName?: string; extraArgs?: string[] }): NodeProcess {
  const logPath = join(opts.dataDir, `${opts.name}.log`);
  const log = openSync(logPath, 'a');
  const args = [BIN, 'start', '--name', opts.name, '--listen', opts.address, '--data', join(opts.dataDir, opts.name), '--cluster-secret', opts.secret, '--cluster-name', opts.clusterName ?? 'rondo-test', ...(opts.extraArgs ?? [])];
  // RONDO_NODE_CPU_PROF_DIR=dir: each node writes a V8 CPU profile there when it exits (finding the hot path in benchmarks).
  const profile = process.env.RONDO_NODE_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.RONDO_NODE_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, ...args], { stdio: ['ignore', log, log] });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return { name: opts.name, address: opts.address, logPath, child };
}

export async function stopProcess(proc: NodeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.child.once('exit', () => r()));
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Run the CLI to completion; returns exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function readLog(proc: NodeProcess): string {
  try {
    return readFileSync(proc.logPath, 'utf8');
  } catch {
    return '';
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` every `intervalMs` until it returns true or `timeoutMs` pass; returns elapsed ms or -1. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      if (await check()) return performance.now() - start;
    } catch {
      // not ready yet
    }
    await sleep(intervalMs);
  }
  return -1;
}
