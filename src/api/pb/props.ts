// Bucket properties between Riak's RpbBucketProps and Rondo's Props
// (riak_pb_codec:encode_bucket_props / decode_bucket_props facts):
// - symbolic quorums travel in the uint32 fields as UINT32_MAX-1..-4
//   (one, quorum, all, default);
// - hooks are RpbCommitHook {modfun | name}; has_precommit/has_postcommit
//   say "the list is given" so an empty list can clear the hooks;
// - repl is an enum (FALSE, REALTIME, FULLSYNC, TRUE), rendered in JSON as
//   false, "realtime", "fullsync", true.
// Decoding produces the same raw record as an HTTP props body, so one
// validator (validateProps) checks both APIs.
import type { CommitHook, ModFun, Props, QuorumValue } from '../../kv/buckets/index.js';
import { PB_QUORUM } from '../../kv/coord/quorum/index.js';
import type { RpbBucketProps as PbBucketProps, RpbCommitHook as PbCommitHook, RpbModFun as PbModFun } from './codec/index.js';

const QUORUM_FIELDS = ['pr', 'r', 'w', 'pw', 'dw', 'rw'] as const;
const NUMBER_FIELDS = ['n_val', 'old_vclock', 'young_vclock', 'big_vclock', 'small_vclock', 'hll_precision'] as const;
const BOOLEAN_FIELDS = ['allow_mult', 'last_write_wins', 'basic_quorum', 'notfound_ok', 'search', 'consistent', 'write_once'] as const;
const TEXT_FIELDS = ['backend', 'search_index', 'datatype'] as const;
const REPL_VALUES: readonly (boolean | string)[] = [false, 'realtime', 'fullsync', true];

const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function quorumToPb(value: QuorumValue): number {
  return typeof value === 'number' ? value : PB_QUORUM[value];
}

function quorumFromPb(value: number): number | string {
  for (const [word, code] of Object.entries(PB_QUORUM)) if (code === value) return word;
  return value;
}

function modFunToPb(m: ModFun): PbModFun {
  return { module: bytes(m.mod), function: bytes(m.fun) };
}
function hookToPb(h: CommitHook): PbCommitHook {
  return 'name' in h ? { name: bytes(h.name) } : { modfun: modFunToPb(h) };
}
function modFunFromPb(m: PbModFun): { mod: string; fun: string } {
  return { mod: utf8(m.module), fun: utf8(m.function) };
}
function hookFromPb(h: PbCommitHook): Record<string, unknown> {
  if (h.modfun !== undefined) return modFunFromPb(h.modfun);
  if (h.name !== undefined) return { name: utf8(h.name) };
  return {}; // refused by validateProps, naming the property
}

/** Props as RpbBucketProps. Unknown custom properties without a PB field are left out. */
export function propsToPb(props: Props): PbBucketProps {
  const out: PbBucketProps = {
    n_val: props.n_val,
    allow_mult: props.allow_mult,
    last_write_wins: props.last_write_wins,
    precommit: props.precommit.map(hookToPb),
    has_precommit: props.precommit.length > 0,
    postcommit: props.postcommit.map(hookToPb),
    has_postcommit: props.postcommit.length > 0,
    chash_keyfun: modFunToPb(props.chash_keyfun),
    linkfun: modFunToPb(props.linkfun),
    old_vclock: props.old_vclock,
    young_vclock: props.young_vclock,
    big_vclock: props.big_vclock,
    small_vclock: props.small_vclock,
    basic_quorum: props.basic_quorum,
    notfound_ok: props.notfound_ok,
  };
  for (const name of QUORUM_FIELDS) out[name] = quorumToPb(props[name]);
  if (props.datatype !== undefined) out.datatype = bytes(props.datatype);
  if (props.consistent !== undefined) out.consistent = props.consistent;
  if (props.write_once !== undefined) out.write_once = props.write_once;
  if (props.hll_precision !== undefined) out.hll_precision = props.hll_precision;
  const c = props.custom;
  if (typeof c.backend === 'string') out.backend = bytes(c.backend);
  if (typeof c.search_index === 'string') out.search_index = bytes(c.search_index);
  if (typeof c.search === 'boolean') out.search = c.search;
  const repl = REPL_VALUES.indexOf(c.repl as boolean | string);
  if (repl >= 0) out.repl = repl;
  return out;
}

/** RpbBucketProps as the raw property record validateProps checks (only the fields that were set). */
export function propsFromPb(pb: PbBucketProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of NUMBER_FIELDS) if (pb[name] !== undefined) out[name] = pb[name];
  for (const name of BOOLEAN_FIELDS) if (pb[name] !== undefined) out[name] = pb[name];
  for (const name of TEXT_FIELDS) if (pb[name] !== undefined) out[name] = utf8(pb[name]);
  for (const name of QUORUM_FIELDS) if (pb[name] !== undefined) out[name] = quorumFromPb(pb[name]);
  if (pb.chash_keyfun !== undefined) out.chash_keyfun = modFunFromPb(pb.chash_keyfun);
  if (pb.linkfun !== undefined) out.linkfun = modFunFromPb(pb.linkfun);
  if ((pb.precommit?.length ?? 0) > 0 || pb.has_precommit === true) out.precommit = (pb.precommit ?? []).map(hookFromPb);
  if ((pb.postcommit?.length ?? 0) > 0 || pb.has_postcommit === true) out.postcommit = (pb.postcommit ?? []).map(hookFromPb);
  if (pb.repl !== undefined) out.repl = REPL_VALUES[pb.repl] ?? pb.repl;
  return out;
}
