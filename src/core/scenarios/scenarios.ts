// Simulation scenarios with checkers. Each takes a seed and returns a verdict
// with measurements; the same seed always yields the same trace hash.
//  (a) joins:    N nodes join one by one; rings converge and are balanced.
//  (b) chaos:    crashes, partitions, clogs, loss and duplication while nodes
//                join and leave (safety phase), then heal (liveness phase):
//                every live member must agree on one balanced ring in time.
//  (c) detector: a crashed node is seen down by all within 5 s, and up again
//                within 2 s of its restart.
import type { NodeName } from '../env.js';
import { RondoError } from '../errors.js';
import { presentMembers } from '../membership/index.js';
import { NETWORK_FAULTS_CALM, NETWORK_FAULTS_HOSTILE, Nemesis } from '../sim/index.js';
import { ownershipProblems, SimCluster } from './sim-cluster.js';

/** After a commit, every node must hold the final ring within this (simulated) bound. */
export const CONVERGENCE_BOUND_MS = 15_000;
/** After the faults stop, live members must agree on a settled ring within this bound. */
export const LIVENESS_BOUND_MS = 60_000;
export const DETECT_DOWN_BOUND_MS = 5_000;
export const DETECT_UP_BOUND_MS = 2_000;

export type ScenarioName = 'joins' | 'chaos' | 'detector';
export const SCENARIOS: readonly ScenarioName[] = ['joins', 'chaos', 'detector'];

export interface ScenarioOptions {
  seed: number;
  nodes?: number;
  /** Safety-phase length for 'chaos' (simulated ms). */
  durationMs?: number;
  ringSize?: number;
  verbose?: boolean;
}

export interface ScenarioResult {
  scenario: ScenarioName;
  seed: number;
  ok: boolean;
  problems: string[];
  metrics: Record<string, number>;
  traceHash: string;
  simulatedMs: number;
  /** Last trace lines, for printing when a run fails. */
  traceTail: string[];
}

