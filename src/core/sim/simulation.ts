// A deterministic discrete-event simulation: a whole cluster in one thread on
// a virtual clock. Every timer and message delivery is an event in one queue
// ordered by (time, sequence); every random choice comes from a stream forked
// off the seed. Same seed, same code => same trace, same traceHash().
import type { Env, NodeName, TimerId } from '../env.js';
import { assert } from '../errors.js';
import { EventQueue } from './event-queue.js';
import type { NetworkFaults } from './faults.js';
import { SIM_EPOCH_MS, SIM_EVENTS_PER_RUN_MAX, SIM_TRACE_LINES_MAX } from './limits.js';
import { createSimLogger, SimMetaStore } from './node-parts.js';
import { SimNetwork } from './network.js';
import { Prng } from './prng.js';
import { Trace } from './trace.js';

export interface SimulationOptions {
  seed: number;
  network?: Partial<NetworkFaults>;
  /** Trace lines kept for failure reports (default SIM_TRACE_LINES_MAX). */
  traceLimit?: number;
  /** Events one run may process before failing as a livelock (default SIM_EVENTS_PER_RUN_MAX). */
  eventsPerRunMax?: number;
  /** Echo log calls to the console as well as the trace. */
  verbose?: boolean;
}

export interface SimulationStats {
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  messagesDuplicated: number;
  messagesHeld: number;
  timersFired: number;
  eventsProcessed: number;
}

/** Thrown when a run processes more than eventsPerRunMax events: a livelock or a timer storm. */
export class EventLimitExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventLimitExceededError';
  }
}

interface NodeSlot {
  readonly name: NodeName;
  up: boolean;
  incarnation: number;
  clockSkewMs: number;
  readonly meta: SimMetaStore;
  readonly timerIds: Set<TimerId>;
}

interface TimerEntry {
  readonly node: NodeName | undefined; // undefined: a simulation-level timer (nemesis, scenario)
  readonly fire: () => void;
}

export class Simulation {
  readonly seed: number;
  readonly trace: Trace;
  readonly network: SimNetwork;
  private readonly root: Prng;
  private readonly queue = new EventQueue<() => void>();
  private readonly nodes = new Map<NodeName, NodeSlot>();
  private readonly timers = new Map<TimerId, TimerEntry>();
  private readonly eventsPerRunMax: number;
  private readonly verbose: boolean;
  private timeMs = 0;
  private timerIdNext = 1;
  private timersFired = 0;
  private eventsProcessed = 0;

  constructor(opts: SimulationOptions) {
    this.seed = opts.seed;
    this.root = new Prng(opts.seed);
    this.trace = new Trace(opts.traceLimit ?? SIM_TRACE_LINES_MAX);
    this.eventsPerRunMax = opts.eventsPerRunMax ?? SIM_EVENTS_PER_RUN_MAX;
    assert(Number.isSafeInteger(this.eventsPerRunMax) && this.eventsPerRunMax > 0, 'eventsPerRunMax positive integer');
    this.verbose = opts.verbose ?? false;
    this.network = new SimNetwork(
      {
        nowMs: () => this.timeMs,
        schedule: (atMs, fire) => void this.queue.push(atMs, fire),
        trace: this.trace,
        incarnationOf: (node) => {
          const slot = this.nodes.get(node);
          return slot !== undefined && slot.up ? slot.incarnation : undefined;
        },
        isNode: (node) => this.nodes.has(node),
      },
      this.root.fork('network'),
      opts.network,
    );
    this.trace.event(`0 start seed=${opts.seed}`);
  }

  nowMs(): number {
    return this.timeMs;
  }

  /** An independent seeded stream for scenario code (workloads, nemesis). */
  fork(label: string): Prng {
    return this.root.fork(`user:${label}`);
  }

  createEnv(nodeName: NodeName, opts: { clockSkewMs?: number } = {}): Env {
    assert(nodeName.length > 0, 'node name is non-empty');
    assert(!this.nodes.has(nodeName), `node ${nodeName} created once (use restart)`);
    const slot: NodeSlot = { name: nodeName, up: true, incarnation: 0, clockSkewMs: opts.clockSkewMs ?? 0, meta: new SimMetaStore(), timerIds: new Set() };
    this.nodes.set(nodeName, slot);
    this.trace.event(`${this.timeMs} create ${nodeName} skew=${slot.clockSkewMs}`);
    return this.makeEnv(slot);
  }

  /** Stop the node: its timers and in-flight deliveries to it are dropped; its Env goes inert. */
  crash(node: NodeName): void {
    const slot = this.slotOf(node);
    assert(slot.up, `crash: ${node} is up`);
    slot.up = false;
    for (const id of slot.timerIds) this.timers.delete(id);
    slot.timerIds.clear();
    this.network.nodeDown(node);
    this.trace.event(`${this.timeMs} crash ${node}`);
  }

  /** Bring a crashed node back with a fresh Env; its MetaStore survives unless `wipe`. */
  restart(node: NodeName, opts: { wipe?: boolean; clockSkewMs?: number } = {}): Env {
    const slot = this.slotOf(node);
    assert(!slot.up, `restart: ${node} is down`);
    slot.up = true;
    slot.incarnation++;
    if (opts.clockSkewMs !== undefined) slot.clockSkewMs = opts.clockSkewMs;
    if (opts.wipe === true) slot.meta.wipe();
    this.trace.event(`${this.timeMs} restart ${node} incarnation=${slot.incarnation} wipe=${opts.wipe === true}`);
    return this.makeEnv(slot);
  }

