// On-demand CPU profile of a running node (`rondo admin cpu-profile`): V8's
// sampling profiler through node:inspector, plus the process's CPU time
// (process.cpuUsage: every thread, user and kernel) over the same window, so
// a tool can tell main-thread JavaScript (the samples) from the rest (libuv
// and LMDB threads, GC helpers, the kernel). A real adapter: it reads the
// clock and sets timers, so it lives in src/core/host (see eslint.config.js,
// PURITY).
import { readFileSync } from 'node:fs';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import type { WireMessage } from '../env.js';
import { AbortedError, InvalidArgumentError, OverloadError } from '../errors.js';
import type { AdminReply } from '../node/admin-messages.js';

export const CPU_PROFILE_DURATION_MS_MIN = 100;
export const CPU_PROFILE_DURATION_MS_MAX = 120_000;
/**
 * V8 samples the main thread's stack this often. 500 µs gives 2,000 samples a
 * second of busy time (enough to see a function of 1 % in a 10 s profile
 * within a few tenths of a percent) for a cost of about 1-2 % of a core; a
 * finer interval costs more and is not needed over seconds-long windows.
 */
export const CPU_PROFILE_SAMPLING_INTERVAL_US = 500;

export interface CpuProfileRequest {
  type: 'admin.cpu-profile';
  /** Length of the profile, CPU_PROFILE_DURATION_MS_MIN..CPU_PROFILE_DURATION_MS_MAX. */
  durationMs: number;
}

/** What `data` of the reply holds. */
export interface CpuProfileData {
  /** A V8 CPU profile (the .cpuprofile format Chrome DevTools loads); positions of TypeScript files are mapped back to their source lines. */
  profile: Profiler.Profile;
  /** process.cpuUsage() deltas over the profiled window: all threads of the process. */
  cpuUserUs: number;
  cpuSystemUs: number;
  wallMs: number;
  samplingIntervalUs: number;
  pid: number;
  /**
   * The main thread alone over the window, from Linux's /proc schedstat (absent
   * elsewhere): time on a CPU (user and kernel), and time runnable but waiting
   * for a CPU. Samples measure wall time, so sampled busy time is about the sum.
   */
  mainThread?: { cpuUs: number; runQueueWaitUs: number };
}

export function isCpuProfileRequest(msg: WireMessage): msg is CpuProfileRequest {
  return msg.type === 'admin.cpu-profile';
}

/** The duration of a request, or an InvalidArgumentError saying what is allowed. */
export function cpuProfileDurationMs(req: { durationMs?: unknown }): number {
  const ms = req.durationMs;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < CPU_PROFILE_DURATION_MS_MIN || ms > CPU_PROFILE_DURATION_MS_MAX) {
    throw new InvalidArgumentError(`cpu-profile durationMs must be an integer from ${CPU_PROFILE_DURATION_MS_MIN} to ${CPU_PROFILE_DURATION_MS_MAX} (0.1 s to 2 min), got ${JSON.stringify(ms)}`);
  }
  return ms;
}

interface Running {
  readonly startedMs: number;
  readonly durationMs: number;
  readonly abort: AbortController;
}

/**
 * One profile at a time: V8's profiler and process.cpuUsage are per process,
 * so a second request while one runs is refused (OverloadError) rather than
 * queued. `stop()` (node shutdown) ends a running profile early.
 */
export class CpuProfiler {
  private running: Running | undefined;
  private readonly nodeName: string;

  constructor(opts: { nodeName: string }) {
    this.nodeName = opts.nodeName;
  }

