// The get coordinator (riak_kv_get_fsm): ask every replica of the preference
// list, answer once GetCore has decided (R oks, PR from primaries, or the
// notfound/failure rules), keep collecting until all replied or the timer
// fired, then read repair: the merged object goes to every replica that
// answered notfound or something older.
// GetCore's finalAction `delete` (all n primaries hold the same tombstone) is
// left to the delete coordinator's scheduled reap here; a get does not reap.
import { contextOf, isTombstone, mergeReplicas, resolve, vvLeq } from '../object/index.js';
import type { Content, ObjectProps, RObject, VersionVector } from '../object/index.js';
import type { KeyRef } from '../vnode/index.js';
import { CoordinatorTimeoutError } from './errors.js';
import { targetId, type Answer, type Fsm, type FsmOutput, type FsmSend, type VnodeOutcome, type VnodeTarget } from './fsm.js';
import { GetCore, type GetResult } from './quorum/index.js';

export type GetAnswer =
  | { found: true; object: RObject; siblings: Content[]; context: VersionVector }
  /** `context` is the tombstone's when the key was deleted (a later put may supersede it). */
  | { found: false; context?: VersionVector };

export interface GetFsmOptions {
  ref: KeyRef;
  targets: readonly VnodeTarget[];
  r: number;
  pr: number;
  notfoundOk: boolean;
  basicQuorum: boolean;
  props: ObjectProps;
  timeoutMs: number;
  what: string;
}

export function mergeAll(objects: readonly RObject[], props: ObjectProps): RObject {
  const [first, ...rest] = objects;
  if (first === undefined) throw new Error('assertion failed: mergeAll of at least one object');
  return rest.reduce((acc, o) => mergeReplicas(acc, o, props), first);
}

export class GetFsm implements Fsm<GetAnswer> {
  readonly targets: readonly VnodeTarget[];
  private readonly o: GetFsmOptions;
  private readonly core: GetCore<RObject>;
  private answered = false;
  /** Every object a replica returned (tombstones included). */
  private readonly values: RObject[] = [];

  constructor(options: GetFsmOptions) {
    this.o = options;
    this.targets = options.targets;
    this.core = new GetCore<RObject>({
      n: options.targets.length,
      r: options.r,
      pr: options.pr,
      notfoundOk: options.notfoundOk,
      basicQuorum: options.basicQuorum,
      primaries: options.targets.filter((t) => t.primary).length,
      isTombstone,
    });
  }

  start(): FsmOutput<GetAnswer> {
    if (this.core.enough()) return { ...this.step([]), done: true }; // e.g. PR above the primaries up: ask no one
    const { ref } = this.o;
    return { send: this.targets.map((_, index) => ({ index, command: { kind: 'get', ...keyOf(ref) } })), done: false };
  }

  result(index: number, outcome: VnodeOutcome): FsmOutput<GetAnswer> {
    const target = this.targets[index];
    if (target === undefined) throw new Error(`assertion failed: reply from target ${index}`);
    const result = toGetResult(outcome);
    if (this.core.addResult({ id: targetId(target), primary: target.primary }, result) && result.type === 'ok') this.values.push(result.value);
    return this.step([]);
  }

  timeout(): FsmOutput<GetAnswer> {
    this.core.timeout();
    const out = this.step([]);
    if (out.done) return out;
    return { ...out, send: this.repairs(), done: true };
  }

  private step(send: FsmSend[]): FsmOutput<GetAnswer> {
    const out: FsmOutput<GetAnswer> = { send, done: false };
    if (!this.answered && this.core.enough()) {
      this.answered = true;
      out.answer = this.answer();
    }
    if (this.answered && this.core.hasAllResults()) return { ...out, send: [...send, ...this.repairs()], done: true };
    return out; // answered or not, wait for the stragglers so they can be repaired; the timer ends the wait

  }

  private answer(): Answer<GetAnswer> {
    const response = this.core.response();
    const { props } = this.o;
    switch (response.kind) {
      case 'ok': {
        const object = mergeAll(response.values, props);
        const siblings = resolve(object, props);
        if (siblings.length === 0) return { ok: true, value: { found: false, context: contextOf(object) } };
        return { ok: true, value: { found: true, object, siblings, context: contextOf(object) } };
      }
      case 'notfound':
        return { ok: true, value: response.tombstones.length > 0 ? { found: false, context: contextOf(mergeAll(response.tombstones, props)) } : { found: false } };
      case 'error': {
        const error = response.error.timedOut ? new CoordinatorTimeoutError(this.o.what, this.o.timeoutMs, response.error) : response.error;
        return { ok: false, error };
      }
    }
  }

  /** Read repair (finalAction): put-replicate the merge to notfound and stale replicas. */
  private repairs(): FsmSend[] {
    const { props } = this.o;
    const action = this.core.finalAction(
      (values) => mergeAll(values, props),
      (value, merged) => !vvLeq(contextOf(merged), contextOf(value)),
    );
    if (action.kind !== 'read-repair') return [];
    const merged = this.merged();
    if (merged === undefined) return [];
    const ids = new Set(action.targets);
    const send: FsmSend[] = [];
    this.targets.forEach((t, index) => {
      if (ids.has(targetId(t))) send.push({ index, command: { kind: 'put-replicate', props, object: merged } });
    });
    return send;
  }

  private merged(): RObject | undefined {
    return this.values.length > 0 ? mergeAll(this.values, this.o.props) : undefined;
  }
}

function keyOf(ref: KeyRef): KeyRef {
  return { bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key };
}

function toGetResult(outcome: VnodeOutcome): GetResult<RObject> {
  if (outcome.kind === 'failed') return { type: 'error', reason: outcome.reason };
  const reply = outcome.reply;
  switch (reply.kind) {
    case 'object':
      return { type: 'ok', value: reply.object };
    case 'notfound':
      return { type: 'notfound' };
    case 'error':
      return { type: 'error', reason: reply.code };
    default:
      return { type: 'error', reason: `unexpected reply ${reply.kind}` };
  }
}
