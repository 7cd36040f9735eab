// What `member-status` and `ring-status` show, from one node's point of view.
import type { NodeName } from '../env.js';
import { countOwners, describeStaged, presentMembers, ringDigest, targetOwners } from './ring-state.js';
import type { MemberStatusRow, RingState, RingStatus } from './types.js';

function percent(count: number, ringSize: number): number {
  return Math.round((count / ringSize) * 1000) / 10;
}

export function memberStatus(state: RingState, liveness: ReadonlyMap<NodeName, boolean>): MemberStatusRow[] {
  const now = countOwners(state.ownership.owners);
  const heading = countOwners(targetOwners(state.ownership));
  return presentMembers(state).map((m) => ({
    name: m.name,
    address: m.address,
    status: m.status,
    staged: describeStaged(m),
    ringPct: percent(now[m.name] ?? 0, state.ringSize),
    pendingPct: percent(heading[m.name] ?? 0, state.ringSize),
    up: liveness.get(m.name),
  }));
}

/**
 * `lastDigests` holds the digest of the last ring each peer sent us. A ring
 * is "ready" when every other member not reported down last showed our ring
 * and nothing is pending; peers never heard from count as not agreeing.
 */
export function ringStatus(state: RingState, self: NodeName, liveness: ReadonlyMap<NodeName, boolean>, lastDigests: ReadonlyMap<NodeName, string>): RingStatus {
  const digest = ringDigest(state);
  const others = presentMembers(state).filter((m) => m.name !== self);
  const agreeing = others.filter((m) => lastDigests.get(m.name) === digest).map((m) => m.name);
  const live = others.filter((m) => liveness.get(m.name) !== false);
  const staged = presentMembers(state)
    .map(describeStaged)
    .filter((line): line is string => line !== null);
  return {
    claimant: state.ownership.claimant,
    claimantAddress: state.members[state.ownership.claimant]?.address,
    epoch: state.ownership.epoch,
    pending: state.ownership.pending.slice(),
    staged,
    agreeing,
    ringReady: state.ownership.pending.length === 0 && live.every((m) => agreeing.includes(m.name)),
  };
}
