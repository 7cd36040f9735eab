// Pure functions for joining and for staging changes. Any node may run them;
// their writes spread by gossip. The host carries join requests and replies.
import type { NodeAddress, NodeName } from '../env.js';
import { NotMemberError, PlanInvalidError, assert } from '../errors.js';
import { singletonRing, writeMember, type SingletonRingOptions } from './ring-state.js';
import type { MemberEntry, MemberStatus, RingState, StagedChange } from './types.js';

export interface JoinRequest {
  node: NodeName;
  address: NodeAddress;
  clusterName: string;
}

/**
 * At the seed: the seed's ring with the requester added as 'joining'. Idempotent
 * for a repeated request; a removed (tombstoned) name may join again.
 */
export function requestJoin(seedRing: RingState, request: JoinRequest, writer: NodeName): RingState {
  if (request.clusterName !== seedRing.clusterName) {
    throw new PlanInvalidError(`${request.node} belongs to cluster "${request.clusterName}", this is cluster "${seedRing.clusterName}"`);
  }
  const existing = seedRing.members[request.node];
  if (existing === undefined) {
    const entry: MemberEntry = { name: request.node, address: request.address, status: 'joining', staged: null, version: 1, writer };
    return { ...seedRing, members: { ...seedRing.members, [request.node]: entry } };
  }
  if (existing.status === 'removed') {
    return writeMember(seedRing, existing, { status: 'joining', staged: null, address: request.address }, writer);
  }
  if (existing.address !== request.address) {
    throw new PlanInvalidError(`name ${request.node} is taken by a member at ${existing.address}`);
  }
  if (existing.status === 'joining' || existing.status === 'valid') return seedRing;
  throw new PlanInvalidError(`${request.node} is ${existing.status}; wait until it has left`);
}

/** True when `ring` is a node's own fresh ring: nobody else ever appeared in it. */
export function isAlone(ring: RingState, self: NodeName): boolean {
  const names = Object.keys(ring.members);
  return names.length === 1 && names[0] === self;
}

/**
 * `self`'s leave has completed as far as its ring tells: the claimant marked
 * it exiting (it owns no partition and no transfer waits on it) or removed it.
 */
export function hasLeft(ring: RingState, self: NodeName): boolean {
  const status = ring.members[self]?.status;
  return status === 'exiting' || status === 'removed';
}

/** Own statuses in a ring a fresh node may take from gossip: it was added to that cluster and never left it. */
const ADOPTABLE_STATUSES: ReadonlySet<MemberStatus> = new Set(['joining', 'valid', 'down']);

/**
 * A fresh node (isAlone) takes a cluster's gossiped ring only when it lists
 * the node as a member (a join whose reply was lost). A ring that shows it
 * leaving, exiting or removed is old news of a cluster it left and started
 * over from (see startOver): taking it would undo the start-over.
 */
export function adoptableFromGossip(ring: RingState, self: NodeName): boolean {
  const entry = ring.members[self];
  return entry !== undefined && ADOPTABLE_STATUSES.has(entry.status) && !isAlone(ring, self);
}

/**
 * After a completed leave: the node's own fresh one-node ring (same name,
 * cluster and ring shape, its current address), as riak_core writes a fresh
 * ring once a node has been removed. The host calls it only once it holds
 * nothing more to hand off. Throws PlanInvalidError unless the leave has
 * completed: a member, even a leaving one, must never forget its ring.
 */
export function startOver(ring: RingState, opts: SingletonRingOptions): RingState {
  const self = opts.self;
  if (!hasLeft(ring, self)) {
    throw new PlanInvalidError(`${self} is ${ring.members[self]?.status ?? 'not listed'} in its ring; only a node whose leave has completed (exiting or removed) can start over`);
  }
  // The claimant marks a leaver exiting only once it owns and awaits nothing, and never gives a partition back to it.
  if (ring.ownership.owners.includes(self) || ring.ownership.pending.some((t) => t.from === self || t.to === self)) {
    throw new PlanInvalidError(`${self} still owns or awaits partitions in its ring; it cannot start over`);
  }
  assert(opts.clusterName === ring.clusterName && opts.ringSize === ring.ringSize, 'a node starts over in its own cluster and ring shape');
  const next = singletonRing(opts);
  assert(isAlone(next, self) && next.ownership.owners.every((owner) => owner === self), 'a node that started over owns its whole ring alone');
  return next;
}

