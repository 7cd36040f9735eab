// Operating errors of the quorum layer. Codes follow Riak's error atoms
// (r_val_unsatisfied, n_val_violation, ...) with the kv_ prefix, so the APIs
// can map them to the statuses Riak answers with (400 for bad values, 503 for
// unmet quorums).
import { RondoError } from '../../../core/errors.js';

export type QuorumName = 'r' | 'pr' | 'w' | 'pw' | 'dw' | 'rw';

/** A quorum value that is not a number, `one`, `quorum`, `all` or `default` (Riak: `{r_val_violation, V}`). */
export class BadQuorumError extends RondoError {
  readonly parameter: QuorumName;
  constructor(parameter: QuorumName, value: unknown, expected = 'a non-negative integer, one, quorum, all or default') {
    super('kv_bad_quorum', `${parameter}=${describeValue(value)} is not a valid quorum value (expected ${expected})`);
    this.parameter = parameter;
  }
}

/** A quorum larger than n_val (Riak: `{n_val_violation, N}`). */
export class NValViolationError extends RondoError {
  readonly parameter: QuorumName | undefined;
  readonly nVal: number;
  constructor(parameter: QuorumName | undefined, value: number, nVal: number) {
    super('kv_n_val_violation', `${parameter ?? 'quorum'}=${value} is more than n_val=${nVal}`);
    this.parameter = parameter;
    this.nVal = nVal;
  }
}

/** Fewer replicas were reachable than the quorum needs (Riak: `{insufficient_vnodes, Got, need, Min}`). */
export class InsufficientVnodesError extends RondoError {
  constructor(parameter: QuorumName, required: number, targets: number) {
    super('kv_insufficient_vnodes', `${parameter.toUpperCase()}=${required} cannot be met: only ${targets} ${targets === 1 ? 'replica is' : 'replicas are'} reachable`);
  }
}

export type GetQuorumCode = 'kv_r_val_unsatisfied' | 'kv_pr_val_unsatisfied';
export type PutQuorumCode = 'kv_w_val_unsatisfied' | 'kv_pw_val_unsatisfied' | 'kv_dw_val_unsatisfied';

interface QuorumFailure {
  readonly parameter: QuorumName;
  readonly required: number;
  readonly got: number;
  readonly timedOut: boolean;
  /** At least one replica answered `overload` (Riak then answers `{error, overload}`). */
  readonly overload: boolean;
}

/** What a failed quorum carries, for messages and for the APIs' error codes. */
abstract class QuorumError<P extends QuorumName> extends RondoError implements QuorumFailure {
  readonly parameter: P;
  readonly required: number;
  readonly got: number;
  readonly timedOut: boolean;
  readonly overload: boolean;
  constructor(failure: QuorumFailure & { parameter: P }, message: string) {
    super(`kv_${failure.parameter}_val_unsatisfied`, message);
    this.parameter = failure.parameter;
    this.required = failure.required;
    this.got = failure.got;
    this.timedOut = failure.timedOut;
    this.overload = failure.overload;
  }
}

/** A get that could not meet R or PR (Riak: `{r_val_unsatisfied, R, Got}` / `{pr_val_unsatisfied, PR, Got}`). */
export class GetQuorumError extends QuorumError<'r' | 'pr'> {}

/** A put that could not meet W, PW or DW. */
export class PutQuorumError extends QuorumError<'w' | 'pw' | 'dw'> {}

/** The coordinating replica's own write failed; Riak answers with that error and does not replicate. */
export class LocalWriteError extends RondoError {
  readonly reason: string;
  constructor(reason: string) {
    super('kv_local_write_failed', `the coordinating replica could not write: ${reason}`);
    this.reason = reason;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 40 ? `${json.slice(0, 40)}...` : json;
  } catch {
    // circular or otherwise unprintable: fall through
  }
  return `<${typeof value}>`;
}
