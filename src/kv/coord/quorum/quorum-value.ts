// Riak's quorum values (r, pr, w, pw, dw, rw): parsing from every wire form,
// resolving against n_val and the bucket's defaults, and the validation
// riak_kv_get_fsm / riak_kv_put_fsm / riak_kv_delete do before asking anyone.
//
// Riak rules followed (riak_kv_util:expand_rw_value/normalize_rw_value,
// riak_kv_get_fsm:validate_quorum, riak_kv_put_fsm:validate,
// riak_pb_kv_codec quorum encoding):
// - one = 1, quorum = trunc(n/2)+1, all = n, default = the bucket property.
// - PB encodes symbolic values in the uint32 field: UINT_MAX-1 one,
//   UINT_MAX-2 quorum, UINT_MAX-3 all, UINT_MAX-4 default.
// - A resolved value above n_val is `{n_val_violation, N}`.
// - dw is raised to at least 1 (the coordinating vnode always writes durably
//   first). dw is NOT lowered to w: Riak's comment says "ensure DW <= W" but
//   the code only applies max(DW, 1), so dw > w simply waits for dw durable
//   replies (each of which is also a w reply).
// - pr > primaries in the preflist is `{pr_val_unsatisfied, PR, Primaries}`
//   (the cores answer that); quorums above the number of reachable vnodes are
//   `{insufficient_vnodes, Got, need, Min}` (checkTargets).
// Deliberate difference: r = 0 and rw = 0 are rejected. Riak accepts them and
// then answers notfound before any replica replied.
import { assert } from '../../../core/errors.js';
import { BadQuorumError, InsufficientVnodesError, NValViolationError, type QuorumName } from './errors.js';

export type { QuorumName } from './errors.js';
export type QuorumSymbol = 'one' | 'quorum' | 'all' | 'default';
export type QuorumSpec = number | QuorumSymbol;
export type Quorums = Record<QuorumName, number>;

export const QUORUM_NAMES: readonly QuorumName[] = ['r', 'pr', 'w', 'pw', 'dw', 'rw'];

const UINT32_MAX = 4294967295;
/** riak_pb_kv_codec's encoding of symbolic quorums in PB uint32 fields. */
export const PB_QUORUM = {
  one: UINT32_MAX - 1,
  quorum: UINT32_MAX - 2,
  all: UINT32_MAX - 3,
  default: UINT32_MAX - 4,
} as const satisfies Record<QuorumSymbol, number>;

/** Riak's default bucket properties for the quorum values. */
export const DEFAULT_QUORUMS: Readonly<Record<QuorumName, QuorumSpec>> = {
  r: 'quorum',
  pr: 0,
  w: 'quorum',
  pw: 0,
  dw: 'quorum',
  rw: 'quorum',
};

const SYMBOLS: readonly QuorumSymbol[] = ['one', 'quorum', 'all', 'default'];
const PB_SYMBOLS = new Map<number, QuorumSymbol>(SYMBOLS.map((symbol) => [PB_QUORUM[symbol], symbol]));
const DIGITS = /^[0-9]{1,10}$/;

/**
 * Parse a quorum value from an HTTP query string, JSON bucket properties or a
 * PB field. `undefined` (parameter absent) means `default`.
 */
export function parseQuorum(input: unknown, name: QuorumName): QuorumSpec {
  if (input === undefined) return 'default';
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw new BadQuorumError(name, input);
    return PB_SYMBOLS.get(input) ?? input;
  }
  if (typeof input === 'string') {
    if ((SYMBOLS as readonly string[]).includes(input)) return input as QuorumSymbol;
    if (DIGITS.test(input)) return Number.parseInt(input, 10);
  }
  throw new BadQuorumError(name, input);
}

/** The number a quorum value stands for with this n_val (`default` takes the bucket property). */
export function resolveQuorum(spec: QuorumSpec, nVal: number, bucketDefault: QuorumSpec, name?: QuorumName): number {
  assert(Number.isSafeInteger(nVal) && nVal >= 1, `n_val must be a positive integer, got ${nVal}`);
  let resolved: QuorumSpec = spec === 'default' ? bucketDefault : spec;
  if (resolved === 'default') {
    // A bucket property of `default` has nothing left to defer to.
    throw new BadQuorumError(name ?? 'r', resolved, 'a bucket property that is not itself default');
  }
  if (resolved === 'one') resolved = 1;
  else if (resolved === 'quorum') resolved = Math.floor(nVal / 2) + 1;
  else if (resolved === 'all') resolved = nVal;
  if (!Number.isSafeInteger(resolved) || resolved < 0) throw new BadQuorumError(name ?? 'r', resolved);
  if (resolved > nVal) throw new NValViolationError(name, resolved, nVal);
  return resolved;
}

/**
 * Validate resolved quorums the way Riak's fsms do and return them with dw
 * raised to at least 1. Throws NValViolationError or BadQuorumError.
 */
export function validateQuorums(values: Partial<Quorums>, nVal: number): Partial<Quorums> {
  assert(Number.isSafeInteger(nVal) && nVal >= 1, `n_val must be a positive integer, got ${nVal}`);
  const out: Partial<Quorums> = {};
  for (const name of QUORUM_NAMES) {
    const value = values[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) throw new BadQuorumError(name, value);
    if (value > nVal) throw new NValViolationError(name, value, nVal);
    if ((name === 'r' || name === 'rw') && value === 0) throw new BadQuorumError(name, value, 'at least 1');
    out[name] = name === 'dw' ? Math.max(value, 1) : value;
  }
  return out;
}

/** Parse nothing, resolve and validate all six values for one request. */
export function resolveQuorums(
  given: Partial<Record<QuorumName, QuorumSpec>>,
  nVal: number,
  bucket: Readonly<Record<QuorumName, QuorumSpec>> = DEFAULT_QUORUMS,
): Quorums {
  const resolved = {} as Quorums;
  for (const name of QUORUM_NAMES) resolved[name] = resolveQuorum(given[name] ?? 'default', nVal, bucket[name], name);
  return validateQuorums(resolved, nVal) as Quorums;
}

/**
 * Riak's insufficient_vnodes check: a quorum can never be met when fewer
 * replicas are reachable (`targets`) than it needs. Put needs at least one.
 */
export function checkTargets(quorums: Partial<Quorums>, targets: number): void {
  assert(Number.isSafeInteger(targets) && targets >= 0, `targets must be a non-negative integer, got ${targets}`);
  let worst: [QuorumName, number] = ['w', 1];
  for (const name of QUORUM_NAMES) {
    const value = quorums[name];
    if (value !== undefined && value > worst[1]) worst = [name, value];
  }
  if (worst[1] > targets) throw new InsufficientVnodesError(worst[0], worst[1], targets);
}
