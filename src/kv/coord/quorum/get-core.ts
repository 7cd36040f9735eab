// The pure quorum core of a get (riak_kv_get_core): count replies, say when
// enough are in, answer, then decide the read repair. No I/O, no clock: the
// coordinator feeds replies and a timeout() when its timer fires.
//
// Rules (riak_kv_get_core.erl and riak_kv_get_fsm:validate in basho/riak_kv):
// - ok replies (tombstones included) count toward R; notfound counts toward R
//   only with notfound_ok. PR counts the same replies from primaries only.
// - Success: R oks and PR primary oks.
// - Give up when notfound + errors >= fail threshold = n - max(r, pr) + 1
//   (R can no longer be met); with basic_quorum the threshold is
//   min(n/2 + 1, that), i.e. a majority said notfound/error.
// - Give up when all n replied.
// - On giving up: everything seen was notfound or tombstone and nothing
//   failed -> notfound; otherwise the more demanding unmet quorum (PR when
//   PR >= R) is named in the error.
// Differences, each documented:
// - The core knows how many targets are primaries, so PR failure is decided
//   as soon as too few primaries remain (Riak waits for the threshold or all
//   n), and at once when pr > primaries (Riak does that in validate). It
//   never decides that way while the notfound rule could still apply, so an
//   early answer is never a premature notfound.
// - After timeout() the answer is always the error naming what was missing
//   (Riak answers {error, timeout}); the notfound rule is not applied to a
//   partial set of replies.
// - An error reply of `overload` sets the error's `overload` flag instead of
//   replacing the error (Riak answers {error, overload}).
// - finalAction's delete also requires that all n replies came from
//   primaries (riak_kv_get_fsm checks this outside the core).
import { assert } from '../../../core/errors.js';
import { GetQuorumError } from './errors.js';
import { describeReplies, plural, type ReplyFrom } from './replies.js';

export type GetResult<T> = { type: 'ok'; value: T } | { type: 'notfound' } | { type: 'error'; reason: string };

export interface GetCoreOptions<T> {
  /** Number of replicas asked (normally n_val). */
  n: number;
  r: number;
  pr: number;
  notfoundOk: boolean;
  basicQuorum: boolean;
  /** How many of the n replicas asked are primaries. */
  primaries: number;
  /** Whether an object is a tombstone (every sibling deleted). */
  isTombstone: (value: T) => boolean;
}

export type GetResponse<T> =
  | { kind: 'ok'; values: T[] }
  | { kind: 'notfound'; tombstones: T[] }
  | { kind: 'error'; error: GetQuorumError };

export type GetFinalAction = { kind: 'read-repair'; targets: string[] } | { kind: 'delete' } | { kind: 'nop' };

interface Reply<T> {
  from: ReplyFrom;
  result: GetResult<T>;
}

export class GetCore<T> {
  private readonly options: GetCoreOptions<T>;
  private readonly failThreshold: number;
  private readonly replies: Reply<T>[] = [];
  private numOk = 0;
  private numPrimaryOk = 0;
  private numNotfound = 0;
  private numDeleted = 0;
  private numFail = 0;
  private numPrimaryReplies = 0;
  private timedOut = false;
  /** The timeout came before the answer was decided; a timeout after that changes nothing. */
  private timedOutUndecided = false;

  constructor(options: GetCoreOptions<T>) {
    const { n, r, pr, primaries } = options;
    assert(Number.isSafeInteger(n) && n >= 1, `n must be a positive integer, got ${n}`);
    assert(Number.isSafeInteger(r) && r >= 1 && r <= n, `r must be in 1..n=${n}, got ${r}`);
    assert(Number.isSafeInteger(pr) && pr >= 0 && pr <= n, `pr must be in 0..n=${n}, got ${pr}`);
    assert(Number.isSafeInteger(primaries) && primaries >= 0 && primaries <= n, `primaries must be in 0..n=${n}, got ${primaries}`);
    this.options = options;
    const failR = Math.max(r, pr);
    this.failThreshold = options.basicQuorum ? Math.min(Math.floor(n / 2) + 1, n - failR + 1) : n - failR + 1;
  }

  /** Record one replica's reply. A second reply from the same replica is ignored (returns false). */
  addResult(from: ReplyFrom, result: GetResult<T>): boolean {
    // n is small (the preference list): a scan, not a Set per request.
    for (const reply of this.replies) if (reply.from.id === from.id) return false;
    assert(this.replies.length < this.options.n, `more than n=${this.options.n} distinct replies`);
    if (from.primary) {
      assert(this.numPrimaryReplies < this.options.primaries, `more primary replies than primaries=${this.options.primaries}`);
      this.numPrimaryReplies += 1;
    }
    this.replies.push({ from, result });
    const countsTowardR = result.type === 'ok' || (result.type === 'notfound' && this.options.notfoundOk);
    if (countsTowardR) {
      this.numOk += 1;
      if (from.primary) this.numPrimaryOk += 1;
      if (result.type === 'ok' && this.options.isTombstone(result.value)) this.numDeleted += 1;
    } else if (result.type === 'notfound') {
      this.numNotfound += 1;
    } else {
      this.numFail += 1;
    }
    return true;
  }

