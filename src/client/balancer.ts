// Which node gets a call: the power of two random choices (Mitzenmacher) —
// draw two distinct nodes at random and take the one with fewer calls in
// flight. Nearly as good as asking every node for its load, at the cost of
// two lookups, and it never herds every client onto the same "least loaded"
// node. Nodes whose connection failed recently are skipped while any other
// remains. Pure: the random source and the clock are passed in.
import { assert } from './limits.js';

export interface NodeLoad {
  inFlight: number;
  /** Not chosen before this time (ms) unless every node is down. */
  downUntilMs: number;
}

/**
 * The index of the node to use, or -1 when every node is in `exclude`.
 * Prefers nodes not excluded and up; with none up, tries the down ones too
 * (a node marked down may have come back).
 */
export function chooseNode(nodes: readonly NodeLoad[], exclude: ReadonlySet<number>, nowMs: number, random: () => number): number {
  const allowed: number[] = [];
  const up: number[] = [];
  for (const [i, node] of nodes.entries()) {
    if (exclude.has(i)) continue;
    allowed.push(i);
    if (node.downUntilMs <= nowMs) up.push(i);
  }
  const pool = up.length > 0 ? up : allowed;
  if (pool.length === 0) return -1;
  if (pool.length === 1) return pool[0] as number;
  const first = Math.floor(random() * pool.length);
  // A second index drawn from the others, so the two are distinct.
  let second = Math.floor(random() * (pool.length - 1));
  if (second >= first) second++;
  assert(first !== second && first < pool.length && second < pool.length, 'two distinct candidates');
  const a = pool[first] as number;
  const b = pool[second] as number;
  return (nodes[b] as NodeLoad).inFlight < (nodes[a] as NodeLoad).inFlight ? b : a;
}

/** Jittered exponential backoff before retry `attempt` (1 = the first retry): uniform in [0, min(maxMs, baseMs * 2^(attempt-1))). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  assert(attempt >= 1, 'backoff is for retries');
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}
