// The handoff simulation scenario (issue 4, "Done when"). While the KV
// workload writes with W=2 (kv-scenario's clients, pinned to valid members),
// a 3-node cluster (a) is joined by two nodes, (b) loses one to a leave, and
// (c) has one node crash for a while and come back — with drops, delays,
// duplicates, clogs and short partitions during each phase. Then heal and
// demand: every acknowledged write is on the primaries (R=all reads and the
// primaries' own copies, no fallback counted), ownership balanced, no pending
// transfer, no node holding data for a partition it does not own (hinted data
// stranded on a fallback, or an old owner's copy never dropped), and the
// leaver removed and empty.
import type { NodeName } from '../../core/env.js';
import { presentMembers, type RingState } from '../../core/membership/index.js';
import type { ScenarioResult } from '../../core/scenarios/scenarios.js';
import { SimCluster, ownershipProblems } from '../../core/scenarios/sim-cluster.js';
import { NETWORK_FAULTS_CALM, NETWORK_FAULTS_HOSTILE, Nemesis } from '../../core/sim/index.js';
import { mergeReplicas, type ObjectProps, type RObject } from '../object/index.js';
import type { KvServiceOptions } from '../service.js';
import { checkHistory, type PutOutcome } from './kv-checker.js';
import { KV_CLIENTS, KV_QUIET_MS, Workload, finalReads, listingProblems, refOf, runKvSimScenario, step, type History } from './kv-scenario.js';
import { allSeeAllUp, formKvCluster, type KvSimCluster } from './kv-sim-cluster.js';

/** Simulated ms each phase runs its faults and workload (CI); the campaign may pass longer. */
export const HANDOFF_PHASE_MS_DEFAULT = 6_000;
/** After healing, transfers must finish and the cluster settle within this. */
export const HANDOFF_SETTLE_BOUND_MS = 120_000;
/** Keys written before the membership changes, so every transfer moves data. */
export const HANDOFF_PRELOAD_KEYS = 60;
/** Faster retries than production, so a seed's simulated time stays short. */
const SIM_HANDOFF: KvServiceOptions['handoff'] = { stallTimeoutMs: 20_000, resendMs: 1_000, retryDelayMs: 1_000, dropGraceMs: 1_000, checkIntervalMs: 500 };
const OBJECT_PROPS: ObjectProps = { allowMult: true, lastWriteWins: false };

export interface HandoffScenarioOptions {
  seed: number;
  phaseMs?: number;
  verbose?: boolean;
}

export type HandoffScenarioResult = Omit<ScenarioResult, 'scenario'> & { scenario: 'handoff' };

export async function runHandoffScenario(opts: HandoffScenarioOptions): Promise<HandoffScenarioResult> {
  return runKvSimScenario('handoff', opts.seed, () => formKvCluster(3, { seed: opts.seed, ringSize: 16, service: { handoff: SIM_HANDOFF }, ...(opts.verbose ? { verbose: true } : {}) }), (cluster, problems, metrics) =>
    handoffScenario(cluster, opts.phaseMs ?? HANDOFF_PHASE_MS_DEFAULT, problems, metrics),
  );
}

/** Valid members as `via` sees the ring, that are up. */
function validMembers(cluster: KvSimCluster, via: NodeName): NodeName[] {
  return presentMembers(cluster.node(via).ring())
    .filter((m) => m.status === 'valid' && cluster.sim.isUp(m.name))
    .map((m) => m.name)
    .sort();
}

