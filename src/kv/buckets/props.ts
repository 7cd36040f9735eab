// Bucket properties with Riak's names and defaults (riak_core_bucket_type:
// defaults/0,1). The `default` type keeps Riak 1.x behaviour (allow_mult and
// dvv_enabled off); every type created later has both on. Property values are
// plain data so they live in cluster metadata and render as Riak's HTTP JSON.

export const DATATYPES = ['counter', 'set', 'map', 'hll', 'gset'] as const;
export type Datatype = (typeof DATATYPES)[number];

/** Symbolic quorum values a bucket property may hold (`default` is resolved on input). */
export const QUORUM_WORDS = ['one', 'quorum', 'all'] as const;
export type QuorumWord = (typeof QUORUM_WORDS)[number];
export type QuorumValue = number | QuorumWord;

/** An Erlang {Module, Function} pair, as Riak renders it: {"mod": ..., "fun": ...}. */
export interface ModFun {
  mod: string;
  fun: string;
}
/** A commit hook: an Erlang mod/fun, or a named JavaScript function ({"name": ...}). */
export type CommitHook = ModFun | { name: string };

export interface Props {
  n_val: number;
  allow_mult: boolean;
  last_write_wins: boolean;
  dvv_enabled: boolean;
  r: QuorumValue;
  w: QuorumValue;
  dw: QuorumValue;
  rw: QuorumValue;
  pr: QuorumValue;
  pw: QuorumValue;
  notfound_ok: boolean;
  basic_quorum: boolean;
  big_vclock: number;
  small_vclock: number;
  old_vclock: number;
  young_vclock: number;
  precommit: CommitHook[];
  postcommit: CommitHook[];
  chash_keyfun: ModFun;
  linkfun: ModFun;
  /** CRDT buckets only; set when the type is created, never changed after. */
  datatype?: Datatype;
  /** HyperLogLog precision (datatype hll only), 4..16, may only go down. */
  hll_precision?: number;
  /** Strongly consistent type; set when the type is created, never changed after. */
  consistent?: boolean;
  /** Write-once type; set when the type is created, never changed after. */
  write_once?: boolean;
  /** Properties Rondo does not interpret (search_index, backend, ...): kept as given, like Riak. */
  custom: Record<string, unknown>;
}

/** Name of the type every bucket without an explicit type belongs to. */
export const DEFAULT_TYPE = 'default';
/** Largest n_val a bucket may ask for. option: nValMax */
export const N_VAL_MAX_DEFAULT = 16;
/** riak_kv's default HyperLogLog precision (HYPER_DEFAULT_PRECISION). */
export const HLL_PRECISION_DEFAULT = 14;
export const HLL_PRECISION_MIN = 4;
export const HLL_PRECISION_MAX = 16;

/** Shown by GET, never stored as properties: ignored on input so a GET body can be PUT back. */
export const READ_ONLY_PROPS: readonly string[] = ['name', 'active', 'claimant'];
/** Properties fixed when a type is created (riak_kv_bucket:validate/4). */
export const IMMUTABLE_PROPS: readonly string[] = ['datatype', 'consistent', 'write_once'];
export const QUORUM_PROPS = ['r', 'w', 'dw', 'rw', 'pr', 'pw'] as const;
export type QuorumProp = (typeof QUORUM_PROPS)[number];

function commonDefaults(): Omit<Props, 'allow_mult' | 'dvv_enabled'> {
  return {
    n_val: 3,
    last_write_wins: false,
    r: 'quorum',
    w: 'quorum',
    dw: 'quorum',
    rw: 'quorum',
    pr: 0,
    pw: 0,
    notfound_ok: true,
    basic_quorum: false,
    big_vclock: 50,
    small_vclock: 50,
    old_vclock: 86_400,
    young_vclock: 20,
    precommit: [],
    postcommit: [],
    chash_keyfun: { mod: 'riak_core_util', fun: 'chash_std_keyfun' },
    linkfun: { mod: 'riak_kv_wm_link_walker', fun: 'mapreduce_linkfun' },
    custom: {},
  };
}

/** Properties of the `default` type (riak_core_bucket_type:defaults(default_type)). */
export function defaultTypeProps(): Props {
  return { ...commonDefaults(), allow_mult: false, dvv_enabled: false };
}

/** Properties a newly created type starts from (riak_core_bucket_type:defaults()). */
export function newTypeProps(): Props {
  return { ...commonDefaults(), allow_mult: true, dvv_enabled: true };
}

const KNOWN: ReadonlySet<string> = new Set(Object.keys(newTypeProps()).filter((k) => k !== 'custom').concat(['datatype', 'hll_precision', 'consistent', 'write_once']));

export function isKnownProp(name: string): boolean {
  return KNOWN.has(name);
}

/** A deep copy, so no two Props share arrays or objects. */
export function cloneProps(props: Props): Props {
  return structuredClone(props);
}

/**
 * Lay already-validated values (Riak names, unknown names go to `custom`) over
 * `base`. No validation: used to apply stored bucket overrides to their type.
 */
export function overlayProps(base: Props, values: Readonly<Record<string, unknown>>): Props {
  const out = cloneProps(base);
  const record = out as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(values)) {
    if (READ_ONLY_PROPS.includes(name)) continue;
    if (KNOWN.has(name)) record[name] = structuredClone(value);
    else out.custom = { ...out.custom, [name]: structuredClone(value) };
  }
  return out;
}

/** The value of one property by its Riak name (known or custom). */
export function propValue(props: Props, name: string): unknown {
  if (KNOWN.has(name)) return (props as unknown as Record<string, unknown>)[name];
  return Object.hasOwn(props.custom, name) ? props.custom[name] : undefined;
}
