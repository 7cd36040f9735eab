// Shape checks of ring states that come from peers (gossip, a join reply).
// Peers are authenticated but not trusted to be well-formed (another version,
// a bug): a ring that fails here is refused with the reason, never merged, so
// the merge's own assertions only ever see well-formed rings and a failing one
// is a bug of ours.
import { RING_SIZE_MAX } from '../constants.js';
import { RondoError } from '../errors.js';
import { parseAddress } from '../transport/address.js';
import type { RingState } from './types.js';

const STATUSES: ReadonlySet<string> = new Set(['joining', 'valid', 'leaving', 'exiting', 'down', 'removed']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function isName(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** host:port, as the transport will dial it (a bad one would throw in the host's peer sync, not here). */
function isAddress(x: unknown): boolean {
  if (typeof x !== 'string') return false;
  try {
    parseAddress(x);
    return true;
  } catch (err) {
    if (err instanceof RondoError) return false;
    throw err;
  }
}

function memberProblem(name: string, m: unknown): string | undefined {
  if (!isRecord(m)) return `member ${name} is not a map`;
  if (m.name !== name) return `member entry ${name} names ${String(m.name)}`;
  if (!isAddress(m.address) || typeof m.writer !== 'string') return `member ${name} without a host:port address or a writer`;
  if (typeof m.status !== 'string' || !STATUSES.has(m.status)) return `member ${name} with unknown status ${String(m.status)}`;
  if (!isCount(m.version)) return `member ${name} with a bad version`;
  const staged = m.staged;
  if (staged === null) return undefined;
  if (!isRecord(staged)) return `member ${name} with a bad staged change`;
  if (staged.kind === 'leave' || staged.kind === 'force-remove') return undefined;
  if (staged.kind === 'replace' && isName(staged.by)) return undefined;
  return `member ${name} with a bad staged change`;
}

function ownershipProblem(o: unknown, ringSize: number): string | undefined {
  if (!isRecord(o)) return 'ownership is not a map';
  if (!isCount(o.epoch) || !isName(o.claimant)) return 'ownership without epoch/claimant';
  if (!Array.isArray(o.owners) || o.owners.length !== ringSize || !o.owners.every(isName)) return `owners is not a list of ${ringSize} names`;
  if (!Array.isArray(o.pending)) return 'pending transfers is not a list';
  for (const t of o.pending as unknown[]) {
    if (!isRecord(t) || !isCount(t.partition) || t.partition >= ringSize || !isName(t.from) || !isName(t.to) || !isCount(t.epoch)) return 'malformed pending transfer';
  }
  return undefined;
}

/** Why `value` is not a well-formed RingState, or undefined when it is one. */
export function ringStateProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'ring is not a map';
  if (typeof value.clusterName !== 'string') return 'ring without a cluster name';
  const ringSize = value.ringSize;
  if (!isCount(ringSize) || ringSize < 1 || ringSize > RING_SIZE_MAX) return `ring size ${String(ringSize)} out of range`;
  if (!isCount(value.targetNVal) || value.targetNVal < 1) return `target_n_val ${String(value.targetNVal)} out of range`;
  if (!isRecord(value.members)) return 'members is not a map';
  for (const [name, entry] of Object.entries(value.members)) {
    const problem = memberProblem(name, entry);
    if (problem !== undefined) return problem;
  }
  const ownership = ownershipProblem(value.ownership, ringSize);
  if (ownership !== undefined) return ownership;
  if (!isRecord(value.transfersDone)) return 'transfersDone is not a map';
  for (const epoch of Object.values(value.transfersDone)) {
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < -1) return 'transfersDone with a bad epoch';
  }
  return undefined;
}

/**
 * Why a well-formed ring from a peer cannot merge with ours: another
 * cluster, ring size or target_n_val. Undefined when it can. A fresh node
 * (`adopting`) takes a cluster's ring whole, target_n_val included, as a join
 * reply does.
 */
export function ringShapeMismatch(ours: RingState, theirs: RingState, opts: { adopting: boolean } = { adopting: false }): string | undefined {
  if (theirs.clusterName !== ours.clusterName) return `its ring is of cluster "${theirs.clusterName}", this node is in "${ours.clusterName}"`;
  if (theirs.ringSize !== ours.ringSize) return `its ring has ring_size ${theirs.ringSize}, this node's has ${ours.ringSize}`;
  if (!opts.adopting && theirs.targetNVal !== ours.targetNVal) return `its ring has target_n_val ${theirs.targetNVal}, this cluster's has ${ours.targetNVal}`;
  return undefined;
}