  /** The timer fired: answer with what is known. */
  timeout(): void {
    if (!this.enough()) this.timedOutUndecided = true;
    this.timedOut = true;
  }

  hasAllResults(): boolean {
    return this.replies.length >= this.options.n;
  }

  /** True once the answer is decided; response() may be called from then on. */
  enough(): boolean {
    if (this.succeeded()) return true;
    if (this.timedOut || this.hasAllResults()) return true;
    if (this.numNotfound + this.numFail >= this.failThreshold) return true;
    return this.primaryQuorumImpossible() && !this.onlyNotfoundSoFar();
  }

  response(): GetResponse<T> {
    assert(this.enough(), 'response() before enough()');
    if (this.succeeded()) {
      const values = this.okValues();
      if (values.length > 0 && values.some((value) => !this.options.isTombstone(value))) return { kind: 'ok', values };
      return { kind: 'notfound', tombstones: values };
    }
    if (!this.timedOutUndecided && this.onlyNotfoundSoFar()) return { kind: 'notfound', tombstones: this.okValues() };
    return { kind: 'error', error: this.quorumError() };
  }

  /**
   * After all n replies (or the timeout): read repair the replicas that
   * answered notfound or a value strictly older than the merge; delete
   * (reap) when all n primaries hold the same tombstone; else nothing.
   */
  finalAction(merge: (values: T[]) => T, isStale: (value: T, merged: T) => boolean): GetFinalAction {
    assert(this.hasAllResults() || this.timedOut, 'finalAction() before all replies or the timeout');
    const values = this.okValues();
    if (values.length === 0) return { kind: 'nop' };
    const merged = merge(values);
    const targets: string[] = [];
    for (const { from, result } of this.replies) {
      if (result.type === 'notfound' || (result.type === 'ok' && isStale(result.value, merged))) targets.push(from.id);
    }
    if (targets.length > 0) return { kind: 'read-repair', targets };
    const allPrimaryTombstones =
      this.options.isTombstone(merged) &&
      values.length === this.options.n &&
      this.replies.every((reply) => reply.from.primary);
    return allPrimaryTombstones ? { kind: 'delete' } : { kind: 'nop' };
  }

  private succeeded(): boolean {
    return this.numOk >= this.options.r && this.numPrimaryOk >= this.options.pr;
  }

  private primaryQuorumImpossible(): boolean {
    const primariesPending = this.options.primaries - this.numPrimaryReplies;
    return this.numPrimaryOk + primariesPending < this.options.pr;
  }

  private readQuorumImpossible(): boolean {
    return this.numOk + (this.options.n - this.replies.length) < this.options.r;
  }

  /** Riak's notfound rule: only notfounds and tombstones, no live value, no error. */
  private onlyNotfoundSoFar(): boolean {
    return this.numNotfound + this.numDeleted > 0 && this.numOk - this.numDeleted === 0 && this.numFail === 0;
  }

  private okValues(): T[] {
    const values: T[] = [];
    for (const { result } of this.replies) if (result.type === 'ok') values.push(result.value);
    return values;
  }

  /** Name the unmet quorum: those already impossible first, the larger one, PR on a tie. */
  private quorumError(): GetQuorumError {
    const { r, pr, n, primaries } = this.options;
    const impossibleR = this.readQuorumImpossible();
    const impossiblePR = this.primaryQuorumImpossible();
    const anyImpossible = impossibleR || impossiblePR;
    const failedR = anyImpossible ? impossibleR : this.numOk < r;
    const failedPR = anyImpossible ? impossiblePR : this.numPrimaryOk < pr;
    assert(failedR || failedPR, 'quorum error without an unmet quorum');
    const parameter = failedPR && (!failedR || pr >= r) ? 'pr' : 'r';
    const headline =
      parameter === 'r'
        ? `R=${r} not met: ${this.numOk} of ${n} replicas answered`
        : primaries < pr
          ? `PR=${pr} not met: only ${plural(primaries, 'primary', 'primaries')} up`
          : `PR=${pr} not met: ${plural(this.numPrimaryOk, 'primary replica', 'primary replicas')} answered`;
    const errors = this.replies.flatMap(({ result }) => (result.type === 'error' ? [result.reason] : []));
    const counts = {
      ok: this.replies.filter(({ result }) => result.type === 'ok').length,
      notfound: this.replies.filter(({ result }) => result.type === 'notfound').length,
    };
    const detail = describeReplies([
      [counts.ok, 'ok'],
      [counts.notfound, this.options.notfoundOk ? 'notfound' : 'notfound (notfound_ok=false)'],
      [errors.length, errors.length > 0 ? `failed (${[...new Set(errors)].join(', ')})` : 'failed'],
      [n - this.replies.length, this.timedOutUndecided ? 'no reply before the timeout' : 'no reply yet'],
    ]);
    const got = parameter === 'r' ? this.numOk : this.numPrimaryOk;
    const failure = { parameter, required: parameter === 'r' ? r : pr, got, timedOut: this.timedOutUndecided, overload: errors.includes('overload') } as const;
    return new GetQuorumError(failure, `${headline}; ${detail}`);
  }
}
