// The KV simulation scenario (issue 3, "Done when"): N=3, R=2, W=2 clients on
// an allow_mult bucket, writing with contexts under crashes, partitions,
// clogs, drops, duplicates and delays (safety phase); then heal, restart,
// settle, read every key twice with R=all (the first read repairs) and check
// every replica (liveness phase). kv-checker.ts decides what is a violation.
//
// Workload: KV_CLIENTS clients, each pinned to a node (re-pinned when it is
// down). Shared keys take read-modify-writes (get R=2, put W=2 with the read's
// context) and some blind writes, from every client: truly concurrent writes,
// so siblings. Each client also owns one key it alone writes by strict
// read-modify-write with PR=PW=2: with sloppy quorums (R=W=2 met by
// fallbacks) a read may miss the client's own acknowledged write, so "no
// siblings from one sequential writer" holds only with strict quorums.
//
// The final object per key is every copy merged, fallbacks included: the
// liveness phase here is short, so hinted handoff may still be delivering a
// write acknowledged only by fallbacks; such values are counted in
// `hintedOnly`, and convergence is demanded of the primaries only. The handoff
// scenario (handoff-scenario.ts) waits for handoff and demands that nothing
// stays on a fallback.
import type { NodeName } from '../../core/env.js';
import { RondoError, TimeoutError } from '../../core/errors.js';
import type { ScenarioResult } from '../../core/scenarios/scenarios.js';
import { NETWORK_FAULTS_CALM, NETWORK_FAULTS_HOSTILE, Nemesis, type Prng } from '../../core/sim/index.js';
import { mergeReplicas, valuesWithDots, type ObjectProps, type RObject, type VersionVector } from '../object/index.js';
import type { KvBucketProps } from '../service.js';
import type { KeyRef } from '../vnode/index.js';
import { checkHistory, decodeText, type Observation, type PutOutcome, type PutRecord } from './kv-checker.js';
import { allSeeAllUp, formKvCluster, microtasks, type KvSimCluster } from './kv-sim-cluster.js';
import { SIM_SLICE_MS } from '../../core/scenarios/sim-cluster.js';

export const KV_NODES_DEFAULT = 5;
export const KV_CLIENTS = 6;
export const KV_SHARED_KEYS = 8;
/** Default safety phase (simulated ms); the CI test runs a shorter one, see test/sim/kv.test.ts. */
export const KV_SAFETY_MS_DEFAULT = 20_000;
/** Each client request answers (or is abandoned as "unknown outcome") within this. */
export const KV_REQUEST_TIMEOUT_MS = 2_000;
/** After the faults stop, the cluster must settle (rings agree, everyone up) within this. */
export const KV_SETTLE_BOUND_MS = 30_000;
/** Quiet time after settling and between the two final reads (replication, read repair). */
export const KV_QUIET_MS = 2_000;
const CLIENT_THINK_MS_MAX = 200;
const BLIND_WRITE_PROBABILITY = 0.15;
const OWN_KEY_PROBABILITY = 0.3;

const BUCKET: KvBucketProps = { nVal: 3, allowMult: true };
const OBJECT_PROPS: ObjectProps = { allowMult: true, lastWriteWins: false };

export interface KvScenarioOptions {
  seed: number;
  nodes?: number;
  /** Safety-phase length (simulated ms). */
  durationMs?: number;
  verbose?: boolean;
}

export type KvScenarioResult = Omit<ScenarioResult, 'scenario'> & { scenario: 'kv' };

export function refOf(key: string): KeyRef {
  return { bucketType: 'default', bucket: 'kv-sim', key };
}

/** Everything the safety phase records. */
export interface History {
  puts: PutRecord[];
  observations: Observation[];
  reads: number;
  readsFailed: number;
  /** First final reads that failed (R=all, notfound_ok=false, before repair). */
  firstReadsFailed: number;
  unexpected: string[];
}

export async function runKvScenario(opts: KvScenarioOptions): Promise<KvScenarioResult> {
  return runKvSimScenario('kv', opts.seed, () => formKvCluster(opts.nodes ?? KV_NODES_DEFAULT, { seed: opts.seed, ringSize: 16, ...(opts.verbose ? { verbose: true } : {}) }), (cluster, problems, metrics) =>
    kvScenario(cluster, opts.durationMs ?? KV_SAFETY_MS_DEFAULT, problems, metrics),
  );
}