async function handoffScenario(cluster: KvSimCluster, phaseMs: number, problems: string[], metrics: Record<string, number>): Promise<void> {
  const history: History = { puts: [], observations: [], reads: 0, readsFailed: 0, firstReadsFailed: 0, unexpected: [] };
  const random = cluster.sim.fork('handoff-scenario');
  // Preload under calm conditions: every key exists on its three primaries before ownership moves.
  const preload = Array.from({ length: HANDOFF_PRELOAD_KEYS }, (_, i) => `pre-${i}`);
  for (const key of preload) {
    const content = { value: new TextEncoder().encode(`pre-${key}`), contentType: 'text/plain' };
    const result = await cluster.drive(cluster.kv('n1').put(refOf(key), { content }, { w: 3, props: { nVal: 3, allowMult: true }, returnBody: true }));
    history.puts.push({ client: KV_CLIENTS, key, value: `pre-${key}`, context: [], outcome: 'ok', strict: false, startMs: cluster.sim.nowMs(), endMs: cluster.sim.nowMs() });
    if (result.body) history.observations.push({ key, source: 'preload', object: result.body.object });
  }
  for (const name of ['n4', 'n5']) cluster.addNode(name);
  const pinnable = (): NodeName[] => validMembers(cluster, 'n1').filter((n) => cluster.sim.isUp(n));
  const workload = new Workload(cluster, cluster.sim.fork('kv-clients'), history, pinnable);
  const clients = Array.from({ length: KV_CLIENTS }, (_, c) => workload.client(c));
  const all = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const nemesis = new Nemesis(cluster.sim, cluster.sim.fork('nemesis'), {
    nodes: all, crashProbability: 0, partitionProbability: 0.3, clogProbability: 0.15, meanFaultDurationMs: 800, meanActionIntervalMs: 1_500,
  });
  cluster.sim.setFaults(NETWORK_FAULTS_HOSTILE);
  nemesis.start();
  const run = async (ms: number): Promise<void> => {
    const end = cluster.sim.nowMs() + ms;
    while (cluster.sim.nowMs() < end) await step(cluster);
  };
  const retry = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await action();
        return;
      } catch {
        await run(500);
      }
    }
    problems.push(`${what} did not succeed in 20 attempts under faults`);
  };
  const commit = async (staged: (ring: RingState) => boolean): Promise<void> => {
    await retry('plan and commit', async () => {
      const claimant = cluster.node('n1').ring().ownership.claimant;
      if (!staged(cluster.node(claimant).ring())) throw new Error('claimant has not seen the staged change yet');
      if (!(await cluster.planAndCommit(claimant))) throw new Error('nothing staged at the claimant');
    });
  };

  // (a) two nodes join.
  for (const name of ['n4', 'n5']) await retry(`join ${name}`, () => cluster.admin(name, { type: 'admin.join', seed: SimCluster.addressOf('n1') }));
  await commit((ring) => ring.members.n4?.status === 'joining' && ring.members.n5?.status === 'joining');
  await run(phaseMs);
  // (b) one of the original nodes (not the claimant) leaves.
  const claimant = cluster.node('n1').ring().ownership.claimant;
  const leaver = (['n2', 'n3'].filter((n) => n !== claimant)[random.int(2)] ?? 'n2') as NodeName;
  await retry(`leave ${leaver}`, () => cluster.admin(leaver, { type: 'admin.leave' }));
  await commit((ring) => ring.members[leaver]?.staged !== null || ring.members[leaver]?.status !== 'valid');
  await run(phaseMs);
  // (c) one remaining member crashes for a while, then returns.
  const victims = validMembers(cluster, 'n1').filter((n) => n !== leaver);
  const victim = victims[random.int(victims.length)] as NodeName;
  cluster.crash(victim);
  await run(phaseMs);
  cluster.restart(victim);
  await run(phaseMs / 2);
  metrics.leaver = Number(leaver.slice(1));
  metrics.crashed = Number(victim.slice(1));

  // Heal; the workload keeps writing while transfers finish.
  nemesis.stop();
  cluster.sim.setFaults(NETWORK_FAULTS_CALM);
  cluster.sim.heal();
  const healedAt = cluster.sim.nowMs();
  const members = (): NodeName[] => all.filter((n) => n !== leaver);
  const done = (): boolean =>
    cluster.settled(members()) && allSeeAllUp(cluster, members()) && cluster.node('n1').ring().members[leaver]?.status === 'removed';
  if (!(await cluster.advanceUntil(done, HANDOFF_SETTLE_BOUND_MS))) {
    const ring = cluster.node('n1').ring();
    const managers = all.map((n) => `${n}: ${cluster.kv(n).handoff.describe()}`).join('; ');
    problems.push(`not settled ${HANDOFF_SETTLE_BOUND_MS} ms after healing: pending ${JSON.stringify(ring.ownership.pending)}, members ${presentMembers(ring).map((m) => `${m.name}:${m.status}`).join(' ')}; handoff ${managers}`);
  }
  workload.stopping = true;
  await cluster.drive(Promise.allSettled(clients), 10_000);
  // No new writes: let the last hinted data and old copies drain.
  const stranded = async (): Promise<string[]> => strandedData(cluster, all);
  const drainedAt = cluster.sim.nowMs();
  let left = await stranded();
  while (left.length > 0 && cluster.sim.nowMs() - drainedAt < HANDOFF_SETTLE_BOUND_MS) {
    await cluster.advance(500);
    left = await stranded();
  }
  metrics.settleAfterHealMs = cluster.sim.nowMs() - healedAt;
  problems.push(...left.map((s) => `${s} ${HANDOFF_SETTLE_BOUND_MS} ms after the workload stopped`));
  problems.push(...ownershipProblems(cluster.node('n1').ring()).map((p) => `ownership: ${p}`));
  await cluster.advance(KV_QUIET_MS);

  const keys = [...preload, ...workload.sharedKeys, ...workload.ownKeys];
  await finalReads(cluster, keys, history, problems, members());
  const finals = await primaryCopies(cluster, keys, problems);
  const acknowledged = new Set([...preload, ...history.puts.filter((p) => p.outcome === 'ok').map((p) => p.key)]);
  problems.push(...(await listingProblems(cluster, members(), keys, acknowledged)));
  problems.push(...history.unexpected);
  const verdict = checkHistory({ puts: history.puts, observations: history.observations, finals, strictKeys: new Set(workload.ownKeys) });
  problems.push(...verdict.problems);
  const count = (o: PutOutcome): number => history.puts.filter((p) => p.outcome === o).length;
  let transfers = 0;
  for (const n of members()) transfers += cluster.kv(n).handoff.completed;
  Object.assign(metrics, { acked: count('ok'), failed: count('failed'), unknown: count('unknown'), lost: verdict.lost, siblingsMax: verdict.siblingsMax, transfers });
}

