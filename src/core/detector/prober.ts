// The probing half of SWIM (section 3.1 with the round-robin of 4.3): one
// live member per period from a shuffled round-robin list (reshuffled every
// round, which bounds the time to first probe), ping-req through k helpers
// after the probe timeout, suspicion at the end of the period. Besides, one
// DEAD member per period gets a ping so that a node that comes back is seen
// at once. Also serves other nodes' ping-reqs (relays) and counts nacks for
// the Lifeguard local health multiplier.
import type { NodeName } from '../env.js';
import { assert } from '../errors.js';
import type { SwimDetector } from './swim.js';

interface Probe {
  readonly target: NodeName;
  readonly seq: number;
  readonly timeoutAtMs: number;
  acked: boolean;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

/** A failed probe whose helpers' nacks may still be on the way. */
interface NackCheck {
  readonly seq: number;
  readonly expected: number;
  received: number;
  readonly atMs: number;
}

/** A ping we send on someone else's behalf (they sent us ping-req). */
interface Relay {
  readonly origin: NodeName;
  readonly originSeq: number;
  readonly target: NodeName;
  readonly deadlineMs: number;
}

/** Helpers answer nack after this share of the probe timeout (memberlist uses 80 %). */
const RELAY_TIMEOUT_FRACTION = 0.8;

export class Prober {
  private readonly detector: SwimDetector;
  private seq = 0;
  private probe: Probe | undefined;
  private nackCheck: NackCheck | undefined;
  private readonly relays = new Map<number, Relay>();
  private liveOrder: NodeName[] = [];
  private liveIndex = 0;
  private deadOrder: NodeName[] = [];
  private deadIndex = 0;
  private nextProbeAtMs = -Infinity;

  constructor(detector: SwimDetector) {
    this.detector = detector;
  }

  tick(nowMs: number): void {
    this.expireRelays(nowMs);
    if (this.nackCheck !== undefined && nowMs >= this.nackCheck.atMs) this.settleNacks();
    const probe = this.probe;
    if (probe !== undefined && !probe.acked && !probe.indirectSent && nowMs >= probe.timeoutAtMs) this.sendPingReqs(probe, nowMs);
    if (nowMs < this.nextProbeAtMs) return;
    if (this.probe !== undefined) this.finish(this.probe, nowMs);
    this.start(nowMs);
  }

  /** A new member joins the current round at a random place still ahead. */
  added(node: NodeName): void {
    const remaining = this.liveOrder.length - this.liveIndex;
    this.liveOrder.splice(this.liveIndex + this.detector.rng().int(remaining + 1), 0, node);
  }

  forget(node: NodeName): void {
    if (this.probe?.target === node) this.probe = undefined;
    this.liveOrder = this.liveOrder.filter((name, i) => name !== node || i < this.liveIndex);
    this.deadOrder = this.deadOrder.filter((name, i) => name !== node || i < this.deadIndex);
  }

  onAck(from: NodeName, seq: number, fromInc: number): void {
    if (this.probe !== undefined && this.probe.seq === seq && this.probe.target === from) this.probe.acked = true;
    const relay = this.relays.get(seq);
    if (relay === undefined || relay.target !== from) return;
    this.relays.delete(seq);
    this.detector.send(relay.origin, { type: 'swim.indirect-ack', seq: relay.originSeq, target: from, targetInc: fromInc });
  }

  onPingReq(from: NodeName, originSeq: number, target: NodeName, nowMs: number): void {
    const watched = target !== this.detector.self && this.detector.record(target) !== undefined;
    if (!watched || this.relays.size >= this.detector.config.relaysMax) {
      this.detector.send(from, { type: 'swim.nack', seq: originSeq, target });
      return;
    }
    const seq = this.nextSeq();
    const deadlineMs = nowMs + this.detector.config.probeTimeoutMs * RELAY_TIMEOUT_FRACTION;
    this.relays.set(seq, { origin: from, originSeq, target, deadlineMs });
    assert(this.relays.size <= this.detector.config.relaysMax, 'relays bounded');
    this.detector.send(target, { type: 'swim.ping', seq });
  }

  onIndirectAck(target: NodeName, seq: number): void {
    if (this.probe !== undefined && this.probe.seq === seq && this.probe.target === target) this.probe.acked = true;
  }

