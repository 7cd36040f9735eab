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

// Listening ports come from below the kernel's ephemeral range (32768-60999 on
// Linux): a port from listen(0) is free now, but may be taken as the source
// port of some outgoing connection before the node binds it.
// RONDO_TEST_PORT_LOW / RONDO_TEST_PORT_HIGH narrow the range (several runs sharing one machine).
const TEST_PORT_LOW = Number(process.env.RONDO_TEST_PORT_LOW ?? 20_000);
const TEST_PORT_HIGH = Number(process.env.RONDO_TEST_PORT_HIGH ?? 32_000);
const handedOut = new Set<number>();

/** True when a server can listen on `port` on loopback right now. */
export async function canListen(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** A loopback port that is free now, outside the ephemeral range, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = TEST_PORT_LOW + Math.floor(Math.random() * (TEST_PORT_HIGH - TEST_PORT_LOW));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${TEST_PORT_LOW}-${TEST_PORT_HIGH}`);
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

/** Resolves after `ms`, or at once when `signal` fires (never rejects). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Poll `check` every `intervalMs` until it returns true or `timeoutMs` pass (or it throws an error `stopOn` accepts); returns elapsed ms or -1. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50, stopOn: (err: unknown) => boolean = () => false): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      if (await check()) return performance.now() - start;
    } catch (err) {
      if (stopOn(err)) return -1;
      // not ready yet
    }
    await sleep(intervalMs);
  }
  return -1;
}

/**
 * Wait until the node answers `GET /ping` on `http`. Fails at once, with the end
 * of its log, if the process exits first; on timeout, also with the log.
 */
export async function waitForPing(proc: NodeProcess, http: string, timeoutMs = 30_000): Promise<number> {
  const ms = await waitFor(async () => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new NodeExitedError();
    return (await fetch(`http://${http}/ping`)).status === 200;
  }, timeoutMs, 100, (err) => err instanceof NodeExitedError);
  if (ms < 0 || proc.child.exitCode !== null || proc.child.signalCode !== null) {
    const how = proc.child.exitCode !== null || proc.child.signalCode !== null ? `exited (${proc.child.exitCode ?? proc.child.signalCode})` : `did not answer /ping within ${timeoutMs} ms`;
    throw new Error(`${proc.name} ${how}; end of its log:\n${readLog(proc).slice(-3000)}`);
  }
  return ms;
}

class NodeExitedError extends Error {}
