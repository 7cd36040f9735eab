// The vnode host (riak_core_vnode's process loop). One bounded mailbox per
// partition; a vnode runs one command at a time, different partitions run
// concurrently. Every command is answered: with the vnode's reply, a forward,
// or a typed error (overload, timeout, aborted, internal). Nothing is dropped.
//
// Cost per command is kept to what the command needs, because every get and
// put passes here up to N times: the caller gets a callback (`submit`; the
// promise forms wrap it), deadlines live in one DeadlineTable (one Env timer
// for all of them), a command's AbortController exists only once the vnode
// reads `ctx.signal`, and a vnode that answers synchronously is not awaited.
// Commands start from a microtask after delivery, never inside `submit`, so a
// caller is never answered before `submit` returns.
import { VNODE_COMMAND_TIMEOUT_MS, VNODE_MAILBOX_COMMANDS_MAX } from '../constants.js';
import { DeadlineTable, type DeadlineId } from '../deadline/index.js';
import type { Env, NodeName } from '../env.js';
import { AbortedError, InvalidArgumentError, OverloadError, RondoError, TimeoutError, assert } from '../errors.js';
import type { VnodeBehaviour, VnodeContext, VnodeDirective } from './types.js';

/** What a command resolves with. A forward is for the caller to route. */
export type VnodeResult<Reply> = { kind: 'reply'; reply: Reply } | { kind: 'forwarded'; node: NodeName; partition: number };

/** What `submit`'s callback gets: the result, or the typed error that answered the command. */
export type VnodeOutcome<Reply> = VnodeResult<Reply> | RondoError;

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
  /** Handled by the vnode's handleCoverage (listing, 2i). */
  coverage?: boolean;
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

type Settlement<Reply> = VnodeResult<Reply> | { kind: 'done'; value: unknown } | RondoError;

interface Pending<Command, Reply> {
  readonly work: Work<Command, Reply>;
  readonly done: (outcome: Settlement<Reply>) => void;
  /** Created when the vnode first reads ctx.signal, or when the command is cancelled. */
  controller: AbortController | undefined;
  deadline: DeadlineId | undefined;
  unlisten: (() => void) | undefined;
  settled: boolean;
}

interface Slot<Command, Reply> {
  readonly partition: number;
  readonly behaviour: VnodeBehaviour<Command, Reply>;
  /** Delivered, not started; entries before `head` are consumed, settled ones are skipped. */
  mailbox: Pending<Command, Reply>[];
  head: number;
  /** Unsettled commands in the mailbox (what the mailbox limit counts). */
  queued: number;
  readonly awaiting: Set<Pending<Command, Reply>>;
  /** A microtask or an async command is running the mailbox. */
  busy: boolean;
  /** The running async command; undefined when idle or running synchronously. */
  current: Promise<void> | undefined;
  stopping: Promise<void> | undefined;
  processed: number;
  overloads: number;
  timeouts: number;
  errors: number;
}

// Compact a mailbox array once this many consumed slots sit at its head.
const MAILBOX_COMPACT_SLOTS = 256;

export class VnodeHost<Command, Reply> {
  private readonly env: Env;
  private readonly node: NodeName;
  private readonly create: (partition: number) => VnodeBehaviour<Command, Reply>;
  private readonly mailboxMax: number;
  private readonly commandTimeoutMs: number;
  private readonly deadlines: DeadlineTable;
  private readonly slots = new Map<number, Slot<Command, Reply>>();
  /** Partitions whose commands go elsewhere (a handoff's new owner), checked when each command starts. */
  private readonly forwards = new Map<number, { node: NodeName; partition: number }>();

  constructor(opts: VnodeHostOptions<Command, Reply>) {
    this.env = opts.env;
    this.node = opts.node;
    this.create = opts.create;
    this.mailboxMax = opts.mailboxMax ?? VNODE_MAILBOX_COMMANDS_MAX;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? VNODE_COMMAND_TIMEOUT_MS;
    this.deadlines = new DeadlineTable(opts.env);
    assert(Number.isSafeInteger(this.mailboxMax) && this.mailboxMax > 0, 'mailboxMax is a positive integer');
    assert(Number.isFinite(this.commandTimeoutMs) && this.commandTimeoutMs > 0, 'commandTimeoutMs is positive');
  }

