// SWIM failure detector (Das, Gupta, Motivala 2002) with the cheap parts of
// Lifeguard (Dadgar et al. 2018, HashiCorp memberlist): local health
// multiplier fed by nacks, and suspicion timeouts shortened by independent
// confirmations. A pure state machine: time comes in as `nowMs`, randomness
// from the injected Random; every call returns what to send and which nodes
// went down or came back up. The host sends, and calls `tick` every ~100 ms.
import type { NodeName, Random } from '../env.js';
import { assert } from '../errors.js';
import { resolveConfig, retransmitLimit, suspicionTimeoutMs, type SwimConfig } from './config.js';
import { shuffle } from '../random.js';
import { isSwimMessage, type Liveness, type SwimMessage, type SwimUpdate } from './messages.js';
import { Prober } from './prober.js';
import { UpdateQueue } from './updates.js';

export interface DetectorChange {
  readonly node: NodeName;
  readonly up: boolean;
}

export interface DetectorOutput {
  send: { to: NodeName; msg: SwimMessage }[];
  changes: DetectorChange[];
}

/** What we hold about one watched node. */
export interface MemberRecord {
  readonly name: NodeName;
  state: Liveness;
  inc: number;
  sinceMs: number;
  /** Last message from the node itself; -Infinity if never. */
  lastHeardMs: number;
  /** Distinct suspectors of the current suspicion (Lifeguard confirmations). */
  readonly suspectors: Set<NodeName>;
  suspectSinceMs: number;
  /** A suspect/dead claim the node has not refuted yet; sent to it on every message so it can. */
  claim: { state: 'suspect' | 'dead'; inc: number } | undefined;
}

