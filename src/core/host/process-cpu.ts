// This process's CPU time, for /stats: with the operation counts a tool can
// work out CPU per operation from two snapshots (see bench/cpu-budget.ts).

/** This process's CPU time so far (process.cpuUsage: every thread), in whole microseconds, and its pid. */
export function processCpuStats(): { process_cpu_user_us: number; process_cpu_system_us: number; pid: number } {
  const cpu = process.cpuUsage();
  return { process_cpu_user_us: cpu.user, process_cpu_system_us: cpu.system, pid: process.pid };
}

/** Uptime, memory and CPU of this process for the web console; CPU is the share of one core since the previous sample. */
export function processHealthSampler(): () => { uptimeMs: number; rssBytes: number; heapUsedBytes: number; cpuPercent: number | undefined } {
  let last: { cpuUs: number; wallUs: number } | undefined;
  return () => {
    const cpu = process.cpuUsage();
    const sample = { cpuUs: cpu.user + cpu.system, wallUs: Number(process.hrtime.bigint() / 1000n) };
    const cpuPercent = last === undefined || sample.wallUs <= last.wallUs ? undefined : ((sample.cpuUs - last.cpuUs) / (sample.wallUs - last.wallUs)) * 100;
    last = sample;
    const memory = process.memoryUsage();
    return { uptimeMs: Math.round(process.uptime() * 1000), rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuPercent };
  };
}