  /**
   * Deliver a command to the partition's vnode (started lazily); `done` is
   * called exactly once, never before submit returns, with the result or the
   * typed error (overload, timeout, aborted, internal) that answered it.
   */
  submit(partition: number, command: Command, opts: VnodeCommandOptions, done: (outcome: VnodeOutcome<Reply>) => void): void {
    this.enqueue(partition, { kind: 'command', command, coverage: opts.coverage === true }, opts, (outcome) => {
      assert(outcome instanceof RondoError || outcome.kind !== 'done', 'a command settles with a VnodeResult');
      done(outcome as VnodeOutcome<Reply>);
    });
  }

  /** Deliver a command to the partition's vnode (started lazily). See VnodeResult and the errors above. */
  command(partition: number, command: Command, opts: VnodeCommandOptions = {}): Promise<VnodeResult<Reply>> {
    return new Promise((resolve, reject) => this.submit(partition, command, opts, (outcome) => (outcome instanceof RondoError ? reject(outcome) : resolve(outcome))));
  }

  /** Same as command(), handled by the vnode's handleCoverage (InvalidArgumentError if it has none). */
  coverage(partition: number, command: Command, opts: VnodeCommandOptions = {}): Promise<VnodeResult<Reply>> {
    return this.command(partition, command, { ...opts, coverage: true });
  }

