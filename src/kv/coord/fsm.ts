// What the coordinators share: the shape of a coordinator state machine and
// the driver that runs one. A coordinator (get-fsm, put-fsm, delete-fsm) does
// no I/O: it is fed replies and a timeout and returns the vnode commands to
// send, its answer (once) and whether it is done. The driver sends, keeps the
// deadline, honours the AbortSignal and settles the caller's promise.
import type { DeadlineId, DeadlineTable } from '../../core/deadline/index.js';
import type { Logger, NodeName } from '../../core/env.js';
import { AbortedError, RondoError } from '../../core/errors.js';
import type { KvCommand, KvReply } from '../vnode/index.js';
import { BACKGROUND_REQUEST_TIMEOUT_MS } from './limits.js';

/** One entry of the preference list the coordinator talks to. */
export interface VnodeTarget {
  node: NodeName;
  partition: number;
  primary: boolean;
}

/**
 * A vnode's reply, or why none came (a RondoError code: timeout, overload,
 * peer_unreachable, message_too_large, ...; with the error itself when the
 * request failed on this node). A coordinated write on this node's own vnode
 * is reported twice: its reply with `durable: false` as soon as the object is
 * written (so replication starts at once), then `durable` or `failed` when
 * the engine has settled it. Every other reply is durable when it comes.
 */
export type VnodeOutcome = { kind: 'reply'; reply: KvReply; durable?: false } | { kind: 'durable' } | { kind: 'failed'; reason: string; error?: RondoError };

export type Answer<A> = { ok: true; value: A } | { ok: false; error: RondoError };

export interface FsmSend {
  /** Index into the coordinator's targets. */
  index: number;
  command: KvCommand;
}

export interface FsmOutput<A> {
  send: FsmSend[];
  /** Given at most once per coordinator. */
  answer?: Answer<A>;
  /** Nothing more to wait for; sends in this output are fire-and-forget. */
  done: boolean;
}

export interface Fsm<A> {
  readonly targets: readonly VnodeTarget[];
  start(): FsmOutput<A>;
  result(index: number, outcome: VnodeOutcome): FsmOutput<A>;
  timeout(): FsmOutput<A>;
}

/**
 * Runs one command on a vnode, local or remote, and calls `done` with its
 * reply or the reason none came (possibly before returning): once, or twice
 * for a coordinated write reported before it is durable (see VnodeOutcome).
 */
export type Dispatch = (target: VnodeTarget, command: KvCommand, timeoutMs: number, done: (outcome: VnodeOutcome) => void) => void;

export interface RunOptions {
  /** Where the request's timeout is kept (the service's table: one Env timer for all requests). */
  deadlines: DeadlineTable;
  nowMs: () => number;
  log: Logger;
  dispatch: Dispatch;
  timeoutMs: number;
  signal?: AbortSignal;
  /** "get default/b/k", for errors and logs. */
  what: string;
}

export function targetId(t: VnodeTarget): string {
  return `${t.node}/${t.partition}`;
}

export function reasonOf(err: unknown): string {
  return err instanceof RondoError ? err.code : 'internal';
}

/** Drive `fsm` until it is done; the promise settles with its answer. */
export function runFsm<A>(fsm: Fsm<A>, opts: RunOptions): Promise<A> {
  if (opts.signal?.aborted === true) return Promise.reject(new AbortedError(`${opts.what} aborted`));
  return new Promise<A>((resolve, reject) => new FsmDriver(fsm, opts, resolve, reject).start());
}

/**
 * Feeds a coordinator its start, replies and timeout one step at a time: a
 * reply that arrives while a step's output is being carried out (a dispatch
 * can answer at once) waits in `steps`, so the fsm is never re-entered.
 */
class FsmDriver<A> {
  private readonly steps: (() => FsmOutput<A>)[] = [];
  private draining = false;
  private answered = false;
  private done = false;
  private deadline: DeadlineId | undefined;
  private readonly deadlineMs: number;
  private readonly onAbort = (): void => {
    this.settle({ ok: false, error: new AbortedError(`${this.opts.what} aborted`) });
    this.finish();
  };

  constructor(
    private readonly fsm: Fsm<A>,
    private readonly opts: RunOptions,
    private readonly resolve: (value: A) => void,
    private readonly reject: (error: RondoError) => void,
  ) {
    this.deadlineMs = opts.nowMs() + opts.timeoutMs;
  }

  start(): void {
    this.deadline = this.opts.deadlines.add(this.opts.timeoutMs, () => {
      this.deadline = undefined;
      this.apply(() => this.fsm.timeout());
    });
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.apply(() => this.fsm.start());
  }

  private apply(step: () => FsmOutput<A>): void {
    if (this.done) return;
    this.steps.push(step);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.steps.shift(); next !== undefined && !this.done; next = this.steps.shift()) this.carryOut(next);
    } finally {
      this.draining = false;
      this.steps.length = 0;
    }
  }

  private carryOut(step: () => FsmOutput<A>): void {
    let out: FsmOutput<A>;
    try {
      out = step();
    } catch (err) {
      // A bug, or a peer's reply that broke an invariant: fail this request, not the node.
      const what = this.opts.what;
      this.opts.log.error({ what, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'coordinator failed');
      this.settle({ ok: false, error: new RondoError('internal', `${what}: coordinator failed: ${err instanceof Error ? err.message : String(err)}`) });
      this.finish();
      return;
    }
    if (out.answer !== undefined) this.settle(out.answer);
    if (out.done) this.finish();
    const timeoutMs = out.done ? BACKGROUND_REQUEST_TIMEOUT_MS : Math.max(1, this.deadlineMs - this.opts.nowMs());
    for (const { index, command } of out.send) {
      const target = this.fsm.targets[index];
      if (target === undefined) throw new Error(`assertion failed: send to target ${index} of ${this.fsm.targets.length}`);
      this.opts.dispatch(target, command, timeoutMs, (outcome) => this.apply(() => this.fsm.result(index, outcome)));
    }
  }

  private settle(answer: Answer<A>): void {
    if (this.answered) return;
    this.answered = true;
    if (answer.ok) this.resolve(answer.value);
    else this.reject(answer.error);
  }

  private finish(): void {
    this.done = true;
    if (this.deadline !== undefined) this.opts.deadlines.remove(this.deadline);
    this.deadline = undefined;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
  }
}
