// What the coordinators share: the shape of a coordinator state machine and
// the driver that runs one. A coordinator (get-fsm, put-fsm, delete-fsm) does
// no I/O: it is fed replies and a timeout and returns the vnode commands to
// send, its answer (once) and whether it is done. The driver sends, arms the
// timer from the Env, honours the AbortSignal and settles the caller's promise.
import type { Env, NodeName, TimerId } from '../../core/env.js';
import { AbortedError, RondoError } from '../../core/errors.js';
import type { KvCommand, KvReply } from '../vnode/index.js';
import { BACKGROUND_REQUEST_TIMEOUT_MS } from './limits.js';

/** One entry of the preference list the coordinator talks to. */
export interface VnodeTarget {
  node: NodeName;
  partition: number;
  primary: boolean;
}

/** A vnode's reply, or why none came (a RondoError code: timeout, overload, peer_unreachable, ...). */
export type VnodeOutcome = { kind: 'reply'; reply: KvReply } | { kind: 'failed'; reason: string };

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

/** Runs one command on a vnode, local or remote; rejects with a RondoError when no reply comes. */
export type Dispatch = (target: VnodeTarget, command: KvCommand, timeoutMs: number) => Promise<KvReply>;

export interface RunOptions {
  env: Env;
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
  const { env, signal, what } = opts;
  if (signal?.aborted === true) return Promise.reject(new AbortedError(`${what} aborted`));
  return new Promise<A>((resolve, reject) => {
    const deadlineMs = env.nowMs() + opts.timeoutMs;
    let answered = false;
    let done = false;
    let timer: TimerId | undefined;
    const settle = (answer: Answer<A>): void => {
      if (answered) return;
      answered = true;
      if (answer.ok) resolve(answer.value);
      else reject(answer.error);
    };
    const onAbort = (): void => {
      settle({ ok: false, error: new AbortedError(`${what} aborted`) });
      finish();
    };
    const finish = (): void => {
      done = true;
      if (timer !== undefined) env.clearTimer(timer);
      timer = undefined;
      signal?.removeEventListener('abort', onAbort);
    };
    const apply = (step: () => FsmOutput<A>): void => {
      if (done) return;
      let out: FsmOutput<A>;
      try {
        out = step();
      } catch (err) {
        // A bug, or a peer's reply that broke an invariant: fail this request, not the node.
        env.log.error({ what, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'coordinator failed');
        settle({ ok: false, error: new RondoError('internal', `${what}: coordinator failed: ${err instanceof Error ? err.message : String(err)}`) });
        finish();
        return;
      }
      if (out.answer !== undefined) settle(out.answer);
      if (out.done) finish();
      for (const { index, command } of out.send) {
        const target = fsm.targets[index];
        if (target === undefined) throw new Error(`assertion failed: send to target ${index} of ${fsm.targets.length}`);
        const timeoutMs = out.done ? BACKGROUND_REQUEST_TIMEOUT_MS : Math.max(1, deadlineMs - env.nowMs());
        opts.dispatch(target, command, timeoutMs).then(
          (reply) => apply(() => fsm.result(index, { kind: 'reply', reply })),
          (err: unknown) => apply(() => fsm.result(index, { kind: 'failed', reason: reasonOf(err) })),
        );
      }
    };
    timer = env.setTimer(opts.timeoutMs, () => {
      timer = undefined;
      apply(() => fsm.timeout());
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    apply(() => fsm.start());
  });
}
