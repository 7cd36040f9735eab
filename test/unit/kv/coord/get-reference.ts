// An independent model of the get quorum rules, written from the rules in
// get-core.ts's header and riak_kv_get_core.erl, by counting a multiset of
// replies rather than tracking state. Also Riak's literal rules, to check
// that we answer no later than Riak and the same way when it decides too.

export type Kind = 'live' | 'tomb' | 'notfound' | 'error';
export interface Step {
  target: number;
  primary: boolean;
  kind: Kind;
}
export interface GetParams {
  n: number;
  r: number;
  pr: number;
  notfoundOk: boolean;
  basicQuorum: boolean;
  primaries: number;
}
export type RefAnswer =
  | { kind: 'ok' }
  | { kind: 'notfound' }
  | { kind: 'error'; parameter: 'r' | 'pr'; required: number; got: number };

interface Tally {
  live: number;
  tomb: number;
  notfound: number;
  error: number;
  goodPrimary: number;
  primaryReplies: number;
  replies: number;
}

export function tally(p: GetParams, steps: readonly Step[]): Tally {
  const t: Tally = { live: 0, tomb: 0, notfound: 0, error: 0, goodPrimary: 0, primaryReplies: 0, replies: steps.length };
  for (const s of steps) {
    t[s.kind] += 1;
    if (s.primary) t.primaryReplies += 1;
    const good = s.kind === 'live' || s.kind === 'tomb' || (s.kind === 'notfound' && p.notfoundOk);
    if (good && s.primary) t.goodPrimary += 1;
  }
  return t;
}

const good = (p: GetParams, t: Tally): number => t.live + t.tomb + (p.notfoundOk ? t.notfound : 0);
const bad = (p: GetParams, t: Tally): number => t.error + (p.notfoundOk ? 0 : t.notfound);

/** Whether the best possible remaining replies could still meet R and PR. */
export function successPossible(p: GetParams, t: Tally): { r: boolean; pr: boolean } {
  return { r: good(p, t) + (p.n - t.replies) >= p.r, pr: t.goodPrimary + (p.primaries - t.primaryReplies) >= p.pr };
}

function onlyNotfound(p: GetParams, t: Tally): boolean {
  if (t.error > 0 || t.live > 0) return false;
  return p.notfoundOk ? t.notfound === 0 && t.tomb > 0 : t.notfound + t.tomb > 0;
}

export function refDecided(p: GetParams, steps: readonly Step[], timedOut: boolean): boolean {
  const t = tally(p, steps);
  if (good(p, t) >= p.r && t.goodPrimary >= p.pr) return true;
  if (timedOut || t.replies === p.n) return true;
  const threshold = p.n - Math.max(p.r, p.pr) + 1;
  if (bad(p, t) >= (p.basicQuorum ? Math.min(Math.floor(p.n / 2) + 1, threshold) : threshold)) return true;
  return !successPossible(p, t).pr && !onlyNotfound(p, t);
}

export function refAnswer(p: GetParams, steps: readonly Step[], timedOut: boolean): RefAnswer {
  const t = tally(p, steps);
  if (good(p, t) >= p.r && t.goodPrimary >= p.pr) return t.live > 0 ? { kind: 'ok' } : { kind: 'notfound' };
  if (!timedOut && onlyNotfound(p, t)) return { kind: 'notfound' };
  const possible = successPossible(p, t);
  const anyImpossible = !possible.r || !possible.pr;
  const failR = anyImpossible ? !possible.r : good(p, t) < p.r;
  const failPR = anyImpossible ? !possible.pr : t.goodPrimary < p.pr;
  const usePR = failPR && (!failR || p.pr >= p.r);
  return usePR
    ? { kind: 'error', parameter: 'pr', required: p.pr, got: t.goodPrimary }
    : { kind: 'error', parameter: 'r', required: p.r, got: good(p, t) };
}

/** riak_kv_get_core enough/1 and response/1 as written (fail threshold from riak_kv_get_fsm). */
export function riakDecided(p: GetParams, steps: readonly Step[]): boolean {
  const t = tally(p, steps);
  const threshold = p.n - Math.max(p.r, p.pr) + 1;
  const failThreshold = p.basicQuorum ? Math.min(Math.floor(p.n / 2) + 1, threshold) : threshold;
  if (p.pr > p.primaries) return true; // riak_kv_get_fsm:validate_quorum
  return (good(p, t) >= p.r && t.goodPrimary >= p.pr) || bad(p, t) >= failThreshold || t.replies >= p.n;
}

export function riakAnswer(p: GetParams, steps: readonly Step[]): RefAnswer {
  const t = tally(p, steps);
  const numOk = good(p, t);
  const numNotfound = p.notfoundOk ? 0 : t.notfound;
  if (p.pr > p.primaries) return { kind: 'error', parameter: 'pr', required: p.pr, got: p.primaries };
  if (numOk >= p.r && t.goodPrimary >= p.pr) return t.live > 0 ? { kind: 'ok' } : { kind: 'notfound' };
  if (numNotfound + t.tomb > 0 && numOk - t.tomb === 0 && t.error === 0) return { kind: 'notfound' };
  if (p.pr > 0 && t.goodPrimary < p.pr && numOk >= p.r) return { kind: 'error', parameter: 'pr', required: p.pr, got: t.goodPrimary };
  if (p.pr >= p.r) return { kind: 'error', parameter: 'pr', required: p.pr, got: t.goodPrimary };
  return { kind: 'error', parameter: 'r', required: p.r, got: numOk };
}
