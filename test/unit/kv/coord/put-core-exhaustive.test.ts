// Every interleaving of every per-replica reply pattern for n <= 3 (n = 3
// with one primaries count; n = 3..5 also sampled), every w/pw/dw, and a
// timeout after every undecided prefix: PutCore must agree with a counting
// model written here, decide exactly when success becomes impossible, and
// answer no later than Riak.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PutCore, type PutResult } from '../../../../src/kv/coord/quorum/index.js';

// Millions of errors are built here; their stack traces would dominate the run time.
Error.stackTraceLimit = 0;

type Event = 'w' | 'dw' | 'fail';
/** What one replica sends, in order. */
const PATTERNS: readonly (readonly Event[])[] = [[], ['w'], ['w', 'dw'], ['w', 'fail'], ['dw'], ['fail']];
interface Step {
  target: number;
  primary: boolean;
  event: Event;
}
interface PutParams {
  n: number;
  w: number;
  pw: number;
  dw: number;
  primaries: number;
}
type Answer = { kind: 'ok' } | { kind: 'error'; parameter: 'w' | 'pw' | 'dw'; required: number; got: number };
type Where = () => string;

function check(condition: boolean, where: Where, what: string): void {
  if (!condition) assert.fail(`${what}: ${where()}`);
}

interface Counts {
  acked: number;
  durable: number;
  failed: number;
  primaryDurable: number;
  primaryFinished: number;
  failedFirst: number;
  best: { w: number; dw: number; pw: number };
}

function count(p: PutParams, steps: readonly Step[]): Counts {
  const last = new Map<number, { first: Event; now: Event; primary: boolean }>();
  for (const s of steps) last.set(s.target, { first: last.get(s.target)?.first ?? s.event, now: s.event, primary: s.primary });
  const c = { acked: 0, durable: 0, failed: 0, primaryDurable: 0, primaryFinished: 0, failedFirst: 0 };
  for (const r of last.values()) {
    if (r.first !== 'fail') c.acked += 1;
    else c.failedFirst += 1;
    if (r.now === 'dw') c.durable += 1;
    if (r.now === 'fail') c.failed += 1;
    if (r.primary && r.now === 'dw') c.primaryDurable += 1;
    if (r.primary && r.now !== 'w') c.primaryFinished += 1;
  }
  // The best the rest can do: every replica not finished yet writes durably.
  const best = { w: p.n - c.failedFirst, dw: p.n - c.failed, pw: c.primaryDurable + p.primaries - c.primaryFinished };
  return { ...c, best };
}

function refAnswer(p: PutParams, steps: readonly Step[]): Answer | undefined {
  const c = count(p, steps);
  const got = { w: c.acked, dw: c.durable, pw: c.primaryDurable };
  const required = { w: p.w, dw: p.dw, pw: p.pw };
  const names = ['w', 'dw', 'pw'] as const;
  if (names.every((q) => got[q] >= required[q])) return { kind: 'ok' };
  const impossible = names.filter((q) => c.best[q] < required[q]);
  return pick(impossible, required, got);
}

function pick(failed: ReadonlyArray<'w' | 'dw' | 'pw'>, required: Record<'w' | 'dw' | 'pw', number>, got: Record<'w' | 'dw' | 'pw', number>): Answer | undefined {
  if (failed.length === 0) return undefined;
  const sorted = [...failed].sort((a, b) => required[b] - required[a] || ['w', 'dw', 'pw'].indexOf(b) - ['w', 'dw', 'pw'].indexOf(a));
  const parameter = sorted[0] as 'w' | 'dw' | 'pw';
  return { kind: 'error', parameter, required: required[parameter], got: got[parameter] };
}

function timeoutAnswer(p: PutParams, steps: readonly Step[]): Answer {
  const c = count(p, steps);
  const got = { w: c.acked, dw: c.durable, pw: c.primaryDurable };
  const required = { w: p.w, dw: p.dw, pw: p.pw };
  return pick((['w', 'dw', 'pw'] as const).filter((q) => got[q] < required[q]), required, got) as Answer;
}

/** riak_kv_put_core enough/1 (thresholds n-pw+1 and n-dw+1 from riak_kv_put_fsm), for replicas that send w first. */
function riakDecided(p: PutParams, steps: readonly Step[]): boolean {
  const numW = steps.filter((s) => s.event === 'w').length;
  const numDW = steps.filter((s) => s.event === 'dw').length;
  const numPW = steps.filter((s) => s.event === 'dw' && s.primary).length;
  const numFail = steps.filter((s) => s.event === 'fail').length;
  if (p.pw > p.primaries) return true; // riak_kv_put_fsm:validate
  if (numW >= p.w && numDW >= p.dw && numPW >= p.pw) return true;
  return numFail >= p.n - p.pw + 1 || numFail >= p.n - p.dw + 1 || (numDW + numFail >= p.n && numPW < p.pw);
}

function resultOf(event: Event): PutResult<string> {
  if (event === 'w') return { type: 'w' };
  if (event === 'dw') return { type: 'dw', value: 'stored' };
  return { type: 'fail', reason: 'disk full' };
}

function feed(core: PutCore<string>, step: Step): boolean {
  return core.addResult({ id: `t${step.target}`, primary: step.primary }, resultOf(step.event));
}

