// The get coordinator (riak_kv_get_fsm): ask every replica of the preference
// list, answer once GetCore has decided (R oks, PR from primaries, or the
// notfound/failure rules), keep collecting until all replied or the timer
// fired, then read repair: the merged object goes to every replica that
// answered notfound or something older. Replies carry the stored bytes:
// each distinct encoding is decoded (and checked to name this key) once, and
// the merge is computed once per new distinct object.
// GetCore's finalAction `delete` (all n primaries hold the same tombstone) is
// left to the delete coordinator's scheduled reap here; a get does not reap.
import { CorruptObjectError } from '../errors.js';
import { contextOf, decodeObject, describeKey, encodeObject, isTombstone, mergeReplicas, resolve, sameBytes, vvLeq } from '../object/index.js';
import type { Content, ObjectProps, RObject, VersionVector } from '../object/index.js';
import type { KeyRef, KvCommand } from '../vnode/index.js';
import { CoordinatorTimeoutError } from './errors.js';
import { targetId, type Answer, type Fsm, type FsmOutput, type FsmSend, type VnodeOutcome, type VnodeTarget } from './fsm.js';
import { GetCore, type GetResult } from './quorum/index.js';
import type { RepairKind } from '../stats.js';

/** Decoded values are views into bytes that nobody changes (see DecodeOptions). */
const VIEW_VALUES = { viewValues: true } as const;

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
  /** Told of each read repair sent (for /stats): to a primary or a fallback, for a notfound or an older object. */
  onRepair?: (kind: RepairKind) => void;
}

export function mergeAll(objects: readonly RObject[], props: ObjectProps): RObject {
  const [first, ...rest] = objects;
  if (first === undefined) throw new Error('assertion failed: mergeAll of at least one object');
  return rest.reduce((acc, o) => (o === acc ? acc : mergeReplicas(acc, o, props)), first);
}

/**
 * Decodes replicas' object bytes, once per distinct encoding: replicas in
 * sync send identical bytes, and those share one decoded object (so their
 * merge is that object, with no merge at all).
 */
export class ReplyObjects {
  private readonly seen: { bytes: Uint8Array; object: RObject }[] = [];
  /** Largest encoding seen (a /stats object size when the answer is a merge of several). */
  bytesMax = 0;
  constructor(private readonly ref: KeyRef) {}

  /** Throws CorruptObjectError when the bytes do not decode or name another key. */
  decode(bytes: Uint8Array): RObject {
    for (const s of this.seen) if (sameBytes(s.bytes, bytes)) return s.object;
    const object = decodeObject(bytes, VIEW_VALUES); // reply bytes: a fresh engine read or a received message
    const ref = this.ref;
    if (object.bucketType !== ref.bucketType || object.bucket !== ref.bucket || object.key !== ref.key) {
      throw new CorruptObjectError(`${describeKey(ref)}: a replica's object names ${describeKey(object)}`);
    }
    this.seen.push({ bytes, object });
    if (bytes.length > this.bytesMax) this.bytesMax = bytes.length;
    return object;
  }

  /** The size of `object`'s encoding when it is one a replica sent, else the largest seen. */
  bytesOf(object: RObject): number {
    for (const s of this.seen) if (s.object === object) return s.bytes.length;
    return this.bytesMax;
  }

  /** Adds an object known to be valid (a local vnode's own), under its bytes. */
  known(bytes: Uint8Array, object: RObject): RObject {
    for (const s of this.seen) if (sameBytes(s.bytes, bytes)) return s.object;
    this.seen.push({ bytes, object });
    if (bytes.length > this.bytesMax) this.bytesMax = bytes.length;
    return object;
  }

  /** Distinct objects decoded so far. */
  get count(): number {
    return this.seen.length;
  }
}

export class GetFsm implements Fsm<GetAnswer> {
  readonly targets: readonly VnodeTarget[];
  private readonly o: GetFsmOptions;
  private readonly core: GetCore<RObject>;
  private readonly ids: string[];
  private readonly objects: ReplyObjects;
  private answered = false;
  /** What each target answered (notfound tells a read repair's kind). */
  private readonly notfound: boolean[];
  /** The size in bytes of the object answered (encoded, as a replica sent it), for /stats; 0 until one is. */
  answerBytes = 0;
  /** The merge of every distinct object so far, and how many there were. */
  private merged: { object: RObject; count: number } | undefined;