/** At the new node: take the seed's reply in place of its own singleton ring. */
export function adoptRing(own: RingState, self: NodeName, offered: RingState): RingState {
  if (!isAlone(own, self)) throw new PlanInvalidError(`${self} is already a member of a cluster; leave first`);
  if (offered.clusterName !== own.clusterName) {
    throw new PlanInvalidError(`offered ring is of cluster "${offered.clusterName}", ${self} is configured for "${own.clusterName}"`);
  }
  const entry = offered.members[self];
  if (entry === undefined || (entry.status !== 'joining' && entry.status !== 'valid')) {
    throw new PlanInvalidError(`offered ring does not list ${self} as joining`);
  }
  const ownEntry = own.members[self];
  assert(ownEntry !== undefined, 'own ring lists self');
  if (entry.address !== ownEntry.address) {
    throw new PlanInvalidError(`offered ring lists ${self} at ${entry.address}, not ${ownEntry.address}`);
  }
  return offered;
}

function presentMember(state: RingState, node: NodeName): MemberEntry {
  const entry = state.members[node];
  if (entry === undefined || entry.status === 'removed') throw new NotMemberError(`${node} is not a member of cluster "${state.clusterName}"`);
  return entry;
}

/**
 * Stage (or with `null`, clear) a change on `node`. Checks what can be checked
 * now; plan() checks the whole set again, as other nodes stage concurrently.
 */
export function stageChange(state: RingState, node: NodeName, change: StagedChange, writer: NodeName): RingState {
  const entry = presentMember(state, node);
  if (change === null) return entry.staged === null ? state : writeMember(state, entry, { staged: null }, writer);
  if (change.kind === 'leave' && entry.status !== 'valid') throw new PlanInvalidError(`cannot leave ${node}: it is ${entry.status}`);
  if (change.kind === 'replace') {
    if (entry.status !== 'valid') throw new PlanInvalidError(`cannot replace ${node}: it is ${entry.status}`);
    const by = state.members[change.by];
    if (by === undefined || by.status === 'removed') throw new PlanInvalidError(`cannot replace ${node} with ${change.by}: not a member; join it first`);
    if (by.status !== 'joining' && by.status !== 'valid') throw new PlanInvalidError(`cannot replace ${node} with ${change.by}: it is ${by.status}`);
    if (change.by === node) throw new PlanInvalidError(`cannot replace ${node} with itself`);
  }
  if (change.kind === 'force-remove' && node === state.ownership.claimant) {
    throw new PlanInvalidError(`cannot force-remove ${node}: it is the claimant; make it leave instead`);
  }
  return writeMember(state, entry, { staged: change }, writer);
}

/** Clear every staged change (or those of `node`). */
export function clearStaged(state: RingState, writer: NodeName, node?: NodeName): RingState {
  if (node !== undefined) return stageChange(state, node, null, writer);
  let next = state;
  for (const entry of Object.values(state.members)) {
    if (entry.staged !== null && entry.status !== 'removed') next = writeMember(next, entry, { staged: null }, writer);
  }
  return next;
}

/** Operator's mark-down of an unreachable member (the host checks it is unreachable). */
export function markDown(state: RingState, node: NodeName, writer: NodeName): RingState {
  const entry = presentMember(state, node);
  if (node === writer) throw new PlanInvalidError(`${node} cannot mark itself down`);
  if (entry.status === 'down') return state;
  if (entry.status !== 'valid' && entry.status !== 'joining') throw new PlanInvalidError(`cannot mark ${node} down: it is ${entry.status}`);
  return writeMember(state, entry, { status: 'down' }, writer);
}
