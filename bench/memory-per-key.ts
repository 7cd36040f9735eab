// Memory and disk per stored key on a fresh 3-node `rondo dev` cluster: load
// N keys of 1 KiB over HTTP (N=3 replicas, W=2), then read each node's
// resident memory (VmRSS) and the LMDB file's allocated bytes.
// Usage: node --import tsx bench/memory-per-key.ts [keys=1000000] [concurrency=64]
//   [--base-port 27101] [--http-base-port 28098] [--pb-base-port 28087] (node i listens on base + i - 1)
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { startBenchCluster } from './dev-cluster.js';

const args = process.argv.slice(2);
function portOption(name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_533) throw new Error(`${name} needs a port number`);
  return port;
}
const BASE_PORT = portOption('--base-port', 27101);
const HTTP_BASE_PORT = portOption('--http-base-port', 28098);
const PB_BASE_PORT = portOption('--pb-base-port', 28087);
const KEYS = Number(args[0] ?? 1_000_000);
const CONCURRENCY = Number(args[1] ?? 64);
const VALUE = Buffer.alloc(1024, 'v');
const PORTS = [HTTP_BASE_PORT, HTTP_BASE_PORT + 1, HTTP_BASE_PORT + 2];
// Sockets per origin sized to the load on each port: idle keep-alive sockets past the
// server's keep-alive timeout get closed, and a request sent on one as it closes is reset.
const agent = new Agent({ keepAlive: true, maxSockets: Math.ceil(CONCURRENCY / PORTS.length) });

function putKey(port: number, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/buckets/mem/keys/${key}?w=2`, agent, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': VALUE.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(VALUE);
  });
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN) * 1024;
}

function nodePid(dir: string, i: number): number {
  const out = spawnSync(process.execPath, ['bin/rondo.mjs', 'admin', '--config', join(dir, `n${i}`, 'rondo.json'), '--json', 'node-info'], { encoding: 'utf8' });
  return (JSON.parse(out.stdout) as { pid: number }).pid;
}

const cluster = await startBenchCluster({ basePort: BASE_PORT, httpBasePort: HTTP_BASE_PORT, pbBasePort: PB_BASE_PORT, keepData: Boolean(process.env.KEEP_DATA) });
const dir = cluster.dir;
try {
  const pids = [1, 2, 3].map((i) => nodePid(dir, i));
  const rssBefore = pids.map(rssBytes);
  const started = performance.now();
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < KEYS) {
        const i = next++;
        try {
          if ((await putKey(PORTS[i % 3] as number, `key-${i}`)) !== 204) errors++;
        } catch (err) {
          errors++;
          if (errors < 10) console.log(`put key-${i}: ${(err as Error).message}`);
        }
        if (i > 0 && i % 100_000 === 0) console.log(`${i} keys, ${(i / ((performance.now() - started) / 1000)).toFixed(0)} puts/s`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const rssAfter = pids.map(rssBytes);
  const diskBytes = [1, 2, 3].map((i) => statSync(join(dir, `n${i}`, 'kv', 'rondo.mdb')).blocks * 512);
  const replicas = KEYS * 3;
  const rssGrowth = rssAfter.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0);
  const disk = diskBytes.reduce((a, b) => a + b, 0);
  console.log(`loaded ${KEYS} keys of 1 KiB in ${seconds.toFixed(0)} s (${(KEYS / seconds).toFixed(0)} puts/s), ${errors} errors`);
  console.log(`RSS per node after: ${rssAfter.map((b) => `${(b / 2 ** 20).toFixed(0)} MiB`).join(', ')} (growth ${(rssGrowth / 2 ** 20).toFixed(0)} MiB in all)`);
  console.log(`RSS growth per stored replica: ${(rssGrowth / replicas).toFixed(0)} bytes (includes LMDB pages the OS keeps mapped)`);
  console.log(`LMDB allocated on disk: ${diskBytes.map((b) => `${(b / 2 ** 20).toFixed(0)} MiB`).join(', ')}; per stored replica ${(disk / replicas).toFixed(0)} bytes, i.e. ${(disk / replicas - VALUE.length).toFixed(0)} bytes beyond the 1 KiB value`);
} finally {
  agent.destroy();
  await cluster.stop();
}
