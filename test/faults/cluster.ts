// Rondo node processes in the fault lab: one per namespace, each a real
// `rondo start` with its own LMDB folder, started, SIGKILLed and restarted,
// paused and resumed by PID, and with a wall clock the nemesis can skew
// (libfaketime, realtime clock only: timers and timeouts run on the monotonic
// clock and stay true, as on a machine whose NTP is off).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminCall, adminCallOnClaimant, type AnyAdminRequest } from '../../src/cli/admin.js';
import type { MemberStatusRow } from '../../src/core/membership/index.js';
import { BIN, waitFor } from '../helpers/processes.js';
import { onCleanup } from './cleanup.js';
import type { Lab, LabHost } from './lab.js';

export const CLUSTER_PORT = 7000;
export const HTTP_PORT = 8098;
export const PB_PORT = 8087;
const SECRET = 'rondo-faults-secret';
const ADMIN_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 30_000;
/** A SIGTERMed node gets this long to stop before SIGKILL. */
const STOP_GRACE_MS = 5_000;

/** Where Debian's faketime package puts the multi-threaded preload library. */
export function findLibfaketime(): string | undefined {
  for (const dir of ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime']) {
    for (const file of ['libfaketimeMT.so.1', 'libfaketime.so.1']) if (existsSync(join(dir, file))) return join(dir, file);
  }
  return undefined;
}

