// The vnode host (riak_core_vnode's process loop). One bounded mailbox per
// partition; a vnode runs one command at a time, different partitions run
// concurrently. Every command is answered: with the vnode's reply, a forward,
// or a typed error (overload, timeout, aborted, internal). Nothing is dropped.
import { VNODE_COMMAND_TIMEOUT_MS, VNODE_MAILBOX_COMMANDS_MAX } from '../constants.js';
import type { Env, NodeName, TimerId } from '../env.js';
import { AbortedError, InvalidArgumentError, OverloadError, RondoError, TimeoutError, assert } from '../errors.js';
import type { VnodeBehaviour, VnodeContext, VnodeDirective } from './types.js';

/** What a command resolves with. A forward is for the caller to route. */
export type VnodeResult<Reply> = { kind: 'reply'; reply: Reply } | { kind: 'forwarded'; node: NodeName; partition: number };

export interface VnodeHostOptions<Command, Reply> {
  env: Env;
  node: NodeName;
  /** Builds a partition's vnode, lazily, on its first command. */
  create: (partition: number) => VnodeBehaviour<Command, Reply>;
  mailboxMax?: number; // default VNODE_MAILBOX_COMMANDS_MAX
  commandTimeoutMs?: number; // default VNODE_COMMAND_TIMEOUT_MS
}

export interface VnodeCommandOptions {
  signal?: AbortSignal;
  /** Overrides the host's commandTimeoutMs for this command. */
  timeoutMs?: number;
}

export interface VnodeStats {
  partition: number;
  /** Commands waiting behind the running one. */
  queued: number;
  /** Commands that got 'noreply' and wait for their timeout. */
  awaiting: number;
  running: boolean;
  processed: number;
  overloads: number;
  timeouts: number;
  errors: number;
}

/** What a queued entry runs: a command (its directive is carried out) or exclusive work (its value is returned). */
type Work<Command, Reply> =
  | { kind: 'command'; command: Command; coverage: boolean }
  | { kind: 'exclusive'; run: (vnode: VnodeBehaviour<Command, Reply>, ctx: VnodeContext) => Promise<unknown> };

interface Pending<Command, Reply> {
  readonly work: Work<Command, Reply>;
  readonly controller: AbortController;
  readonly resolve: (result: VnodeResult<Reply> | { kind: 'done'; value: unknown }) => void;
  readonly reject: (err: Error) => void;
  timer: TimerId | undefined;
  unlisten: (() => void) | undefined;
  settled: boolean;
}

interface Slot<Command, Reply> {
  readonly partition: number;
  readonly behaviour: VnodeBehaviour<Command, Reply>;
  readonly mailbox: Pending<Command, Reply>[];
  readonly awaiting: Set<Pending<Command, Reply>>;
  /** The running command's run; undefined when idle. */
  current: Promise<void> | undefined;
  stopping: Promise<void> | undefined;
  processed: number;
  overloads: number;
  timeouts: number;
  errors: number;
}

export class VnodeHost<Command, Reply> {
  private readonly env: Env;
  private readonly node: NodeName;
  private readonly create: (partition: number) => VnodeBehaviour<Command, Reply>;
  private readonly mailboxMax: number;
  private readonly commandTimeoutMs: number;
  private readonly slots = new Map<number, Slot<Command, Reply>>();
  /** Partitions whose commands go elsewhere (a handoff's new owner), checked when each command starts. */
  private readonly forwards = new Map<number, { node: NodeName; partition: number }>();

  constructor(opts: VnodeHostOptions<Command, Reply>) {
    this.env = opts.env;
    this.node = opts.node;
    this.create = opts.create;
    this.mailboxMax = opts.mailboxMax ?? VNODE_MAILBOX_COMMANDS_MAX;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? VNODE_COMMAND_TIMEOUT_MS;
    assert(Number.isSafeInteger(this.mailboxMax) && this.mailboxMax > 0, 'mailboxMax is a positive integer');
    assert(Number.isFinite(this.commandTimeoutMs) && this.commandTimeoutMs > 0, 'commandTimeoutMs is positive');
  }

  /** Deliver a command to the partition's vnode (started lazily). See VnodeResult and the errors above. */
  command(partition: number, command: Command, opts: VnodeCommandOptions = {}): Promise<VnodeResult<Reply>> {
    return this.deliver(partition, command, false, opts);
  }

