// Claim: who owns which partition. Pure and deterministic (members are
// sorted; no randomness). Guarantees, in priority order:
//  1. balance: owned counts differ by at most one;
//  2. spacing: any `feasibleSpacing(...)` consecutive partitions have distinct
//     owners, which is targetNVal whenever members >= targetNVal and
//     ceil(ringSize / members) <= floor(ringSize / targetNVal) (metrics.ts);
//  3. little movement: keep current owners, hand departed nodes' partitions
//     and over-full nodes' surplus to under-full nodes at spots that keep
//     spacing, repair what is left by swaps, and re-stripe only as a last resort.
import type { NodeName } from '../env.js';
import { assert, InvalidArgumentError } from '../errors.js';
import { validateRingSize } from './hash.js';
import { feasibleSpacing, movedPartitions, ownershipCounts, spacingViolations } from './metrics.js';
import { restripe, stripePattern } from './stripe.js';

export { feasibleSpacing, movedPartitions, ownershipCounts, spacingViolations };

export interface ClaimOptions {
  ringSize: number;
  targetNVal: number;
}

// Three-way rotations cost O(ringSize^2 * spacing) each: only for a few leftovers.
const ROTATE_CONFLICTS_MAX = 8;
const ROTATE_TRIES_MAX = 1_000_000; // keeps a hopeless search well under claim's 1 s budget
const REPAIR_PASSES_MAX = 16; // each pass is O(ringSize^2 * spacing) at worst

/** New owners (owners[i] owns partition i) for `members`, starting from `current`. */
export function claim(
  current: readonly NodeName[] | null,
  members: readonly NodeName[],
  opts: ClaimOptions,
): NodeName[] {
  const { ringSize, targetNVal } = opts;
  validateRingSize(ringSize);
  if (!Number.isInteger(targetNVal) || targetNVal < 1 || targetNVal > ringSize) {
    throw new InvalidArgumentError(`targetNVal must be an integer in 1..${ringSize}, got ${targetNVal}`);
  }
  if (members.length === 0) throw new InvalidArgumentError('claim needs at least one member');
  const sorted = [...members].sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new InvalidArgumentError(`duplicate member ${sorted[i]}`);
  }
  if (current !== null && current.length !== ringSize) {
    throw new InvalidArgumentError(`current ring has ${current.length} partitions, expected ${ringSize}`);
  }
  const spacing = feasibleSpacing(ringSize, sorted.length, targetNVal);
  const owners =
    current === null
      ? stripePattern(ringSize, sorted.length)
      : rebalance(toIndices(current, sorted), sorted.length, spacing);
  const result = Array.from(owners, (index) => sorted[index] as NodeName);
  checkResult(result, sorted.length, spacing);
  return result;
}

function toIndices(current: readonly NodeName[], sorted: readonly NodeName[]): Int32Array {
  const indexOf = new Map(sorted.map((name, index) => [name, index]));
  return Int32Array.from(current, (name) => indexOf.get(name) ?? -1);
}

function checkResult(owners: readonly NodeName[], members: number, spacing: number): void {
  const counts = [...ownershipCounts(owners).values()];
  const low = counts.length < members ? 0 : Math.min(...counts);
  assert(Math.max(...counts) - low <= 1, 'claim is balanced');
  assert(spacingViolations(owners, spacing) === 0, 'claim keeps the feasible spacing');
}

/** Incremental claim over member indices; -1 marks a partition with no member owner. */
function rebalance(current: Int32Array, members: number, spacing: number): Int32Array {
  const ringSize = current.length;
  const owners = Int32Array.from(current);
  const counts = new Int32Array(members);
  for (const owner of owners) if (owner >= 0) counts[owner]! += 1;
  const targets = balancedTargets(counts, ringSize, freeFits(owners, members, spacing));
  // surplus > 0: must give partitions away; < 0: must receive.
  const surplus = Int32Array.from(counts, (count, member) => count - (targets[member] as number));
  assignFree(owners, surplus, spacing);
  const receivers = [...surplus.keys()].filter((m) => (surplus[m] as number) < 0);
  receivers.sort((a, b) => (surplus[a] as number) - (surplus[b] as number) || a - b);
  for (const receiver of receivers) take(owners, surplus, receiver, targets[receiver] as number, spacing);
  for (const value of surplus) assert(value === 0, 'every member at its target');
  repair(owners, current, spacing);
  const left = conflictingPartitions(owners, spacing);
  if (left > 0 && left <= ROTATE_CONFLICTS_MAX) {
    const budget = { tries: ROTATE_TRIES_MAX };
    for (let p = 0; p < ringSize; p++) {
      if (conflicts(owners, p, owners[p] as number, spacing) > 0) tryRotate(owners, p, spacing, budget);
    }
  }
  if (conflictingPartitions(owners, spacing) === 0) return owners;
  return restripe(current, members);
}

