// Validation of bucket properties, following riak_kv_bucket:validate/4:
// - unknown property names are accepted and kept (Riak stores them; search_index,
//   backend and friends are read by other subsystems);
// - known ones must have the right type and range: booleans (true/false or
//   "true"/"false"), positive integers for n_val and the vclock limits, quorum
//   values for r/w/rw (> 0) and dw/pr/pw (>= 0);
// - datatype, consistent and write_once are set when a type is created (or
//   re-created before activation) and never change after;
// - datatype types need allow_mult=true; write_once excludes consistent and
//   datatype; last_write_wins=true needs dvv_enabled=false;
// - a consistent type keeps its n_val.
// Changing n_val of an eventually consistent type after activation is allowed,
// as in Riak, with Riak's caveat: replicas already written under the old n_val
// are not moved, so until read repair and anti-entropy catch up, reads may miss
// values or find extra stale copies. Every problem is collected and reported at
// once, each naming its property.
import { checkPlainData } from '../../core/metadata/index.js';
import { RondoError } from '../../core/errors.js';
import { BadBucketPropsError } from './errors.js';
import type { PropProblem } from './errors.js';
import {
  DATATYPES,
  HLL_PRECISION_DEFAULT,
  HLL_PRECISION_MAX,
  HLL_PRECISION_MIN,
  IMMUTABLE_PROPS,
  N_VAL_MAX_DEFAULT,
  QUORUM_PROPS,
  QUORUM_WORDS,
  READ_ONLY_PROPS,
  cloneProps,
  defaultTypeProps,
  isKnownProp,
  newTypeProps,
  propValue,
} from './props.js';
import type { CommitHook, ModFun, Props, QuorumValue } from './props.js';

export interface ValidateContext {
  /** Properties the input is laid over; defaults of the new or default type when absent. */
  existing?: Props;
  /** Creating (or re-creating, while inactive) a type: immutable properties may be set. */
  creatingType?: boolean;
  /** The type is active: immutable properties are fixed even if creatingType is set. */
  activated?: boolean;
  /** Props of the `default` type or one of its buckets (base defaults to defaultTypeProps()). */
  defaultType?: boolean;
  /** option: nValMax */
  nValMax?: number;
}

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };
const ok = (value: unknown): Parsed => ({ ok: true, value });
const bad = (reason: string): Parsed => ({ ok: false, reason });

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function parseBoolean(raw: unknown): Parsed {
  if (typeof raw === 'boolean') return ok(raw);
  if (typeof raw === 'string' && ['true', 'false'].includes(raw.toLowerCase())) return ok(raw.toLowerCase() === 'true');
  return bad(`must be true or false, got ${show(raw)}`);
}

function parseInteger(min: number): (raw: unknown) => Parsed {
  return (raw) => (Number.isSafeInteger(raw) && (raw as number) >= min ? ok(raw) : bad(`must be an integer >= ${min}, got ${show(raw)}`));
}

function parseQuorum(min: number): (raw: unknown) => Parsed {
  return (raw) => {
    if (Number.isSafeInteger(raw) && (raw as number) >= min) return ok(raw);
    if (typeof raw === 'string' && (QUORUM_WORDS as readonly string[]).includes(raw)) return ok(raw);
    return bad(`must be an integer >= ${min}, "one", "quorum", "all" or "default", got ${show(raw)}`);
  };
}

function isModFun(raw: unknown): raw is ModFun {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const keys = Object.keys(raw).sort().join(',');
  const { mod, fun } = raw as Record<string, unknown>;
  return keys === 'fun,mod' && typeof mod === 'string' && mod.length > 0 && typeof fun === 'string' && fun.length > 0;
}

function parseModFun(raw: unknown): Parsed {
  return isModFun(raw) ? ok({ mod: raw.mod, fun: raw.fun }) : bad(`must be {"mod": string, "fun": string}, got ${show(raw)}`);
}

function parseHooks(raw: unknown): Parsed {
  if (!Array.isArray(raw)) return bad(`must be a list of hooks, got ${show(raw)}`);
  const hooks: CommitHook[] = [];
  for (const hook of raw) {
    if (isModFun(hook)) hooks.push({ mod: hook.mod, fun: hook.fun });
    else if (hook !== null && typeof hook === 'object' && Object.keys(hook).join() === 'name' && typeof (hook as { name: unknown }).name === 'string') {
      hooks.push({ name: (hook as { name: string }).name });
    } else return bad(`each hook must be {"mod": string, "fun": string} or {"name": string}, got ${show(hook)}`);
  }
  return ok(hooks);
}

function parseDatatype(raw: unknown): Parsed {
  return typeof raw === 'string' && (DATATYPES as readonly string[]).includes(raw) ? ok(raw) : bad(`must be one of ${DATATYPES.join(', ')}, got ${show(raw)}`);
}

