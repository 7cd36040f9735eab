// MembershipCore: the membership protocol as a pure state machine. The host
// feeds it ticks, messages, liveness reports, transfer completions and admin
// commands; it answers with messages to send and whether the ring must be
// persisted (before sending) — no I/O, no clock, no randomness of its own.
//
// Admin errors are thrown as typed RondoErrors (NotMemberError,
// NotClaimantError, PlanEmptyError, PlanInvalidError); a throwing step leaves
// the state untouched.
import { GOSSIP_FANOUT, GOSSIP_INTERVAL_MS } from '../constants.js';
import type { NodeAddress, NodeName, Random } from '../env.js';
import { assert } from '../errors.js';
import { adoptableFromGossip, adoptRing, clearStaged, hasLeft, isAlone, markDown, requestJoin, stageChange, startOver } from './join.js';
import { commit, housekeeping, plan } from './plan.js';
import { mergeRings, presentMembers, ringDigest, ringsEqual, singletonRing, transferKey, writeMember } from './ring-state.js';
import { memberStatus, ringStatus } from './status.js';
import { ringShapeMismatch, ringStateProblem } from './validate.js';
import type { AdminCommand, AdminReply, MembershipInput, MembershipMessage, MembershipOutput, PendingTransfer, RingState } from './types.js';

export interface MembershipCoreOptions {
  self: NodeName;
  address: NodeAddress;
  clusterName: string;
  ringSize: number;
  targetNVal: number;
  random: Random;
  /** Ring restored from disk; a fresh singleton ring when absent. */
  state?: RingState;
  /** Report a pending transfer to self as done as soon as it is seen (until handoff exists). */
  autoCompleteTransfers?: boolean;
  gossipIntervalMs?: number;
}

interface StepContext {
  before: RingState;
  /** State right after merging a received ring (or `before`). */
  merged: RingState;
  gossipFrom?: { from: NodeName; ring: RingState };
  periodic: boolean;
  reply?: AdminReply;
  /** Pending transfers to self marked done in this step. */
  reported: PendingTransfer[];
  refused?: { from: NodeName; reason: string };
}

export class MembershipCore {
  private state: RingState;
  private readonly self: NodeName;
  /** Where this node listens now (a ring restored from disk may list an older address). */
  private readonly address: NodeAddress;
  private readonly random: Random;
  private readonly autoCompleteTransfers: boolean;
  private readonly gossipIntervalMs: number;
  private readonly liveness = new Map<NodeName, boolean>();
  private readonly lastDigests = new Map<NodeName, string>();
  private lastGossipMs: number | null = null;

  constructor(opts: MembershipCoreOptions) {
    assert(opts.self.length > 0, 'self has a name');
    this.self = opts.self;
    this.address = opts.address;
    this.random = opts.random;
    this.autoCompleteTransfers = opts.autoCompleteTransfers ?? true;
    this.gossipIntervalMs = opts.gossipIntervalMs ?? GOSSIP_INTERVAL_MS;
    assert(this.gossipIntervalMs > 0, 'gossip interval is positive');
    this.state = opts.state ?? singletonRing(opts);
    assert(this.state.clusterName === opts.clusterName, 'restored ring is of our cluster');
    assert(this.state.members[opts.self] !== undefined, 'restored ring lists self');
  }

  /** The current ring. Treat as immutable. */
  ring(): RingState {
    return this.state;
  }

  step(input: MembershipInput, nowMs: number): MembershipOutput {
    const periodic = input.type === 'tick' && (this.lastGossipMs === null || nowMs - this.lastGossipMs >= this.gossipIntervalMs);
    if (periodic) this.lastGossipMs = nowMs;
    const ctx: StepContext = { before: this.state, merged: this.state, periodic, reported: [] };
    switch (input.type) {
      case 'tick':
      case 'liveness':
        if (input.type === 'liveness') this.liveness.set(input.node, input.up);
        break;
      case 'message':
        this.onMessage(ctx, input.from, input.msg);
        break;
      case 'transfer-complete':
        for (const t of this.state.ownership.pending) {
          if (t.partition === input.partition && t.to === this.self) this.markDone(ctx, t);
        }
        break;
      case 'admin':
        ctx.reply = this.onAdmin(input.cmd);
        ctx.merged = this.state;
        break;
      case 'start-over':
        return this.startOver();
      default: {
        const never: never = input;
        throw new Error(`unknown membership input ${JSON.stringify(never)}`);
      }
    }
    return this.finish(ctx);
  }