/**
 * Targets q or q + 1. The q + 1 go to the members owning most now (least
 * movement); among equals, to those that can take more of the departed
 * nodes' partitions without breaking spacing.
 */
function balancedTargets(counts: Int32Array, ringSize: number, fits: Int32Array): Int32Array {
  const members = counts.length;
  const base = Math.floor(ringSize / members);
  const order = [...counts.keys()].sort(
    (a, b) => (counts[b] as number) - (counts[a] as number) || (fits[b] as number) - (fits[a] as number) || a - b,
  );
  const targets = new Int32Array(members).fill(base);
  for (let k = 0; k < ringSize % members; k++) targets[order[k] as number] = base + 1;
  return targets;
}

/** Per member, how many unowned partitions it could take without breaking spacing. */
function freeFits(owners: Int32Array, members: number, spacing: number): Int32Array {
  const fits = new Int32Array(members);
  for (let p = 0; p < owners.length; p++) {
    if (owners[p] !== -1) continue;
    for (let m = 0; m < members; m++) if (conflicts(owners, p, m, spacing) === 0) fits[m]! += 1;
  }
  return fits;
}

/** How many other partitions within distance < spacing of `position` `member` owns. */
function conflicts(owners: Int32Array, position: number, member: number, spacing: number): number {
  const ringSize = owners.length;
  let found = 0;
  for (let d = 1; d < spacing; d++) {
    if (owners[(position + d) % ringSize] === member) found++;
    if (owners[(position - d + ringSize) % ringSize] === member) found++;
  }
  return found;
}

/** Partitions of departed nodes go to under-full members, preferring spots that keep spacing. */
function assignFree(owners: Int32Array, surplus: Int32Array, spacing: number): void {
  for (let p = 0; p < owners.length; p++) {
    if (owners[p] !== -1) continue;
    let best = -1;
    let bestKey = Infinity;
    for (let m = 0; m < surplus.length; m++) {
      if ((surplus[m] as number) >= 0) continue;
      // Spacing first, then the neediest member.
      const key = conflicts(owners, p, m, spacing) * owners.length + (surplus[m] as number);
      if (key < bestKey) {
        bestKey = key;
        best = m;
      }
    }
    assert(best >= 0, 'a free partition always has a receiver');
    owners[p] = best;
    surplus[best]! += 1;
  }
}

/**
 * `receiver` takes partitions from over-full members until at its target:
 * first evenly strided spots that keep spacing, then any spot that keeps
 * spacing, then (for repair to fix) the spot with fewest conflicts.
 */
function take(owners: Int32Array, surplus: Int32Array, receiver: number, target: number, spacing: number): void {
  const ringSize = owners.length;
  const canGive = (p: number): boolean => {
    const owner = owners[p] as number;
    return owner !== receiver && (surplus[owner] as number) > 0;
  };
  const grab = (p: number): void => {
    surplus[owners[p] as number]! -= 1;
    owners[p] = receiver;
    surplus[receiver]! += 1;
  };
  const stride = Math.max(spacing, Math.floor(ringSize / Math.max(target, 1)));
  for (let p = 0; p < ringSize && (surplus[receiver] as number) < 0; ) {
    if (canGive(p) && conflicts(owners, p, receiver, spacing) === 0) {
      grab(p);
      p += stride;
    } else {
      p++;
    }
  }
  for (let p = 0; p < ringSize && (surplus[receiver] as number) < 0; p++) {
    if (canGive(p) && conflicts(owners, p, receiver, spacing) === 0) grab(p);
  }
  while ((surplus[receiver] as number) < 0) {
    let best = -1;
    let bestConflicts = Infinity;
    for (let p = 0; p < ringSize; p++) {
      if (!canGive(p)) continue;
      const found = conflicts(owners, p, receiver, spacing);
      if (found < bestConflicts) {
        bestConflicts = found;
        best = p;
      }
    }
    assert(best >= 0, 'an over-full member exists while a receiver is short');
    grab(best);
  }
}