  /** Same as command(), handled by the vnode's handleCoverage (InvalidArgumentError if it has none). */
  coverage(partition: number, command: Command, opts: VnodeCommandOptions = {}): Promise<VnodeResult<Reply>> {
    return this.deliver(partition, command, true, opts);
  }

  /**
   * Run `run` on the partition's vnode in mailbox order, as if it were a
   * command: no command of that vnode runs meanwhile. Handoff uses it to
   * apply batches and to drop a partition only when nothing changed.
   */
  async exclusive<T>(partition: number, run: (vnode: VnodeBehaviour<Command, Reply>, ctx: VnodeContext) => Promise<T>, opts: VnodeCommandOptions = {}): Promise<T> {
    const result = await this.enqueue(partition, { kind: 'exclusive', run }, opts);
    assert(result.kind === 'done', 'exclusive work resolves with its value');
    return result.value as T;
  }

  /**
   * From now on answer the partition's commands (not coverage, not exclusive
   * work) with a forward to `target`, without running them; undefined stops
   * forwarding. Handoff sets it once the new owner has everything.
   */
  setForward(partition: number, target: { node: NodeName; partition: number } | undefined): void {
    if (target === undefined) this.forwards.delete(partition);
    else this.forwards.set(partition, target);
  }

  vnode(partition: number): VnodeBehaviour<Command, Reply> | undefined {
    return this.slots.get(partition)?.behaviour;
  }

  partitions(): number[] {
    return [...this.slots.keys()].sort((a, b) => a - b);
  }

