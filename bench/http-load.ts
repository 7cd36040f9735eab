// W50 / W95 over Riak's HTTP API against a fresh 3-node `rondo dev` cluster
// on loopback (N=3, R=2, W=2, LMDB, fsync on): preload 10,000 keys of 1 KiB,
// then 32 concurrent clients on uniform keys for the given seconds.
// Usage: node --import tsx bench/http-load.ts [seconds=20] [preloadKeys=10000]
import { Agent, request } from 'node:http';
import { startBenchCluster } from './dev-cluster.js';

const SECONDS = Number(process.argv[2] ?? 20);
const KEYS = Number(process.argv[3] ?? 10_000);
const CONCURRENCY = 32;
const VALUE = Buffer.alloc(1024, 'x');
const PORTS = [18098, 18099, 18100];
// Sockets per origin sized to the load on each port: idle keep-alive sockets past the
// server's keep-alive timeout get closed, and a request sent on one as it closes is reset.
const agent = new Agent({ keepAlive: true, maxSockets: Math.ceil(CONCURRENCY / PORTS.length) });

function call(method: 'GET' | 'PUT', port: number, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: `/buckets/bench/keys/${key}`, agent, headers: method === 'PUT' ? { 'Content-Type': 'application/octet-stream', 'Content-Length': VALUE.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? VALUE : undefined);
  });
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function workload(name: string, getShare: number): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  const endAt = performance.now() + SECONDS * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      let i = client;
      while (performance.now() < endAt) {
        const key = `k${Math.floor(Math.random() * KEYS)}`;
        const method = Math.random() < getShare ? 'GET' : 'PUT';
        const t0 = performance.now();
        const status = await call(method, PORTS[i++ % PORTS.length] as number, key);
        latencies.push(performance.now() - t0);
        if (status >= 400) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  console.log(`${name}: ${(latencies.length / elapsed).toFixed(0)} ops/s, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, errors ${errors}, load generator CPU ${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(0)}% of one core`);
}

const cluster = await startBenchCluster({ basePort: 17101, httpBasePort: PORTS[0] as number });
try {
  const preloadStart = performance.now();
  for (let base = 0; base < KEYS; base += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, KEYS - base) }, (_, j) => call('PUT', PORTS[(base + j) % 3] as number, `k${base + j}`)));
  }
  console.log(`preload: ${KEYS} keys of 1 KiB in ${((performance.now() - preloadStart) / 1000).toFixed(1)} s`);
  await workload('W50 (50% get, 50% put)', 0.5);
  await workload('W95 (95% get, 5% put)', 0.95);
} finally {
  agent.destroy();
  await cluster.stop();
}
