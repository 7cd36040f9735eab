// Delete is a get (to learn the causal context, unless the client sent one)
// followed by a put of a tombstone; both run on GetCore and PutCore. This
// module only decides which quorums each phase uses.
//
// Riak rules (riak_kv_delete.erl, get_r_options / get_w_options):
// - Read phase: R is the client's r if it gave r or w, otherwise rw (RW
//   exists for old clients; giving r/w together with rw makes rw ignored).
//   PR is pr. A notfound here answers the delete with notfound.
// - Write phase: W is the client's w if it gave w, otherwise rw. PW and DW
//   are pw and dw. `default` takes the bucket property, as everywhere.
// - After a successful tombstone write (and no per-request n_val) Riak reads
//   the key again with R=all so the get's finalAction can reap the
//   tombstone once all n primaries hold it: DELETE_REAP_R.
import { DEFAULT_QUORUMS, resolveQuorum, validateQuorums, type QuorumName, type QuorumSpec, type QuorumSymbol } from './quorum-value.js';

export interface DeleteQuorums {
  read: { r: number; pr: number };
  write: { w: number; pw: number; dw: number };
}

/** The R of the reaping read Riak issues after a delete. */
export const DELETE_REAP_R: QuorumSymbol = 'all';

export function deleteQuorums(
  given: Partial<Record<QuorumName, QuorumSpec>>,
  nVal: number,
  bucket: Readonly<Record<QuorumName, QuorumSpec>> = DEFAULT_QUORUMS,
): DeleteQuorums {
  const resolve = (name: QuorumName): number => resolveQuorum(given[name] ?? 'default', nVal, bucket[name], name);
  const readWith: QuorumName = given.r !== undefined || given.w !== undefined ? 'r' : 'rw';
  const writeWith: QuorumName = given.w !== undefined ? 'w' : 'rw';
  const r = resolve(readWith);
  const w = resolve(writeWith);
  const checked = validateQuorums({ [readWith]: r, [writeWith]: w, pr: resolve('pr'), pw: resolve('pw'), dw: resolve('dw') }, nVal);
  return {
    read: { r: checked[readWith] ?? r, pr: checked.pr ?? 0 },
    write: { w: checked[writeWith] ?? w, pw: checked.pw ?? 0, dw: checked.dw ?? 1 },
  };
}
