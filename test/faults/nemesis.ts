// The nemesis: injects one fault at a time, holds it, heals it, rests, and
// again, recording each action in the history (process "nemesis"). Beside it,
// the membership nemesis joins and removes a spare node (process
// "nemesis-membership"), so ownership handoff runs through the faults.
//
// Process faults (kill, pause, skew, slow) only hit the `targets` nodes: the
// steady node (session clients, final reads) and the spare are left alone.
// Partitions cut every host, the steady node included.
import type { Prng } from '../../src/core/sim/prng.js';
import type { FaultCluster, FaultNode } from './cluster.js';
import type { History } from './history.js';
import type { Lab, LabHost } from './lab.js';
import { sleepUnlessAborted } from '../helpers/processes.js';

export const NEMESIS_KINDS = ['partition', 'kill', 'pause', 'skew', 'slow', 'membership'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];

/** How long a fault is held, and the rest between faults. */
const HOLD_MS: [number, number] = [4_000, 10_000];
const REST_MS: [number, number] = [2_000, 5_000];
/** Clock offsets the skew nemesis picks from (either sign); below the HLC's 60 s drift bound. */
const SKEW_MS: [number, number] = [200, 10_000];
/** Time between membership changes. */
const MEMBERSHIP_EVERY_MS: [number, number] = [10_000, 20_000];

export interface NemesisOptions {
  kinds: ReadonlySet<NemesisKind>;
  lab: Lab;
  cluster: FaultCluster;
  history: History;
  random: Prng;
  /** Nodes process faults may hit. */
  targets: FaultNode[];
  /** Never faulted; seeds joins and stages changes. */
  steady: FaultNode;
  /** The node the membership nemesis joins and removes. */
  spare: FaultNode | undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A fault in force, and how to undo it. */
interface Fault {
  kind: NemesisKind;
  description: string;
  heal(): Promise<void>;
}

export class Nemesis {
  /** Nodes killed and not yet restarted. */
  private readonly killed = new Set<FaultNode>();
  private current: Fault | undefined;

  constructor(private readonly o: NemesisOptions) {}

  /** Runs until the signal fires, then heals everything. */
  async run(signal: AbortSignal): Promise<void> {
    const loops: Promise<void>[] = [];
    const faultKinds = [...this.o.kinds].filter((k) => k !== 'membership');
    if (faultKinds.length > 0) loops.push(this.faultLoop(faultKinds, signal));
    if (this.o.kinds.has('membership') && this.o.spare) loops.push(this.membershipLoop(this.o.spare, signal));
    await Promise.all(loops);
  }

  private async faultLoop(kinds: NemesisKind[], signal: AbortSignal): Promise<void> {
    const random = this.o.random.fork('faults');
    while (!signal.aborted) {
      await sleepUnlessAborted(random.intBetween(REST_MS[0], REST_MS[1]), signal);
      if (signal.aborted) break;
      const kind = kinds[random.int(kinds.length)] as NemesisKind;
      const done = this.o.history.invoke('nemesis', kind);
      try {
        this.current = await this.inject(kind, random);
        done('ok', { value: this.current.description });
      } catch (err) {
        done('fail', { error: errorText(err) });
        continue;
      }
      await sleepUnlessAborted(random.intBetween(HOLD_MS[0], HOLD_MS[1]), signal);
      await this.healCurrent();
    }
  }

  private async healCurrent(): Promise<void> {
    const fault = this.current;
    if (!fault) return;
    this.current = undefined;
    const done = this.o.history.invoke('nemesis', `heal-${fault.kind}`, { value: fault.description });
    try {
      await fault.heal();
      done('ok');
    } catch (err) {
      done('fail', { error: errorText(err) });
    }
  }

  private pick(random: Prng, count: number): FaultNode[] {
    const candidates = this.o.targets.filter((n) => n.running && !n.paused);
    const chosen: FaultNode[] = [];
    while (chosen.length < count && candidates.length > 0) chosen.push(...candidates.splice(random.int(candidates.length), 1));
    if (chosen.length === 0) throw new Error('no node to fault (all down or paused)');
    return chosen;
  }

  private async inject(kind: NemesisKind, random: Prng): Promise<Fault> {
    const { lab } = this.o;
    switch (kind) {
      case 'partition': {
        const { description, reachable } = partitionShape(lab.hosts, random);
        lab.partition(reachable);
        return { kind, description, heal: async () => lab.healPartition() };
      }
      case 'kill': {
        const nodes = this.pick(random, random.intBetween(1, 2));
        for (const n of nodes) {
          n.kill();
          this.killed.add(n);
        }
        return { kind, description: `kill -9 ${names(nodes)}`, heal: () => this.restartKilled() };
      }
      case 'pause': {
        const nodes = this.pick(random, 1);
        for (const n of nodes) n.pause();
        return { kind, description: `SIGSTOP ${names(nodes)}`, heal: async () => nodes.forEach((n) => n.resume()) };
      }
      case 'skew': {
        const nodes = this.pick(random, random.intBetween(1, 3));
        const offsets = nodes.map((n) => {
          const ms = Math.round(random.between(SKEW_MS[0], SKEW_MS[1])) * (random.chance(0.5) ? 1 : -1);
          n.skew(ms);
          return `${n.name} ${ms > 0 ? '+' : ''}${ms} ms`;
        });
        return { kind, description: `clock ${offsets.join(', ')}`, heal: async () => nodes.forEach((n) => n.skew(0)) };
      }
      case 'slow': {
        const nodes = this.pick(random, random.intBetween(1, 2));
        const link = { delayMs: random.intBetween(20, 150), loss: Math.round(random.between(0.03, 0.2) * 100) / 100, reorder: 0.1, rateKbit: random.intBetween(256, 2048) };
        for (const n of nodes) lab.slow(n.host, link);
        const how = lab.hasNetem ? `netem delay ${link.delayMs} ms, loss ${link.loss * 100}%, reorder ${link.reorder * 100}%` : `tbf ${link.rateKbit} kbit/s, drop ${Math.round(link.loss * 100)}%`;
        return { kind, description: `slow ${names(nodes)}: ${how}`, heal: async () => nodes.forEach((n) => lab.healSlow(n.host)) };
      }
      case 'membership':
        throw new Error('membership changes run in their own loop');
    }
  }

