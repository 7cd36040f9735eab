// A toy counter vnode with commands the test releases by hand, and a
// simulated Env that counts live timers and captures error logs.
import type { Env } from '../../../src/core/env.js';
import { timedEnv } from '../../helpers/timed-env.js';
import { VnodeHost, type VnodeHostOptions, type VnodeResult } from '../../../src/core/vnode/host.js';
import type { HandoffItem, VnodeBehaviour, VnodeContext, VnodeDirective } from '../../../src/core/vnode/types.js';

export class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => (this.open = resolve));
  }
}

export type Cmd =
  | { op: 'inc'; tag: string; gate?: Gate }
  | { op: 'throw'; error: unknown }
  | { op: 'forward' }
  | { op: 'noreply' };

export class Counter implements VnodeBehaviour<Cmd, number> {
  count = 0;
  active = 0;
  maxActive = 0;
  terminated = false;
  readonly started: string[] = [];
  readonly signals = new Map<string, AbortSignal>();
  constructor(readonly log: string[]) {}

  handleCommand(cmd: Cmd, ctx: VnodeContext): VnodeDirective<number> | Promise<VnodeDirective<number>> {
    return this.run(cmd, ctx);
  }

  private async run(cmd: Cmd, ctx: VnodeContext): Promise<VnodeDirective<number>> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      switch (cmd.op) {
        case 'inc':
          this.log.push(`${ctx.partition}:start:${cmd.tag}`);
          this.started.push(cmd.tag);
          this.signals.set(cmd.tag, ctx.signal);
          if (cmd.gate !== undefined) await cmd.gate.promise;
          this.log.push(`${ctx.partition}:end:${cmd.tag}`);
          return { kind: 'reply', reply: ++this.count };
        case 'throw':
          throw cmd.error;
        case 'forward':
          return { kind: 'forward', node: 'n2', partition: 7 };
        case 'noreply':
          return { kind: 'noreply' };
      }
    } finally {
      this.active--;
    }
  }
  async handoffStarting(): Promise<boolean> {
    return false;
  }
  async handoffCancelled(): Promise<void> {}
  async handoffFinished(): Promise<void> {}
  async handleHandoffData(_items: readonly HandoffItem[]): Promise<void> {}
  async takeHandoffChanges(): Promise<HandoffItem[] | 'lost'> {
    return 'lost';
  }
  async *foldHandoffItems(): AsyncIterable<HandoffItem> {}
  async isEmpty(): Promise<boolean> {
    return this.count === 0;
  }
  async delete(): Promise<void> {}
  async terminate(): Promise<void> {
    this.terminated = true;
  }
}

export class CoverageCounter extends Counter {
  async handleCoverage(_cmd: Cmd, ctx: VnodeContext): Promise<VnodeDirective<number>> {
    return { kind: 'reply', reply: 1000 + ctx.partition };
  }
}

/** Lets every pending promise callback run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Tracks a promise's outcome without leaving a rejection unhandled. */
export function track<T>(promise: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const t: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(t, { value, done: true }),
    (error: unknown) => Object.assign(t, { error, done: true }),
  );
  return t;
}

export function reply(n: number): VnodeResult<number> {
  return { kind: 'reply', reply: n };
}

export function setup(opts: Partial<VnodeHostOptions<Cmd, number>> & { coverage?: boolean } = {}) {
  const timed = timedEnv();
  const { sim, liveTimers } = timed;
  const errorLogs: string[] = [];
  const env: Env = { ...timed.env, log: { ...timed.env.log, error: (_obj, msg) => void errorLogs.push(msg ?? '') } };
  const log: string[] = [];
  const vnodes: Counter[] = [];
  const host = new VnodeHost<Cmd, number>({
    env,
    node: 'n1',
    create: () => {
      const v = opts.coverage === true ? new CoverageCounter(log) : new Counter(log);
      vnodes.push(v);
      return v;
    },
    ...opts,
  });
  const vnode = (p: number): Counter => host.vnode(p) as Counter;
  return { sim, env, host, log, vnodes, vnode, liveTimers, errorLogs };
}
