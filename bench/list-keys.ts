// List-keys time for a large bucket: load N keys (small values) into a fresh
// 3-node `rondo dev` cluster over PB, then list them over PB (RpbListKeysReq,
// streamed) and over HTTP (?keys=stream), counting every key.
// Usage: node --import tsx bench/list-keys.ts [keys=1000000] [valueBytes=100]
import { request } from 'node:http';
import { startBenchCluster } from './dev-cluster.js';
import { PbBenchConnection } from './pb-driver.js';

const KEYS = Number(process.argv[2] ?? 1_000_000);
const VALUE = Buffer.alloc(Number(process.argv[3] ?? 100), 'v');
const LOADERS = 48;
const BUCKET = Buffer.from('listing');
const PB_PORTS = [19087, 19088, 19089];

const cluster = await startBenchCluster({ basePort: 19101, httpBasePort: 19098, pbBasePort: PB_PORTS[0] as number });
const connections: PbBenchConnection[] = [];
try {
  for (let i = 0; i < LOADERS; i++) connections.push(await PbBenchConnection.open(`127.0.0.1:${PB_PORTS[i % 3]}`));
  const loadStart = performance.now();
  let next = 0;
  let lastReport = loadStart;
  await Promise.all(
    connections.map(async (conn) => {
      for (let i = next++; i < KEYS; i = next++) {
        // W=1: the preload only has to be stored; every replica is still written.
        const reply = await conn.call('RpbPutReq', { bucket: BUCKET, key: Buffer.from(`key-${i}`), content: { value: VALUE }, w: 1 });
        if (reply.name === 'RpbErrorResp') throw new Error(`put key-${i}: ${String(reply.message.errmsg)}`);
        if (performance.now() - lastReport > 30_000) {
          lastReport = performance.now();
          console.log(`  loaded ${next} keys, ${(next / ((lastReport - loadStart) / 1000)).toFixed(0)} puts/s`);
        }
      }
    }),
  );
  console.log(`loaded ${KEYS} keys in ${((performance.now() - loadStart) / 1000).toFixed(0)} s`);
  // Let the last replica writes land before listing.
  await new Promise((r) => setTimeout(r, 2_000));

  for (let run = 1; run <= 2; run++) {
    const t0 = performance.now();
    let count = 0;
    let messages = 0;
    await (connections[0] as PbBenchConnection).stream('RpbListKeysReq', { bucket: BUCKET }, (frame) => {
      messages++;
      count += ((frame.message.keys as unknown[] | undefined) ?? []).length;
    });
    const pbMs = performance.now() - t0;
    console.log(`PB list keys run ${run}: ${count} keys in ${(pbMs / 1000).toFixed(2)} s (${messages} messages, ${(count / (pbMs / 1000)).toFixed(0)} keys/s)${count === KEYS ? '' : ` MISMATCH: expected ${KEYS}`}`);
  }

  const t1 = performance.now();
  const httpCount = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: 19098, path: '/buckets/listing/keys?keys=stream' }, (res) => {
      let keys = 0;
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const text = tail + chunk;
        const parts = text.split(/(?<=\})(?=\{)/);
        tail = parts.pop() ?? '';
        for (const p of parts) keys += (JSON.parse(p) as { keys: string[] }).keys.length;
      });
      res.on('end', () => resolve(keys + (tail ? (JSON.parse(tail) as { keys: string[] }).keys.length : 0)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const httpMs = performance.now() - t1;
  console.log(`HTTP keys=stream: ${httpCount} keys in ${(httpMs / 1000).toFixed(2)} s${httpCount === KEYS ? '' : ` MISMATCH: expected ${KEYS}`}`);
} finally {
  for (const c of connections) c.close();
  await cluster.stop();
}
