// W50 / W95 over Riak's HTTP and PB APIs against a fresh 3-node `rondo dev`
// cluster on loopback (N=3, R=2, W=2, LMDB, fsync on): preload 10,000 keys
// of 1 KiB, then 32 concurrent clients on uniform keys for the given seconds,
// each workload over each API in the same run.
// Usage: node --import tsx bench/kv-load.ts [seconds=20] [preloadKeys=10000] [apis=http,pb]
import { Agent, request } from 'node:http';
import { startBenchCluster } from './dev-cluster.js';
import { PbBenchConnection } from './pb-driver.js';

const SECONDS = Number(process.argv[2] ?? 20);
const KEYS = Number(process.argv[3] ?? 10_000);
const APIS = (process.argv[4] ?? 'http,pb').split(',');
const CONCURRENCY = 32;
const VALUE = Buffer.alloc(1024, 'x');
const HTTP_PORTS = [18098, 18099, 18100];
const PB_PORTS = [18087, 18088, 18089];
const BUCKET = 'bench';
// Sockets per origin sized to the load on each port: idle keep-alive sockets past the
// server's keep-alive timeout get closed, and a request sent on one as it closes is reset.
const agent = new Agent({ keepAlive: true, maxSockets: Math.ceil(CONCURRENCY / HTTP_PORTS.length) });

/** One client of a workload: does one operation at a time; true when it succeeded. */
type Op = (method: 'GET' | 'PUT', key: string) => Promise<boolean>;

function httpClient(client: number): Op {
  const port = HTTP_PORTS[client % HTTP_PORTS.length] as number;
  return (method, key) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: `/buckets/${BUCKET}/keys/${key}`, agent, headers: method === 'PUT' ? { 'Content-Type': 'application/octet-stream', 'Content-Length': VALUE.length } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve((res.statusCode ?? 500) < 400 || res.statusCode === 404));
      });
      req.on('error', reject);
      req.end(method === 'PUT' ? VALUE : undefined);
    });
}

async function pbClient(client: number, connections: PbBenchConnection[]): Promise<Op> {
  const conn = await PbBenchConnection.open(`127.0.0.1:${PB_PORTS[client % PB_PORTS.length]}`);
  connections.push(conn);
  const bucket = Buffer.from(BUCKET);
  return async (method, key) => {
    const reply =
      method === 'GET'
        ? await conn.call('RpbGetReq', { bucket, key: Buffer.from(key) })
        : await conn.call('RpbPutReq', { bucket, key: Buffer.from(key), content: { value: VALUE, content_type: Buffer.from('application/octet-stream') } });
    return reply.name !== 'RpbErrorResp';
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function workload(name: string, getShare: number, clients: Op[]): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  const endAt = performance.now() + SECONDS * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    clients.map(async (op) => {
      while (performance.now() < endAt) {
        const key = `k${Math.floor(Math.random() * KEYS)}`;
        const t0 = performance.now();
        const ok = await op(Math.random() < getShare ? 'GET' : 'PUT', key);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  console.log(`${name}: ${(latencies.length / elapsed).toFixed(0)} ops/s, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, errors ${errors}, load generator CPU ${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(0)}% of one core`);
}

const cluster = await startBenchCluster({ basePort: 17101, httpBasePort: HTTP_PORTS[0] as number, pbBasePort: PB_PORTS[0] as number, nodeArgs: process.env.RONDO_BENCH_NODE_ARGS?.split(' ').filter((a) => a.length > 0) });
const connections: PbBenchConnection[] = [];
try {
  const pb = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => pbClient(i, connections)));
  const http = Array.from({ length: CONCURRENCY }, (_, i) => httpClient(i));
  const preloadStart = performance.now();
  for (let base = 0; base < KEYS; base += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, KEYS - base) }, (_, j) => (pb[j] as Op)('PUT', `k${base + j}`)));
  }
  console.log(`preload: ${KEYS} keys of 1 KiB in ${((performance.now() - preloadStart) / 1000).toFixed(1)} s (PB)`);
  for (const [label, share] of [['W50 (50% get, 50% put)', 0.5], ['W95 (95% get, 5% put)', 0.95]] as const) {
    if (APIS.includes('http')) await workload(`${label} HTTP`, share, http);
    if (APIS.includes('pb')) await workload(`${label} PB`, share, pb);
  }
} finally {
  for (const c of connections) c.close();
  agent.destroy();
  await cluster.stop();
}
