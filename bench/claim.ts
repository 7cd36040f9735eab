// Claim benchmark: time for ring 1024 x 64 nodes, and partitions moved per
// join/leave against the ideal. Run: node --import tsx bench/claim.ts
import { claim, movedPartitions, ownershipCounts, spacingViolations } from '../src/core/ring/claim.js';

const TARGET_N_VAL = 4;
const names = (count: number): string[] => Array.from({ length: count }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);

function timeMs<T>(run: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = run();
  return { value, ms: performance.now() - start };
}

/** Ring built by joining members one at a time, as a growing cluster would. */
function grow(ringSize: number, count: number): string[] {
  let ring = claim(null, names(1), { ringSize, targetNVal: TARGET_N_VAL });
  for (let n = 2; n <= count; n++) ring = claim(ring, names(n), { ringSize, targetNVal: TARGET_N_VAL });
  return ring;
}

function timings(): void {
  const opts = { ringSize: 1024, targetNVal: TARGET_N_VAL };
  const fresh = timeMs(() => claim(null, names(64), opts));
  console.log(`fresh claim 1024 x 64: ${fresh.ms.toFixed(1)} ms`);
  const built = timeMs(() => grow(1024, 64));
  console.log(`joins 1 -> 64 on ring 1024: ${built.ms.toFixed(1)} ms total, ${(built.ms / 63).toFixed(2)} ms per join`);
  const ring63 = grow(1024, 63);
  const last = timeMs(() => claim(ring63, names(64), opts));
  console.log(`join 63 -> 64 on ring 1024: ${last.ms.toFixed(1)} ms`);
  const ring5 = grow(1024, 5);
  const tight = timeMs(() => claim(ring5, names(5).slice(1), opts));
  console.log(`leave 5 -> 4 on ring 1024 (tight: repair then re-stripe): ${tight.ms.toFixed(1)} ms`);
  console.log(`spacing violations after: ${spacingViolations(built.value, TARGET_N_VAL)}`);
}

function movement(): void {
  console.log('\nring  step      moved  fraction  ideal fraction  ratio');
  for (const ringSize of [64, 1024]) {
    const opts = { ringSize, targetNVal: TARGET_N_VAL };
    for (const [from, to] of [[3, 4], [4, 5], [8, 9], [63, 64]] as const) {
      const before = grow(ringSize, from);
      const after = claim(before, names(to), opts);
      report(ringSize, `join ${from}->${to}`, movedPartitions(before, after), 1 / to);
    }
    for (const [from, leaver] of [[64, 32], [9, 5], [5, 3]] as const) {
      const before = grow(ringSize, from);
      const gone = names(from)[leaver - 1] as string;
      const after = claim(before, names(from).filter((m) => m !== gone), opts);
      const ideal = (ownershipCounts(before).get(gone) ?? 0) / ringSize;
      report(ringSize, `leave ${from}->${from - 1}`, movedPartitions(before, after), ideal);
    }
  }
}

function report(ringSize: number, step: string, moved: number, idealFraction: number): void {
  const fraction = moved / ringSize;
  console.log(
    `${String(ringSize).padEnd(6)}${step.padEnd(12)}${String(moved).padStart(5)}  ${fraction.toFixed(4).padStart(8)}  ` +
      `${idealFraction.toFixed(4).padStart(14)}  ${(fraction / idealFraction).toFixed(2).padStart(5)}`,
  );
}

timings();
movement();