  private onMessage(ctx: StepContext, from: NodeName, msg: MembershipMessage): void {
    if (msg.type === 'ring.gossip') {
      const ring = msg.ring;
      // The gossip filter: a malformed ring, or one of another cluster or shape, is refused whole (the host logs why).
      const alone = isAlone(this.state, this.self);
      const problem = ringStateProblem(ring) ?? ringShapeMismatch(this.state, ring, { adopting: alone });
      if (problem !== undefined) {
        ctx.refused = { from, reason: problem };
        return;
      }
      this.lastDigests.set(from, ringDigest(ring));
      if (alone) {
        // A fresh node merges nothing: it takes a cluster's ring that lists it as a member (join reply lost), or ignores it.
        if (!adoptableFromGossip(ring, this.self)) return;
        this.state = ring;
      } else {
        this.state = mergeRings(this.state, ring);
      }
      ctx.merged = this.state;
      ctx.gossipFrom = { from, ring };
      return;
    }
    if (msg.type === 'ring.transfer-done') {
      const key = transferKey(msg.partition, msg.to);
      const known = this.state.ownership.pending.some((t) => t.partition === msg.partition && t.to === msg.to && t.epoch <= msg.epoch);
      if (!known || (this.state.transfersDone[key] ?? -1) >= msg.epoch) return;
      this.state = { ...this.state, transfersDone: { ...this.state.transfersDone, [key]: msg.epoch } };
      return;
    }
    const never: never = msg;
    throw new Error(`unknown membership message ${JSON.stringify(never)}`);
  }

  private markDone(ctx: StepContext, t: PendingTransfer): void {
    const key = transferKey(t.partition, t.to);
    if ((this.state.transfersDone[key] ?? -1) >= t.epoch) return;
    this.state = { ...this.state, transfersDone: { ...this.state.transfersDone, [key]: t.epoch } };
    ctx.reported.push(t);
  }

