// The KV scenario's checker: a pure function of the history the simulated
// clients recorded and the objects they and the checker observed.
//
// - No acknowledged write is lost: an acknowledged value is in the final
//   sibling set, or it was superseded: some write of another value to the same
//   key took effect (acknowledged, or its value was seen somewhere) and carried
//   a context that covers the dot under which the acknowledged value was
//   written. A value's dot is learned from any object observed (reads,
//   returnBody, the replicas' final copies); every value is unique, so it has
//   exactly one dot.
// - Siblings only for truly concurrent writes: no live sibling is covered by
//   the write context of another live sibling of the same object; and on a
//   key only one client writes, with strict read-modify-write (PR=PW=2, so
//   every read meets the last acknowledged write), at most one live sibling
//   comes from an acknowledged write (the others can only be writes whose
//   outcome the client never learned).
// - Convergence is checked by the scenario (it needs the replicas).
import { clockProblem, valuesWithDots, vvCovers, type Dot, type VersionVector } from '../object/dvv.js';
import type { RObject } from '../object/object.js';

export type PutOutcome = 'ok' | 'failed' | 'unknown';

export interface PutRecord {
  client: number;
  key: string;
  value: string;
  /** The causal context the put carried ([] for a blind write). */
  context: VersionVector;
  outcome: PutOutcome;
  /** A read-modify-write by the key's only writer, with strict quorums. */
  strict: boolean;
  startMs: number;
  endMs: number;
  error?: string;
}

export interface Observation {
  key: string;
  /** Where the object came from, for messages: "read by c3 at 1234 ms", "final n2/p5". */
  source: string;
  object: RObject;
}

export interface CheckInput {
  puts: readonly PutRecord[];
  observations: readonly Observation[];
  /** Per key, the final object: every replica's copy (primaries and fallbacks) merged. */
  finals: ReadonlyMap<string, RObject | undefined>;
  /** Keys that exactly one client writes with strict read-modify-write. */
  strictKeys: ReadonlySet<string>;
}

export interface CheckResult {
  problems: string[];
  lost: number;
  siblingsMax: number;
}

/** Problems are capped per kind so one bug does not flood the report. */
const PROBLEMS_PER_KIND_MAX = 5;

export function checkHistory(input: CheckInput): CheckResult {
  const out = new ProblemList();
  const dots = learnDots(input.observations, input.finals, out);
  const byValue = new Map(input.puts.map((p) => [p.value, p]));
  let siblingsMax = 0;
  for (const o of input.observations) siblingsMax = Math.max(siblingsMax, checkSiblings(o, byValue, input.strictKeys, out));
  for (const [key, object] of input.finals) {
    if (object !== undefined) siblingsMax = Math.max(siblingsMax, checkSiblings({ key, source: 'final (all copies merged)', object }, byValue, input.strictKeys, out));
  }
  const lost = checkLost(input, dots, out);
  return { problems: out.list(), lost, siblingsMax };
}

function learnDots(observations: readonly Observation[], finals: ReadonlyMap<string, RObject | undefined>, out: ProblemList): Map<string, Dot> {
  const dots = new Map<string, Dot>();
  const all: Observation[] = [...observations];
  for (const [key, object] of finals) if (object !== undefined) all.push({ key, source: 'final', object });
  for (const o of all) {
    const bad = clockProblem(o.object.clock);
    if (bad !== undefined) out.add('clock', `${o.key}: ${o.source}: malformed clock: ${bad}`);
    for (const [dot, content] of valuesWithDots(o.object.clock)) {
      const value = decodeText(content.value);
      const known = dots.get(value);
      if (known === undefined) dots.set(value, dot);
      else if (known[0] !== dot[0] || known[1] !== dot[1]) {
        out.add('dot', `${o.key}: value ${value} seen under two dots ${JSON.stringify(known)} and ${JSON.stringify(dot)} (${o.source}): one put was applied twice`);
      }
    }
  }
  return dots;
}

/** Returns the object's live sibling count. */
function checkSiblings(o: Observation, byValue: ReadonlyMap<string, PutRecord>, strictKeys: ReadonlySet<string>, out: ProblemList): number {
  const live = valuesWithDots(o.object.clock).filter(([, c]) => !c.meta.deleted).map(([dot, c]) => ({ dot, value: decodeText(c.value) }));
  for (const a of live) {
    for (const b of live) {
      const writer = byValue.get(b.value);
      if (a.value !== b.value && writer !== undefined && vvCovers(writer.context, a.dot)) {
        out.add('covered-sibling', `${o.key}: ${o.source}: ${a.value} ${JSON.stringify(a.dot)} is a sibling of ${b.value}, whose write context ${JSON.stringify(writer.context)} covered it`);
      }
    }
  }
  if (strictKeys.has(o.key)) {
    const acked = live.filter((s) => byValue.get(s.value)?.outcome === 'ok').map((s) => s.value);
    if (acked.length > 1) {
      out.add('false-sibling', `${o.key}: ${o.source}: acknowledged sequential writes of one client are siblings: ${acked.join(', ')} (each was written after reading the previous one with PR=2/PW=2)`);
    }
  }
  return live.length;
}

function checkLost(input: CheckInput, dots: ReadonlyMap<string, Dot>, out: ProblemList): number {
  const finalValues = new Map<string, Set<string>>();
  for (const [key, object] of input.finals) {
    finalValues.set(key, new Set(object === undefined ? [] : valuesWithDots(object.clock).map(([, c]) => decodeText(c.value))));
  }
  const tookEffect = (p: PutRecord): boolean => p.outcome === 'ok' || dots.has(p.value);
  let lost = 0;
  for (const put of input.puts) {
    if (put.outcome !== 'ok' || finalValues.get(put.key)?.has(put.value) === true) continue;
    const dot = dots.get(put.value);
    const cover = dot === undefined ? undefined : input.puts.find((w) => w.key === put.key && w.value !== put.value && tookEffect(w) && vvCovers(w.context, dot));
    if (cover !== undefined) continue;
    lost++;
    const why = dot === undefined ? 'no read, reply or replica ever showed it' : `its dot ${JSON.stringify(dot)} is covered by no later write's context`;
    out.add('lost', `${put.key}: acknowledged write ${put.value} (client c${put.client}, ${put.startMs}-${put.endMs} ms, context ${JSON.stringify(put.context)}) is lost: absent from the final siblings and ${why}`);
  }
  return lost;
}

class ProblemList {
  private readonly counts = new Map<string, number>();
  private readonly problems: string[] = [];

  add(kind: string, message: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= PROBLEMS_PER_KIND_MAX) this.problems.push(message);
  }

  list(): string[] {
    const extra = [...this.counts].filter(([, n]) => n > PROBLEMS_PER_KIND_MAX).map(([kind, n]) => `... and ${n - PROBLEMS_PER_KIND_MAX} more ${kind} problems`);
    return [...this.problems, ...extra];
  }
}

export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
