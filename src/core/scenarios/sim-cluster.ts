// A whole cluster of ClusterNodes inside one Simulation: the harness the
// scenarios drive. Admin requests are async (a join waits for the seed's
// answer), so the harness advances virtual time in fixed slices and lets
// promises settle between slices — fixed slices keep runs deterministic.
import type { NodeName } from '../env.js';
import { RondoError } from '../errors.js';
import { countOwners, presentMembers, ringDigest, type RingState } from '../membership/index.js';
import type { AdminReply, AdminRequest } from '../node/admin-messages.js';
import { ClusterNode } from '../node/cluster-node.js';
import { Simulation, type NetworkFaults } from '../sim/index.js';

export const SIM_SLICE_MS = 10;
/** Events one runFor/runUntil call may process in a scenario; far above any healthy run, it turns a message storm into a failure fast. */
export const SCENARIO_EVENTS_PER_RUN_MAX = 200_000;

export interface SimClusterOptions {
  seed: number;
  ringSize?: number;
  targetNVal?: number;
  faults?: Partial<NetworkFaults>;
  verbose?: boolean;
  /** Receivers report pending transfers done at once (clusters without a data service to hand off). Default true. */
  autoCompleteTransfers?: boolean;
}

export class SimCluster {
  readonly sim: Simulation;
  readonly nodes = new Map<NodeName, ClusterNode>();
  private readonly opts: SimClusterOptions;
  private readonly addressToName = new Map<string, NodeName>();

  constructor(opts: SimClusterOptions) {
    this.opts = opts;
    this.sim = new Simulation({ seed: opts.seed, eventsPerRunMax: SCENARIO_EVENTS_PER_RUN_MAX, ...(opts.faults ? { network: opts.faults } : {}), ...(opts.verbose ? { verbose: true } : {}) });
  }

  static addressOf(name: NodeName): string {
    return `${name}.sim:7000`;
  }

  addNode(name: NodeName): ClusterNode {
    this.addressToName.set(SimCluster.addressOf(name), name);
    return this.boot(name, this.sim.createEnv(name));
  }

  crash(name: NodeName): void {
    this.nodes.get(name)?.stop();
    this.sim.crash(name);
  }

  restart(name: NodeName, opts: { wipe?: boolean } = {}): ClusterNode {
    this.nodes.get(name)?.stop();
    return this.boot(name, this.sim.restart(name, opts));
  }

  /** Rebuild a node on an Env the simulation already restarted (nemesis hook). */
  boot(name: NodeName, env: ReturnType<Simulation['createEnv']>): ClusterNode {
    const node = new ClusterNode({
      env,
      address: SimCluster.addressOf(name),
      clusterName: 'sim',
      ringSize: this.opts.ringSize ?? 64,
      targetNVal: this.opts.targetNVal ?? 4,
      autoCompleteTransfers: this.opts.autoCompleteTransfers ?? true,
      resolveAddress: async (address) => {
        const found = this.addressToName.get(address);
        if (found === undefined) throw new RondoError('peer_unreachable', `no simulated node at ${address}`);
        return found;
      },
    });
    this.nodes.set(name, node);
    node.start();
    return node;
  }

  node(name: NodeName): ClusterNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  liveNames(): NodeName[] {
    return [...this.nodes.keys()].filter((n) => this.sim.isUp(n)).sort();
  }

  /** Run an admin request on `name`, advancing virtual time until it settles or `maxMs` pass. */
  async admin(name: NodeName, req: AdminRequest, maxMs = 30_000): Promise<AdminReply> {
    let settled = false;
    const promise = this.node(name)
      .handleAdmin(req)
      .finally(() => {
        settled = true;
      });
    promise.catch(() => undefined);
    const deadline = this.sim.nowMs() + maxMs;
    await settle();
    while (!settled && this.sim.nowMs() < deadline) {
      this.sim.runFor(SIM_SLICE_MS);
      await settle();
    }
    if (!settled) throw new RondoError('timeout', `admin ${req.type} on ${name} did not settle within ${maxMs} ms`);
    return promise;
  }

  /** Plan and commit at the claimant as seen by `via`. Returns false when nothing was staged. */
  async planAndCommit(via: NodeName): Promise<boolean> {
    const claimant = this.node(via).ring().ownership.claimant;
    const at = this.nodes.has(claimant) && this.sim.isUp(claimant) ? claimant : via;
    try {
      await this.admin(at, { type: 'admin.plan' });
      await this.admin(at, { type: 'admin.commit' });
      return true;
    } catch (err) {
      if (err instanceof RondoError && err.code === 'plan_empty') return false;
      throw err;
    }
  }

  /** Advance virtual time until `predicate` holds (checked every slice) or `maxMs` pass. */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    return this.sim.runUntil(predicate, { maxMs });
  }

  /** Every live node holds the same ring. */
  ringsAgree(names: readonly NodeName[] = this.liveNames()): boolean {
    const digests = new Set(names.map((n) => ringDigest(this.node(n).ring())));
    return digests.size === 1;
  }

  /** Rings agree, nothing is pending or staged, and every present member is valid. */
  settled(names: readonly NodeName[] = this.liveNames()): boolean {
    if (!this.ringsAgree(names)) return false;
    const ring = this.node(names[0] as NodeName).ring();
    return ring.ownership.pending.length === 0 && presentMembers(ring).every((m) => m.status === 'valid' && m.staged === null);
  }
}

/** Problems with one ring's ownership, as human-readable strings (empty = fine). */
export function ownershipProblems(ring: RingState): string[] {
  const problems: string[] = [];
  const valid = presentMembers(ring).filter((m) => m.status === 'valid').map((m) => m.name);
  if (ring.ownership.owners.length !== ring.ringSize) problems.push(`owners has ${ring.ownership.owners.length} entries, ring size is ${ring.ringSize}`);
  const counts = countOwners(ring.ownership.owners);
  for (const owner of Object.keys(counts)) if (!valid.includes(owner) && ring.ownership.pending.length === 0) problems.push(`${owner} owns partitions but is not a valid member`);
  const owned = valid.map((n) => counts[n] ?? 0);
  if (owned.length > 0 && Math.max(...owned) - Math.min(...owned) > 1) problems.push(`unbalanced ownership: ${JSON.stringify(counts)}`);
  if (!valid.includes(ring.ownership.claimant)) problems.push(`claimant ${ring.ownership.claimant} is not a valid member`);
  return problems;
}

async function settle(): Promise<void> {
  // Several turns so chains of awaits inside handleAdmin make progress.
  for (let i = 0; i < 4; i++) await Promise.resolve();
}