function conflictingPartitions(owners: Int32Array, spacing: number): number {
  let found = 0;
  for (let p = 0; p < owners.length; p++) if (conflicts(owners, p, owners[p] as number, spacing) > 0) found++;
  return found;
}

/**
 * Fix spacing by swapping owners of two partitions (counts unchanged): a
 * descent on the number of conflicting pairs. For a conflicting partition
 * take the first swap that clears it, trying partners that already moved
 * first (cheaper), else the first swap that lowers the total. Each swap
 * lowers the total, so this ends; passes are bounded too.
 */
function repair(owners: Int32Array, original: Int32Array, spacing: number): void {
  const ringSize = owners.length;
  for (let pass = 0; pass < REPAIR_PASSES_MAX; pass++) {
    let improved = 0;
    let remaining = 0;
    for (let p = 0; p < ringSize; p++) {
      if (conflicts(owners, p, owners[p] as number, spacing) === 0) continue;
      const swapped =
        trySwap(owners, original, p, spacing, 'clear-moved') ||
        trySwap(owners, original, p, spacing, 'clear') ||
        trySwap(owners, original, p, spacing, 'improve');
      if (swapped) improved++;
      if (conflicts(owners, p, owners[p] as number, spacing) > 0) remaining++;
    }
    if (remaining === 0 || improved === 0) return;
  }
}

type SwapMode = 'clear-moved' | 'clear' | 'improve';

function trySwap(owners: Int32Array, original: Int32Array, p: number, spacing: number, mode: SwapMode): boolean {
  const ringSize = owners.length;
  const x = owners[p] as number;
  const xBefore = conflicts(owners, p, x, spacing);
  for (let k = 1; k < ringSize; k++) {
    const q = (p + k) % ringSize;
    const y = owners[q] as number;
    if (y === x || (mode === 'clear-moved' && owners[q] === original[q])) continue;
    const before = xBefore + conflicts(owners, q, y, spacing);
    owners[p] = y;
    owners[q] = x;
    const yAfter = conflicts(owners, p, y, spacing);
    const xAfter = conflicts(owners, q, x, spacing);
    const accept = mode === 'improve' ? yAfter + xAfter < before : yAfter === 0 && xAfter === 0;
    if (accept) return true;
    owners[p] = x;
    owners[q] = y;
  }
  assert(conflicts(owners, p, x, spacing) === xBefore, 'failed swaps leave the ring unchanged');
  return false;
}

/**
 * When no swap helps: rotate three owners, p <- owner(q), q <- owner(r),
 * r <- owner(p), so that none of the three conflicts afterwards.
 */
function tryRotate(owners: Int32Array, p: number, spacing: number, budget: { tries: number }): boolean {
  const ringSize = owners.length;
  const x = owners[p] as number;
  for (let q = 0; q < ringSize; q++) {
    const y = owners[q] as number;
    if (y === x) continue;
    owners[q] = -2; // placeholder while checking p, so y's copy at q does not count
    owners[p] = y;
    const fitsP = conflicts(owners, p, y, spacing) === 0;
    owners[q] = y;
    owners[p] = x;
    if (!fitsP) continue;
    for (let r = 0; r < ringSize; r++) {
      const z = owners[r] as number;
      if (z === x || z === y) continue;
      if (--budget.tries < 0) return false;
      owners[p] = y;
      owners[q] = z;
      owners[r] = x;
      const ok =
        conflicts(owners, p, y, spacing) === 0 &&
        conflicts(owners, q, z, spacing) === 0 &&
        conflicts(owners, r, x, spacing) === 0;
      if (ok) return true;
      owners[p] = x;
      owners[q] = y;
      owners[r] = z;
    }
  }
  return false;
}
