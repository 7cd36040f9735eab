// Ring state, messages and admin shapes of the membership core. Everything in
// RingState is plain data (msgpack- and JSON-able) and is gossiped whole.
import type { NodeAddress, NodeName } from '../env.js';

/**
 * joining → valid → leaving → exiting → removed is the life of a member.
 * 'removed' is a tombstone: it keeps the name with a higher version so stale
 * gossip cannot bring the member back. 'down' is an operator's mark-down of
 * an unreachable member: it keeps its partitions, but if it was the claimant
 * the next valid member takes over; the member writes itself back to 'valid'
 * as soon as it runs again.
 */
export type MemberStatus = 'joining' | 'valid' | 'leaving' | 'exiting' | 'down' | 'removed';

export type StagedChange = { kind: 'leave' } | { kind: 'replace'; by: NodeName } | { kind: 'force-remove' } | null;

export interface MemberEntry {
  name: NodeName;
  address: NodeAddress;
  status: MemberStatus;
  staged: StagedChange;
  /** Per-entry Lamport counter: every write of this entry sets it to old + 1. */
  version: number;
  /** Node that wrote this version; part of the merge tie-break. */
  writer: NodeName;
}

export interface PendingTransfer {
  partition: number;
  from: NodeName;
  to: NodeName;
  /** Ownership epoch of the commit that planned this transfer. */
  epoch: number;
}

export interface Ownership {
  epoch: number;
  claimant: NodeName;
  /** Owner by partition index. Keeps the old owner until its transfer is done. */
  owners: NodeName[];
  /** Sorted by partition; at most one per partition. */
  pending: PendingTransfer[];
}

export interface RingState {
  clusterName: string;
  ringSize: number;
  targetNVal: number;
  members: Record<NodeName, MemberEntry>;
  ownership: Ownership;
  /** "partition:to" → epoch of the pending transfer the receiver finished. */
  transfersDone: Record<string, number>;
}

// --- messages between membership cores ---

export interface RingGossipMessage {
  readonly type: 'ring.gossip';
  readonly ring: RingState;
}

/** Receiver → claimant: "I hold partition now"; `epoch` is the pending transfer's. */
export interface RingTransferDoneMessage {
  readonly type: 'ring.transfer-done';
  readonly partition: number;
  readonly to: NodeName;
  readonly epoch: number;
}

export type MembershipMessage = RingGossipMessage | RingTransferDoneMessage;

export function isMembershipMessage(msg: unknown): msg is MembershipMessage {
  if (typeof msg !== 'object' || msg === null) return false;
  const type = (msg as { type?: unknown }).type;
  if (type === 'ring.gossip') return typeof (msg as { ring?: unknown }).ring === 'object';
  if (type === 'ring.transfer-done') {
    const m = msg as { partition?: unknown; to?: unknown; epoch?: unknown };
    return typeof m.partition === 'number' && typeof m.to === 'string' && typeof m.epoch === 'number';
  }
  return false;
}

// --- plan ---

export interface PlanResult {
  /** Human lines, sorted: "join n4", "leave n2", "replace n2 with n5", "force-remove n3". */
  changes: string[];
  /** Partitions owned per node now (owners[] as it stands). */
  ownershipBefore: Record<NodeName, number>;
  /** Partitions owned per node once every transfer of this plan is done. */
  ownershipAfter: Record<NodeName, number>;
  /** Transfers this plan starts (pending ones it keeps are not repeated). */
  transfers: { partition: number; from: NodeName; to: NodeName }[];
  /** Ring state if committed now. */
  next: RingState;
}

// --- core inputs, outputs, admin ---

export type AdminCommand =
  /** At a seed, on a peer's join request: add it as 'joining'. Reply 'ring' (give it to the peer). */
  | { cmd: 'join-request'; node: NodeName; address: NodeAddress; clusterName: string }
  /** At the new node: replace its singleton ring by the seed's reply. */
  | { cmd: 'adopt'; ring: RingState }
  | { cmd: 'leave'; node?: NodeName }
  | { cmd: 'replace'; node: NodeName; by: NodeName }
  | { cmd: 'force-remove'; node: NodeName }
  /** Operator's mark-down of an unreachable member (riak-admin down): lets the claimant role move on. */
  | { cmd: 'down'; node: NodeName }
  /** Clear staged changes of `node`, or of every member. */
  | { cmd: 'clear'; node?: NodeName }
  | { cmd: 'plan' }
  | { cmd: 'commit' }
  | { cmd: 'member-status' }
  | { cmd: 'ring-status' };

export interface MemberStatusRow {
  name: NodeName;
  address: NodeAddress;
  status: MemberStatus;
  staged: string | null;
  /** Share of partitions owned now, in percent. */
  ringPct: number;
  /** Share owned once pending transfers are done, in percent. */
  pendingPct: number;
  /** From the failure detector; undefined when never reported. */
  up: boolean | undefined;
}

export interface RingStatus {
  claimant: NodeName;
  claimantAddress: NodeAddress | undefined;
  epoch: number;
  pending: PendingTransfer[];
  staged: string[];
  /** Members whose last ring seen here has our digest (what we can know locally). */
  agreeing: NodeName[];
  /** Every other live member last showed our ring and no transfer is pending. */
  ringReady: boolean;
}

export type AdminReply =
  | { kind: 'ok' }
  | { kind: 'ring'; ring: RingState }
  | { kind: 'plan'; plan: PlanResult }
  | { kind: 'commit'; epoch: number; changes: string[] }
  | { kind: 'member-status'; members: MemberStatusRow[] }
  | { kind: 'ring-status'; status: RingStatus };

export type MembershipInput =
  | { type: 'tick' }
  | { type: 'message'; from: NodeName; msg: MembershipMessage }
  | { type: 'liveness'; node: NodeName; up: boolean }
  | { type: 'transfer-complete'; partition: number }
  | { type: 'admin'; cmd: AdminCommand }
  /**
   * The host of a node whose leave has completed (output `left`) holds
   * nothing more to hand off: replace the ring by a fresh one-node ring.
   * Throws PlanInvalidError before the leave has completed.
   */
  | { type: 'start-over' };

export interface MembershipOutput {
  send: { to: NodeName; msg: MembershipMessage }[];
  reply?: AdminReply;
  ringChanged: boolean;
  /** The host must durably save ring() before sending `send`. */
  persist: boolean;
  /**
   * This node is exiting or removed: its leave has completed. The host hands
   * off what it still holds, then steps 'start-over' (and may shut down).
   */
  left: boolean;
  /** A peer's gossip was refused (malformed, or another cluster, ring_size or target_n_val) and why: the host logs it. */
  refused?: { from: NodeName; reason: string };
}
