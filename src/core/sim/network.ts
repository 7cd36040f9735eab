// The simulated network. Messages are deep-copied through msgpack at send
// (no shared references, same as the wire) and delivered after a sampled
// latency. Every fault is decided by the network's own seeded stream:
// latency (base + jitter + a rare long tail), explicit reordering, drops,
// duplicates, symmetric partitions, one-way blocks, and clogs (FoundationDB's
// swizzle-clog: traffic to/from a clogged node is held, then released late).
import { Packr } from 'msgpackr';
import type { Channel, NetworkPort, NodeAddress, NodeName, WireMessage } from '../env.js';
import { MessageTooLargeError, OverloadError, UnknownPeerError, assert } from '../errors.js';
import { NETWORK_FAULTS_DEFAULT, validateFaults, type NetworkFaults } from './faults.js';
import type { Prng } from './prng.js';
import type { Trace } from './trace.js';

/** What the network needs from the simulation around it. */
export interface NetworkHost {
  nowMs(): number;
  schedule(atMs: number, fire: () => void): void;
  readonly trace: Trace;
  /** The node's current incarnation, or undefined while it is down. */
  incarnationOf(node: NodeName): number | undefined;
  isNode(node: NodeName): boolean;
}

export interface NetworkStats {
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  messagesDuplicated: number;
  messagesHeld: number;
}

type Handler = (from: NodeName, msg: WireMessage) => void;

interface Delivery {
  readonly id: number;
  readonly from: NodeName;
  readonly to: NodeName;
  readonly type: string;
  readonly channel: Channel;
  readonly bytes: Uint8Array;
  readonly toIncarnation: number | undefined;
  readonly pairEpoch: number;
}

const pairKey = (from: NodeName, to: NodeName): string => `${from}>${to}`;

