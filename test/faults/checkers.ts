// Checkers: pure functions from a history to a verdict. Each workload's
// clients are the processes "<workload>/<i>"; its reads after healing are
// processes "final/<workload>/<i>". See README.md here for adding one.
import { outcome, pairs, type Op, type OpPair } from './history.js';

export interface CheckResult {
  workload: string;
  /** Client operations by outcome (reads and writes). */
  ok: number;
  failed: number;
  unknown: number;
  /** Acknowledged writes missing from the final state without a reason the checker accepts. */
  lost: number;
  /** Values present more than once in one final read. */
  duplicated: number;
  /** Everything else that is wrong (phantom values, refused writes that took effect, broken session guarantees, stuck transfers). */
  violations: number;
  /** Whether losses fail the run (false for last-write-wins, where they are measured, not forbidden). */
  lossFails: boolean;
  /** Extra figures for the summary. */
  figures: Record<string, number>;
  /** The first problems found, described. */
  problems: string[];
}

const PROBLEMS_KEPT = 20;

export function passes(r: CheckResult): boolean {
  return r.violations === 0 && r.duplicated === 0 && (!r.lossFails || r.lost === 0);
}

export function clientPairs(ops: readonly Op[], workload: string): OpPair[] {
  return pairs(ops, (op) => op.process.startsWith(`${workload}/`));
}

/** The last successful final read of each key: its values. */
export function finalReads(ops: readonly Op[], workload: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of pairs(ops, (op) => isFinal(op, workload) && op.f === 'read')) {
    if (outcome(pair) !== 'ok' || pair.invoke.key === undefined) continue;
    out.set(pair.invoke.key, valuesOf(pair.complete?.value));
  }
  return out;
}

export function finalProcess(workload: string, reader: number): string {
  return `final/${workload}/${reader}`;
}

function isFinal(op: Op, workload: string): boolean {
  return op.process.startsWith(`final/${workload}/`);
}

function valuesOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function counts(all: OpPair[]): Pick<CheckResult, 'ok' | 'failed' | 'unknown'> {
  const c = { ok: 0, failed: 0, unknown: 0 };
  for (const p of all) {
    const o = outcome(p);
    if (o === 'ok') c.ok++;
    else if (o === 'fail') c.failed++;
    else c.unknown++;
  }
  return c;
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

class Problems {
  readonly list: string[] = [];
  add(text: string): void {
    if (this.list.length < PROBLEMS_KEPT) this.list.push(text);
  }
}

function duplicatesIn(values: string[]): number {
  return values.length - new Set(values).size;
}

/**
 * Register with siblings (allow_mult): each write carries the context of the
 * read before it, so it replaces exactly the values that read returned
 * (`observed`). An acknowledged write must be in the final read unless some
 * write that may have taken effect (ok or unknown) observed it.
 */
export function checkSiblingRegister(ops: readonly Op[], workload: string): CheckResult {
  const all = clientPairs(ops, workload);
  const writes = all.filter((p) => p.invoke.f === 'write');
  const final = finalReads(ops, workload);
  const problems = new Problems();
  // The writes (that may have taken effect) whose read returned each value.
  const supersededBy = new Map<string, OpPair[]>();
  for (const w of writes) {
    if (outcome(w) === 'fail') continue;
    for (const v of w.invoke.observed ?? []) append(supersededBy, v, w);
  }
  const presentIn = (w: OpPair): boolean => final.get(w.invoke.key as string)?.includes(String(w.invoke.value)) ?? false;
  // An unknown-outcome write explains a value's absence only if it did take
  // effect, as far as the final state shows: it is present, or explained in turn.
  const explainedMemo = new Map<OpPair, boolean>();
  const survives = (w: OpPair): boolean => {
    const known = explainedMemo.get(w);
    if (known !== undefined) return known;
    explainedMemo.set(w, false); // a write never observes itself; this only guards a malformed history
    const result = presentIn(w) || (supersededBy.get(String(w.invoke.value)) ?? []).some((s) => outcome(s) === 'ok' || survives(s));
    explainedMemo.set(w, result);
    return result;
  };
  const written = new Set(writes.map((w) => String(w.invoke.value)));
  const figures = { acked: 0, present: 0, superseded: 0, supersededOnlyByUnknown: 0, unknownPresent: 0, unknownAbsent: 0, siblingsMax: 0 };
  let lost = 0;
  let violations = 0;
  for (const w of writes) {
    const key = w.invoke.key as string;
    const value = String(w.invoke.value);
    const values = final.get(key);
    if (values === undefined) continue; // counted once per key below
    const present = values.includes(value);
    const o = outcome(w);
    if (o === 'ok') {
      figures.acked++;
      if (present) figures.present++;
      else if ((supersededBy.get(value) ?? []).some((s) => outcome(s) === 'ok')) figures.superseded++;
      else if ((supersededBy.get(value) ?? []).some(survives)) figures.supersededOnlyByUnknown++;
      else {
        lost++;
        problems.add(`lost: ${key}=${value} acknowledged at ${w.complete?.timeMs} ms, absent from the final read [${values.join(', ')}] and replaced by no later write that took effect`);
      }
    } else if (o === 'info') {
      if (present) figures.unknownPresent++;
      else figures.unknownAbsent++;
    } else if (present) {
      violations++;
      problems.add(`a write refused with "${w.complete?.error}" took effect: ${key}=${value}`);
    }
  }
  let duplicated = 0;
  const keysWritten = new Set(writes.map((w) => w.invoke.key as string));
  for (const key of keysWritten) {
    const values = final.get(key);
    if (values === undefined) {
      violations++;
      problems.add(`no successful final read of ${key}`);
      continue;
    }
    figures.siblingsMax = Math.max(figures.siblingsMax, values.length);
    duplicated += duplicatesIn(values);
    for (const v of values) {
      if (!written.has(v)) {
        violations++;
        problems.add(`phantom: ${key} holds ${v}, which no client wrote`);
      }
    }
  }
  return { workload, ...counts(all), lost, duplicated, violations, lossFails: true, figures, problems: problems.list };
}

/**
 * Last-write-wins set: each write reads the key's list of elements, appends a
 * new one and writes the list back (the read-modify-write a Riak user does).
 * LWW keeps one list per key, so an acknowledged element is lost when a write
 * that did not see it wins. Each loss is classified:
 * - concurrent: another acknowledged write to the key overlapped its
 *   read-to-ack window (two read-modify-writes raced; LWW keeps one by design);
 * - to an unknown write: only a write with an unknown outcome, invoked before
 *   this one was acknowledged, could have replaced it (it may have been
 *   applied, and stamped, long after its client gave up);
 * - sequential: no write overlapped, so a later write that read after this
 *   one was acknowledged still did not include it: the write was stamped
 *   older than what it replaced (clock skew) and silently dropped, or the
 *   read was stale (sloppy quorum).
 */
export function checkLastWriteWins(ops: readonly Op[], workload: string): CheckResult {
  const all = clientPairs(ops, workload);
  const final = finalReads(ops, workload);
  const problems = new Problems();
  const figures = { acked: 0, lostConcurrent: 0, lostToUnknown: 0, lostSequential: 0, lostPermille: 0, unknownPresent: 0 };
  let violations = 0;
  let duplicated = 0;
  // Each write with the start of the read before it (its read-modify-write window).
  const writes: { pair: OpPair; fromMs: number }[] = [];
  const lastReadMs = new Map<string, number>();
  for (const p of all) {
    if (p.invoke.f === 'read') lastReadMs.set(p.invoke.process, p.invoke.timeMs);
    else writes.push({ pair: p, fromMs: lastReadMs.get(p.invoke.process) ?? p.invoke.timeMs });
  }
  const finalSets = new Map<string, Set<string>>();
  for (const [key, values] of final) {
    if (values.length > 1) {
      violations++;
      problems.add(`${key}: last_write_wins returned ${values.length} siblings`);
    }
    const elements = values.length === 0 ? [] : parseList(values[0] as string);
    if (elements === undefined) {
      violations++;
      problems.add(`${key}: final value is not a list: ${values[0]}`);
      continue;
    }
    duplicated += duplicatesIn(elements);
    finalSets.set(key, new Set(elements));
  }
  const written = new Set(writes.map((w) => String(w.pair.invoke.value)));
  const writesByKey = new Map<string, typeof writes>();
  for (const w of writes) append(writesByKey, w.pair.invoke.key as string, w);
  for (const [key, set] of finalSets) {
    for (const e of set) {
      if (written.has(e)) continue;
      violations++;
      problems.add(`phantom: ${key} holds ${e}, which no client wrote`);
    }
  }
  let lost = 0;
  for (const w of writes) {
    const key = w.pair.invoke.key as string;
    const element = String(w.pair.invoke.value);
    const set = finalSets.get(key);
    const o = outcome(w.pair);
    if (set === undefined) {
      if (o === 'ok' && !final.has(key)) {
        violations++;
        problems.add(`no successful final read of ${key}`);
      }
      continue;
    }
    if (o === 'info' && set.has(element)) figures.unknownPresent++;
    if (o === 'fail' && set.has(element)) {
      violations++;
      problems.add(`a write refused with "${w.pair.complete?.error}" took effect: ${key} got ${element}`);
    }
    if (o !== 'ok') continue;
    figures.acked++;
    if (set.has(element)) continue;
    lost++;
    const doneMs = (w.pair.complete as Op).timeMs;
    const others = (writesByKey.get(key) ?? []).filter((x) => x !== w && x.fromMs < doneMs);
    if (others.some((x) => outcome(x.pair) === 'ok' && (x.pair.complete as Op).timeMs > w.fromMs)) figures.lostConcurrent++;
    // An unknown-outcome write may take effect long after its client gave up (a paused
    // coordinator resumes and stamps it then), carrying the list it read before.
    else if (others.some((x) => outcome(x.pair) === 'info')) figures.lostToUnknown++;
    else {
      figures.lostSequential++;
      problems.add(`lost without a concurrent write: ${key} element ${element} acknowledged at ${doneMs} ms`);
    }
  }
  figures.lostPermille = figures.acked === 0 ? 0 : Math.round((lost / figures.acked) * 1000);
  return { workload, ...counts(all), lost, duplicated, violations, lossFails: false, figures, problems: problems.list };
}

function parseList(text: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((e) => typeof e === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Session guarantees for one client that alone writes its keys, a sequence
 * number per write (the value), each write with the context of its read:
 * - read-your-writes: a read returns at least the client's last acknowledged write;
 * - monotonic reads: a read never returns less than an earlier read did, where
 *   "what a read returned" counts only acknowledged writes (a value whose write
 *   had an unknown outcome may be on one replica only, and vanish).
 */
export function checkSession(ops: readonly Op[], workload: string): CheckResult {
  const all = clientPairs(ops, workload);
  const problems = new Problems();
  const figures = { reads: 0, writesAcked: 0, readYourWritesViolations: 0, monotonicViolations: 0, siblingReads: 0 };
  let violations = 0;
  const byProcess = new Map<string, OpPair[]>();
  for (const p of all) append(byProcess, p.invoke.process, p);
  for (const [process, history] of byProcess) {
    // Acknowledged sequence numbers per key, ascending (one client writes them in order).
    const ackedByKey = new Map<string, number[]>();
    for (const p of history) if (p.invoke.f === 'write' && outcome(p) === 'ok') append(ackedByKey, p.invoke.key as string, Number(p.invoke.value));
    for (const list of ackedByKey.values()) list.sort((a, b) => a - b);
    // Values a read may return: those of writes that may have taken effect (a refused one must not).
    const writtenByKey = new Map<string, Set<number>>();
    for (const w of history.filter((p) => p.invoke.f === 'write' && outcome(p) !== 'fail')) writtenByKey.set(w.invoke.key as string, (writtenByKey.get(w.invoke.key as string) ?? new Set()).add(Number(w.invoke.value)));
    // The highest sequence number acknowledged for `key` at or below `seq`.
    const ackedFloor = (key: string, seq: number): number => {
      const list = ackedByKey.get(key) ?? [];
      let [lo, hi] = [0, list.length]; // first index whose value is > seq
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((list[mid] as number) <= seq) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? 0 : (list[lo - 1] as number);
    };
    const lastAcked = new Map<string, number>();
    const readFloor = new Map<string, number>();
    for (const p of history) {
      const key = p.invoke.key as string;
      if (p.invoke.f === 'write') {
        if (outcome(p) === 'ok') {
          figures.writesAcked++;
          lastAcked.set(key, Math.max(lastAcked.get(key) ?? 0, Number(p.invoke.value)));
        }
        continue;
      }
      if (outcome(p) !== 'ok') continue;
      figures.reads++;
      const seqs = valuesOf(p.complete?.value).map(Number);
      if (seqs.length > 1) figures.siblingReads++;
      for (const s of seqs) {
        if (!(writtenByKey.get(key)?.has(s) ?? false)) {
          violations++;
          problems.add(`${process} ${key}: read ${s}, which it never wrote or whose write was refused`);
        }
      }
      const seen = Math.max(0, ...seqs);
      const mustSee = lastAcked.get(key) ?? 0;
      if (seen < mustSee) {
        figures.readYourWritesViolations++;
        problems.add(`${process} ${key}: read-your-writes: read ${seen} at ${p.complete?.timeMs} ms after ${mustSee} was acknowledged (via ${p.invoke.node})`);
      }
      const floor = readFloor.get(key) ?? 0;
      if (seen < floor) {
        figures.monotonicViolations++;
        problems.add(`${process} ${key}: monotonic reads: read ${seen} at ${p.complete?.timeMs} ms after an earlier read returned ${floor} (via ${p.invoke.node})`);
      }
      readFloor.set(key, Math.max(floor, ackedFloor(key, seen)));
    }
  }
  violations += figures.readYourWritesViolations + figures.monotonicViolations;
  return { workload, ...counts(all), lost: 0, duplicated: 0, violations, lossFails: true, figures, problems: problems.list };
}

/**
 * Handoff under faults: every write goes to a new key. Each acknowledged key
 * must be in the final read with its value; and the ring must have settled
 * after healing (the "settle" op of a final/<workload> process, ok or fail).
 */
export function checkHandoff(ops: readonly Op[], workload: string): CheckResult {
  const all = clientPairs(ops, workload);
  const writes = all.filter((p) => p.invoke.f === 'write');
  const final = finalReads(ops, workload);
  const problems = new Problems();
  const figures = { acked: 0, unknownPresent: 0, membershipChanges: 0, settleMs: -1 };
  let lost = 0;
  let violations = 0;
  let duplicated = 0;
  for (const w of writes) {
    const key = w.invoke.key as string;
    const values = final.get(key);
    const present = values?.includes(String(w.invoke.value)) ?? false;
    if (values !== undefined) duplicated += duplicatesIn(values);
    const o = outcome(w);
    if (o === 'ok') {
      figures.acked++;
      if (values === undefined) {
        violations++;
        problems.add(`no successful final read of ${key}`);
      } else if (!present) {
        lost++;
        problems.add(`lost: ${key}=${String(w.invoke.value)} acknowledged at ${w.complete?.timeMs} ms; final read [${values.join(', ')}]`);
      }
    } else if (o === 'info' && present) figures.unknownPresent++;
    else if (o === 'fail' && present) {
      violations++;
      problems.add(`a write refused with "${w.complete?.error}" took effect: ${key}`);
    }
  }
  figures.membershipChanges = pairs(ops, (op) => op.process === 'nemesis-membership').filter((p) => outcome(p) === 'ok').length;
  const settle = pairs(ops, (op) => isFinal(op, workload) && op.f === 'settle').at(-1);
  if (settle === undefined || outcome(settle) !== 'ok') {
    violations++;
    problems.add(`transfers stuck: the ring did not settle after healing (${settle?.complete?.error ?? 'no settle check recorded'})`);
  } else figures.settleMs = Math.round(settle.complete?.timeMs ?? 0) - Math.round(settle.invoke.timeMs);
  return { workload, ...counts(all), lost, duplicated, violations, lossFails: true, figures, problems: problems.list };
}
