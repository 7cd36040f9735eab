// The cost of /stats and /metrics instrumentation per recorded event: the
// window counters and histograms (core/stats) and the /metrics request
// arrays the APIs write per request. Nanoseconds per call, best of rounds.
//
//   node --import tsx bench/stats-record.ts
import { CountWindow, HistogramWindow } from '../src/core/stats/index.js';
import { NodeMetrics } from '../src/api/metrics.js';
import { KvStats } from '../src/kv/stats.js';

const CALLS = 2_000_000;
const ROUNDS = 5;

function nsPerCall(name: string, run: (i: number) => void): void {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) run(i);
    const ns = Number(process.hrtime.bigint() - start) / CALLS;
    if (ns < best) best = ns;
  }
  console.log(`${name.padEnd(58)} ${best.toFixed(1).padStart(7)} ns/call`);
}

// A clock that advances 1 ms every 64 calls (about 64k events/s: windows rotate every second, as under load).
const nowMs = (i: number): number => 1_000_000 + (i >>> 6);
const count = new CountWindow();
const histogram = new HistogramWindow();
nsPerCall('CountWindow.add', (i) => count.add(nowMs(i)));
nsPerCall('HistogramWindow.record (µs values 100..~100k)', (i) => histogram.record(nowMs(i), 100 + ((i * 7919) % 100_000)));
let fakeNow = 0;
const kv = new KvStats(() => fakeNow);
nsPerCall('KvStats: one get as the service records it (no sibling/size)', (i) => {
  fakeNow = nowMs(i);
  const started = kv.nowMs();
  kv.gets.add(started);
  kv.getActive++;
  kv.vnodeGets.add(kv.nowMs());
  kv.vnodeGets.add(kv.nowMs());
  kv.vnodeGets.add(kv.nowMs());
  kv.ended('get', started, undefined);
});
nsPerCall('KvStats: siblings + objsize of a found get', (i) => {
  kv.getSiblings.record(nowMs(i), 1);
  kv.getObjectBytes.record(nowMs(i), 900);
});
const metrics = new NodeMetrics({ nodeName: 'bench', defaultMetrics: false });
nsPerCall('NodeMetrics.request (request counter + latency histogram)', (i) => metrics.request('http', 'get', 0.0005 + (i % 1000) * 1e-6));
const summaryStart = process.hrtime.bigint();
for (let i = 0; i < 1000; i++) histogram.summary(nowMs(CALLS));
console.log(`${'HistogramWindow.summary (for /stats; per histogram)'.padEnd(58)} ${(Number(process.hrtime.bigint() - summaryStart) / 1000 / 1000).toFixed(1).padStart(7)} µs/call`);
const renderStart = process.hrtime.bigint();
for (let i = 0; i < 100; i++) kv.render();
console.log(`${'KvStats.render (every /stats KV field)'.padEnd(58)} ${(Number(process.hrtime.bigint() - renderStart) / 100 / 1000).toFixed(1).padStart(7)} µs/call`);
// The APIs time each request with two performance.now() calls.
let sink = 0;
nsPerCall('performance.now (two per request: HTTP and PB timing)', () => {
  sink += performance.now();
});
if (sink < 0) console.log(sink);
