// Every order of every reply kind for n <= 3 (n = 4 in one order, n = 5
// sampled),
// every r, pr, primaries, notfound_ok and basic_quorum, and a timeout after
// every prefix: GetCore must agree with the counting model in
// get-reference.ts, never wait when success is impossible (unless Riak's
// notfound rule may still apply), and answer no later than Riak.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetCore, type GetResult } from '../../../../src/kv/coord/quorum/index.js';
import {
  refAnswer,
  refDecided,
  riakAnswer,
  riakDecided,
  successPossible,
  tally,
  type GetParams,
  type Kind,
  type RefAnswer,
  type Step,
} from './get-reference.js';

// Millions of errors are built here (quorum errors, assertion probes); their
// stack traces would dominate the run time.
Error.stackTraceLimit = 0;

interface Obj {
  tomb: boolean;
}
const KINDS: readonly Kind[] = ['live', 'tomb', 'notfound', 'error'];

function resultOf(kind: Kind): GetResult<Obj> {
  if (kind === 'live') return { type: 'ok', value: { tomb: false } };
  if (kind === 'tomb') return { type: 'ok', value: { tomb: true } };
  if (kind === 'notfound') return { type: 'notfound' };
  return { type: 'error', reason: 'disk' };
}

function newCore(p: GetParams): GetCore<Obj> {
  return new GetCore<Obj>({ ...p, isTombstone: (o) => o.tomb });
}

