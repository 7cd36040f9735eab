// Staged changes → next ring: plan (pure), commit (claimant only) and the
// claimant's housekeeping (apply finished transfers, retire leavers).
import type { NodeName } from '../env.js';
import { NotClaimantError, PlanEmptyError, PlanInvalidError, assert } from '../errors.js';
import { claim } from '../ring/claim.js';
import { countOwners, presentMembers, targetOwners, transferKey, writeMember } from './ring-state.js';
import type { MemberEntry, PendingTransfer, PlanResult, RingState } from './types.js';

interface StagedSets {
  changes: string[];
  joining: Set<NodeName>;
  leaving: Set<NodeName>;
  /** replaced → replacement */
  replaced: Map<NodeName, NodeName>;
  forceRemoved: Set<NodeName>;
}

function collectStaged(state: RingState): StagedSets {
  const sets: StagedSets = { changes: [], joining: new Set(), leaving: new Set(), replaced: new Map(), forceRemoved: new Set() };
  const present = presentMembers(state);
  for (const m of present) {
    if (m.status === 'joining') {
      sets.joining.add(m.name);
      sets.changes.push(`join ${m.name}`);
    }
  }
  for (const m of present) {
    if (m.staged === null) continue;
    if (m.staged.kind === 'leave') {
      if (m.status !== 'valid') throw new PlanInvalidError(`cannot leave ${m.name}: it is ${m.status}, not valid`);
      sets.leaving.add(m.name);
      sets.changes.push(`leave ${m.name}`);
    } else if (m.staged.kind === 'replace') {
      checkReplace(state, m, m.staged.by, sets);
      sets.replaced.set(m.name, m.staged.by);
      sets.changes.push(`replace ${m.name} with ${m.staged.by}`);
    } else {
      if (m.name === state.ownership.claimant) {
        throw new PlanInvalidError(`cannot force-remove ${m.name}: it is the claimant; make it leave instead`);
      }
      sets.forceRemoved.add(m.name);
      sets.changes.push(`force-remove ${m.name}`);
    }
  }
  return sets;
}

function checkReplace(state: RingState, m: MemberEntry, by: NodeName, sets: StagedSets): void {
  const replacement = state.members[by];
  if (m.status !== 'valid') throw new PlanInvalidError(`cannot replace ${m.name}: it is ${m.status}, not valid`);
  if (by === m.name) throw new PlanInvalidError(`cannot replace ${m.name} with itself`);
  if (replacement === undefined || replacement.status === 'removed') {
    throw new PlanInvalidError(`cannot replace ${m.name} with ${by}: ${by} is not a member; join it first`);
  }
  if (replacement.status !== 'joining' && replacement.status !== 'valid') {
    throw new PlanInvalidError(`cannot replace ${m.name} with ${by}: ${by} is ${replacement.status}`);
  }
  if (replacement.staged !== null) throw new PlanInvalidError(`cannot replace ${m.name} with ${by}: ${by} has a staged change`);
  for (const [other, target] of sets.replaced) {
    if (target === by) throw new PlanInvalidError(`cannot replace both ${other} and ${m.name} with ${by}`);
  }
}

/** Members that own partitions after the plan, sorted by name. */
function claimMembersOf(state: RingState, sets: StagedSets): NodeName[] {
  return presentMembers(state)
    .filter((m) => m.status === 'valid' || m.status === 'joining' || m.status === 'down')
    .map((m) => m.name)
    .filter((name) => !sets.leaving.has(name) && !sets.replaced.has(name) && !sets.forceRemoved.has(name));
}

function nextClaimant(state: RingState, claimMembers: readonly NodeName[]): NodeName {
  const current = state.ownership.claimant;
  if (claimMembers.includes(current)) return current;
  const up = claimMembers.filter((name) => state.members[name]?.status !== 'down');
  const chosen = up[0] ?? claimMembers[0];
  assert(chosen !== undefined, 'a claimant remains');
  return chosen;
}

function nextMembers(state: RingState, sets: StagedSets, writer: NodeName): RingState {
  let next = state;
  for (const m of presentMembers(state)) {
    let status = m.status;
    if (sets.joining.has(m.name)) status = 'valid';
    if (sets.leaving.has(m.name) || sets.replaced.has(m.name)) status = 'leaving';
    if (sets.forceRemoved.has(m.name)) status = 'removed';
    if (status === m.status && m.staged === null) continue;
    next = writeMember(next, m, { status, staged: null }, writer);
  }
  return next;
}

/**
 * Proposed next ring from the staged changes and joining members. Pure. New
 * owners come from claim() over the members that stay, starting from where
 * the ring is heading (pending transfers applied, replacements substituted),
 * so claim keeps as many owners as it can. Throws PlanEmptyError when nothing
 * is staged, PlanInvalidError when a staged change cannot apply.
 */
