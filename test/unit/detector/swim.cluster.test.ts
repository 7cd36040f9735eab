// Whole-cluster behaviour under a virtual clock (see harness.ts): 10 ms steps,
// 100 ms host ticks at random phases, 2 ms links unless a test says otherwise.
// Requirement: a killed node is seen down by ALL others within 5 s, and a
// node that comes back is seen up by all within 2 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, names } from './harness.js';

const DETECT_LIMIT_MS = 5_000;
const RECOVER_LIMIT_MS = 2_000;

interface Measured {
  detectMs: number[];
  recoverMs: number[];
}

/** Kill one node, wait for all to see it down, restart it fresh, wait for all to see it up, then check it stays up. */
function killAndRestart(size: number, seeds: number): Measured {
  const measured: Measured = { detectMs: [], recoverMs: [] };
  for (let seed = 1; seed <= seeds; seed++) {
    const cluster = new Cluster({ names: names(size), seed });
    cluster.run(2_000 + seed * 97); // warm up, and kill at a different point of the probe rounds each time
    assert.equal(cluster.log.length, 0, `seed ${seed}: no false positives while healthy: ${JSON.stringify(cluster.log)}`);
    const victim = `n${1 + (seed % size)}`;
    cluster.kill(victim);
    measured.detectMs.push(cluster.runUntil(() => cluster.allSee(victim, false), DETECT_LIMIT_MS, `seed ${seed}: ${victim} seen down by all`));
    cluster.run(1_000 + seed * 53);
    cluster.start(victim); // a fresh process: incarnation 0, while the others hold it dead
    const logged = cluster.log.length;
    measured.recoverMs.push(cluster.runUntil(() => cluster.allSee(victim, true), RECOVER_LIMIT_MS, `seed ${seed}: ${victim} seen up by all`));
    cluster.run(5_000);
    assert.deepEqual(cluster.log.slice(logged).filter((e) => !e.up), [], `seed ${seed}: no flapping after the return`);
    assert.ok(cluster.allSee(victim, true));
    assert.ok(cluster.node(victim).detector.selfIncarnation >= 1, 'the returned node refuted its death');
  }
  return measured;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${sorted[sorted.length >> 1]} ms, max ${sorted[sorted.length - 1]} ms over ${sorted.length} runs`;
}

test('5 nodes: a killed node is seen down by all within 5 s, and up again within 2 s of its return', () => {
  const m = killAndRestart(5, 30);
  console.log(`[swim] 5 nodes: detection ${summary(m.detectMs)}; recovery ${summary(m.recoverMs)}`);
});

test('20 nodes: a killed node is seen down by all within 5 s, and up again within 2 s of its return', () => {
  const m = killAndRestart(20, 12);
  console.log(`[swim] 20 nodes: detection ${summary(m.detectMs)}; recovery ${summary(m.recoverMs)}`);
});

test('3 nodes: kill and return', () => {
  const m = killAndRestart(3, 10);
  console.log(`[swim] 3 nodes: detection ${summary(m.detectMs)}; recovery ${summary(m.recoverMs)}`);
});

test('a healthy cluster reports nothing for a minute', () => {
  const cluster = new Cluster({ names: names(5), seed: 42 });
  cluster.run(60_000);
  assert.deepEqual(cluster.log, []);
  for (const name of cluster.names) assert.equal(cluster.node(name).detector.localHealth, 0);
});

test('a slow link (300 ms each way, a <-> c) is bridged by ping-req: c is never suspected for long, never dead', () => {
  const slow = (x: string, y: string): boolean => (x === 'n1' && y === 'n3') || (x === 'n3' && y === 'n1');
  const cluster = new Cluster({ names: names(5), seed: 7, latencyMs: (from, to) => (slow(from, to) ? 300 : 2) });
  cluster.run(30_000);
  assert.deepEqual(cluster.log, [], 'nobody declared dead');
  assert.equal(cluster.node('n1').detector.liveness('n3'), 'alive');
});

test('a slow node (300 ms each way on all its links) refutes suspicion and is never declared dead', () => {
  const cluster = new Cluster({ names: names(5), seed: 11, latencyMs: (from, to) => (from === 'n3' || to === 'n3' ? 300 : 2) });
  cluster.run(30_000);
  assert.deepEqual(cluster.log, [], 'nobody declared dead');
  console.log(`[swim] slow node: refuted ${cluster.node('n3').detector.selfIncarnation} suspicions in 30 s`);
});

test('refutation: a wrongly suspected node bumps its incarnation and everyone ends up holding it alive', () => {
  const cluster = new Cluster({ names: names(5), seed: 3 });
  cluster.run(1_000);
  // n1 wrongly claims n3 is suspect, to n2 and n4.
  for (const to of ['n2', 'n4']) cluster.inject('n1', to, { type: 'swim.ping', seq: 999, inc: 0, updates: [{ node: 'n3', state: 'suspect', inc: 0, from: 'n1' }] });
  cluster.run(20);
  assert.equal(cluster.node('n2').detector.liveness('n3'), 'suspect');
  const tookMs = cluster.runUntil(
    () => cluster.names.every((n) => n === 'n3' || cluster.node(n).detector.snapshot().some((s) => s.node === 'n3' && s.liveness === 'alive' && s.incarnation === 1)),
    1_500,
    'refutation spread',
  );
  assert.equal(cluster.node('n3').detector.selfIncarnation, 1);
  cluster.run(5_000);
  assert.deepEqual(cluster.log, [], 'n3 was never declared dead');
  console.log(`[swim] refutation reached everyone in ${tookMs} ms`);
});

test('a partition heals: both sides see each other again within 2 s', () => {
  const cluster = new Cluster({ names: names(5), seed: 5 });
  cluster.run(1_000);
  const sideA = new Set(['n1', 'n2']);
  cluster.latencyMs = (from, to) => (sideA.has(from) !== sideA.has(to) ? 1e9 : 2);
  cluster.run(6_000);
  assert.ok(cluster.node('n1').detector.liveness('n5') === 'dead' && cluster.node('n5').detector.liveness('n1') === 'dead');
  cluster.latencyMs = () => 2;
  const healMs = cluster.runUntil(() => cluster.names.every((n) => cluster.allSee(n, true)), RECOVER_LIMIT_MS, 'heal');
  console.log(`[swim] partition healed in ${healMs} ms`);
});