/** A message before `send` stamps our incarnation and the piggybacked updates. */
export type Unsent = DistributiveOmit<SwimMessage, 'inc' | 'updates'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class SwimDetector {
  readonly self: NodeName;
  readonly config: SwimConfig;
  private readonly random: Random;
  private readonly members = new Map<NodeName, MemberRecord>();
  private readonly updates = new UpdateQueue();
  private readonly prober: Prober;
  private incarnation = 0;
  /** Lifeguard local health multiplier: 0 healthy .. localHealthMax. */
  private health = 0;
  private out: DetectorOutput = { send: [], changes: [] };

  constructor(opts: { self: NodeName; random: Random; config?: Partial<SwimConfig> }) {
    this.self = opts.self;
    this.random = opts.random;
    this.config = resolveConfig(opts.config);
    this.prober = new Prober(this);
  }

  setMembers(names: readonly NodeName[], nowMs: number): DetectorOutput {
    this.begin();
    const wanted = new Set(names.filter((name) => name !== this.self));
    for (const name of [...this.members.keys()]) {
      if (wanted.has(name)) continue;
      this.members.delete(name);
      this.updates.forget(name);
      this.prober.forget(name);
    }
    for (const name of wanted) {
      if (this.members.has(name)) continue;
      this.members.set(name, { name, state: 'alive', inc: 0, sinceMs: nowMs, lastHeardMs: -Infinity, suspectors: new Set(), suspectSinceMs: 0, claim: undefined });
      this.prober.added(name);
    }
    return this.flush();
  }

  tick(nowMs: number): DetectorOutput {
    this.begin();
    for (const record of this.members.values()) {
      if (record.state !== 'suspect') continue;
      const timeoutMs = suspicionTimeoutMs(this.config, record.suspectors.size, this.members.size + 1);
      if (nowMs - record.suspectSinceMs >= timeoutMs) this.apply({ node: record.name, state: 'dead', inc: record.inc }, nowMs);
    }
    this.prober.tick(nowMs);
    return this.flush();
  }

  /** Messages that fail `isSwimMessage` are dropped: peers are not trusted to be well formed. */
  receive(from: NodeName, msg: SwimMessage, nowMs: number): DetectorOutput {
    this.begin();
    if (from === this.self || !isSwimMessage(msg)) return this.flush();
    this.heardFrom(from, msg.inc, nowMs);
    for (const update of msg.updates) this.apply(update, nowMs);
    switch (msg.type) {
      case 'swim.ping':
        this.send(from, { type: 'swim.ack', seq: msg.seq });
        break;
      case 'swim.ack':
        this.prober.onAck(from, msg.seq, msg.inc);
        break;
      case 'swim.ping-req':
        this.prober.onPingReq(from, msg.seq, msg.target, nowMs);
        break;
      case 'swim.indirect-ack':
        this.apply({ node: msg.target, state: 'alive', inc: msg.targetInc }, nowMs);
        this.prober.onIndirectAck(msg.target, msg.seq);
        break;
      case 'swim.nack':
        this.prober.onNack(msg.seq);
        break;
      default: {
        const never: never = msg;
        throw new Error(`unhandled swim message ${JSON.stringify(never)}`);
      }
    }
    return this.flush();
  }

  liveness(node: NodeName): Liveness | undefined {
    return this.members.get(node)?.state;
  }

  snapshot(): { node: NodeName; liveness: Liveness; incarnation: number; sinceMs: number }[] {
    return [...this.members.values()]
      .map((r) => ({ node: r.name, liveness: r.state, incarnation: r.inc, sinceMs: r.sinceMs }))
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** Our own incarnation (bumped to refute suspicion). */
  get selfIncarnation(): number {
    return this.incarnation;
  }

  /** Lifeguard local health multiplier, 0 when healthy. */
  get localHealth(): number {
    return this.health;
  }

  // --- used by the Prober ---------------------------------------------------

  /** @internal */ record(node: NodeName): MemberRecord | undefined {
    return this.members.get(node);
  }
  /** @internal */ memberNames(): NodeName[] {
    return [...this.members.keys()];
  }
  /** @internal */ rng(): Random {
    return this.random;
  }
  /** @internal */ scaleMs(ms: number): number {
    return ms * (1 + this.health);
  }
  /** @internal */ adjustHealth(delta: number): void {
    this.health = Math.max(0, Math.min(this.config.localHealthMax, this.health + delta));
  }
  /** @internal */ shuffle<T>(items: readonly T[]): T[] {
    return shuffle(this.random, items);
  }

  /** @internal Our own probe of `node` failed: suspect it (or confirm our suspicion). */
  suspect(node: NodeName, nowMs: number): void {
    const record = this.members.get(node);
    if (record === undefined || record.state === 'dead') return;
    this.apply({ node, state: 'suspect', inc: record.inc, from: this.self }, nowMs);
  }

  /** @internal */ send(to: NodeName, msg: Unsent): void {
    assert(to !== this.self, 'never send to self');
    const record = this.members.get(to);
    const hint: SwimUpdate[] = record?.claim === undefined ? [] : [{ node: to, state: record.claim.state, inc: record.claim.inc }];
    const limit = retransmitLimit(this.config, this.members.size + 1);
    const updates = hint.concat(this.updates.take(this.config.updatesPerMessageMax - hint.length, limit, to));
    assert(updates.length <= this.config.updatesPerMessageMax, 'piggyback bounded');
    this.out.send.push({ to, msg: { ...msg, inc: this.incarnation, updates } as SwimMessage });
  }

  // --- state transitions ------------------------------------------------------

  private begin(): void {
    assert(this.out.send.length === 0 && this.out.changes.length === 0, 'output flushed after every call');
  }

  private flush(): DetectorOutput {
    const out = this.out;
    this.out = { send: [], changes: [] };
    return out;
  }

  /** A message from `node` itself: it is alive now, whatever others claim. */
  private heardFrom(node: NodeName, inc: number, nowMs: number): void {
    const record = this.members.get(node);
    if (record === undefined) return;
    record.lastHeardMs = nowMs;
    if (inc > record.inc) {
      this.apply({ node, state: 'alive', inc }, nowMs);
      return;
    }
    if (record.state === 'alive') return;
    // Same or older incarnation: alive locally at once, and keep telling the
    // node about the claim (see `send`) until it refutes with a higher one.
    record.claim ??= { state: record.state, inc: record.inc };
    this.transition(record, 'alive', record.inc, nowMs);
  }

  /** The SWIM override rules, plus refutation of claims about ourselves. */
  private apply(update: SwimUpdate, nowMs: number): void {
    if (update.node === this.self) return this.applyAboutSelf(update);
    const record = this.members.get(update.node);
    if (record === undefined) return;
    if (update.state === 'alive') {
      if (update.inc <= record.inc) return;
      if (record.claim !== undefined && record.claim.inc < update.inc) record.claim = undefined;
      this.transition(record, 'alive', update.inc, nowMs);
      this.updates.enqueue(update);
      return;
    }
    if (update.inc < record.inc) return;
    // We revived it on direct evidence and it has not refuted yet (typically a
    // restarted node): claims up to the one we hold are stale news for a while.
    const recentlyHeard = nowMs - record.lastHeardMs < this.config.directEvidenceGraceMs;
    if (record.state === 'alive' && record.claim !== undefined && update.inc <= record.claim.inc && recentlyHeard) return;
    if (update.state === 'suspect') return this.applySuspect(record, update, nowMs);
    if (record.state === 'dead' && update.inc === record.inc) return;
    record.claim = { state: 'dead', inc: update.inc };
    this.transition(record, 'dead', update.inc, nowMs);
    this.updates.enqueue({ node: record.name, state: 'dead', inc: update.inc });
  }

  private applySuspect(record: MemberRecord, update: SwimUpdate, nowMs: number): void {
    assert(update.state === 'suspect', 'suspect update');
    if (record.state === 'dead') return; // only 'alive' with a higher incarnation revives
    const suspector = update.from ?? '?'; // an old peer that does not say who suspects
    if (record.state === 'suspect' && update.inc === record.inc) {
      if (record.suspectors.has(suspector) || record.suspectors.size > this.config.suspicionConfirmationsMax) return;
      record.suspectors.add(suspector); // a confirmation: shortens the timeout, and pass it on
      this.updates.enqueue({ node: record.name, state: 'suspect', inc: record.inc, from: suspector });
      return;
    }
    record.suspectors.clear();
    record.suspectors.add(suspector);
    record.suspectSinceMs = nowMs;
    record.claim = { state: 'suspect', inc: update.inc };
    this.transition(record, 'suspect', update.inc, nowMs);
    this.updates.enqueue({ node: record.name, state: 'suspect', inc: update.inc, from: suspector });
  }

  private applyAboutSelf(update: SwimUpdate): void {
    if (update.state === 'alive' || update.inc < this.incarnation) return;
    // Refute with an incarnation above the claim: a restarted node starts at 0
    // while the cluster may hold it dead at a higher one.
    this.incarnation = update.inc + 1;
    this.adjustHealth(1); // Lifeguard: being suspected hints that we are the slow one
    this.updates.enqueue({ node: this.self, state: 'alive', inc: this.incarnation });
  }

  private transition(record: MemberRecord, state: Liveness, inc: number, nowMs: number): void {
    assert(inc >= record.inc, 'incarnations never go backwards');
    const wasDead = record.state === 'dead';
    if (record.state !== state) record.sinceMs = nowMs;
    if (state !== 'suspect') record.suspectors.clear();
    record.state = state;
    record.inc = inc;
    if (wasDead && state !== 'dead') this.out.changes.push({ node: record.name, up: true });
    if (!wasDead && state === 'dead') this.out.changes.push({ node: record.name, up: false });
  }
}
