// Measures of an ownership assignment, shared by claim, its tests and the
// membership module. Also the rule deciding how much spacing claim can promise.
import type { NodeName } from '../env.js';
import { assert, InvalidArgumentError } from '../errors.js';

/** How many partitions differ in owner between two assignments of one ring. */
export function movedPartitions(before: readonly NodeName[], after: readonly NodeName[]): number {
  if (before.length !== after.length) throw new InvalidArgumentError('rings differ in size');
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  return moved;
}

/** Partitions owned per node (nodes owning none are absent). */
export function ownershipCounts(owners: readonly NodeName[]): Map<NodeName, number> {
  const counts = new Map<NodeName, number>();
  for (const node of owners) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}

/** Number of windows of `targetNVal` consecutive partitions (wrapping) with a repeated owner. */
export function spacingViolations(owners: readonly NodeName[], targetNVal: number): number {
  const ringSize = owners.length;
  if (!Number.isInteger(targetNVal) || targetNVal < 1 || targetNVal > ringSize) {
    throw new InvalidArgumentError(`targetNVal must be an integer in 1..${ringSize}, got ${targetNVal}`);
  }
  let violations = 0;
  const seen = new Set<NodeName>();
  for (let start = 0; start < ringSize; start++) {
    seen.clear();
    for (let k = 0; k < targetNVal; k++) {
      const node = owners[(start + k) % ringSize] as NodeName;
      if (seen.has(node)) {
        violations++;
        break;
      }
      seen.add(node);
    }
  }
  return violations;
}

/**
 * The spacing claim guarantees: the largest t <= min(targetNVal, members)
 * such that t consecutive partitions can all have distinct owners while
 * ownership stays balanced. A node owning c partitions needs every gap
 * between its partitions >= t, so c * t <= ringSize; balance forces some node
 * to own ceil(ringSize / members). That is necessary, and the striping in
 * stripe.ts shows it is sufficient. So full spacing (t = targetNVal) holds
 * iff members >= targetNVal and ceil(ringSize / members) <= floor(ringSize / targetNVal).
 * With power-of-two rings and targetNVal a power of two (e.g. the default 4)
 * that is just members >= targetNVal; e.g. targetNVal 3 on ring 8 fails at 3
 * members (ceil(8/3) = 3 > floor(8/3) = 2), targetNVal 5 on ring 8 fails
 * for 5..7 members.
 */
export function feasibleSpacing(ringSize: number, members: number, targetNVal: number): number {
  assert(members >= 1 && ringSize >= 1, 'a ring and a member');
  const ownedMax = Math.ceil(ringSize / members);
  let spacing = Math.min(targetNVal, members, ringSize);
  while (spacing > 1 && ownedMax > Math.floor(ringSize / spacing)) spacing--;
  assert(spacing >= 1, 'spacing of one always holds');
  return spacing;
}