  isUp(node: NodeName): boolean {
    return this.slotOf(node).up;
  }

  nodeNames(): NodeName[] {
    return [...this.nodes.keys()];
  }

  /** A simulation-level timer (not tied to any node, survives crashes). */
  schedule(delayMs: number, fire: () => void): TimerId {
    return this.addTimer(undefined, delayMs, fire);
  }

  cancel(id: TimerId): void {
    const entry = this.timers.get(id);
    if (entry !== undefined && entry.node === undefined) this.timers.delete(id);
  }

  // --- network faults (see SimNetwork) ---
  partition(groups: readonly (readonly NodeName[])[]): void {
    this.network.partition(groups);
  }
  blockOneWay(from: NodeName, to: NodeName): void {
    this.network.blockOneWay(from, to);
  }
  clog(node: NodeName, durationMs: number): void {
    this.network.clog(node, durationMs);
  }
  unclog(node: NodeName): void {
    this.network.unclog(node);
  }
  heal(): void {
    this.network.heal();
  }
  setFaults(partial: Partial<NetworkFaults>): void {
    this.network.setFaults(partial);
  }

  // --- running ---

  /** Process the next event, if any. Returns false when the queue is empty. */
  step(): boolean {
    const event = this.queue.pop();
    if (event === undefined) return false;
    assert(event.timeMs >= this.timeMs, 'virtual time never goes backwards');
    this.timeMs = event.timeMs;
    this.eventsProcessed++;
    event.value();
    return true;
  }

  /** Process every event due within `durationMs`, then advance the clock to the end of it. */
  runFor(durationMs: number): void {
    assert(Number.isFinite(durationMs) && durationMs >= 0, 'runFor: duration >= 0');
    const deadlineMs = this.timeMs + durationMs;
    this.drain(deadlineMs, () => false);
    this.timeMs = deadlineMs;
  }

  /** Run until `predicate()` holds (checked before and after each event) or `maxMs` of virtual time pass. */
  runUntil(predicate: () => boolean, opts: { maxMs: number }): boolean {
    assert(Number.isFinite(opts.maxMs) && opts.maxMs >= 0, 'runUntil: maxMs >= 0');
    const deadlineMs = this.timeMs + opts.maxMs;
    if (predicate()) return true;
    if (this.drain(deadlineMs, predicate)) return true;
    this.timeMs = deadlineMs;
    return predicate();
  }

  traceHash(): string {
    return this.trace.digest();
  }

  stats(): SimulationStats {
    return { ...this.network.stats, timersFired: this.timersFired, eventsProcessed: this.eventsProcessed };
  }

  /** Seed, time, hash and the kept trace: print this when a scenario fails. */
  report(): string {
    return [`seed=${this.seed} nowMs=${this.timeMs} traceHash=${this.traceHash()}`, ...this.trace.tail()].join('\n');
  }

  private drain(deadlineMs: number, predicate: () => boolean): boolean {
    let events = 0;
    while (true) {
      const next = this.queue.peek();
      if (next === undefined || next.timeMs > deadlineMs) return false;
      events++;
      if (events > this.eventsPerRunMax) {
        const tail = this.trace.tail().slice(-20).join('\n');
        throw new EventLimitExceededError(`seed=${this.seed}: more than ${this.eventsPerRunMax} events in one run at nowMs=${this.timeMs} (livelock?); last trace lines:\n${tail}`);
      }
      this.step();
      if (predicate()) return true;
    }
  }

  private slotOf(node: NodeName): NodeSlot {
    const slot = this.nodes.get(node);
    assert(slot !== undefined, `unknown simulated node ${node}`);
    return slot;
  }

  private addTimer(node: NodeName | undefined, delayMs: number, fire: () => void): TimerId {
    assert(Number.isFinite(delayMs) && delayMs >= 0, 'timer delay >= 0');
    const id = this.timerIdNext++;
    this.timers.set(id, { node, fire });
    if (node !== undefined) this.slotOf(node).timerIds.add(id);
    this.queue.push(this.timeMs + delayMs, () => this.fireTimer(id));
    return id;
  }

  private fireTimer(id: TimerId): void {
    const entry = this.timers.get(id);
    if (entry === undefined) return; // cleared, or its node crashed
    this.timers.delete(id);
    if (entry.node !== undefined) this.slotOf(entry.node).timerIds.delete(id);
    this.timersFired++;
    this.trace.event(`${this.timeMs} timer #${id} ${entry.node ?? '*'}`);
    entry.fire();
  }

  private makeEnv(slot: NodeSlot): Env {
    const incarnation = slot.incarnation;
    const isLive = (): boolean => slot.up && slot.incarnation === incarnation;
    return {
      nodeName: slot.name,
      nowMs: () => this.timeMs,
      wallClockMs: () => SIM_EPOCH_MS + this.timeMs + slot.clockSkewMs,
      // A dead incarnation gets an id that never fires.
      setTimer: (delayMs, fire) => (isLive() ? this.addTimer(slot.name, delayMs, fire) : this.timerIdNext++),
      clearTimer: (id) => {
        const entry = this.timers.get(id);
        if (entry === undefined || entry.node !== slot.name) return;
        this.timers.delete(id);
        slot.timerIds.delete(id);
      },
      random: this.root.fork(`node:${slot.name}:${incarnation}`),
      net: this.network.createPort(slot.name, incarnation, isLive),
      log: createSimLogger({ trace: this.trace, node: slot.name, nowMs: () => this.timeMs, verbose: this.verbose }),
      meta: slot.meta,
    };
  }
}