function permutations(items: readonly number[]): number[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

function* kindAssignments(n: number): Generator<Kind[]> {
  const total = KINDS.length ** n;
  for (let code = 0; code < total; code += 1) {
    const kinds: Kind[] = [];
    let rest = code;
    for (let i = 0; i < n; i += 1) {
      kinds.push(KINDS[rest % KINDS.length] as Kind);
      rest = Math.floor(rest / KINDS.length);
    }
    yield kinds;
  }
}

function* paramsFor(n: number): Generator<GetParams> {
  for (let r = 1; r <= n; r += 1)
    for (let pr = 0; pr <= n; pr += 1)
      for (let primaries = 0; primaries <= n; primaries += 1)
        for (const notfoundOk of [false, true]) for (const basicQuorum of [false, true]) yield { n, r, pr, primaries, notfoundOk, basicQuorum };
}

type Where = () => string;

/** assert.ok with a message built only on failure (building it every time dominates the run). */
function check(condition: boolean, where: Where, what: string): void {
  if (!condition) assert.fail(`${what}: ${where()}`);
}

function checkAnswer(p: GetParams, core: GetCore<Obj>, expected: RefAnswer, where: Where): void {
  const got = core.response();
  check(got.kind === expected.kind, where, `kind ${got.kind}, expected ${expected.kind}`);
  if (got.kind !== 'error' || expected.kind !== 'error') return;
  const e = got.error;
  const same = e.parameter === expected.parameter && e.required === expected.required && e.got === expected.got;
  check(same && e.code === `kv_${expected.parameter}_val_unsatisfied`, where, `error ${e.code} ${e.required}/${e.got}, expected ${JSON.stringify(expected)}`);
  const prefix =
    expected.parameter === 'r'
      ? `R=${p.r} not met: ${expected.got} of ${p.n} replicas answered`
      : p.primaries < p.pr
        ? `PR=${p.pr} not met: only ${p.primaries} primar`
        : `PR=${p.pr} not met: ${expected.got} primary replica`;
  check(e.message.startsWith(prefix), where, `message "${e.message}"`);
}

/** Feed one order of replies; check each prefix, and a timeout after each prefix. */
function runSequence(p: GetParams, steps: readonly Step[]): void {
  const core = newCore(p);
  let decidedAt = -1;
  for (let i = 0; i <= steps.length; i += 1) {
    const prefix = steps.slice(0, i);
    const where: Where = () => `${JSON.stringify(p)} after ${JSON.stringify(prefix)}`;
    if (i > 0) {
      const step = steps[i - 1] as Step;
      check(core.addResult({ id: `t${step.target}`, primary: step.primary }, resultOf(step.kind)), where, 'reply refused');
    }
    const decided = core.enough();
    check(decided === refDecided(p, prefix, false), where, `enough() is ${decided}`);
    if (decided && decidedAt < 0) decidedAt = i;
    if (!decided) {
      let refused = false;
      try {
        core.response();
      } catch {
        refused = true;
      }
      check(refused, where, 'response() before enough() did not throw');
      const t = tally(p, prefix);
      const possible = successPossible(p, t);
      check(possible.r, where, 'waiting although R is impossible');
      check(possible.pr || (t.error === 0 && t.live === 0), where, 'waiting although PR is impossible');
    }
    if (decidedAt === i) {
      const expected = refAnswer(p, prefix, false);
      checkAnswer(p, core, expected, where);
      if (expected.kind === 'error' && !p.basicQuorum) {
        const t = tally(p, prefix);
        const possible = successPossible(p, t);
        check(!possible.r || !possible.pr, where, 'gave up while success was possible');
      }
      if (expected.kind === 'notfound') check(tally(p, prefix).live === 0, where, 'notfound although a value was seen');
      compareWithRiak(p, steps, i, expected, where);
    }
    if (!decided) {
      // The timer fires after this prefix (on a fresh core): answer with what is known.
      const timed = newCore(p);
      for (const s of prefix) timed.addResult({ id: `t${s.target}`, primary: s.primary }, resultOf(s.kind));
      timed.timeout();
      check(timed.enough(), where, 'not decided after timeout');
      const expected = refAnswer(p, prefix, true);
      checkAnswer(p, timed, expected, () => `timeout ${where()}`);
      check(expected.kind === 'error' && timed.response().kind === 'error' && (timed.response() as { error: { timedOut: boolean } }).error.timedOut, where, 'timeout error not marked');
    }
  }
  assert.ok(decidedAt >= 0, `never decided: ${JSON.stringify(p)} ${JSON.stringify(steps)}`);
  // A timeout once decided changes nothing.
  core.timeout();
  checkAnswer(p, core, refAnswer(p, steps, false), () => `late timeout ${JSON.stringify(p)} ${JSON.stringify(steps)}`);
}

/** We decide no later than Riak; where Riak decides at the same reply, the answer matches. */
function compareWithRiak(p: GetParams, steps: readonly Step[], decidedAt: number, ours: RefAnswer, where: Where): void {
  let riakAt = 0;
  while (!riakDecided(p, steps.slice(0, riakAt))) riakAt += 1;
  check(decidedAt <= riakAt, where, `later than Riak (${decidedAt} > ${riakAt})`);
  if (decidedAt !== riakAt) {
    check(ours.kind === 'error' && ours.parameter === 'pr', where, 'decided early without a PR error');
    return;
  }
  const theirs = riakAnswer(p, steps.slice(0, riakAt));
  check(ours.kind === theirs.kind, where, `differs from Riak (${theirs.kind})`);
  if (ours.kind === 'error' && theirs.kind === 'error' && ours.parameter !== theirs.parameter) {
    // Documented: with basic_quorum we name PR when it is the quorum that became impossible.
    const possible = successPossible(p, tally(p, steps.slice(0, riakAt)));
    check(p.basicQuorum && ours.parameter === 'pr' && !possible.pr && possible.r, where, `names ${ours.parameter}, Riak ${theirs.parameter}`);
  }
}

function sequencesFor(n: number, primaries: number, everyOrder: (kinds: Kind[]) => number[][]): Step[][] {
  const out: Step[][] = [];
  for (const kinds of kindAssignments(n)) {
    for (const order of everyOrder(kinds)) {
      out.push(order.map((target) => ({ target, primary: target < primaries, kind: kinds[target] as Kind })));
    }
  }
  return out;
}

describe('GetCore: exhaustive against the reference model', () => {
  for (const n of [1, 2, 3]) {
    it(`n=${n}: every reply kind in every order, every r/pr/primaries/notfound_ok/basic_quorum`, () => {
      const orders = permutations(Array.from({ length: n }, (_, i) => i));
      let checked = 0;
      for (const p of paramsFor(n)) {
        for (const steps of sequencesFor(n, p.primaries, () => orders)) {
          runSequence(p, steps);
          checked += 1;
        }
      }
      assert.ok(checked > 0);
    });
  }

  it('n=4: every reply kind, one mixed order, every r/pr, primaries 1/3', () => {
    const n = 4;
    const orders = [[3, 1, 0, 2]];
    for (const p of paramsFor(n)) {
      if (p.primaries !== 1 && p.primaries !== 3) continue; // keeps the run short; n=5 samples the rest
      for (const steps of sequencesFor(n, p.primaries, () => orders)) runSequence(p, steps);
    }
  });

  it('n=5: 20000 random parameter sets and reply orders (seeded)', () => {
    let seed = 0x5eed;
    const next = (bound: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % bound;
    };
    const n = 5;
    const orders = permutations([0, 1, 2, 3, 4]);
    for (let run = 0; run < 20000; run += 1) {
      const p: GetParams = { n, r: 1 + next(n), pr: next(n + 1), primaries: next(n + 1), notfoundOk: next(2) === 1, basicQuorum: next(2) === 1 };
      const order = orders[next(orders.length)] as number[];
      runSequence(p, order.map((target) => ({ target, primary: target < p.primaries, kind: KINDS[next(KINDS.length)] as Kind })));
    }
  });
});
