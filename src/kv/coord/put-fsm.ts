// The put coordinator (riak_kv_put_fsm). The coordinating vnode (this node's
// own entry of the preference list when it has one, else the first entry)
// runs the put: it issues the dot and writes. Its stored object is then
// replicated (put-replicate) to the other entries, fallbacks included (sloppy
// quorum; returning their hints to the primaries is handoff's job). PutCore
// counts: the coordinator's stored reply counts as its w and dw. The answer
// comes once W, PW and DW are met or can no longer be; the coordinator keeps
// collecting until every replica answered or the timer fired.
// The coordinating vnode may be on another node: rather than forwarding the
// whole put there (Riak), this node sends it the put-coordinate command and
// replicates the object it returns. Same causality, one fewer message hop to
// write the code for; it costs one extra round trip when this node is not in
// the preference list.
import { MessageTooLargeError, RondoError } from '../../core/errors.js';
import { errorOf } from '../vnode/index.js';
import type { DeleteCoordinateCommand, KvCommand, PutCoordinateCommand, StoredReply } from '../vnode/index.js';
import { CorruptObjectError } from '../errors.js';
import { contextOf, resolve } from '../object/index.js';
import type { Content, ObjectProps, ObjectWarning, RObject, VersionVector } from '../object/index.js';
import { CoordinatorTimeoutError } from './errors.js';
import { targetId, type Answer, type Fsm, type FsmOutput, type FsmSend, type VnodeOutcome, type VnodeTarget } from './fsm.js';
import { mergeAll, ReplyObjects } from './get-fsm.js';
import { PutCore, type PutResult } from './quorum/index.js';

export interface PutAnswer {
  /** The merge of what the replicas that answered stored. */
  object: RObject;
  context: VersionVector;
  /** What a reader sees now (resolve): the return_body; [] unless returnBody was asked. */
  siblings: Content[];
  warnings: ObjectWarning[];
}

export interface PutFsmOptions {
  targets: readonly VnodeTarget[];
  /** Index of the coordinating vnode in targets. */
  coordinator: number;
  command: PutCoordinateCommand | DeleteCoordinateCommand;
  props: ObjectProps;
  w: number;
  pw: number;
  dw: number;
  returnBody: boolean;
  timeoutMs: number;
  what: string;
}

export class PutFsm implements Fsm<PutAnswer> {
  readonly targets: readonly VnodeTarget[];
  private readonly o: PutFsmOptions;
  private readonly core: PutCore<RObject>;
  /** What each replica stored, by target index. */
  private readonly storedObjects: (RObject | undefined)[];
  /** Targets whose write is settled (durable or failed). */
  private readonly finishedTargets: boolean[];
  private finishedCount = 0;
  /** Targets that reported a write not yet durable (the coordinator's own, see VnodeOutcome). */
  private readonly acknowledged: boolean[];
  private readonly objects: ReplyObjects;
  /** The coordinating vnode's stored object and its bytes, once it replied. */
  private coordinated: { object: RObject; bytes: Uint8Array } | undefined;
  private warnings: ObjectWarning[] = [];
  private coordinatorError: Answer<PutAnswer> | undefined;
  /** A replica's refusal for size (its merge above objectBytesMax, or a message above the frame limit): retrying cannot help. */
  private sizeRefusal: RondoError | undefined;
  private answered = false;
  private finished = false;

  constructor(options: PutFsmOptions) {
    if (options.coordinator < 0 || options.coordinator >= options.targets.length) throw new Error('assertion failed: the coordinator is a target');
    this.o = options;
    this.targets = options.targets;
    this.storedObjects = options.targets.map(() => undefined);
    this.finishedTargets = options.targets.map(() => false);
    this.acknowledged = options.targets.map(() => false);
    const { bucketType, bucket, key } = options.command;
    this.objects = new ReplyObjects({ bucketType, bucket, key });
    this.core = new PutCore<RObject>({
      n: options.targets.length,
      w: options.w,
      pw: options.pw,
      dw: options.dw,
      primaries: options.targets.filter((t) => t.primary).length,
      returnBody: options.returnBody,
    });
  }

  /** Objects stored per target (undefined: no stored reply); complete once the fsm is done. */
  stored(): readonly (RObject | undefined)[] {
    return this.storedObjects;
  }

  isFinished(): boolean {
    return this.finished;
  }

  start(): FsmOutput<PutAnswer> {
    // PW above the primaries up: refuse before anything is written.
    if (this.core.enough()) return this.step([], true);
    return { send: [{ index: this.o.coordinator, command: this.o.command }], done: false };
  }