  /** Profiles for req.durationMs; `signal` (the admin connection closing) ends it early with AbortedError. */
  async handle(req: CpuProfileRequest, signal?: AbortSignal): Promise<AdminReply> {
    const durationMs = cpuProfileDurationMs(req);
    if (this.running !== undefined) {
      const leftMs = Math.max(0, this.running.startedMs + this.running.durationMs - Date.now());
      throw new OverloadError(`a CPU profile is already running on ${this.nodeName} (${this.running.durationMs} ms, about ${leftMs} ms left); only one at a time per node: try again after it ends`);
    }
    const running: Running = { startedMs: Date.now(), durationMs, abort: new AbortController() };
    this.running = running;
    const onAbort = (): void => running.abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const session = new Session();
    try {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: CPU_PROFILE_SAMPLING_INTERVAL_US });
      await session.post('Profiler.start');
      const cpuBefore = process.cpuUsage();
      const schedBefore = mainThreadSchedstat();
      const wallBefore = performance.now();
      await sleepUnlessAborted(durationMs, running.abort.signal);
      const cpu = process.cpuUsage(cpuBefore);
      const schedAfter = mainThreadSchedstat();
      const wallMs = performance.now() - wallBefore;
      const { profile } = await session.post('Profiler.stop');
      if (running.abort.signal.aborted) throw new AbortedError(`CPU profile on ${this.nodeName} ended early: the admin connection closed or the node is stopping`);
      mapToSource(profile);
      const data: CpuProfileData = { profile, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, wallMs, samplingIntervalUs: CPU_PROFILE_SAMPLING_INTERVAL_US, pid: process.pid };
      if (schedBefore !== undefined && schedAfter !== undefined) {
        data.mainThread = { cpuUs: Math.round((schedAfter.cpuNs - schedBefore.cpuNs) / 1000), runQueueWaitUs: Math.round((schedAfter.waitNs - schedBefore.waitNs) / 1000) };
      }
      return { type: 'admin.reply', ok: true, lines: replyLines(this.nodeName, data), data };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      try {
        await session.post('Profiler.disable');
      } catch {
        // already disabled or never enabled
      }
      session.disconnect();
      this.running = undefined;
    }
  }

  /** Ends a running profile (its request fails with AbortedError). */
  stop(): void {
    this.running?.abort.abort();
  }
}

/** The main thread's (its tid is the pid) CPU and run-queue wait so far, in ns; undefined where /proc has no schedstat. */
function mainThreadSchedstat(): { cpuNs: number; waitNs: number } | undefined {
  try {
    const [cpuNs, waitNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return cpuNs !== undefined && waitNs !== undefined && Number.isFinite(cpuNs) && Number.isFinite(waitNs) ? { cpuNs, waitNs } : undefined;
  } catch {
    return undefined;
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * tsx compiles each TypeScript file on load, so V8's positions are in the
 * compiled text (often all on its first line). Where Node holds the file's
 * source map, put the TypeScript line and column in their place, so
 * file:line in the profile (and in DevTools) is a line of the source.
 * Line-level ticks of those frames refer to compiled lines: they are dropped.
 */
function mapToSource(profile: Profiler.Profile): void {
  const maps = new Map<string, ReturnType<typeof findSourceMap>>();
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    if (!frame.url.startsWith('file:') || frame.lineNumber < 0) continue;
    if (!maps.has(frame.url)) maps.set(frame.url, safeFindSourceMap(frame.url));
    const map = maps.get(frame.url);
    if (map === undefined) continue;
    const entry = map.findEntry(frame.lineNumber, Math.max(0, frame.columnNumber)) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (entry.originalLine === undefined || entry.originalColumn === undefined) continue;
    frame.lineNumber = entry.originalLine;
    frame.columnNumber = entry.originalColumn;
    if (entry.originalSource !== undefined && entry.originalSource !== '') frame.url = entry.originalSource;
    delete node.positionTicks;
  }
}

function safeFindSourceMap(url: string): ReturnType<typeof findSourceMap> {
  try {
    return findSourceMap(url);
  } catch {
    return undefined;
  }
}

function replyLines(node: string, d: CpuProfileData): string[] {
  const ms = (us: number): string => (us / 1000).toFixed(1);
  const pctOfCore = d.wallMs > 0 ? ((d.cpuUserUs + d.cpuSystemUs) / 1000 / d.wallMs) * 100 : 0;
  const main = d.mainThread === undefined ? [] : [`main thread: on a CPU ${ms(d.mainThread.cpuUs)} ms, runnable but waiting for a CPU ${ms(d.mainThread.runQueueWaitUs)} ms`];
  return [
    `CPU profile of ${node} (pid ${d.pid}) over ${d.wallMs.toFixed(0)} ms: ${d.profile.samples?.length ?? 0} samples every ${d.samplingIntervalUs} µs, ${d.profile.nodes.length} stack nodes`,
    `process CPU (all threads): user ${ms(d.cpuUserUs)} ms + system ${ms(d.cpuSystemUs)} ms = ${ms(d.cpuUserUs + d.cpuSystemUs)} ms, ${pctOfCore.toFixed(0)}% of one core`,
    ...main,
  ];
}