const PARSERS: Readonly<Record<string, (raw: unknown) => Parsed>> = {
  n_val: parseInteger(1),
  allow_mult: parseBoolean,
  last_write_wins: parseBoolean,
  dvv_enabled: parseBoolean,
  notfound_ok: parseBoolean,
  basic_quorum: parseBoolean,
  consistent: parseBoolean,
  write_once: parseBoolean,
  r: parseQuorum(1),
  w: parseQuorum(1),
  rw: parseQuorum(1),
  dw: parseQuorum(0),
  pr: parseQuorum(0),
  pw: parseQuorum(0),
  big_vclock: parseInteger(1),
  small_vclock: parseInteger(1),
  old_vclock: parseInteger(1),
  young_vclock: parseInteger(0),
  precommit: parseHooks,
  postcommit: parseHooks,
  chash_keyfun: parseModFun,
  linkfun: parseModFun,
  datatype: parseDatatype,
  hll_precision: parseInteger(0),
};

function parseCustom(name: string, raw: unknown): Parsed {
  try {
    checkPlainData(raw, name);
    return ok(structuredClone(raw));
  } catch (err) {
    if (err instanceof RondoError) return bad(`must be plain JSON data (${err.message})`);
    throw err;
  }
}

/** Fields that differ from `base` may be set only when the type is being created. */
function checkImmutable(name: string, base: Props, next: Props, problems: PropProblem[]): void {
  const before = propValue(base, name) ?? (name === 'datatype' ? undefined : false);
  const after = propValue(next, name) ?? (name === 'datatype' ? undefined : false);
  if (before === after) return;
  const reason = name === 'datatype' && before === undefined ? 'can only be set when a bucket type is created' : `cannot be changed after the bucket type is created (is ${show(before)})`;
  problems.push({ property: name, reason });
}

function checkCombinations(base: Props, next: Props, creating: boolean, nValMax: number, problems: PropProblem[]): void {
  const problem = (property: string, reason: string): void => void problems.push({ property, reason });
  if (next.n_val > nValMax) problem('n_val', `must be at most ${nValMax}, got ${next.n_val}`);
  if (!creating && base.consistent === true && next.n_val !== base.n_val) problem('n_val', 'cannot be changed on a consistent bucket type');
  for (const name of QUORUM_PROPS) {
    const value: QuorumValue = next[name];
    if (typeof value === 'number' && value > next.n_val) problem(name, `must not exceed n_val (${next.n_val}), got ${value}`);
  }
  if (next.datatype !== undefined && !next.allow_mult) problem('allow_mult', `must be true for datatype buckets (datatype is ${next.datatype})`);
  if (next.write_once === true && next.consistent === true) problem('consistent', 'must not be true on a write_once bucket type');
  if (next.write_once === true && next.datatype !== undefined) problem('datatype', 'must not be set on a write_once bucket type');
  if (next.last_write_wins && next.dvv_enabled) problem('dvv_enabled', 'must be false when last_write_wins is true');
  checkHllPrecision(base, next, problems);
}

function checkHllPrecision(base: Props, next: Props, problems: PropProblem[]): void {
  if (next.datatype !== 'hll') {
    if (next.hll_precision !== undefined) problems.push({ property: 'hll_precision', reason: 'applies only to datatype hll' });
    return;
  }
  const precision = next.hll_precision ?? HLL_PRECISION_DEFAULT;
  next.hll_precision = precision;
  if (precision < HLL_PRECISION_MIN || precision > HLL_PRECISION_MAX) {
    problems.push({ property: 'hll_precision', reason: `must be an integer from ${HLL_PRECISION_MIN} to ${HLL_PRECISION_MAX}, got ${precision}` });
  } else if (base.datatype === 'hll' && base.hll_precision !== undefined && precision > base.hll_precision) {
    problems.push({ property: 'hll_precision', reason: `may be reduced but never increased (is ${base.hll_precision}, got ${precision})` });
  }
}

/**
 * Validate `partial` (Riak property names → raw values, as decoded from JSON)
 * laid over `ctx.existing` and return the complete properties. Throws
 * BadBucketPropsError naming every bad property; the input is not modified.
 */
export function validateProps(partial: Readonly<Record<string, unknown>>, ctx: ValidateContext = {}): Props {
  const creating = ctx.creatingType === true && ctx.activated !== true;
  const base = ctx.existing ?? (ctx.defaultType === true ? defaultTypeProps() : newTypeProps());
  const next = cloneProps(base);
  const record = next as unknown as Record<string, unknown>;
  const problems: PropProblem[] = [];
  for (const name of Object.keys(partial).sort()) {
    if (READ_ONLY_PROPS.includes(name) || name === 'custom' || name === '__proto__') continue;
    const raw = partial[name];
    // "default" means "what this bucket would have anyway": keep the inherited value.
    if (raw === 'default' && (QUORUM_PROPS as readonly string[]).includes(name)) continue;
    const parsed = isKnownProp(name) ? (PARSERS[name] as (raw: unknown) => Parsed)(raw) : parseCustom(name, raw);
    if (!parsed.ok) problems.push({ property: name, reason: parsed.reason });
    else if (isKnownProp(name)) record[name] = parsed.value;
    else next.custom = { ...next.custom, [name]: parsed.value };
  }
  if (!creating) for (const name of IMMUTABLE_PROPS) checkImmutable(name, base, next, problems);
  if (problems.length === 0) checkCombinations(base, next, creating, ctx.nValMax ?? N_VAL_MAX_DEFAULT, problems);
  if (problems.length > 0) throw new BadBucketPropsError(problems);
  return next;
}
