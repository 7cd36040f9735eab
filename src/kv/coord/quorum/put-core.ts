// The pure quorum core of a put (riak_kv_put_core): count w / dw / fail
// replies, say when enough are in, answer. No I/O, no clock.
//
// Rules (riak_kv_put_core.erl and riak_kv_put_fsm:validate in basho/riak_kv):
// - A replica first acknowledges (`w`), then reports a durable write (`dw`,
//   carrying the stored object for return_body) or a failure (`fail`).
// - Success: W acknowledged, DW durable, PW durable on primaries (Riak counts
//   PW on dw replies only).
// - Give up when PW or DW can no longer be met, or when every replica has
//   finished (dw or fail) and PW is unmet.
// - The error names the unmet quorum; PW wins over DW when PW >= DW.
// - dw >= 1 always (validateQuorums raises it); the coordinating replica
//   writes first and its own failure fails the put with that error.
// Differences, each documented:
// - A dw reply also counts as the replica's w (its w message may be lost or
//   the coordinator's local write reports only dw), so W counts replicas that
//   acknowledged in either way, once each.
// - A replica can fail before acknowledging (unreachable); then W can become
//   impossible and the put fails at once instead of waiting for the timeout.
// - PW failure is decided from the known number of primaries as soon as too
//   few primaries remain (Riak: n - pw + 1 failures, or all replies in).
// - Among several unmet quorums the error names the one with the largest
//   required value, ties broken PW > DW > W (Riak's "PW when PW >= DW").
// - After timeout() the answer is the error naming what was missing.
import { assert } from '../../../core/errors.js';
import { LocalWriteError, PutQuorumError } from './errors.js';
import { describeReplies, plural, type ReplyFrom } from './replies.js';

export type PutResult<T> = { type: 'w' } | { type: 'dw'; value?: T } | { type: 'fail'; reason: string };

export interface PutCoreOptions {
  /** Number of replicas asked (normally n_val). */
  n: number;
  w: number;
  pw: number;
  /** Already raised to at least 1 (validateQuorums). */
  dw: number;
  /** How many of the n replicas asked are primaries. */
  primaries: number;
  returnBody: boolean;
}

export type PutResponse<T> =
  | { kind: 'ok'; values: T[] }
  | { kind: 'error'; error: PutQuorumError | LocalWriteError };

type ReplicaState = 'w' | 'dw' | 'fail';
type PutParameter = 'w' | 'pw' | 'dw';

/** Replies from the coordinating replica carry local: true. */
export interface PutReplyFrom extends ReplyFrom {
  local?: boolean;
}

export class PutCore<T> {
  private readonly options: PutCoreOptions;
  private readonly states = new Map<string, { primary: boolean; state: ReplicaState }>();
  private readonly values: T[] = [];
  private readonly failures: string[] = [];
  private numW = 0;
  private numDW = 0;
  private numPW = 0;
  private numFail = 0;
  private numPrimariesDone = 0;
  private localFailure: string | undefined;
  private timedOut = false;
  /** The timeout came before the answer was decided; a timeout after that changes nothing. */
  private timedOutUndecided = false;

  constructor(options: PutCoreOptions) {
    const { n, w, pw, dw, primaries } = options;
    assert(Number.isSafeInteger(n) && n >= 1, `n must be a positive integer, got ${n}`);
    assert(Number.isSafeInteger(w) && w >= 0 && w <= n, `w must be in 0..n=${n}, got ${w}`);
    assert(Number.isSafeInteger(pw) && pw >= 0 && pw <= n, `pw must be in 0..n=${n}, got ${pw}`);
    assert(Number.isSafeInteger(dw) && dw >= 1 && dw <= n, `dw must be in 1..n=${n}, got ${dw}`);
    assert(Number.isSafeInteger(primaries) && primaries >= 0 && primaries <= n, `primaries must be in 0..n=${n}, got ${primaries}`);
    this.options = options;
  }