/** Form the cluster, run the scenario body, and report problems (a throw is one), metrics and the trace. */
export async function runKvSimScenario<Name extends string>(
  scenario: Name,
  seed: number,
  form: () => Promise<KvSimCluster>,
  body: (cluster: KvSimCluster, problems: string[], metrics: Record<string, number>) => Promise<void>,
): Promise<Omit<ScenarioResult, 'scenario'> & { scenario: Name }> {
  const problems: string[] = [];
  const metrics: Record<string, number> = {};
  let cluster: KvSimCluster | undefined;
  try {
    cluster = await form();
    await body(cluster, problems, metrics);
  } catch (err) {
    problems.push(`scenario threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  const sim = cluster?.sim;
  return {
    scenario, seed, ok: problems.length === 0, problems, metrics,
    traceHash: sim?.traceHash() ?? '', simulatedMs: sim?.nowMs() ?? 0, traceTail: sim?.report().split('\n').slice(-40) ?? [],
  };
}

async function kvScenario(cluster: KvSimCluster, durationMs: number, problems: string[], metrics: Record<string, number>): Promise<void> {
  const all = cluster.liveNames();
  const history: History = { puts: [], observations: [], reads: 0, readsFailed: 0, firstReadsFailed: 0, unexpected: [] };
  let crashes = 0;
  const nemesis = new Nemesis(cluster.sim, cluster.sim.fork('nemesis'), {
    nodes: all, crashProbability: 0.25, partitionProbability: 0.35, clogProbability: 0.15, meanFaultDurationMs: 2_000,
    onCrash: (node) => {
      crashes++;
      cluster.nodes.get(node)?.stop(); // a crash runs no shutdown code: the service is simply gone
    },
    onRestart: (node, env) => {
      cluster.boot(node, env); // same memory engine: the "disk" survives
    },
  });
  // Safety phase.
  const before = cluster.sim.stats();
  cluster.sim.setFaults(NETWORK_FAULTS_HOSTILE);
  nemesis.start();
  const workload = new Workload(cluster, cluster.sim.fork('kv-clients'), history);
  const clients = Array.from({ length: KV_CLIENTS }, (_, c) => workload.client(c));
  const phaseEnd = cluster.sim.nowMs() + durationMs;
  while (cluster.sim.nowMs() < phaseEnd) await step(cluster);
  workload.stopping = true;
  const settled = Promise.allSettled(clients);
  await cluster.drive(settled, KV_REQUEST_TIMEOUT_MS * 4);
  const during = cluster.sim.stats();
  metrics.crashes = crashes;
  metrics.messagesDropped = during.messagesDropped - before.messagesDropped;
  metrics.messagesDuplicated = during.messagesDuplicated - before.messagesDuplicated;

  // Liveness phase: no new faults; everything back up; demand convergence.
  nemesis.stop();
  cluster.sim.setFaults(NETWORK_FAULTS_CALM);
  cluster.sim.heal();
  const healedAt = cluster.sim.nowMs();
  if (!cluster.runUntil(() => cluster.liveNames().length === all.length && cluster.settled() && allSeeAllUp(cluster), KV_SETTLE_BOUND_MS)) {
    problems.push(`cluster did not settle within ${KV_SETTLE_BOUND_MS} ms of healing (live: ${cluster.liveNames().join(',')})`);
    return;
  }
  metrics.settleAfterHealMs = cluster.sim.nowMs() - healedAt;
  await cluster.advance(KV_QUIET_MS);
  const keys = [...workload.sharedKeys, ...workload.ownKeys];
  await finalReads(cluster, keys, history, problems);
  const finals = await checkReplicas(cluster, keys, problems, metrics);
  problems.push(...(await listingProblems(cluster, cluster.liveNames(), keys, new Set(history.puts.filter((p) => p.outcome === 'ok').map((p) => p.key)))));

  problems.push(...history.unexpected);
  const verdict = checkHistory({ puts: history.puts, observations: history.observations, finals, strictKeys: new Set(workload.ownKeys) });
  problems.push(...verdict.problems);
  const count = (o: PutOutcome): number => history.puts.filter((p) => p.outcome === o).length;
  Object.assign(metrics, { acked: count('ok'), failed: count('failed'), unknown: count('unknown'), lost: verdict.lost, siblingsMax: verdict.siblingsMax, reads: history.reads, readsFailed: history.readsFailed, firstFinalReadsFailed: history.firstReadsFailed });
}

export async function step(cluster: KvSimCluster): Promise<void> {
  cluster.sim.runFor(SIM_SLICE_MS);
  await microtasks();
}

/** Every key, twice, with R=all and notfound_ok=false through rotating nodes: the first read repairs. */
export async function finalReads(cluster: KvSimCluster, keys: readonly string[], history: History, problems: string[], nodes: readonly NodeName[] = cluster.liveNames()): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const [i, key] of keys.entries()) {
      const via = nodes[(i + round) % nodes.length] as NodeName;
      try {
        const answer = await cluster.drive(cluster.kv(via).get(refOf(key), { r: 'all', notfoundOk: false, props: BUCKET, timeoutMs: 5_000 }), 10_000);
        if (answer.found) history.observations.push({ key, source: `final read ${round + 1} via ${via}`, object: answer.object });
      } catch (err) {
        // With notfound_ok=false a replica that missed every write fails R=all; the read still repairs it,
        // so only the second read must succeed.
        if (round === 0) history.firstReadsFailed++;
        else problems.push(`final read 2 of ${key} via ${via} failed after healing and a repairing read: ${String(err)}`);
      }
    }
    await cluster.advance(KV_QUIET_MS);
  }
}

/**
 * Listing after healing, through every node: each key with an acknowledged
 * write is listed, and nothing is listed that no client ever wrote. (Keys
 * are never deleted here, so no tombstone can hide or add one.)
 */
export async function listingProblems(cluster: KvSimCluster, nodes: readonly NodeName[], written: readonly string[], acknowledged: ReadonlySet<string>): Promise<string[]> {
  const problems: string[] = [];
  const known = new Set(written);
  for (const via of nodes) {
    const listed = new Set<string>();
    try {
      await cluster.drive(
        (async () => {
          for await (const chunk of cluster.kv(via).listKeys({ bucketType: 'default', bucket: refOf('').bucket }, { props: BUCKET, timeoutMs: 10_000 })) for (const key of chunk) listed.add(key);
        })(),
        20_000,
      );
    } catch (err) {
      problems.push(`listing keys via ${via} after healing failed: ${String(err)}`);
      continue;
    }
    const missing = [...acknowledged].filter((k) => !listed.has(k));
    const unknown = [...listed].filter((k) => !known.has(k));
    if (missing.length > 0) problems.push(`listing via ${via} misses ${missing.length} acknowledged key(s): ${missing.slice(0, 5).join(', ')}`);
    if (unknown.length > 0) problems.push(`listing via ${via} shows ${unknown.length} key(s) never written: ${unknown.slice(0, 5).join(', ')}`);
  }
  return problems;
}

/**
 * Every copy of every key: the primaries must hold identical objects; the
 * final object is all copies merged (fallbacks hold what handoff would return).
 */
async function checkReplicas(cluster: KvSimCluster, keys: readonly string[], problems: string[], metrics: Record<string, number>): Promise<Map<string, RObject | undefined>> {
  const finals = new Map<string, RObject | undefined>();
  let hintedOnly = 0;
  for (const key of keys) {
    const ref = refOf(key);
    const targets = cluster.kv('n1').preflist(ref);
    if (targets.length !== 3 || !targets.every((t) => t.primary)) problems.push(`${key}: preflist after healing is not 3 primaries: ${JSON.stringify(targets)}`);
    const primaries: (RObject | undefined)[] = [];
    for (const t of targets) primaries.push(await cluster.stored(t.node, t.partition, ref));
    const shapes = primaries.map(shapeOf);
    if (new Set(shapes).size !== 1) {
      problems.push(`${key}: primaries did not converge after heal and read repair: ${targets.map((t, i) => `${t.node}/p${t.partition}=${shapes[i]}`).join(' | ')}`);
    }
    let merged = primaries.reduce<RObject | undefined>((acc, o) => merge(acc, o), undefined);
    const onPrimaries = new Set(merged === undefined ? [] : valuesOf(merged));
    for (const node of cluster.liveNames()) {
      for (const t of targets) if (t.node !== node) merged = merge(merged, await cluster.stored(node, t.partition, ref));
    }
    hintedOnly += (merged === undefined ? [] : valuesOf(merged)).filter((v) => !onPrimaries.has(v)).length;
    finals.set(key, merged);
  }
  metrics.hintedOnly = hintedOnly;
  return finals;
}

function merge(a: RObject | undefined, b: RObject | undefined): RObject | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return mergeReplicas(a, b, OBJECT_PROPS);
}

function valuesOf(o: RObject): string[] {
  return valuesWithDots(o.clock).map(([, c]) => decodeText(c.value));
}

/** A replica's object as text: the clock's counters and the live dots with their values. */
function shapeOf(o: RObject | undefined): string {
  if (o === undefined) return 'absent';
  return o.clock.entries.map((e) => `${e.actor}:${e.counter}[${e.values.map(([n, c]) => `${n}=${decodeText(c.value)}`).join(',')}]`).join(' ');
}

/** The simulated clients: their keys, their pins, their loops. */
export class Workload {
  stopping = false;
  readonly sharedKeys = Array.from({ length: KV_SHARED_KEYS }, (_, i) => `shared-${i}`);
  readonly ownKeys = Array.from({ length: KV_CLIENTS }, (_, c) => `own-c${c}`);
  private readonly pins = new Map<number, NodeName>();
  private readonly written = new Map<number, number>();

  /** `pinnable`: nodes a client may use (default: every live node). */
  constructor(
    private readonly cluster: KvSimCluster,
    private readonly random: Prng,
    private readonly history: History,
    private readonly pinnable: () => NodeName[] = () => cluster.liveNames(),
  ) {}

  async client(c: number): Promise<void> {
    while (!this.stopping) {
      await this.sleep(1 + this.random.int(CLIENT_THINK_MS_MAX));
      if (this.stopping) return;
      const own = this.random.next() < OWN_KEY_PROBABILITY;
      const key = own ? (this.ownKeys[c] as string) : (this.sharedKeys[this.random.int(KV_SHARED_KEYS)] as string);
      if (!own && this.random.next() < BLIND_WRITE_PROBABILITY) {
        await this.put(c, key, [], false);
        continue;
      }
      const context = await this.read(c, key, own);
      if (context !== undefined) await this.put(c, key, context, own);
    }
  }

  /** A get; its context, or undefined when it failed. */
  private async read(c: number, key: string, strict: boolean): Promise<VersionVector | undefined> {
    const via = this.pin(c);
    const startMs = this.cluster.sim.nowMs();
    this.history.reads++;
    try {
      const answer = await this.withDeadline(this.cluster.kv(via).get(refOf(key), { r: 2, ...(strict ? { pr: 2 } : {}), props: BUCKET, timeoutMs: KV_REQUEST_TIMEOUT_MS }));
      if (!answer.found) return answer.context ?? [];
      this.history.observations.push({ key, source: `read by c${c} via ${via} at ${startMs} ms`, object: answer.object });
      return answer.context;
    } catch (err) {
      this.history.readsFailed++;
      this.classify(c, err);
      return undefined;
    }
  }

  private async put(c: number, key: string, context: VersionVector, strict: boolean): Promise<void> {
    const n = (this.written.get(c) ?? 0) + 1;
    this.written.set(c, n);
    const via = this.pin(c);
    const record: PutRecord = { client: c, key, value: `c${c}-${n}`, context, outcome: 'unknown', strict, startMs: this.cluster.sim.nowMs(), endMs: -1 };
    this.history.puts.push(record);
    try {
      const content = { value: new TextEncoder().encode(record.value), contentType: 'text/plain' };
      const result = await this.withDeadline(
        this.cluster.kv(via).put(refOf(key), { content, context }, { w: 2, ...(strict ? { pw: 2 } : {}), returnBody: true, props: BUCKET, timeoutMs: KV_REQUEST_TIMEOUT_MS }),
      );
      record.outcome = 'ok';
      if (result.body !== undefined) this.history.observations.push({ key, source: `returnBody of ${record.value} via ${via}`, object: result.body.object });
    } catch (err) {
      record.outcome = this.classify(c, err);
      record.error = err instanceof Error ? err.message : String(err);
    }
    record.endMs = this.cluster.sim.nowMs();
  }

  /** 'unknown' for timeouts (the write may still land), 'failed' for other typed errors (it may too). */
  private classify(c: number, err: unknown): PutOutcome {
    if (err instanceof TimeoutError || err instanceof ClientDeadlineError) return 'unknown';
    if (err instanceof RondoError) return 'failed';
    this.history.unexpected.push(`client c${c}: request failed with an untyped error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 'unknown';
  }

  /** The client's node; re-pinned at random when it is down. */
  private pin(c: number): NodeName {
    const current = this.pins.get(c);
    const live = this.pinnable();
    if (current !== undefined && live.includes(current)) return current;
    const next = live[this.random.int(live.length)] as NodeName;
    this.pins.set(c, next);
    return next;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.cluster.sim.schedule(ms, resolve));
  }

  /**
   * A request whose coordinator crashes never answers (its timers died with
   * it): give up on a simulation-level timer, which crashes do not cancel.
   */
  private withDeadline<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.cluster.sim.schedule(KV_REQUEST_TIMEOUT_MS + 500, () => reject(new ClientDeadlineError()));
      promise.then(
        (v) => {
          this.cluster.sim.cancel(id);
          resolve(v);
        },
        (err: unknown) => {
          this.cluster.sim.cancel(id);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}

class ClientDeadlineError extends Error {
  constructor() {
    super(`no answer within ${KV_REQUEST_TIMEOUT_MS + 500} simulated ms (coordinator crashed?)`);
    this.name = 'ClientDeadlineError';
  }
}