function checkAnswer(p: PutParams, core: PutCore<string>, expected: Answer, where: Where): void {
  const got = core.response();
  check(got.kind === expected.kind, where, `kind ${got.kind}, expected ${expected.kind}`);
  if (got.kind === 'ok') {
    check(got.values.every((v) => v === 'stored'), where, 'return body');
    return;
  }
  if (expected.kind !== 'error') return;
  const e = got.error;
  check('parameter' in e && e.parameter === expected.parameter && e.required === expected.required && e.got === expected.got, where, `error ${e.message}, expected ${JSON.stringify(expected)}`);
  const headline = {
    w: `W=${p.w} not met: ${expected.got} of ${p.n} replicas answered`,
    dw: `DW=${p.dw} not met: ${expected.got} durable write${expected.got === 1 ? '' : 's'} of ${p.n}`,
    pw: p.primaries < p.pw ? `PW=${p.pw} not met: only ${p.primaries} primar` : `PW=${p.pw} not met: ${expected.got} primary replica`,
  }[expected.parameter];
  check(e.message.startsWith(headline) && e.code === `kv_${expected.parameter}_val_unsatisfied`, where, `message "${e.message}"`);
}

function runSequence(p: PutParams, steps: readonly Step[], wFirst: boolean): void {
  const core = new PutCore<string>({ ...p, returnBody: true });
  let decidedAt = -1;
  for (let i = 0; i <= steps.length; i += 1) {
    const prefix = steps.slice(0, i);
    const where: Where = () => `${JSON.stringify(p)} after ${JSON.stringify(prefix)}`;
    if (i > 0) check(feed(core, steps[i - 1] as Step), where, 'reply refused');
    const expected = refAnswer(p, prefix);
    check(core.enough() === (expected !== undefined), where, `enough() is ${core.enough()}`);
    if (expected !== undefined && decidedAt < 0) {
      decidedAt = i;
      checkAnswer(p, core, expected, where);
      if (wFirst) {
        let riakAt = 0;
        while (riakAt < steps.length && !riakDecided(p, steps.slice(0, riakAt))) riakAt += 1;
        check(!riakDecided(p, steps.slice(0, riakAt)) || decidedAt <= riakAt, where, `later than Riak (${riakAt})`);
      }
    }
    if (expected === undefined) {
      const timed = new PutCore<string>({ ...p, returnBody: false });
      for (const s of prefix) feed(timed, s);
      timed.timeout();
      checkAnswer(p, timed, timeoutAnswer(p, prefix), () => `timeout ${where()}`);
    }
  }
}

/** Every interleaving of the replicas' event lists (each list keeps its order). */
function interleavings(lists: readonly (readonly Step[])[]): Step[][] {
  const live = lists.filter((l) => l.length > 0);
  if (live.length === 0) return [[]];
  return live.flatMap((list, i) => {
    const rest = live.map((l, j) => (j === i ? l.slice(1) : l));
    return interleavings(rest).map((tail) => [list[0] as Step, ...tail]);
  });
}

function* paramsFor(n: number): Generator<PutParams> {
  for (let w = 0; w <= n; w += 1)
    for (let pw = 0; pw <= n; pw += 1) for (let dw = 1; dw <= n; dw += 1) for (let primaries = 0; primaries <= n; primaries += 1) yield { n, w, pw, dw, primaries };
}

function patternsFor(n: number, primaries: number, code: number): Step[][] {
  return Array.from({ length: n }, (_, target) => {
    const pattern = PATTERNS[Math.floor(code / PATTERNS.length ** target) % PATTERNS.length] as readonly Event[];
    return pattern.map((event) => ({ target, primary: target < primaries, event }));
  });
}

const wFirstOnly = (lists: readonly (readonly Step[])[]): boolean => lists.every((l) => l.length === 0 || l[0]?.event === 'w');

describe('PutCore: exhaustive against the reference model', () => {
  for (const n of [1, 2, 3]) {
    // n=3 with every primaries count is 25 s; primaries=2 (one fallback) keeps every PW shape.
    const which = n < 3 ? 'every w/pw/dw/primaries' : 'every w>=1/pw/dw, primaries=2';
    it(`n=${n}: every reply pattern in every interleaving, ${which}`, () => {
      for (const p of paramsFor(n)) {
        if (n === 3 && (p.primaries !== 2 || p.w === 0)) continue;
        for (let code = 0; code < PATTERNS.length ** n; code += 1) {
          const lists = patternsFor(n, p.primaries, code);
          for (const steps of interleavings(lists)) runSequence(p, steps, wFirstOnly(lists));
        }
      }
    });
  }

  for (const n of [3, 4, 5]) {
    it(`n=${n}: 10000 random parameter sets, patterns and interleavings (seeded)`, () => {
      let seed = 0xbeef + n;
      const next = (bound: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % bound;
      };
      for (let run = 0; run < 10000; run += 1) {
        const p: PutParams = { n, w: next(n + 1), pw: next(n + 1), dw: 1 + next(n), primaries: next(n + 1) };
        const lists = patternsFor(n, p.primaries, next(PATTERNS.length ** n)).map((l) => [...l]);
        const steps: Step[] = [];
        while (lists.some((l) => l.length > 0)) {
          const live = lists.filter((l) => l.length > 0);
          steps.push((live[next(live.length)] as Step[]).shift() as Step);
        }
        runSequence(p, steps, steps.every((s, i) => s.event === 'w' || steps.slice(0, i).some((t) => t.target === s.target)));
      }
    });
  }
});