/** Environment that makes a process's wall clock follow the offset in `clockFile` (monotonic clock untouched). */
export function skewedClockEnv(libfaketime: string, clockFile: string): NodeJS.ProcessEnv {
  return { LD_PRELOAD: libfaketime, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/**
 * Writes a wall-clock offset in libfaketime's format ("+1.500", "-0.250": seconds).
 * Written aside and renamed into place, so a process re-reading the file never
 * sees it truncated (an empty file would mean no offset for a second).
 */
export function writeClockOffset(clockFile: string, offsetMs: number): void {
  const seconds = offsetMs / 1000;
  const aside = `${clockFile}.next`;
  writeFileSync(aside, `${seconds >= 0 ? '+' : ''}${seconds.toFixed(3)}\n`);
  renameSync(aside, clockFile);
}

export class FaultNode {
  readonly name: string;
  readonly host: LabHost;
  readonly address: string;
  readonly http: string;
  readonly pb: string;
  readonly dataDir: string;
  readonly logPath: string;
  private readonly clockFile: string;
  private child: ChildProcess | undefined;
  private pausedNow = false;
  private clockOffsetMs = 0;
  /** Set while an exit is ours (kill, stop) or expected (the node left the ring). */
  private exitExpected = false;
  /** Exits nobody asked for: a crash, which fails the run. */
  readonly unexpectedExits: string[] = [];

  constructor(
    host: LabHost,
    private readonly runDir: string,
    private readonly libfaketime: string | undefined,
    private readonly ringSize: number,
  ) {
    this.name = host.name;
    this.host = host;
    this.address = `${host.ip}:${CLUSTER_PORT}`;
    this.http = `${host.ip}:${HTTP_PORT}`;
    this.pb = `${host.ip}:${PB_PORT}`;
    this.dataDir = join(runDir, 'data', host.name);
    this.logPath = join(runDir, `${host.name}.log`);
    this.clockFile = join(runDir, `${host.name}.clock`);
    this.writeClock();
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  get skewMs(): number {
    return this.clockOffsetMs;
  }

  /** Starts the process (data kept from any earlier run unless `fresh`) and waits for /ping. */
  async start(opts: { fresh?: boolean } = {}): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (opts.fresh) rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
    const log = openSync(this.logPath, 'a');
    const args = ['netns', 'exec', this.host.ns, process.execPath, BIN, 'start', '--name', this.name, '--listen', this.address, '--http-listen', this.http, '--pb-listen', this.pb, '--data', this.dataDir, '--cluster-secret', SECRET, '--cluster-name', 'rondo-faults', '--ring-size', String(this.ringSize)];
    const clockEnv = this.libfaketime === undefined ? {} : skewedClockEnv(this.libfaketime, this.clockFile);
    // `ip netns exec` execs the command, so the child's PID is the node's.
    const child = spawn('ip', args, { stdio: ['ignore', log, log], env: { ...process.env, ...clockEnv } });
    closeSync(log);
    this.child = child;
    this.pausedNow = false;
    this.exitExpected = false;
    child.once('exit', (code, signal) => {
      if (!this.exitExpected) this.unexpectedExits.push(`${this.name} exited (${code ?? signal}) unasked; see ${this.logPath}`);
    });
    const ok = await waitFor(async () => {
      if (!this.running) throw new Error('exited');
      return (await fetch(`http://${this.http}/ping`, { signal: AbortSignal.timeout(1_000) })).status === 200;
    }, START_TIMEOUT_MS, 100, () => !this.running);
    if (ok < 0) throw new Error(`${this.name} did not start (see ${this.logPath})`);
  }

  /** kill -9: no chance to flush or say goodbye. */
  kill(): void {
    const child = this.child;
    if (!child || !this.running) return;
    this.exitExpected = true;
    child.kill('SIGKILL');
    this.pausedNow = false;
  }

  async waitExit(timeoutMs: number): Promise<boolean> {
    return (await waitFor(async () => !this.running, timeoutMs, 50)) >= 0;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    if (this.pausedNow) this.resume();
    this.exitExpected = true;
    this.child?.kill('SIGTERM');
    if (!(await this.waitExit(STOP_GRACE_MS))) this.kill();
    await this.waitExit(STOP_GRACE_MS);
  }

  pause(): void {
    if (!this.running || this.pausedNow) return;
    this.child?.kill('SIGSTOP');
    this.pausedNow = true;
  }

  resume(): void {
    if (!this.running || !this.pausedNow) return;
    this.child?.kill('SIGCONT');
    this.pausedNow = false;
  }

  /** Sets this node's wall clock to run `offsetMs` ahead (negative: behind) of the machine's; seen within ~1 s. */
  skew(offsetMs: number): void {
    if (this.libfaketime === undefined) throw new Error('clock skew needs libfaketime (apt-get install faketime)');
    this.clockOffsetMs = offsetMs;
    this.writeClock();
  }

  private writeClock(): void {
    writeClockOffset(this.clockFile, this.clockOffsetMs);
  }

  /** The node will exit by itself (it left the ring and handed everything off). */
  expectExit(): void {
    this.exitExpected = true;
  }

  /** Synchronous last resort for cleanup: SIGCONT, then SIGKILL. */
  killNow(): void {
    if (!this.running) return;
    this.exitExpected = true;
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGKILL');
  }

  admin(req: AnyAdminRequest): ReturnType<typeof adminCall> {
    return adminCall({ address: this.address, clusterSecret: SECRET, timeoutMs: ADMIN_TIMEOUT_MS }, req);
  }

  async adminOnClaimant(req: AnyAdminRequest): Promise<void> {
    await adminCallOnClaimant({ address: this.address, clusterSecret: SECRET, timeoutMs: ADMIN_TIMEOUT_MS }, req);
  }

  async members(): Promise<MemberStatusRow[]> {
    return ((await this.admin({ type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
  }

  /** The node's /stats counters. */
  async stats(): Promise<Record<string, number>> {
    return (await (await fetch(`http://${this.http}/stats`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) })).json()) as Record<string, number>;
  }

  async pendingTransfers(): Promise<number> {
    const data = (await this.admin({ type: 'admin.ring-status' })).data as { pending?: unknown[] } | undefined;
    if (!Array.isArray(data?.pending)) throw new Error(`ring-status from ${this.name} has no pending list`);
    return data.pending.length;
  }
}

export interface FaultClusterOptions {
  lab: Lab;
  runDir: string;
  /** Nodes that form the cluster at the start; the rest wait outside (for joins). */
  members: number;
  ringSize: number;
}

/** The nodes of a fault run, and the ring operations the harness and the membership nemesis use. */
export class FaultCluster {
  readonly nodes: FaultNode[];
  readonly hasClockControl: boolean;
  private readonly stopAll: () => void;

  constructor(private readonly opts: FaultClusterOptions) {
    const libfaketime = findLibfaketime();
    this.hasClockControl = libfaketime !== undefined;
    mkdirSync(opts.runDir, { recursive: true });
    this.nodes = opts.lab.hosts.map((host) => new FaultNode(host, opts.runDir, libfaketime, opts.ringSize));
    this.stopAll = onCleanup('node processes', () => {
      for (const node of this.nodes) node.killNow();
    });
  }

  node(name: string): FaultNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** Starts the first `members` nodes, joins them into one cluster, and waits until its ring settles (the others stay down until joined). */
  async form(settleTimeoutMs: number): Promise<void> {
    const members = this.nodes.slice(0, this.opts.members);
    await Promise.all(members.map((n) => n.start({ fresh: true })));
    const [seed, ...rest] = members as [FaultNode, ...FaultNode[]];
    for (const node of rest) await node.admin({ type: 'admin.join', seed: seed.address });
    await this.planAndCommit(seed);
    const names = this.nodes.slice(0, this.opts.members).map((n) => n.name);
    if (!(await this.settled(names, settleTimeoutMs))) throw new Error(`the ${names.length}-node cluster did not settle within ${settleTimeoutMs} ms`);
  }

  /** Plan then commit at the claimant (found through `via`); a plan already committed is fine. */
  async planAndCommit(via: FaultNode): Promise<void> {
    await via.adminOnClaimant({ type: 'admin.plan' });
    await via.adminOnClaimant({ type: 'admin.commit' });
  }

  /** Whether every running node of `names` lists exactly `names` as valid members owning their final share, with no transfer pending (throws when a node does not answer). */
  async ringSettled(names: string[]): Promise<boolean> {
    const expected = [...names].sort().join(',');
    for (const node of this.nodes.filter((n) => names.includes(n.name) && n.running)) {
      const rows = await node.members();
      if (rows.map((r) => r.name).sort().join(',') !== expected) return false;
      if (rows.some((r) => r.status !== 'valid' || r.ringPct !== r.pendingPct)) return false;
      if ((await node.pendingTransfers()) !== 0) return false;
    }
    return true;
  }

  /** Waits up to `timeoutMs` for ringSettled(names). */
  async settled(names: string[], timeoutMs: number): Promise<boolean> {
    return (await waitFor(() => this.ringSettled(names), timeoutMs, 500)) >= 0;
  }

  /** SIGTERM every node (resuming paused ones), then SIGKILL what is left. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.stopAll();
  }
}