  result(index: number, outcome: VnodeOutcome): FsmOutput<PutAnswer> {
    const target = this.targets[index];
    if (target === undefined || this.finishedTargets[index] === true) return { send: [], done: false };
    const local = index === this.o.coordinator;
    const from = { id: targetId(target), primary: target.primary, ...(local ? { local: true } : {}) };
    if (outcome.kind === 'durable') {
      // The written object of an early reply (see VnodeOutcome) is now durable.
      if (this.acknowledged[index] !== true) return { send: [], done: false };
      this.finish(index);
      this.core.addResult(from, { type: 'dw', value: this.storedObjects[index] });
      return this.step([]);
    }
    const early = outcome.kind === 'reply' && outcome.durable === false;
    if (early && this.acknowledged[index] === true) return { send: [], done: false };
    const result = this.toPutResult(index, outcome);
    if (early && result.type === 'dw') {
      this.acknowledged[index] = true;
      this.core.addResult(from, { type: 'w' });
      this.storedObjects[index] = result.value;
    } else {
      this.finish(index);
      this.core.addResult(from, result);
      this.storedObjects[index] = result.type === 'dw' ? result.value : undefined;
    }
    if (!local) {
      if (result.type === 'fail') this.noteSizeRefusal(outcome);
      return this.step([]);
    }
    if (result.type === 'fail') {
      // The coordinating vnode's own refusal (precondition, limits, corrupt object), or a command too large to
      // reach it, is the answer, with its code.
      const error = outcome.kind === 'reply' ? errorOf(outcome.reply) : outcome.kind === 'failed' && outcome.error instanceof MessageTooLargeError ? outcome.error : undefined;
      if (error !== undefined) this.coordinatorError = { ok: false, error };
      return this.step([], true);
    }
    if (outcome.kind !== 'reply') return this.step([]);
    if (outcome.reply.kind === 'stored') this.warnings = outcome.reply.warnings;
    const send: FsmSend[] = [];
    const coordinated = this.coordinated;
    if (coordinated !== undefined) {
      const command: KvCommand = { kind: 'put-replicate', props: this.o.props, bytes: coordinated.bytes, object: coordinated.object };
      this.targets.forEach((_, i) => {
        if (i !== this.o.coordinator) send.push({ index: i, command });
      });
    }
    return this.step(send);
  }

  private noteSizeRefusal(outcome: Exclude<VnodeOutcome, { kind: 'durable' }>): void {
    const error = outcome.kind === 'reply' ? errorOf(outcome.reply) : outcome.error;
    if (error !== undefined && SIZE_REFUSAL_CODES.has(error.code)) this.sizeRefusal ??= error;
  }

  private finish(index: number): void {
    this.finishedTargets[index] = true;
    this.finishedCount++;
  }

  timeout(): FsmOutput<PutAnswer> {
    this.core.timeout();
    return this.step([], true);
  }

  private step(send: FsmSend[], done = false): FsmOutput<PutAnswer> {
    const out: FsmOutput<PutAnswer> = { send, done };
    if (!this.answered && (this.coordinatorError !== undefined || this.core.enough())) {
      this.answered = true;
      out.answer = this.coordinatorError ?? this.answer();
    }
    if (this.finishedCount === this.targets.length) out.done = true;
    if (out.done) this.finished = true;
    return out;
  }

  private answer(): Answer<PutAnswer> {
    const response = this.core.response();
    if (response.kind === 'error') {
      const timedOut = 'timedOut' in response.error && response.error.timedOut;
      if (!timedOut && this.sizeRefusal !== undefined) {
        // Too few replicas took the write because some refused it for its size: answer with that (413), not a
        // quorum error inviting a retry that cannot succeed. The coordinating replica may hold the write.
        const message = `${this.o.what}: ${this.sizeRefusal.message}; ${response.error.message} (the coordinating replica may hold the write: read the key and resolve its siblings)`;
        return { ok: false, error: new RondoError(this.sizeRefusal.code, message) };
      }
      const error = 'timedOut' in response.error && response.error.timedOut ? new CoordinatorTimeoutError(this.o.what, this.o.timeoutMs, response.error) : response.error;
      return { ok: false, error };
    }
    const stored = this.storedObjects.filter((o): o is RObject => o !== undefined);
    const object = mergeAll(stored, this.o.props);
    const siblings = this.o.returnBody ? resolve(object, this.o.props) : [];
    return { ok: true, value: { object, context: contextOf(object), siblings, warnings: this.warnings } };
  }

  /**
   * The coordinating vnode's reply brings its stored object (decoded in
   * process, else from its bytes); a replica's reply brings bytes only when
   * it stored something other than the coordinator's object.
   */
  private toPutResult(index: number, outcome: Exclude<VnodeOutcome, { kind: 'durable' }>): PutResult<RObject> {
    if (outcome.kind === 'failed') return { type: 'fail', reason: outcome.reason };
    const reply = outcome.reply;
    switch (reply.kind) {
      case 'stored':
        try {
          return { type: 'dw', value: this.storedObjectOf(index, reply) };
        } catch (err) {
          if (err instanceof CorruptObjectError) return { type: 'fail', reason: err.code };
          throw err;
        }
      case 'error':
        return { type: 'fail', reason: reply.code };
      default:
        return { type: 'fail', reason: `unexpected reply ${reply.kind}` };
    }
  }

  private storedObjectOf(index: number, reply: Extract<StoredReply, { kind: 'stored' }>): RObject | undefined {
    if (index === this.o.coordinator) {
      if (reply.bytes === undefined) return undefined; // a coordinated write always sends its bytes: counts, but nothing to replicate
      const object = reply.object === undefined ? this.objects.decode(reply.bytes) : this.objects.known(reply.bytes, reply.object);
      this.coordinated = { object, bytes: reply.bytes };
      return object;
    }
    if (reply.bytes !== undefined) return this.objects.decode(reply.bytes);
    return this.coordinated?.object; // stored exactly what it was sent
  }
}

/** Codes of a replica refusing a write for its size. */
const SIZE_REFUSAL_CODES: ReadonlySet<string> = new Set(['kv_object_too_large', 'message_too_large']);