export class SimNetwork {
  private readonly host: NetworkHost;
  private readonly random: Prng;
  private readonly packr = new Packr({ useRecords: false });
  private faults: NetworkFaults;
  private groupOf: Map<NodeName, number> | undefined;
  private readonly oneWayBlocked = new Set<string>();
  private readonly clogUntilMs = new Map<NodeName, number>();
  private held: Delivery[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly pairEpochs = new Map<string, number>();
  private readonly handlers = new Map<NodeName, { incarnation: number; handler: Handler }>();
  private messageIdNext = 1;
  readonly stats: NetworkStats = { messagesSent: 0, messagesDelivered: 0, messagesDropped: 0, messagesDuplicated: 0, messagesHeld: 0 };

  constructor(host: NetworkHost, random: Prng, faults?: Partial<NetworkFaults>) {
    this.host = host;
    this.random = random;
    this.faults = { ...NETWORK_FAULTS_DEFAULT, ...faults };
    validateFaults(this.faults);
  }

  setFaults(partial: Partial<NetworkFaults>): void {
    const next = { ...this.faults, ...partial };
    validateFaults(next);
    this.faults = next;
    this.event(`faults ${JSON.stringify(partial)}`);
  }

  getFaults(): Readonly<NetworkFaults> {
    return { ...this.faults };
  }

  /** The NetworkPort of one incarnation of a node: a fresh address book, as a fresh transport would have. */
  createPort(node: NodeName, incarnation: number, isLive: () => boolean): NetworkPort {
    const addresses = new Map<NodeName, NodeAddress>();
    const removed = new Set<NodeName>();
    return {
      send: (to, msg, channel = 'control') => {
        if (!isLive()) return; // a crashed node's code does nothing
        const known = addresses.has(to) || (!removed.has(to) && this.host.isNode(to));
        if (!known) throw new UnknownPeerError(`${node}: no address for peer ${to}`);
        this.send(node, to, msg, channel);
      },
      setPeerAddress: (name, address) => {
        assert(address.length > 0, 'peer address is non-empty');
        addresses.set(name, address);
        removed.delete(name);
      },
      removePeer: (name) => {
        addresses.delete(name);
        removed.add(name);
        // Closing the connection loses whatever was queued or in flight on it.
        const key = pairKey(node, name);
        this.pairEpochs.set(key, (this.pairEpochs.get(key) ?? 0) + 1);
      },
      onReceive: (handler) => {
        if (!isLive()) return;
        this.handlers.set(node, { incarnation, handler });
      },
    };
  }

  nodeDown(node: NodeName): void {
    this.handlers.delete(node);
  }

  /** Only nodes in the same group talk; nodes named in no group form one more group together. */
  partition(groups: readonly (readonly NodeName[])[]): void {
    const groupOf = new Map<NodeName, number>();
    groups.forEach((group, index) => {
      for (const node of group) {
        assert(!groupOf.has(node), `node ${node} in one partition group only`);
        groupOf.set(node, index);
      }
    });
    this.groupOf = groupOf;
    this.event(`partition ${groups.map((group) => group.join(',')).join('|')}`);
  }

  /** Messages from `from` to `to` are lost; the other direction still works. */
  blockOneWay(from: NodeName, to: NodeName): void {
    assert(from !== to, 'blockOneWay between two nodes');
    this.oneWayBlocked.add(pairKey(from, to));
    this.event(`block ${from}>${to}`);
  }

  /** Hold all traffic to and from `node` for `durationMs`, then release it in random order. */
  clog(node: NodeName, durationMs: number): void {
    assert(Number.isFinite(durationMs) && durationMs >= 0, 'clog duration >= 0');
    const untilMs = Math.max(this.clogUntilMs.get(node) ?? 0, this.host.nowMs() + durationMs);
    this.clogUntilMs.set(node, untilMs);
    this.event(`clog ${node} until ${untilMs}`);
    this.host.schedule(untilMs, () => this.releaseHeld());
  }

  unclog(node: NodeName): void {
    this.clogUntilMs.delete(node);
    this.event(`unclog ${node}`);
    this.releaseHeld();
  }

  /** End every partition, one-way block and clog. */
  heal(): void {
    this.groupOf = undefined;
    this.oneWayBlocked.clear();
    this.clogUntilMs.clear();
    this.event('heal');
    this.releaseHeld();
  }

  isBlocked(from: NodeName, to: NodeName): boolean {
    if (from === to) return false;
    if (this.oneWayBlocked.has(pairKey(from, to))) return true;
    if (this.groupOf === undefined) return false;
    return (this.groupOf.get(from) ?? -1) !== (this.groupOf.get(to) ?? -1);
  }

  isClogged(node: NodeName): boolean {
    return (this.clogUntilMs.get(node) ?? -Infinity) > this.host.nowMs();
  }

  private send(from: NodeName, to: NodeName, msg: WireMessage, channel: Channel): void {
    assert(typeof msg.type === 'string', 'message has a string type');
    const key = pairKey(from, to);
    const inFlight = this.inFlight.get(key) ?? 0;
    if (inFlight >= this.faults.inFlightMessagesMax) {
      throw new OverloadError(`${from}: ${inFlight} messages in flight to ${to}`);
    }
    const bytes = this.packr.pack(msg);
    if (bytes.length > this.faults.messageBytesMax) {
      // Refused before it is sent, as the transport does: no event, no randomness drawn.
      throw new MessageTooLargeError(`${from}: message ${msg.type} to ${to} is ${bytes.length} bytes, over the frame limit ${this.faults.messageBytesMax}`, bytes.length, this.faults.messageBytesMax);
    }
    const delivery: Delivery = {
      id: this.messageIdNext++,
      from,
      to,
      type: msg.type,
      channel,
      bytes,
      toIncarnation: this.host.incarnationOf(to),
      pairEpoch: this.pairEpochs.get(key) ?? 0,
    };
    this.stats.messagesSent++;
    this.host.trace.event(`${this.host.nowMs()} send #${delivery.id} ${key} ${msg.type} ${channel} ${bytes.length}B`, bytes);
    if (this.isBlocked(from, to)) return this.drop(delivery, 'partition');
    if (this.random.chance(this.faults.dropProbability)) return this.drop(delivery, 'random');
    this.enqueue(delivery);
    if (this.random.chance(this.faults.duplicateProbability)) {
      this.stats.messagesDuplicated++;
      this.event(`duplicate #${delivery.id}`);
      this.enqueue(delivery);
    }
  }

  private enqueue(delivery: Delivery): void {
    const key = pairKey(delivery.from, delivery.to);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    this.scheduleArrival(delivery);
  }

  private scheduleArrival(delivery: Delivery): void {
    this.host.schedule(this.host.nowMs() + this.sampleLatencyMs(delivery.channel), () => this.arrive(delivery));
  }

  private sampleLatencyMs(channel: Channel): number {
    const f = this.faults;
    let latencyMs = f.latencyMsBase + this.random.between(0, f.latencyMsJitter);
    if (channel === 'bulk') latencyMs += f.bulkLatencyMsExtra;
    if (this.random.chance(f.tailProbability)) latencyMs += Math.min(this.random.exponential(f.tailLatencyMsMean), f.tailLatencyMsMax);
    if (this.random.chance(f.reorderProbability)) latencyMs += this.random.between(0, f.reorderDelayMsMax);
    return Math.max(1, Math.round(latencyMs));
  }

  private arrive(delivery: Delivery): void {
    if (this.isClogged(delivery.from) || this.isClogged(delivery.to)) {
      this.stats.messagesHeld++;
      this.event(`hold #${delivery.id}`);
      this.held.push(delivery);
      return;
    }
    const key = pairKey(delivery.from, delivery.to);
    const inFlight = this.inFlight.get(key) ?? 0;
    assert(inFlight > 0, 'arriving message was counted in flight');
    this.inFlight.set(key, inFlight - 1);
    if ((this.pairEpochs.get(key) ?? 0) !== delivery.pairEpoch) return this.drop(delivery, 'removed');
    if (this.isBlocked(delivery.from, delivery.to)) return this.drop(delivery, 'partition');
    const incarnation = this.host.incarnationOf(delivery.to);
    if (incarnation === undefined || incarnation !== delivery.toIncarnation) return this.drop(delivery, 'down');
    const slot = this.handlers.get(delivery.to);
    if (slot === undefined || slot.incarnation !== incarnation) return this.drop(delivery, 'no-handler');
    const msg = this.packr.unpack(delivery.bytes) as WireMessage;
    assert(msg.type === delivery.type, 'message survives the wire');
    this.stats.messagesDelivered++;
    this.event(`deliver #${delivery.id} ${key} ${delivery.type}`);
    slot.handler(delivery.from, msg); // exceptions propagate: a handler bug fails the run
  }

  /** Re-schedule held messages whose endpoints are both unclogged; jittered latency swizzles their order. */
  private releaseHeld(): void {
    const still: Delivery[] = [];
    for (const delivery of this.held) {
      if (this.isClogged(delivery.from) || this.isClogged(delivery.to)) still.push(delivery);
      else this.scheduleArrival(delivery);
    }
    this.held = still;
  }

  private drop(delivery: Delivery, reason: string): void {
    this.stats.messagesDropped++;
    this.event(`drop #${delivery.id} ${reason}`);
  }

  private event(what: string): void {
    this.host.trace.event(`${this.host.nowMs()} ${what}`);
  }
}