  private onAdmin(cmd: AdminCommand): AdminReply {
    const self = this.self;
    const state = this.state;
    switch (cmd.cmd) {
      case 'join-request':
        this.state = requestJoin(state, { node: cmd.node, address: cmd.address, clusterName: cmd.clusterName }, self);
        return { kind: 'ring', ring: this.state };
      case 'adopt':
        this.state = adoptRing(state, self, cmd.ring);
        this.lastDigests.clear();
        return { kind: 'ok' };
      case 'leave':
        this.state = stageChange(state, cmd.node ?? self, { kind: 'leave' }, self);
        return { kind: 'ok' };
      case 'replace':
        this.state = stageChange(state, cmd.node, { kind: 'replace', by: cmd.by }, self);
        return { kind: 'ok' };
      case 'force-remove':
        this.state = stageChange(state, cmd.node, { kind: 'force-remove' }, self);
        return { kind: 'ok' };
      case 'down':
        this.state = markDown(state, cmd.node, self);
        return { kind: 'ok' };
      case 'clear':
        this.state = clearStaged(state, self, cmd.node);
        return { kind: 'ok' };
      case 'plan':
        return { kind: 'plan', plan: plan(state) };
      case 'commit': {
        const result = commit(state, self);
        this.state = result.next;
        return { kind: 'commit', epoch: result.next.ownership.epoch, changes: result.plan.changes };
      }
      case 'member-status':
        return { kind: 'member-status', members: memberStatus(state, this.liveness) };
      case 'ring-status':
        return { kind: 'ring-status', status: ringStatus(state, self, this.liveness, this.lastDigests) };
      default: {
        const never: never = cmd;
        throw new Error(`unknown admin command ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The host has handed off everything after a completed leave: become a
   * fresh one-node cluster (see startOver in join.ts). Nothing is sent: the
   * old cluster has already let this node go, and what it knew of its peers
   * (liveness, the digests they last sent) no longer applies.
   */
  private startOver(): MembershipOutput {
    const before = this.state;
    this.state = startOver(before, { self: this.self, address: this.address, clusterName: before.clusterName, ringSize: before.ringSize, targetNVal: before.targetNVal });
    this.liveness.clear();
    this.lastDigests.clear();
    assert(!hasLeft(this.state, this.self), 'a node that started over is a member of its own ring');
    return { send: [], ringChanged: true, persist: true, left: false };
  }

  /** Work done after every input: transfers, claimant housekeeping, gossip. */
  private finish(ctx: StepContext): MembershipOutput {
    if (this.autoCompleteTransfers) {
      for (const t of this.state.ownership.pending) if (t.to === this.self) this.markDone(ctx, t);
    }
    this.state = reviveSelf(this.state, this.self);
    this.state = housekeeping(this.state, this.self, { removeExiting: ctx.periodic });
    const changed = !ringsEqual(ctx.before, this.state);
    const changedHere = !ringsEqual(ctx.merged, this.state) || (ctx.gossipFrom === undefined && changed);
    const gossipTo = new Set<NodeName>();
    if (changedHere) {
      // Our own change: push to every member, including ones this step removed.
      for (const name of this.peers(ctx.before).concat(this.peers(this.state))) gossipTo.add(name);
    } else if (changed) {
      for (const name of this.pick(this.peers(this.state).filter((n) => n !== ctx.gossipFrom?.from), GOSSIP_FANOUT)) gossipTo.add(name);
    }
    if (ctx.gossipFrom !== undefined && !ringsEqual(this.state, ctx.gossipFrom.ring)) gossipTo.add(ctx.gossipFrom.from);
    if (ctx.periodic) for (const name of this.pick(this.gossipCandidates(), GOSSIP_FANOUT)) gossipTo.add(name);
    const send: MembershipOutput['send'] = [...gossipTo].sort().map((to) => ({ to, msg: { type: 'ring.gossip', ring: this.state } }));
    send.push(...this.transferReports(ctx));
    const left = hasLeft(this.state, this.self);
    const output: MembershipOutput = { send, ringChanged: changed, persist: changed, left };
    if (ctx.reply !== undefined) output.reply = ctx.reply;
    if (ctx.refused !== undefined) output.refused = ctx.refused;
    return output;
  }

  /** transfer-done to the claimant: when first marked, then on every gossip round until applied. */
  private transferReports(ctx: StepContext): MembershipOutput['send'] {
    const claimant = this.state.ownership.claimant;
    if (claimant === this.self) return [];
    const due = ctx.periodic
      ? this.state.ownership.pending.filter((t) => t.to === this.self && (this.state.transfersDone[transferKey(t.partition, t.to)] ?? -1) >= t.epoch)
      : ctx.reported.filter((t) => this.state.ownership.pending.includes(t));
    return due.map((t) => ({ to: claimant, msg: { type: 'ring.transfer-done', partition: t.partition, to: t.to, epoch: t.epoch } }));
  }

  /** Other members that still take gossip, sorted. */
  private peers(state: RingState): NodeName[] {
    return presentMembers(state)
      .map((m) => m.name)
      .filter((name) => name !== this.self);
  }

  /** Prefer members the failure detector has not reported down. */
  private gossipCandidates(): NodeName[] {
    const peers = this.peers(this.state);
    const up = peers.filter((name) => this.liveness.get(name) !== false);
    return up.length > 0 ? up : peers;
  }

  private pick(candidates: NodeName[], count: number): NodeName[] {
    const pool = candidates.slice();
    const chosen: NodeName[] = [];
    while (chosen.length < count && pool.length > 0) {
      const [name] = pool.splice(this.random.int(pool.length), 1);
      assert(name !== undefined, 'picked from a non-empty pool');
      chosen.push(name);
    }
    return chosen;
  }
}

/** A member marked down that is running again says so: it writes itself back to valid. */
function reviveSelf(state: RingState, self: NodeName): RingState {
  const entry = state.members[self];
  if (entry === undefined || entry.status !== 'down') return state;
  return writeMember(state, entry, { status: 'valid' }, self);
}
