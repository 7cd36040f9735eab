// This process's CPU time, for /stats: with the operation counts a tool can
// work out CPU per operation from two snapshots (see bench/cpu-budget.ts).

/** This process's CPU time so far (process.cpuUsage: every thread), in whole microseconds, and its pid. */
export function processCpuStats(): { process_cpu_user_us: number; process_cpu_system_us: number; pid: number } {
  const cpu = process.cpuUsage();
  return { process_cpu_user_us: cpu.user, process_cpu_system_us: cpu.system, pid: process.pid };
}