  /**
   * Record a reply. Allowed per replica: w, then dw or fail; or dw or fail
   * alone. Anything else (duplicates, late w) is ignored and returns false.
   */
  addResult(from: PutReplyFrom, result: PutResult<T>): boolean {
    const known = this.states.get(from.id);
    if (known !== undefined && known.state !== 'w') return false;
    if (known !== undefined && result.type === 'w') return false;
    if (known === undefined) {
      assert(this.states.size < this.options.n, `more than n=${this.options.n} distinct replicas replied`);
      assert(!from.primary || this.primaryCount() < this.options.primaries, `more primary replicas than primaries=${this.options.primaries}`);
    } else {
      assert(known.primary === from.primary, `replica ${from.id} changed its primary flag`);
    }
    const acknowledged = known !== undefined;
    this.states.set(from.id, { primary: from.primary, state: result.type });
    if (result.type !== 'fail' && !acknowledged) this.numW += 1;
    if (result.type === 'dw') {
      this.numDW += 1;
      if (from.primary) this.numPW += 1;
      if (this.options.returnBody && result.value !== undefined) this.values.push(result.value);
    }
    if (result.type === 'fail') {
      this.numFail += 1;
      this.failures.push(result.reason);
      if (from.local === true) this.localFailure ??= result.reason;
    }
    if (result.type !== 'w' && from.primary) this.numPrimariesDone += 1;
    return true;
  }

  timeout(): void {
    if (!this.enough()) this.timedOutUndecided = true;
    this.timedOut = true;
  }

  enough(): boolean {
    if (this.localFailure !== undefined || this.timedOut || this.succeeded()) return true;
    return this.impossible().length > 0;
  }

  response(): PutResponse<T> {
    assert(this.enough(), 'response() before enough()');
    if (this.succeeded()) return { kind: 'ok', values: this.options.returnBody ? [...this.values] : [] };
    if (this.localFailure !== undefined) return { kind: 'error', error: new LocalWriteError(this.localFailure) };
    return { kind: 'error', error: this.quorumError() };
  }

  /** The objects the replicas stored (for return_body); the caller reconciles them. */
  storedValues(): T[] {
    return [...this.values];
  }

  private primaryCount(): number {
    let count = 0;
    for (const replica of this.states.values()) if (replica.primary) count += 1;
    return count;
  }

  private succeeded(): boolean {
    const { w, dw, pw } = this.options;
    return this.numW >= w && this.numDW >= dw && this.numPW >= pw;
  }

  private impossible(): PutParameter[] {
    const { n, w, dw, pw, primaries } = this.options;
    const silent = n - this.states.size;
    const out: PutParameter[] = [];
    if (this.numW + silent < w) out.push('w');
    if (this.numDW + (n - this.numDW - this.numFail) < dw) out.push('dw');
    if (this.numPW + (primaries - this.numPrimariesDone) < pw) out.push('pw');
    return out;
  }

  private quorumError(): PutQuorumError {
    const { n, w, dw, pw, primaries } = this.options;
    const required: Record<PutParameter, number> = { w, dw, pw };
    const got: Record<PutParameter, number> = { w: this.numW, dw: this.numDW, pw: this.numPW };
    let failed = this.impossible();
    if (failed.length === 0) failed = (['w', 'dw', 'pw'] as const).filter((name) => got[name] < required[name]);
    assert(failed.length > 0, 'quorum error without an unmet quorum');
    const rank: Record<PutParameter, number> = { w: 0, dw: 1, pw: 2 };
    const parameter = failed.reduce((best, name) =>
      required[name] > required[best] || (required[name] === required[best] && rank[name] > rank[best]) ? name : best,
    );
    const headline =
      parameter === 'w'
        ? `W=${w} not met: ${this.numW} of ${n} replicas answered`
        : parameter === 'dw'
          ? `DW=${dw} not met: ${plural(this.numDW, 'durable write', 'durable writes')} of ${n}`
          : primaries < pw
            ? `PW=${pw} not met: only ${plural(primaries, 'primary', 'primaries')} up`
            : `PW=${pw} not met: ${plural(this.numPW, 'primary replica', 'primary replicas')} wrote`;
    let acknowledgedOnly = 0;
    for (const replica of this.states.values()) if (replica.state === 'w') acknowledgedOnly += 1;
    const detail = describeReplies([
      [this.numDW, 'written'],
      [acknowledgedOnly, 'acknowledged, not yet written'],
      [this.numFail, this.numFail > 0 ? `failed (${[...new Set(this.failures)].join(', ')})` : 'failed'],
      [n - this.states.size, this.timedOutUndecided ? 'no reply before the timeout' : 'no reply yet'],
    ]);
    const failure = { parameter, required: required[parameter], got: got[parameter], timedOut: this.timedOutUndecided, overload: this.failures.includes('overload') };
    return new PutQuorumError(failure, `${headline}; ${detail}`);
  }
}
