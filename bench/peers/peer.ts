// What every benchmark peer (etcd, Redis, the Node stub) shares: the Peer
// handle, spawning with logs to a file, and the last-resort cleanup. Every
// process started here is registered by PID with its temp folder, so that an
// exception, a signal nobody handles, or a plain exit of the parent still
// kills it (SIGKILL, synchronous) and removes the folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Peer {
  name: string;
  /** host:port for the driver. */
  targets: string[];
  pids: number[];
  /** Stops every process (SIGTERM, then SIGKILL after a grace period) and removes the temp data folder. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let cleanupInstalled = false;

function killAllNow(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

// A signal with no other listener would kill the parent without an 'exit'
// event: clean up, then re-raise it so the parent still dies of it. When the
// parent has its own handler (bench/peers/run.ts), that handler stops the
// peers gracefully and we stay out of its way.
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killAllNow();
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** A fresh temp folder (under `root` when given), removed by the last-resort cleanup unless released first. */
export function makeTempDir(prefix: string, root?: string): string {
  installCleanup();
  const parent = root ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, prefix));
  liveDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** Absolute path of `name` on PATH; throws naming the installer when missing (tests must fail, not skip). */
export function requireBinary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`${name} is not installed (not on PATH): run bench/peers/install.sh as root`);
}

/** Spawns `command` with stdout and stderr appended to `logPath`, registered for the last-resort cleanup. */
export function spawnLogged(command: string, args: string[], logPath: string, cwd?: string): ChildProcess {
  installCleanup();
  const log = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', log, log], cwd });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    // A spawn failure after the pid was assigned surfaces here; keep it from becoming an uncaught error.
    child.once('error', () => liveChildren.delete(child));
    return child;
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, then SIGKILL if it outlives the grace period; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killTimer);
  liveChildren.delete(child);
}

/** Polls `ready` until it answers true; throws `what` when `deadlineMs` passes or `child` exits first. */
export async function waitUntilReady(what: string, ready: () => Promise<boolean>, deadlineMs: number, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const dead = children.find((child) => child.exitCode !== null || child.signalCode !== null);
    if (dead) throw new Error(`${what}: process ${dead.pid} exited (code ${dead.exitCode}, signal ${dead.signalCode})`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not ready within ${deadlineMs} ms`);
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(path: string, lines = 20): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  return readFileSync(path, 'utf8').split('\n').slice(-lines - 1).join('\n');
}
