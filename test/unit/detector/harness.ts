// A virtual-time cluster of SwimDetectors: time advances 10 ms a step, each
// node ticks every 100 ms (at its own phase), messages arrive after a
// per-link latency, and messages to or from killed nodes are dropped.
import assert from 'node:assert/strict';
import type { NodeName, Random } from '../../../src/core/env.js';
import { isSwimMessage, NodeWatcher, SwimDetector, type DetectorOutput, type SwimMessage, type SwimConfig } from '../../../src/core/detector/index.js';
import { SWIM_UPDATES_PER_MESSAGE_MAX } from '../../../src/core/constants.js';

/** mulberry32: a tiny seeded PRNG, good enough for tests. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (bound: number) => Math.floor(next() * bound) };
}

export const STEP_MS = 10;
export const TICK_MS = 100;

interface SimNode {
  detector: SwimDetector;
  watcher: NodeWatcher;
  alive: boolean;
  tickPhaseMs: number;
}

interface InFlight {
  atMs: number;
  from: NodeName;
  to: NodeName;
  msg: SwimMessage;
}

export interface ClusterOptions {
  names: readonly NodeName[];
  seed: number;
  latencyMs?: (from: NodeName, to: NodeName) => number;
  config?: Partial<SwimConfig>;
}

export class Cluster {
  nowMs = 0;
  readonly nodes = new Map<NodeName, SimNode>();
  readonly names: readonly NodeName[];
  /** Every change reported, in order, for assertions. */
  readonly log: { atMs: number; at: NodeName; node: NodeName; up: boolean }[] = [];
  latencyMs: (from: NodeName, to: NodeName) => number;
  private inFlight: InFlight[] = [];
  private readonly random: Random;
  private readonly config: Partial<SwimConfig> | undefined;

  constructor(opts: ClusterOptions) {
    this.names = opts.names;
    this.random = seededRandom(opts.seed);
    this.latencyMs = opts.latencyMs ?? (() => 2);
    this.config = opts.config;
    for (const name of this.names) this.start(name);
  }

  /** A fresh process: new detector, incarnation 0, knows the ring. */
  start(name: NodeName): void {
    const detector = new SwimDetector({ self: name, random: seededRandom(this.random.int(2 ** 31)), config: this.config });
    const watcher = new NodeWatcher();
    const others = this.names.filter((n) => n !== name);
    watcher.setMembers(others);
    this.nodes.set(name, { detector, watcher, alive: true, tickPhaseMs: this.random.int(TICK_MS / STEP_MS) * STEP_MS });
    this.handle(name, detector.setMembers(others, this.nowMs));
  }

  kill(name: NodeName): void {
    this.node(name).alive = false;
  }

  node(name: NodeName): SimNode {
    const node = this.nodes.get(name);
    assert.ok(node !== undefined, `unknown node ${name}`);
    return node;
  }

  /** Inject a message as if `from` had sent it (for refutation tests). */
  inject(from: NodeName, to: NodeName, msg: SwimMessage): void {
    this.inFlight.push({ atMs: this.nowMs, from, to, msg });
  }

  step(): void {
    this.nowMs += STEP_MS;
    const due = this.inFlight.filter((m) => m.atMs <= this.nowMs);
    this.inFlight = this.inFlight.filter((m) => m.atMs > this.nowMs);
    for (const m of due) {
      const to = this.nodes.get(m.to);
      if (to === undefined || !to.alive || this.nodes.get(m.from)?.alive === false) continue;
      this.handle(m.to, to.detector.receive(m.from, m.msg, this.nowMs));
    }
    for (const [name, node] of this.nodes) {
      if (node.alive && this.nowMs % TICK_MS === node.tickPhaseMs) this.handle(name, node.detector.tick(this.nowMs));
    }
  }

  run(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) this.step();
  }

  /** Steps until `done` holds; returns the virtual time it took, or fails after `limitMs`. */
  runUntil(done: () => boolean, limitMs: number, what: string): number {
    const start = this.nowMs;
    while (!done()) {
      assert.ok(this.nowMs - start <= limitMs, `${what}: not within ${limitMs} ms`);
      this.step();
    }
    return this.nowMs - start;
  }

  /** Every live node other than `node` reports it up (true) or down (false). */
  allSee(node: NodeName, up: boolean): boolean {
    for (const [name, sim] of this.nodes) {
      if (name === node || !sim.alive) continue;
      if (sim.watcher.isUp(node) !== up) return false;
      if ((sim.detector.liveness(node) !== 'dead') !== up) return false;
    }
    return true;
  }

  private handle(name: NodeName, out: DetectorOutput): void {
    const node = this.node(name);
    node.watcher.apply(out.changes);
    for (const change of out.changes) this.log.push({ atMs: this.nowMs, at: name, ...change });
    for (const { to, msg } of out.send) {
      assert.notEqual(to, name, 'never sends to self');
      assert.ok(isSwimMessage(msg), 'well-formed message');
      assert.ok(msg.updates.length <= SWIM_UPDATES_PER_MESSAGE_MAX, 'piggyback bounded');
      const target = this.nodes.get(to);
      if (!node.alive || target === undefined || !target.alive) continue;
      this.inFlight.push({ atMs: this.nowMs + this.latencyMs(name, to), from: name, to, msg });
    }
  }
}

export function names(count: number): NodeName[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}