  /**
   * Run `run` on the partition's vnode in mailbox order, as if it were a
   * command: no command of that vnode runs meanwhile. Handoff uses it to
   * apply batches and to drop a partition only when nothing changed.
   */
  exclusive<T>(partition: number, run: (vnode: VnodeBehaviour<Command, Reply>, ctx: VnodeContext) => Promise<T>, opts: VnodeCommandOptions = {}): Promise<T> {
    return new Promise((resolve, reject) =>
      this.enqueue(partition, { kind: 'exclusive', run }, opts, (outcome) => {
        if (outcome instanceof RondoError) return reject(outcome);
        assert(outcome.kind === 'done', 'exclusive work resolves with its value');
        resolve(outcome.value as T);
      }),
    );
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
      return { partition, queued: s.queued, awaiting: s.awaiting.size, running: s.current !== undefined, processed, overloads, timeouts, errors };
    });
  }

  private enqueue(partition: number, work: Work<Command, Reply>, opts: VnodeCommandOptions, done: (outcome: Settlement<Reply>) => void): void {
    assert(Number.isSafeInteger(partition) && partition >= 0, 'partition is a non-negative integer');
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    assert(Number.isFinite(timeoutMs) && timeoutMs > 0, 'timeoutMs is positive');
    const refuse = (err: RondoError): void => void Promise.resolve(err).then(done);
    if (opts.signal?.aborted === true) return refuse(new AbortedError());
    let slot: Slot<Command, Reply>;
    try {
      slot = this.slotOf(partition);
    } catch (err) {
      return refuse(this.toRondoError(err, partition, 'vnode create failed'));
    }
    if (slot.stopping !== undefined) return refuse(new AbortedError('vnode stopping'));
    if (work.kind === 'command' && work.coverage && slot.behaviour.handleCoverage === undefined) {
      return refuse(new InvalidArgumentError(`vnode ${partition} does not handle coverage commands`));
    }
    if (slot.queued + slot.awaiting.size >= this.mailboxMax) {
      slot.overloads++;
      return refuse(new OverloadError(`vnode ${partition} mailbox full (${this.mailboxMax} commands)`));
    }
    const p: Pending<Command, Reply> = { work, done, controller: undefined, deadline: undefined, unlisten: undefined, settled: false };
    p.deadline = this.deadlines.add(timeoutMs, () => {
      p.deadline = undefined;
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
    slot.queued++;
    this.pump(slot);
  }

  private slotOf(partition: number): Slot<Command, Reply> {
    let slot = this.slots.get(partition);
    if (slot === undefined) {
      const behaviour = this.create(partition);
      slot = {
        partition, behaviour, mailbox: [], head: 0, queued: 0, awaiting: new Set(), busy: false, current: undefined, stopping: undefined,
        processed: 0, overloads: 0, timeouts: 0, errors: 0,
      };
      this.slots.set(partition, slot);
    }
    return slot;
  }

  /**
   * Start the next command from a microtask unless the vnode is busy. It
   * leaves the mailbox now (as the running command, it no longer counts
   * toward the mailbox limit).
   */
  private pump(slot: Slot<Command, Reply>): void {
    if (slot.busy) return;
    const p = this.takeNext(slot);
    if (p === undefined) return;
    slot.busy = true;
    void Promise.resolve().then(() => this.drain(slot, p));
  }

  /** Run `first`, then the queued commands in order, until one is asynchronous (it resumes the drain when it settles) or none is left. */
  private drain(slot: Slot<Command, Reply>, first: Pending<Command, Reply>): void {
    assert(slot.busy, 'only a busy slot drains');
    for (let p: Pending<Command, Reply> | undefined = first; p !== undefined; p = this.takeNext(slot)) {
      if (p.settled) continue; // aborted or timed out after it left the mailbox
      const running = this.run(slot, p);
      if (running !== undefined) {
        slot.current = running.then(() => {
          slot.current = undefined;
          const next = this.takeNext(slot);
          if (next === undefined) slot.busy = false;
          else this.drain(slot, next);
        });
        return;
      }
    }
    slot.busy = false;
  }

  private takeNext(slot: Slot<Command, Reply>): Pending<Command, Reply> | undefined {
    while (slot.head < slot.mailbox.length) {
      const p = slot.mailbox[slot.head] as Pending<Command, Reply>;
      slot.head++;
      if (slot.head === slot.mailbox.length) {
        slot.mailbox.length = 0;
        slot.head = 0;
      } else if (slot.head >= MAILBOX_COMPACT_SLOTS) {
        slot.mailbox = slot.mailbox.slice(slot.head);
        slot.head = 0;
      }
      if (p.settled) continue; // timed out or aborted while queued (already uncounted)
      slot.queued--;
      return p;
    }
    return undefined;
  }

  /** Runs one entry; returns a promise when it went asynchronous (never rejects), undefined when it is settled already. */
  private run(slot: Slot<Command, Reply>, p: Pending<Command, Reply>): Promise<void> | undefined {
    const ctx = this.contextOf(slot, p);
    const fail = (err: unknown): void => {
      slot.processed++;
      slot.errors++;
      this.settle(slot, p, this.toRondoError(err, slot.partition, 'vnode command failed'));
    };
    try {
      const work = p.work;
      const b = slot.behaviour;
      if (work.kind === 'exclusive') {
        return work.run(b, ctx).then((value) => {
          slot.processed++;
          this.settle(slot, p, { kind: 'done', value });
        }, fail);
      }
      const forward = work.coverage ? undefined : this.forwards.get(slot.partition);
      if (forward !== undefined) {
        slot.processed++;
        this.answer(slot, p, { kind: 'forward', ...forward });
        return undefined;
      }
      const directive = work.coverage ? b.handleCoverage!(work.command, ctx) : b.handleCommand(work.command, ctx);
      if (!(directive instanceof Promise)) {
        slot.processed++;
        this.answer(slot, p, directive);
        return undefined;
      }
      return directive.then((d) => {
        slot.processed++;
        this.answer(slot, p, d);
      }, fail);
    } catch (err) {
      fail(err);
      return undefined;
    }
  }

  /** The command's context; its signal (and AbortController) is made on first read. */
  private contextOf(slot: Slot<Command, Reply>, p: Pending<Command, Reply>): VnodeContext {
    const node = this.node;
    return {
      node,
      partition: slot.partition,
      get signal(): AbortSignal {
        p.controller ??= new AbortController();
        return p.controller.signal;
      },
    };
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
    if (slot.mailbox.indexOf(p, slot.head) >= 0) slot.queued--; // left in place, skipped by takeNext
    p.controller ??= new AbortController();
    p.controller.abort(err);
    this.settle(slot, p, err);
  }

  private settle(slot: Slot<Command, Reply>, p: Pending<Command, Reply>, outcome: Settlement<Reply>): void {
    if (p.settled) return;
    p.settled = true;
    if (p.deadline !== undefined) this.deadlines.remove(p.deadline);
    p.unlisten?.();
    p.deadline = undefined;
    p.unlisten = undefined;
    slot.awaiting.delete(p);
    p.done(outcome);
  }

  private async stopSlot(slot: Slot<Command, Reply>): Promise<void> {
    const waiting = [...slot.mailbox.slice(slot.head), ...slot.awaiting];
    for (const p of waiting) this.cancel(slot, p, new AbortedError('vnode stopping'));
    assert(slot.queued === 0 && slot.awaiting.size === 0, 'stopping vnode holds no commands');
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
