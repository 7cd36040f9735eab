// A seeded fault scheduler for scenarios (Jepsen's nemesis, TigerBeetle's
// VOPR faults): at random intervals it crashes a node and later restarts it,
// partitions the network (random halves, one node isolated, one-way block)
// and later heals it, or clogs a node for a while. It acts through
// simulation-level timers, so node crashes never cancel its plans. stop()
// ends the safety phase: heal everything, restart what it crashed.
import type { Env, NodeName, Random, TimerId } from '../env.js';
import { assert } from '../errors.js';
import { chance, exponential, intBetween, pick, shuffle } from './prng.js';
import type { Simulation } from './simulation.js';

export interface NemesisOptions {
  nodes: readonly NodeName[];
  /** Per action, the probabilities of each fault kind (sum <= 1; the rest is "do nothing"). */
  crashProbability: number;
  partitionProbability: number;
  clogProbability: number;
  /** Mean of the exponential duration of each fault (crash downtime, partition, clog). */
  meanFaultDurationMs: number;
  /** Mean of the exponential wait between actions (default meanFaultDurationMs). */
  meanActionIntervalMs?: number;
  /** Most nodes down at once (default: a minority, floor((nodes - 1) / 2)). */
  crashedNodesMax?: number;
  /** Probability that a restart wipes the node's MetaStore (default 0). */
  wipeProbability?: number;
  onCrash?(node: NodeName): void;
  onRestart?(node: NodeName, env: Env): void;
}

export class Nemesis {
  private readonly sim: Simulation;
  private readonly random: Random;
  private readonly opts: NemesisOptions;
  private readonly crashedNodesMax: number;
  private readonly meanActionIntervalMs: number;
  private readonly crashed = new Set<NodeName>();
  private readonly pending = new Set<TimerId>();
  private partitionGeneration = 0;
  private running = false;

  constructor(sim: Simulation, random: Random, opts: NemesisOptions) {
    assert(opts.nodes.length > 0, 'nemesis has nodes');
    const total = opts.crashProbability + opts.partitionProbability + opts.clogProbability;
    assert(opts.crashProbability >= 0 && opts.partitionProbability >= 0 && opts.clogProbability >= 0, 'fault probabilities >= 0');
    assert(total <= 1, 'fault probabilities sum to at most 1');
    assert(opts.meanFaultDurationMs > 0, 'meanFaultDurationMs > 0');
    this.sim = sim;
    this.random = random;
    this.opts = opts;
    this.crashedNodesMax = opts.crashedNodesMax ?? Math.floor((opts.nodes.length - 1) / 2);
    this.meanActionIntervalMs = opts.meanActionIntervalMs ?? opts.meanFaultDurationMs;
    assert(this.crashedNodesMax >= 0 && this.crashedNodesMax < opts.nodes.length, 'crashedNodesMax leaves a node up');
    assert(this.meanActionIntervalMs > 0, 'meanActionIntervalMs > 0');
  }

  start(): void {
    assert(!this.running, 'nemesis not already running');
    this.running = true;
    this.scheduleNextAction();
  }

  /** Stop injecting; heal the network and restart every node the nemesis crashed. */
  stop(): void {
    this.running = false;
    for (const id of this.pending) this.sim.cancel(id);
    this.pending.clear();
    this.partitionGeneration++;
    this.sim.heal();
    for (const node of [...this.crashed].sort()) this.restartNode(node);
  }

  /** Nodes currently down because of the nemesis. */
  crashedNodes(): NodeName[] {
    return [...this.crashed].sort();
  }

  private later(delayMs: number, action: () => void): void {
    const id = this.sim.schedule(delayMs, () => {
      this.pending.delete(id);
      if (this.running) action();
    });
    this.pending.add(id);
  }

  private duration(): number {
    return Math.max(1, Math.round(exponential(this.random, this.opts.meanFaultDurationMs)));
  }

  private scheduleNextAction(): void {
    this.later(Math.max(1, Math.round(exponential(this.random, this.meanActionIntervalMs))), () => {
      this.act();
      this.scheduleNextAction();
    });
  }

  private act(): void {
    const draw = this.random.next();
    const { crashProbability, partitionProbability, clogProbability } = this.opts;
    if (draw < crashProbability) this.crashOne();
    else if (draw < crashProbability + partitionProbability) this.partitionSome();
    else if (draw < crashProbability + partitionProbability + clogProbability) this.clogOne();
  }

  private crashOne(): void {
    const up = this.opts.nodes.filter((node) => this.sim.isUp(node));
    const downCount = this.opts.nodes.length - up.length;
    if (downCount >= this.crashedNodesMax || up.length === 0) return;
    const node = pick(this.random, up);
    this.sim.crash(node);
    this.crashed.add(node);
    this.opts.onCrash?.(node);
    this.later(this.duration(), () => this.restartNode(node));
  }

  private restartNode(node: NodeName): void {
    this.crashed.delete(node);
    if (this.sim.isUp(node)) return; // the scenario brought it back itself
    const wipe = chance(this.random, this.opts.wipeProbability ?? 0);
    const env = this.sim.restart(node, { wipe });
    this.opts.onRestart?.(node, env);
  }

  private partitionSome(): void {
    const nodes = this.opts.nodes;
    if (nodes.length < 2) return;
    const kind = this.random.int(3);
    if (kind === 0) {
      const order = shuffle(this.random, nodes);
      const cut = intBetween(this.random, 1, nodes.length - 1);
      this.sim.partition([order.slice(0, cut), order.slice(cut)]);
    } else if (kind === 1) {
      this.sim.partition([[pick(this.random, nodes)]]);
    } else {
      const [from, to] = shuffle(this.random, nodes) as [NodeName, NodeName];
      this.sim.blockOneWay(from, to);
    }
    const generation = ++this.partitionGeneration;
    this.later(this.duration(), () => {
      if (generation === this.partitionGeneration) this.sim.heal();
    });
  }

  private clogOne(): void {
    this.sim.clog(pick(this.random, this.opts.nodes), this.duration());
  }
}