export async function runScenario(name: ScenarioName, opts: ScenarioOptions): Promise<ScenarioResult> {
  const cluster = new SimCluster({ seed: opts.seed, ringSize: opts.ringSize ?? 64, ...(opts.verbose ? { verbose: true } : {}) });
  const problems: string[] = [];
  const metrics: Record<string, number> = {};
  try {
    switch (name) {
      case 'joins':
        await joinsScenario(cluster, opts.nodes ?? 5, problems, metrics);
        break;
      case 'chaos':
        await chaosScenario(cluster, opts.nodes ?? 5, opts.durationMs ?? 20_000, problems, metrics);
        break;
      case 'detector':
        await detectorScenario(cluster, opts.nodes ?? 5, problems, metrics);
        break;
      default: {
        const unreachable: never = name;
        throw new Error(`unknown scenario ${String(unreachable)}`);
      }
    }
  } catch (err) {
    problems.push(`scenario threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  const traceTail = cluster.sim.report().split('\n').slice(-40);
  return { scenario: name, seed: opts.seed, ok: problems.length === 0, problems, metrics, traceHash: cluster.sim.traceHash(), simulatedMs: cluster.sim.nowMs(), traceTail };
}

function names(count: number): NodeName[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** Join `name` via `seed`, plan, commit, and wait for the cluster to settle. Returns ms to settle. */
async function joinAndSettle(cluster: SimCluster, name: NodeName, seed: NodeName): Promise<number> {
  cluster.addNode(name);
  await cluster.admin(name, { type: 'admin.join', seed: SimCluster.addressOf(seed) });
  // The claimant learns of the joiner by gossip: wait for it before planning.
  const claimant = cluster.node(seed).ring().ownership.claimant;
  cluster.runUntil(() => cluster.node(claimant).ring().members[name] !== undefined, CONVERGENCE_BOUND_MS);
  await cluster.planAndCommit(seed);
  const start = cluster.sim.nowMs();
  cluster.runUntil(() => cluster.settled(), CONVERGENCE_BOUND_MS);
  return cluster.sim.nowMs() - start;
}

function checkRings(cluster: SimCluster, members: readonly NodeName[], problems: string[]): void {
  if (!cluster.settled(members)) {
    const digests = members.map((n) => `${n}: epoch ${cluster.node(n).ring().ownership.epoch}, pending ${cluster.node(n).ring().ownership.pending.length}`);
    problems.push(`rings not settled among ${members.join(',')}: ${digests.join('; ')}`);
  }
  for (const n of members) for (const p of ownershipProblems(cluster.node(n).ring())) problems.push(`${n}: ${p}`);
  const present = presentMembers(cluster.node(members[0] as NodeName).ring()).map((m) => m.name);
  if (present.join(',') !== [...members].sort().join(',')) problems.push(`members are ${present.join(',')}, expected ${[...members].sort().join(',')}`);
}

async function joinsScenario(cluster: SimCluster, count: number, problems: string[], metrics: Record<string, number>): Promise<void> {
  const all = names(count);
  cluster.addNode(all[0] as NodeName);
  let worst = 0;
  for (const name of all.slice(1)) {
    const ms = await joinAndSettle(cluster, name, 'n1');
    worst = Math.max(worst, ms);
    if (ms >= CONVERGENCE_BOUND_MS) problems.push(`join of ${name}: cluster did not settle within ${CONVERGENCE_BOUND_MS} ms`);
  }
  metrics.settleAfterCommitMsMax = worst;
  checkRings(cluster, all, problems);
}

async function chaosScenario(cluster: SimCluster, count: number, durationMs: number, problems: string[], metrics: Record<string, number>): Promise<void> {
  const all = names(Math.max(count, 4));
  const initial = all.slice(0, 3);
  cluster.addNode('n1');
  for (const name of initial.slice(1)) await joinAndSettle(cluster, name, 'n1');
  const random = cluster.sim.fork('chaos');
  const departed = new Set<NodeName>();
  const wantJoined = new Set(initial);
  const leaver = 'n2';
  for (const name of all.slice(3)) cluster.addNode(name); // alone until they join

  // Safety phase: faults on, membership changes attempted (failures allowed).
  cluster.sim.setFaults(NETWORK_FAULTS_HOSTILE);
  const nemesis = new Nemesis(cluster.sim, cluster.sim.fork('nemesis'), {
    nodes: all,
    crashProbability: 0.25,
    partitionProbability: 0.35,
    clogProbability: 0.15,
    meanFaultDurationMs: 2_000,
    onCrash: (node) => {
      crashes++;
      cluster.nodes.get(node)?.stop();
    },
    onRestart: (node, env) => {
      if (!departed.has(node)) cluster.boot(node, env);
    },
  });
  let crashes = 0;
  const before = cluster.sim.stats();
  nemesis.start();
  const phaseEnd = cluster.sim.nowMs() + durationMs;
  const ops: (() => Promise<void>)[] = all.slice(3).map((name) => async () => {
    wantJoined.add(name);
    if (cluster.sim.isUp(name)) await cluster.admin(name, { type: 'admin.join', seed: SimCluster.addressOf(pickLive(cluster, random.int(1000))) }, 5_000);
  });
  ops.push(async () => {
    wantJoined.delete(leaver);
    await cluster.admin(pickLive(cluster, 0), { type: 'admin.leave', node: leaver }, 5_000);
  });
  let attempted = 0;
  let failed = 0;
  while (cluster.sim.nowMs() < phaseEnd) {
    cluster.sim.runFor(500 + random.int(1_500));
    const op = random.next() < 0.5 ? ops.shift() : undefined;
    try {
      attempted++;
      if (op) await op();
      else await cluster.planAndCommit(pickLive(cluster, random.int(1000)));
    } catch (err) {
      if (!(err instanceof RondoError)) throw err;
      failed++;
    }
  }
  for (const op of ops) {
    try {
      await op();
    } catch (err) {
      if (!(err instanceof RondoError)) throw err;
    }
  }
  const during = cluster.sim.stats();
  metrics.crashes = crashes;
  metrics.messagesDropped = during.messagesDropped - before.messagesDropped;
  metrics.messagesDuplicated = during.messagesDuplicated - before.messagesDuplicated;
  metrics.messagesHeld = during.messagesHeld - before.messagesHeld;
  metrics.adminOpsAttempted = attempted;
  metrics.adminOpsFailed = failed;

  // Liveness phase: no new faults. Finish what was asked, then demand convergence.
  nemesis.stop();
  cluster.sim.setFaults(NETWORK_FAULTS_CALM);
  cluster.sim.heal();
  const healedAt = cluster.sim.nowMs();
  const deadline = healedAt + LIVENESS_BOUND_MS;
  const members = [...wantJoined].sort();
  const done = (): boolean => cluster.settled(members) && !presentMembers(cluster.node(members[0] as NodeName).ring()).some((m) => m.name === leaver);
  while (cluster.sim.nowMs() < deadline) {
    await finishRequestedChanges(cluster, wantJoined, leaver, departed);
    if (cluster.runUntil(done, 1_000)) break;
  }
  metrics.convergeAfterHealMs = cluster.sim.nowMs() - healedAt;
  checkRings(cluster, [...wantJoined].sort(), problems);
}

/** After healing: retry joins that did not take, stage the leave if it was lost, commit. */
async function finishRequestedChanges(cluster: SimCluster, wantJoined: Set<NodeName>, leaver: NodeName, departed: Set<NodeName>): Promise<void> {
  const seed = [...wantJoined].sort()[0] as NodeName;
  const ring = cluster.node(seed).ring();
  for (const name of wantJoined) {
    if (ring.members[name] === undefined || ring.members[name]?.status === 'removed') {
      await cluster.admin(name, { type: 'admin.join', seed: SimCluster.addressOf(seed) }, 10_000).catch(() => undefined);
    }
  }
  const leaverEntry = ring.members[leaver];
  if (leaverEntry && leaverEntry.status === 'valid' && leaverEntry.staged === null) {
    await cluster.admin(seed, { type: 'admin.leave', node: leaver }, 10_000).catch(() => undefined);
  }
  if (leaverEntry?.status === 'removed' && !departed.has(leaver)) {
    departed.add(leaver);
    cluster.crash(leaver); // it has left: shut it down as the real node does
  }
  await cluster.planAndCommit(seed).catch((err: unknown) => {
    if (!(err instanceof RondoError)) throw err;
  });
}

function pickLive(cluster: SimCluster, index: number): NodeName {
  const live = cluster.liveNames().filter((n) => presentMembers(cluster.node(n).ring()).length > 1);
  const pool = live.length > 0 ? live : cluster.liveNames();
  return pool[index % pool.length] as NodeName;
}

async function detectorScenario(cluster: SimCluster, count: number, problems: string[], metrics: Record<string, number>): Promise<void> {
  const all = names(count);
  cluster.addNode('n1');
  for (const name of all.slice(1)) await joinAndSettle(cluster, name, 'n1');
  cluster.sim.runFor(2_000);
  const random = cluster.sim.fork('detector');
  const victim = all[random.int(all.length)] as NodeName;
  const others = all.filter((n) => n !== victim);
  if (!others.every((n) => cluster.node(n).watcher.isUp(victim))) problems.push(`${victim} not seen up by all before the crash`);

  cluster.crash(victim);
  const crashedAt = cluster.sim.nowMs();
  const seenDown = cluster.runUntil(() => others.every((n) => !cluster.node(n).watcher.isUp(victim)), DETECT_DOWN_BOUND_MS * 3);
  metrics.detectDownMs = cluster.sim.nowMs() - crashedAt;
  if (!seenDown || metrics.detectDownMs > DETECT_DOWN_BOUND_MS) problems.push(`${victim} seen down by all after ${metrics.detectDownMs} ms (bound ${DETECT_DOWN_BOUND_MS})`);

  cluster.sim.runFor(3_000);
  cluster.restart(victim);
  const restartedAt = cluster.sim.nowMs();
  const seenUp = cluster.runUntil(() => others.every((n) => cluster.node(n).watcher.isUp(victim)), DETECT_UP_BOUND_MS * 3);
  metrics.detectUpMs = cluster.sim.nowMs() - restartedAt;
  if (!seenUp || metrics.detectUpMs > DETECT_UP_BOUND_MS) problems.push(`${victim} seen up by all after ${metrics.detectUpMs} ms (bound ${DETECT_UP_BOUND_MS})`);
  if (!cluster.node(victim).ring().members[victim]) problems.push(`${victim} lost its ring across the restart`);
}