export function plan(state: RingState, writer: NodeName = state.ownership.claimant): PlanResult {
  const sets = collectStaged(state);
  if (sets.changes.length === 0) throw new PlanEmptyError();
  const claimMembers = claimMembersOf(state, sets);
  if (claimMembers.length === 0) {
    throw new PlanInvalidError(`plan would leave no valid member (${sets.changes.join(', ')}); at least one must stay`);
  }
  const heading = targetOwners(state.ownership).map((owner) => sets.replaced.get(owner) ?? owner);
  const after = claim(heading, claimMembers, { ringSize: state.ringSize, targetNVal: state.targetNVal });
  assert(after.length === state.ringSize, 'claim covers the ring');
  assert(after.every((owner) => claimMembers.includes(owner)), 'claim assigns only staying members');

  const epoch = state.ownership.epoch + 1;
  const owners = state.ownership.owners.slice();
  const oldPending = new Map(state.ownership.pending.map((t) => [t.partition, t]));
  const pending: PendingTransfer[] = [];
  const transfers: PlanResult['transfers'] = [];
  for (let partition = 0; partition < state.ringSize; partition++) {
    const from = owners[partition] as NodeName;
    const to = after[partition] as NodeName;
    if (from === to) continue;
    // A force-removed owner holds nothing we can wait for: switch now; repair rebuilds.
    if (sets.forceRemoved.has(from) || state.members[from]?.status === 'removed') {
      owners[partition] = to;
      continue;
    }
    const old = oldPending.get(partition);
    if (old !== undefined && old.to === to) {
      pending.push(old);
    } else {
      pending.push({ partition, from, to, epoch });
      transfers.push({ partition, from, to });
    }
  }
  const claimant = nextClaimant(state, claimMembers);
  const withMembers = nextMembers(state, sets, writer);
  const next: RingState = { ...withMembers, ownership: { epoch, claimant, owners, pending } };
  return {
    changes: sets.changes.slice().sort(),
    ownershipBefore: countOwners(state.ownership.owners),
    ownershipAfter: countOwners(after),
    transfers,
    next,
  };
}

/** Apply the plan at the claimant. Throws NotClaimantError elsewhere. */
export function commit(state: RingState, self: NodeName): { next: RingState; plan: PlanResult } {
  const claimant = state.ownership.claimant;
  if (claimant !== self) {
    const address = state.members[claimant]?.address ?? 'unknown address';
    throw new NotClaimantError(claimant, `only the claimant commits: run commit at ${claimant} (${address}), not at ${self}`);
  }
  const result = plan(state, self);
  return { next: housekeeping(result.next, self, { removeExiting: false }), plan: result };
}

/**
 * The claimant's routine, run after every step: apply transfers their
 * receivers reported done (one epoch for the batch), remove members already
 * exiting (only when `removeExiting`, so a leaver gets to see 'exiting'
 * first), then mark as exiting the leavers that own and await nothing.
 * Elsewhere returns `state` itself.
 */
export function housekeeping(state: RingState, self: NodeName, opts: { removeExiting: boolean }): RingState {
  state = takeOverClaimant(state, self);
  if (state.ownership.claimant !== self) return state;
  let next = applyTransfersDone(state);
  const busy = new Set<NodeName>(next.ownership.owners);
  for (const t of next.ownership.pending) {
    busy.add(t.from);
    busy.add(t.to);
  }
  for (const m of presentMembers(next)) {
    if (m.status === 'exiting' && opts.removeExiting) next = writeMember(next, m, { status: 'removed', staged: null }, self);
    if (m.status === 'leaving' && !busy.has(m.name)) next = writeMember(next, m, { status: 'exiting', staged: null }, self);
  }
  return next;
}

function applyTransfersDone(state: RingState): RingState {
  const done = state.ownership.pending.filter((t) => (state.transfersDone[transferKey(t.partition, t.to)] ?? -1) >= t.epoch);
  if (done.length === 0) return state;
  const owners = state.ownership.owners.slice();
  for (const t of done) owners[t.partition] = t.to;
  const pending = state.ownership.pending.filter((t) => !done.includes(t));
  return { ...state, ownership: { ...state.ownership, epoch: state.ownership.epoch + 1, owners, pending } };
}

/**
 * When the claimant has been marked down (or is gone), the first valid member
 * by name takes the role, in a new ownership epoch so its ring wins the merge.
 * Nothing else changes: pending transfers and owners carry over.
 */
function takeOverClaimant(state: RingState, self: NodeName): RingState {
  const current = state.members[state.ownership.claimant];
  if (current !== undefined && current.status !== 'down' && current.status !== 'removed') return state;
  const successor = presentMembers(state).find((m) => m.status === 'valid');
  if (successor === undefined || successor.name !== self) return state;
  return { ...state, ownership: { ...state.ownership, epoch: state.ownership.epoch + 1, claimant: self } };
}