/** "n2 holds data of partition 5, owned by n4" for every such case on a live node (and on the leaver). */
async function strandedData(cluster: KvSimCluster, names: readonly NodeName[]): Promise<string[]> {
  const ring = cluster.node('n1').ring();
  const out: string[] = [];
  for (const name of names) {
    for (const partition of await cluster.engines.get(name)!.partitions()) {
      const owner = ring.ownership.owners[partition];
      if (owner !== name) out.push(`${name} still holds data of partition ${partition}, owned by ${owner} (${name}'s handoff: ${cluster.kv(name).handoff.describe()})`);
    }
  }
  return out;
}

/** Each key's primaries: they must agree; the final object is theirs alone (fallbacks must have handed off). */
async function primaryCopies(cluster: KvSimCluster, keys: readonly string[], problems: string[]): Promise<Map<string, RObject | undefined>> {
  const finals = new Map<string, RObject | undefined>();
  for (const key of keys) {
    const ref = refOf(key);
    const targets = cluster.kv('n1').preflist(ref);
    if (targets.length !== 3 || !targets.every((t) => t.primary)) problems.push(`${key}: preflist after healing is not 3 primaries: ${JSON.stringify(targets)}`);
    let merged: RObject | undefined;
    const shapes = new Set<string>();
    for (const t of targets) {
      const copy = await cluster.stored(t.node, t.partition, ref);
      shapes.add(copy === undefined ? 'absent' : JSON.stringify(copy.clock));
      merged = merged === undefined ? copy : copy === undefined ? merged : mergeReplicas(merged, copy, OBJECT_PROPS);
    }
    if (shapes.size !== 1) problems.push(`${key}: primaries differ after healing and read repair`);
    finals.set(key, merged);
  }
  return finals;
}
