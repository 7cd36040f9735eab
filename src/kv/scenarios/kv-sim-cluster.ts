// A simulated cluster of ClusterNodes, each with a KvService on a memory
// engine. SimCluster builds and drives the nodes; this subclass attaches a
// KvService in boot() (the one place the node's Env is at hand) and keeps each
// node's engine across crashes and restarts, as a disk would. Used by the KV
// simulation scenario and by the service's unit tests.
import type { Env, NodeName } from '../../core/env.js';
import type { ClusterNode } from '../../core/node/cluster-node.js';
import { SIM_SLICE_MS, SimCluster, type SimClusterOptions } from '../../core/scenarios/sim-cluster.js';
import { openMemoryEngine, type StorageEngine } from '../backend/index.js';
import { decodeObject, type RObject } from '../object/index.js';
import { KvService, type KvServiceOptions } from '../service.js';
import type { KeyRef } from '../vnode/index.js';

export class KvSimCluster extends SimCluster {
  readonly services = new Map<NodeName, KvService>();
  readonly engines = new Map<NodeName, StorageEngine>();
  readonly envs = new Map<NodeName, Env>();
  serviceOptions: Partial<KvServiceOptions> = {};

  /** Transfers complete only when handoff has moved the data. */
  constructor(opts: SimClusterOptions) {
    super({ autoCompleteTransfers: false, ...opts });
  }

  override boot(name: NodeName, env: Env): ClusterNode {
    const node = super.boot(name, env as Parameters<SimCluster['boot']>[1]);
    let engine = this.engines.get(name);
    if (engine === undefined) this.engines.set(name, (engine = openMemoryEngine()));
    this.envs.set(name, env);
    this.services.set(name, new KvService({ ...this.serviceOptions, cluster: node, env, engine }));
    return node;
  }

  kv(name: NodeName): KvService {
    const s = this.services.get(name);
    if (s === undefined) throw new Error(`no service on ${name}`);
    return s;
  }

  /** Advance virtual time in slices until `promise` settles (or `maxMs` pass), then return it. */
  async drive<T>(promise: Promise<T>, maxMs = 30_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined);
    await microtasks();
    if (!(await this.advanceUntil(() => settled, maxMs))) throw new Error(`promise did not settle within ${maxMs} simulated ms`);
    return tracked;
  }

  /** Advance time, letting promise chains (vnode commands) run between slices. */
  async advance(ms: number): Promise<void> {
    await this.advanceUntil(() => false, ms);
  }

  /** Advance in slices, letting promise chains (handoff, vnode commands) run between them, until `predicate` holds (true) or `maxMs` pass (false). */
  async advanceUntil(predicate: () => boolean, maxMs: number): Promise<boolean> {
    const end = this.sim.nowMs() + maxMs;
    while (!predicate()) {
      if (this.sim.nowMs() >= end) return false;
      this.sim.runFor(SIM_SLICE_MS);
      await microtasks();
    }
    return true;
  }

  /** What `name`'s vnode for `partition` stores for `ref` (undefined: nothing). */
  async stored(name: NodeName, partition: number, ref: KeyRef): Promise<RObject | undefined> {
    const bytes = await this.engines.get(name)?.partition(partition).get(ref);
    return bytes === undefined ? undefined : decodeObject(bytes);
  }
}

export async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Form a cluster of `size` nodes n1..nsize, joined, planned, committed and settled. */
export async function formKvCluster(
  size: number,
  opts: { seed?: number; ringSize?: number; service?: Partial<KvServiceOptions> } & Pick<SimClusterOptions, 'verbose'> = {},
): Promise<KvSimCluster> {
  const cluster = new KvSimCluster({ seed: opts.seed ?? 1, ringSize: opts.ringSize ?? 16, ...(opts.verbose ? { verbose: true } : {}) });
  cluster.serviceOptions = opts.service ?? {};
  cluster.addNode('n1');
  for (let i = 2; i <= size; i++) {
    cluster.addNode(`n${i}`);
    await cluster.admin(`n${i}`, { type: 'admin.join', seed: SimCluster.addressOf('n1') });
  }
  cluster.runUntil(() => Object.keys(cluster.node('n1').ring().members).length === size, 10_000);
  await cluster.planAndCommit('n1');
  if (!(await cluster.advanceUntil(() => cluster.settled() && allSeeAllUp(cluster), 60_000))) throw new Error('cluster did not settle');
  return cluster;
}

export function allSeeAllUp(cluster: SimCluster, names: readonly NodeName[] = cluster.liveNames()): boolean {
  return names.every((n) => names.every((m) => cluster.node(n).upNodes().has(m)));
}
