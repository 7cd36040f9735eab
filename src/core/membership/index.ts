// Public API of the membership subsystem.
export { MembershipCore } from './core.js';
export type { MembershipCoreOptions } from './core.js';
export { adoptableFromGossip, adoptRing, clearStaged, hasLeft, isAlone, requestJoin, stageChange, startOver } from './join.js';
export type { JoinRequest } from './join.js';
export { commit, housekeeping, plan } from './plan.js';
export {
  canonicalJson,
  compareMemberEntries,
  compareOwnerships,
  countOwners,
  mergeRings,
  presentMembers,
  ringDigest,
  ringsEqual,
  singletonRing,
  targetOwners,
  transferKey,
} from './ring-state.js';
export { memberStatus, ringStatus } from './status.js';
export { ringShapeMismatch, ringStateProblem } from './validate.js';
export * from './types.js';