  onNack(seq: number): void {
    if (this.probe !== undefined && this.probe.seq === seq) this.probe.nacks += 1;
    else if (this.nackCheck !== undefined && this.nackCheck.seq === seq) this.nackCheck.received += 1;
  }

  private start(nowMs: number): void {
    const config = this.detector.config;
    this.nextProbeAtMs = nowMs + this.detector.scaleMs(config.probeIntervalMs);
    const target = this.nextTarget('live');
    if (target !== undefined) {
      const timeoutAtMs = nowMs + this.detector.scaleMs(config.probeTimeoutMs);
      this.probe = { target, seq: this.nextSeq(), timeoutAtMs, acked: false, indirectSent: false, expectedNacks: 0, nacks: 0 };
      this.detector.send(target, { type: 'swim.ping', seq: this.probe.seq });
    }
    // Revival probe: no timeout, no suspicion; any answer revives it (see SwimDetector.heardFrom).
    const dead = this.nextTarget('dead');
    if (dead !== undefined) this.detector.send(dead, { type: 'swim.ping', seq: this.nextSeq() });
  }

  private finish(probe: Probe, nowMs: number): void {
    this.probe = undefined;
    if (probe.acked) {
      this.detector.adjustHealth(-1);
      return;
    }
    this.detector.suspect(probe.target, nowMs);
    if (this.nackCheck !== undefined) this.settleNacks();
    // No helpers: the failure says nothing about our own health.
    if (probe.expectedNacks === 0) return;
    const atMs = nowMs + this.detector.scaleMs(this.detector.config.probeTimeoutMs);
    this.nackCheck = { seq: probe.seq, expected: probe.expectedNacks, received: probe.nacks, atMs };
  }

  /** Lifeguard: helpers that neither acked nor nacked mean our own links are bad. */
  private settleNacks(): void {
    const check = this.nackCheck;
    assert(check !== undefined, 'a nack check is pending');
    this.nackCheck = undefined;
    if (check.received < check.expected) this.detector.adjustHealth(1);
  }

  private sendPingReqs(probe: Probe, nowMs: number): void {
    const helpers = this.detector
      .shuffle(this.detector.memberNames())
      .filter((name) => name !== probe.target && this.detector.record(name)?.state === 'alive')
      .slice(0, this.detector.config.indirectProbes);
    for (const helper of helpers) this.detector.send(helper, { type: 'swim.ping-req', seq: probe.seq, target: probe.target });
    probe.indirectSent = true;
    probe.expectedNacks = helpers.length;
    // However coarse the host's ticks, helpers get some time before we suspect.
    const indirectWindowMs = this.detector.scaleMs(this.detector.config.probeTimeoutMs) / 2;
    this.nextProbeAtMs = Math.max(this.nextProbeAtMs, nowMs + indirectWindowMs);
  }

  private expireRelays(nowMs: number): void {
    for (const [seq, relay] of this.relays) {
      if (nowMs < relay.deadlineMs) continue;
      this.relays.delete(seq);
      this.detector.send(relay.origin, { type: 'swim.nack', seq: relay.originSeq, target: relay.target });
    }
  }

  /** Next member of the shuffled round-robin of live (alive/suspect) or dead members. */
  private nextTarget(kind: 'live' | 'dead'): NodeName | undefined {
    const wanted = (name: NodeName): boolean => {
      const state = this.detector.record(name)?.state;
      return state !== undefined && (kind === 'dead') === (state === 'dead');
    };
    for (let round = 0; round < 2; round++) {
      let order = kind === 'live' ? this.liveOrder : this.deadOrder;
      let index = kind === 'live' ? this.liveIndex : this.deadIndex;
      if (index >= order.length) {
        order = this.detector.shuffle(this.detector.memberNames().filter(wanted));
        index = 0;
      }
      let found: NodeName | undefined;
      while (index < order.length && found === undefined) {
        const name = order[index++] as NodeName;
        if (wanted(name)) found = name;
      }
      if (kind === 'live') [this.liveOrder, this.liveIndex] = [order, index];
      else [this.deadOrder, this.deadIndex] = [order, index];
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }
}
