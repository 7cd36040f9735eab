// Ring state as a join-semilattice. mergeRings picks, per member name, the
// greater entry under a total order, the greater ownership under a total
// order, and the per-key max of transfersDone. A max under a total order is
// commutative, associative and idempotent, so gossip converges whatever the
// order, loss or duplication of messages. Ring states are never mutated in
// place: every change builds a new object.
import { createHash } from 'node:crypto';
import type { NodeAddress, NodeName } from '../env.js';
import { InvalidArgumentError, assert } from '../errors.js';
import type { MemberEntry, MemberStatus, Ownership, RingState } from './types.js';

/**
 * Tie-break between two writes of the same entry version. Claimant writes move
 * up this order (joining → valid → leaving → exiting → removed), so a
 * concurrent stage by another node loses to them.
 */
const STATUS_RANK: Record<MemberStatus, number> = { joining: 0, valid: 1, down: 2, leaving: 3, exiting: 4, removed: 5 };

/**
 * Canonical forms already computed, by object. Ring states and their parts
 * are never mutated (see above), so an object's form never changes; gossip,
 * ticks and merges ask for the same states' forms over and over.
 */
const canonicalForms = new WeakMap<object, string>();

/** JSON with object keys sorted at every level: equal states, equal strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const known = canonicalForms.get(value);
  if (known !== undefined) return known;
  let form: string;
  if (Array.isArray(value)) form = `[${value.map(canonicalJson).join(',')}]`;
  else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    form = `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  canonicalForms.set(value, form);
  return form;
}

/** Stable hash for cheap "do we hold the same ring" checks. */
export function ringDigest(state: RingState): string {
  return createHash('sha1').update(canonicalJson(state)).digest('hex');
}

export function ringsEqual(a: RingState, b: RingState): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order on entries of one name: version, status rank, writer, then content. */
export function compareMemberEntries(a: MemberEntry, b: MemberEntry): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.status !== b.status) return STATUS_RANK[a.status] - STATUS_RANK[b.status];
  const byWriter = compareStrings(a.writer, b.writer);
  if (byWriter !== 0) return byWriter;
  return compareStrings(canonicalJson(a), canonicalJson(b));
}

/** Total order on ownerships: epoch, claimant name, then content. */
export function compareOwnerships(a: Ownership, b: Ownership): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const byClaimant = compareStrings(a.claimant, b.claimant);
  if (byClaimant !== 0) return byClaimant;
  return compareStrings(canonicalJson(a), canonicalJson(b));
}

/** Rings of another cluster or shape never merge (InvalidArgumentError). */
export function assertSameCluster(a: RingState, b: RingState): void {
  if (a.clusterName !== b.clusterName) {
    throw new InvalidArgumentError(`ring of cluster "${b.clusterName}" cannot merge into cluster "${a.clusterName}"`);
  }
  if (a.ringSize !== b.ringSize || a.targetNVal !== b.targetNVal) {
    throw new InvalidArgumentError(`ring shape ${b.ringSize}/${b.targetNVal} differs from ${a.ringSize}/${a.targetNVal}`);
  }
}

export function mergeRings(a: RingState, b: RingState): RingState {
  assertSameCluster(a, b);
  const members: Record<NodeName, MemberEntry> = {};
  for (const name of Object.keys(a.members).concat(Object.keys(b.members)).sort()) {
    const left = a.members[name];
    const right = b.members[name];
    const winner = left === undefined ? right : right === undefined ? left : compareMemberEntries(left, right) >= 0 ? left : right;
    assert(winner !== undefined && winner.name === name, 'member entry keyed by its name');
    members[name] = winner;
  }
  const transfersDone: Record<string, number> = {};
  for (const key of Object.keys(a.transfersDone).concat(Object.keys(b.transfersDone)).sort()) {
    transfersDone[key] = Math.max(a.transfersDone[key] ?? -1, b.transfersDone[key] ?? -1);
  }
  const ownership = compareOwnerships(a.ownership, b.ownership) >= 0 ? a.ownership : b.ownership;
  assert(ownership.owners.length === a.ringSize, 'owners cover the ring');
  return { clusterName: a.clusterName, ringSize: a.ringSize, targetNVal: a.targetNVal, members, ownership, transfersDone };
}

export interface SingletonRingOptions {
  self: NodeName;
  address: NodeAddress;
  clusterName: string;
  ringSize: number;
  targetNVal: number;
}

/** A fresh node: alone, valid, claimant of itself, owning every partition. */
export function singletonRing(opts: SingletonRingOptions): RingState {
  assert(Number.isInteger(opts.ringSize) && opts.ringSize > 0, 'ring size is a positive integer');
  assert(opts.self.length > 0, 'node name is not empty');
  const entry: MemberEntry = { name: opts.self, address: opts.address, status: 'valid', staged: null, version: 1, writer: opts.self };
  return {
    clusterName: opts.clusterName,
    ringSize: opts.ringSize,
    targetNVal: opts.targetNVal,
    members: { [opts.self]: entry },
    ownership: { epoch: 0, claimant: opts.self, owners: new Array<NodeName>(opts.ringSize).fill(opts.self), pending: [] },
    transfersDone: {},
  };
}

// --- small helpers shared by plan, join and the core ---

/** Members that still count (everything but tombstones), sorted by name. */
export function presentMembers(state: RingState): MemberEntry[] {
  return Object.keys(state.members)
    .sort()
    .map((name) => state.members[name] as MemberEntry)
    .filter((m) => m.status !== 'removed');
}

/** Write a new version of one member entry. */
export function writeMember(state: RingState, entry: MemberEntry, change: Partial<Pick<MemberEntry, 'status' | 'staged' | 'address'>>, writer: NodeName): RingState {
  const next: MemberEntry = { ...entry, ...change, version: entry.version + 1, writer };
  return { ...state, members: { ...state.members, [entry.name]: next } };
}

/** owners[] with every pending transfer applied: where the ring is heading. */
export function targetOwners(ownership: Ownership): NodeName[] {
  const owners = ownership.owners.slice();
  for (const t of ownership.pending) owners[t.partition] = t.to;
  return owners;
}

export function countOwners(owners: readonly NodeName[]): Record<NodeName, number> {
  const counts: Record<NodeName, number> = {};
  for (const owner of owners) counts[owner] = (counts[owner] ?? 0) + 1;
  return counts;
}

export function transferKey(partition: number, to: NodeName): string {
  return `${partition}:${to}`;
}

export function describeStaged(entry: MemberEntry): string | null {
  const staged = entry.staged;
  if (staged === null) return null;
  if (staged.kind === 'replace') return `replace ${entry.name} with ${staged.by}`;
  return `${staged.kind} ${entry.name}`;
}
