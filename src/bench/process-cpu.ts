// CPU time of server processes, from /proc/<pid>/stat (utime + stime: every
// thread of the process, user and kernel — the same counters as the
// process's own process.cpuUsage). Linux reports them in USER_HZ ticks,
// which the kernel ABI fixes at 100 per second.
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/** Seconds of CPU the processes have used so far (all threads, user + system). Throws if one is gone. */
export function processCpuSec(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return ticks / USER_HZ;
}

/** utime + stime of one /proc/<pid>/stat line (fields 14 and 15; the command name in parentheses may hold spaces). */
export function statTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}