  /** Reject queued and awaiting commands (AbortedError 'vnode stopping'), let the running one finish, then terminate(). */
  stop(partition: number): Promise<void> {
    const slot = this.slots.get(partition);
    if (slot === undefined) return Promise.resolve();
    slot.stopping ??= this.stopSlot(slot);
    return slot.stopping;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.partitions().map((p) => this.stop(p)));
  }

  stats(): VnodeStats[] {
    return this.partitions().map((partition) => {
      const s = this.slots.get(partition)!;
      const { processed, overloads, timeouts, errors } = s;
      return { partition, queued: s.mailbox.length, awaiting: s.awaiting.size, running: s.current !== undefined, processed, overloads, timeouts, errors };
    });
  }

  private async deliver(partition: number, command: Command, coverage: boolean, opts: VnodeCommandOptions): Promise<VnodeResult<Reply>> {
    const result = await this.enqueue(partition, { kind: 'command', command, coverage }, opts);
    assert(result.kind !== 'done', 'a command resolves with a VnodeResult');
    return result;
  }

  private enqueue(partition: number, work: Work<Command, Reply>, opts: VnodeCommandOptions): Promise<VnodeResult<Reply> | { kind: 'done'; value: unknown }> {
    assert(Number.isSafeInteger(partition) && partition >= 0, 'partition is a non-negative integer');
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    assert(Number.isFinite(timeoutMs) && timeoutMs > 0, 'timeoutMs is positive');
    if (opts.signal?.aborted === true) return Promise.reject(new AbortedError());
    let slot: Slot<Command, Reply>;
    try {
      slot = this.slotOf(partition);
    } catch (err) {
      return Promise.reject(this.toRondoError(err, partition, 'vnode create failed'));
    }
    if (slot.stopping !== undefined) return Promise.reject(new AbortedError('vnode stopping'));
    if (work.kind === 'command' && work.coverage && slot.behaviour.handleCoverage === undefined) {
      return Promise.reject(new InvalidArgumentError(`vnode ${partition} does not handle coverage commands`));
    }
    if (slot.mailbox.length + slot.awaiting.size >= this.mailboxMax) {
      slot.overloads++;
      return Promise.reject(new OverloadError(`vnode ${partition} mailbox full (${this.mailboxMax} commands)`));
    }
    return new Promise((resolve, reject) => {
      const p: Pending<Command, Reply> = { work, controller: new AbortController(), resolve, reject, timer: undefined, unlisten: undefined, settled: false };
      p.timer = this.env.setTimer(timeoutMs, () => {
        p.timer = undefined;
        slot.timeouts++;
        this.cancel(slot, p, new TimeoutError(`vnode ${partition} command timed out after ${timeoutMs} ms`));
      });
      const signal = opts.signal;
      if (signal !== undefined) {
        const onAbort = (): void => this.cancel(slot, p, new AbortedError());
        signal.addEventListener('abort', onAbort, { once: true });
        p.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      slot.mailbox.push(p);
      this.pump(slot);
    });
  }

  private slotOf(partition: number): Slot<Command, Reply> {
    let slot = this.slots.get(partition);
    if (slot === undefined) {
      const behaviour = this.create(partition);
      slot = { partition, behaviour, mailbox: [], awaiting: new Set(), current: undefined, stopping: undefined, processed: 0, overloads: 0, timeouts: 0, errors: 0 };
      this.slots.set(partition, slot);
    }
    return slot;
  }

  /** Start the next command if the vnode is idle. */
  private pump(slot: Slot<Command, Reply>): void {
    if (slot.current !== undefined) return;
    const p = slot.mailbox.shift();
    if (p === undefined) return;
    // Run from a microtask, so `current` is set before the run can finish (a handler may throw synchronously).
    slot.current = Promise.resolve().then(() => this.run(slot, p));
  }

  private async run(slot: Slot<Command, Reply>, p: Pending<Command, Reply>): Promise<void> {
    const ctx: VnodeContext = { node: this.node, partition: slot.partition, signal: p.controller.signal };
    try {
      if (p.settled) return; // aborted or timed out before it started
      const b = slot.behaviour;
      const work = p.work;
      if (work.kind === 'exclusive') {
        const value = await work.run(b, ctx);
        slot.processed++;
        this.settle(slot, p, { kind: 'done', value });
        return;
      }
      const forward = work.coverage ? undefined : this.forwards.get(slot.partition);
      const directive: VnodeDirective<Reply> =
        forward !== undefined ? { kind: 'forward', ...forward } : work.coverage ? await b.handleCoverage!(work.command, ctx) : await b.handleCommand(work.command, ctx);
      slot.processed++;
      this.answer(slot, p, directive);
    } catch (err) {
      slot.processed++;
      slot.errors++;
      this.settle(slot, p, this.toRondoError(err, slot.partition, 'vnode command failed'));
    } finally {
      slot.current = undefined;
      this.pump(slot);
    }
  }

  private answer(slot: Slot<Command, Reply>, p: Pending<Command, Reply>, directive: VnodeDirective<Reply>): void {
    if (p.settled) return; // timed out or aborted meanwhile: the caller has its answer
    switch (directive.kind) {
      case 'reply':
        return this.settle(slot, p, { kind: 'reply', reply: directive.reply });
      case 'forward':
        return this.settle(slot, p, { kind: 'forwarded', node: directive.node, partition: directive.partition });
      case 'noreply':
        slot.awaiting.add(p); // answered by its timeout, caller abort or stop
        return;
    }
  }

  /** Timeout, caller abort or stop: unqueue if queued, abort ctx.signal, reject. */
  private cancel(slot: Slot<Command, Reply>, p: Pending<Command, Reply>, err: RondoError): void {
    if (p.settled) return;
    const i = slot.mailbox.indexOf(p);
    if (i >= 0) slot.mailbox.splice(i, 1);
    p.controller.abort(err);
    this.settle(slot, p, err);
  }

  private settle(slot: Slot<Command, Reply>, p: Pending<Command, Reply>, outcome: VnodeResult<Reply> | { kind: 'done'; value: unknown } | RondoError): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer !== undefined) this.env.clearTimer(p.timer);
    p.unlisten?.();
    p.timer = p.unlisten = undefined;
    slot.awaiting.delete(p);
    if (outcome instanceof RondoError) p.reject(outcome);
    else p.resolve(outcome);
  }

  private async stopSlot(slot: Slot<Command, Reply>): Promise<void> {
    for (const p of [...slot.mailbox, ...slot.awaiting]) this.cancel(slot, p, new AbortedError('vnode stopping'));
    assert(slot.mailbox.length === 0 && slot.awaiting.size === 0, 'stopping vnode holds no commands');
    if (slot.current !== undefined) await slot.current;
    try {
      await slot.behaviour.terminate();
    } catch (err) {
      this.env.log.error({ partition: slot.partition, err: String(err) }, 'vnode terminate failed');
    } finally {
      this.slots.delete(slot.partition);
    }
  }

  /** RondoErrors pass through; anything else is logged and wrapped as 'internal'. */
  private toRondoError(err: unknown, partition: number, what: string): RondoError {
    if (err instanceof RondoError) return err;
    const message = err instanceof Error ? err.message : String(err);
    this.env.log.error({ partition, err: err instanceof Error ? (err.stack ?? message) : message }, what);
    return new RondoError('internal', `${what}: vnode ${partition}: ${message}`);
  }
}