  constructor(options: GetFsmOptions) {
    this.o = options;
    this.targets = options.targets;
    this.ids = options.targets.map(targetId);
    this.objects = new ReplyObjects(options.ref);
    this.notfound = options.targets.map(() => false);
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
    const command: KvCommand = { kind: 'get', bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key };
    return { send: this.targets.map((_, index) => ({ index, command })), done: false };
  }

  result(index: number, outcome: VnodeOutcome): FsmOutput<GetAnswer> {
    const target = this.targets[index];
    if (target === undefined) throw new Error(`assertion failed: reply from target ${index}`);
    const result = this.toGetResult(outcome);
    if (result.type === 'notfound') this.notfound[index] = true;
    this.core.addResult({ id: this.ids[index] as string, primary: target.primary }, result);
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
    switch (response.kind) {
      case 'ok': {
        const object = this.mergeOf(response.values);
        this.answerBytes = this.objects.bytesOf(object);
        const siblings = resolve(object, this.o.props);
        if (siblings.length === 0) return { ok: true, value: { found: false, context: contextOf(object) } };
        return { ok: true, value: { found: true, object, siblings, context: contextOf(object) } };
      }
      case 'notfound':
        return { ok: true, value: response.tombstones.length > 0 ? { found: false, context: contextOf(this.mergeOf(response.tombstones)) } : { found: false } };
      case 'error': {
        const error = response.error.timedOut ? new CoordinatorTimeoutError(this.o.what, this.o.timeoutMs, response.error) : response.error;
        return { ok: false, error };
      }
    }
  }

  /**
   * The merge of `values`, which are always objects this fsm decoded: merged
   * once per new distinct object, not once per question.
   */
  private mergeOf(values: readonly RObject[]): RObject {
    const count = this.objects.count;
    if (this.merged === undefined || this.merged.count !== count) this.merged = { object: mergeAll(values, this.o.props), count };
    return this.merged.object;
  }

  /** Read repair (finalAction): put-replicate the merge to notfound and stale replicas. */
  private repairs(): FsmSend[] {
    const { props } = this.o;
    let mergedContext: VersionVector | undefined;
    const action = this.core.finalAction(
      (values) => this.mergeOf(values),
      (value, merged) => value !== merged && !vvLeq((mergedContext ??= contextOf(merged)), contextOf(value)),
    );
    if (action.kind !== 'read-repair') return [];
    const merged = this.merged?.object;
    if (merged === undefined) return [];
    const command: KvCommand = { kind: 'put-replicate', props, bytes: encodeObject(merged), object: merged };
    const send: FsmSend[] = [];
    const onRepair = this.o.onRepair;
    this.ids.forEach((id, index) => {
      if (!action.targets.includes(id)) return;
      send.push({ index, command });
      if (onRepair !== undefined) onRepair(`${this.targets[index]?.primary === true ? 'primary' : 'fallback'}_${this.notfound[index] === true ? 'notfound' : 'outofdate'}`);
    });
    return send;
  }

  private toGetResult(outcome: VnodeOutcome): GetResult<RObject> {
    if (outcome.kind === 'failed') return { type: 'error', reason: outcome.reason };
    if (outcome.kind === 'durable') return { type: 'error', reason: 'unexpected durability report' }; // gets are delivered durable
    const reply = outcome.reply;
    switch (reply.kind) {
      case 'object':
        try {
          return { type: 'ok', value: this.objects.decode(reply.bytes) };
        } catch (err) {
          if (err instanceof CorruptObjectError) return { type: 'error', reason: err.code };
          throw err;
        }
      case 'notfound':
        return { type: 'notfound' };
      case 'error':
        return { type: 'error', reason: reply.code };
      default:
        return { type: 'error', reason: `unexpected reply ${reply.kind}` };
    }
  }
}