  private async restartKilled(): Promise<void> {
    const failures: string[] = [];
    for (const node of [...this.killed]) {
      try {
        await node.start();
        this.killed.delete(node);
      } catch (err) {
        failures.push(`${node.name}: ${errorText(err)}`);
      }
    }
    if (failures.length > 0) throw new Error(`restart failed: ${failures.join('; ')}`);
  }

  private async membershipLoop(spare: FaultNode, signal: AbortSignal): Promise<void> {
    const random = this.o.random.fork('membership');
    const { steady, cluster, history } = this.o;
    while (!signal.aborted) {
      await sleepUnlessAborted(random.intBetween(MEMBERSHIP_EVERY_MS[0], MEMBERSHIP_EVERY_MS[1]), signal);
      if (signal.aborted) break;
      let members: string[];
      try {
        members = (await steady.members()).map((m) => m.name);
      } catch {
        continue; // the steady node is cut off from its own admin? try later
      }
      const joining = !members.includes(spare.name);
      const done = history.invoke('nemesis-membership', joining ? 'join' : 'leave', { node: spare.name });
      try {
        if (joining) {
          if (spare.running) {
            // It left and is still handing off before it exits; try next time.
            done('fail', { error: `${spare.name} is still running after leaving` });
            continue;
          }
          await spare.start({ fresh: true });
          await spare.admin({ type: 'admin.join', seed: steady.address });
        } else {
          await steady.admin({ type: 'admin.leave', node: spare.name });
        }
        await cluster.planAndCommit(steady);
        if (!joining) spare.expectExit();
        done('ok');
      } catch (err) {
        done('fail', { error: errorText(err) });
        await steady.adminOnClaimant({ type: 'admin.clear' }).catch(() => undefined);
        // A spare that did not become a member goes down again, so the next try starts it fresh.
        if (joining) await spare.stop();
      }
    }
  }

  /** Heals whatever is in force and restarts killed nodes; clears staged membership changes. */
  async healAll(): Promise<void> {
    await this.healCurrent();
    this.o.lab.healAll();
    for (const node of this.o.cluster.nodes) {
      node.resume();
      if (node.skewMs !== 0) node.skew(0);
    }
    await this.restartKilled();
    if (this.o.kinds.has('membership')) await this.o.steady.adminOnClaimant({ type: 'admin.clear' }).catch(() => undefined);
  }
}

function names(nodes: FaultNode[]): string {
  return nodes.map((n) => n.name).join(', ');
}

function shuffle<T>(items: readonly T[], random: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** One of: random halves, one node isolated, a majorities ring, a bridge (Jepsen's partition shapes). */
export function partitionShape(hosts: readonly LabHost[], random: Prng): { description: string; reachable: (h: LabHost) => LabHost[] } {
  const order = shuffle(hosts, random);
  const shapes = hosts.length >= 5 ? ['halves', 'isolate', 'ring', 'bridge'] : ['halves', 'isolate'];
  const shape = shapes[random.int(shapes.length)];
  const groupsOf = (groups: LabHost[][]): ((h: LabHost) => LabHost[]) => (h) => groups.find((g) => g.includes(h)) ?? [h];
  const show = (groups: LabHost[][]): string => groups.map((g) => g.map((h) => h.name).join(' ')).join(' | ');
  if (shape === 'halves') {
    const cut = Math.floor(order.length / 2);
    const groups = [order.slice(0, cut), order.slice(cut)];
    return { description: `halves ${show(groups)}`, reachable: groupsOf(groups) };
  }
  if (shape === 'isolate') {
    const groups = [order.slice(0, 1), order.slice(1)];
    return { description: `isolate ${show(groups)}`, reachable: groupsOf(groups) };
  }
  if (shape === 'ring') {
    // Each host hears its two neighbours in a random ring: a majority of 5, but no two hosts share the same one.
    const at = (i: number): LabHost => order[(i + order.length) % order.length] as LabHost;
    return { description: `majorities ring ${order.map((h) => h.name).join('-')}`, reachable: (h) => { const i = order.indexOf(h); return [at(i - 1), h, at(i + 1)]; } };
  }
  // Bridge: two halves that cannot hear each other, and one host that hears both.
  const bridge = order[0] as LabHost;
  const rest = order.slice(1);
  const left = rest.slice(0, Math.floor(rest.length / 2));
  const right = rest.slice(Math.floor(rest.length / 2));
  return {
    description: `bridge ${bridge.name} between ${left.map((h) => h.name).join(' ')} | ${right.map((h) => h.name).join(' ')}`,
    reachable: (h) => (h === bridge ? [...order] : left.includes(h) ? [...left, bridge] : [...right, bridge]),
  };
}
