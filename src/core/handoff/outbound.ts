// One outbound transfer: the sender's side of the handoff protocol, as one
// async run. start (resent until answered; the vnode starts its change record
// meanwhile) → fold the vnode into batches on the bulk channel, in the node's
// fold turn (see FoldTurns), at most `inflightBytesMax` unacknowledged
// (resent until acknowledged), packed for receivers that take it → send what
// changed meanwhile → finish (the concurrency slot is free from here on) →
// for ownership, wait for the ring to switch owners → drop the local copy in
// one exclusive step that first checks nothing changed since the last batch.
// Any failure throws; the manager cancels the vnode's change record and
// retries from scratch later, so a half-done transfer never deletes anything.
import type { Env, NodeName, TimerId } from '../env.js';
import { AbortedError, RondoError, TimeoutError, assert } from '../errors.js';
import type { VnodeHost } from '../vnode/host.js';
import type { HandoffItem, VnodeBehaviour } from '../vnode/types.js';
import type { FoldTurns } from './fold-turns.js';
import { itemsBytes, packItems, type HandoffBatchOut, type HandoffMessage, type HandoffReply, type OutgoingHandoffMessage } from './messages.js';
import type { TransferKind, TransferPhase, TransferRow } from './types.js';

export interface HandoffLimits {
  batchItemsMax: number;
  batchBytesMax: number;
  inflightBytesMax: number;
  stallTimeoutMs: number;
  resendMs: number;
  checkIntervalMs: number;
  dropGraceMs: number;
}

/** What an ownership transfer waiting for the claimant sees in the ring. */
export type SwitchState = 'waiting' | 'switched' | 'gone';

export interface OutboundDeps<Command, Reply> {
  env: Env;
  host: VnodeHost<Command, Reply>;
  limits: HandoffLimits;
  send(to: NodeName, msg: OutgoingHandoffMessage, channel: 'control' | 'bulk'): boolean;
  /** Ownership only: has the ring moved the partition to `to` yet? */
  switchState(partition: number, to: NodeName): SwitchState;
  /** The transfer stopped moving data (it waits for the ring or its drop): its concurrency slot is free. */
  onSlotFreed(): void;
  /** Whether the local copy may be deleted now (this node neither owns nor is about to own the partition). Checked in the vnode's turn. */
  mayDrop(partition: number): boolean;
  /** Repair only: does this item of the source partition belong to the target partition? */
  belongsTo?(item: HandoffItem, targetPartition: number): boolean;
  /** The node's fold turns (one fold reads at a time); without them folds run whenever they like. */
  foldTurns?: FoldTurns;
}

export interface OutboundSpec {
  id: string;
  kind: TransferKind;
  partition: number;
  targetPartition: number;
  to: NodeName;
  epoch: number;
  attempt: number;
}

/** Retried later without counting as an error (receiver busy, ring not caught up). */
export class TransferRefused extends RondoError {
  constructor(message: string) {
    super('overload', message);
    this.name = 'TransferRefused';
  }
}

interface InFlight {
  batch: HandoffBatchOut;
  items: number;
  bytes: number;
  sentMs: number;
}

export class OutboundTransfer<Command, Reply> {
  #phase: TransferPhase = 'starting';
  #phaseStartedMs: number;
  /** Time spent in each phase left so far (the 'handoff done' log line: where a transfer's time went). */
  readonly phaseMs: Partial<Record<TransferPhase, number>> = {};
  items = 0;
  bytes = 0;
  itemsTotal: number | undefined;
  readonly startedMs: number;
  private readonly controller = new AbortController();
  private nextSeq = 0;
  private readonly inflight = new Map<number, InFlight>();
  private inflightBytes = 0;
  private lastProgressMs: number;
  /** Pending request (start or finish) waiting for its reply. */
  private awaiting: { to: 'start' | 'finish'; resolve: (r: HandoffReply) => void } | undefined;
  private wake: (() => void) | undefined;
  private timer: TimerId | undefined;
  private failure: RondoError | undefined;
  private tracking = false;
  /** The receiver takes packed batches (its start reply said so). */
  private packed = false;
  /** The fold holds its turn (see FoldTurns). */
  private folding = false;

  constructor(
    readonly spec: OutboundSpec,
    private readonly deps: OutboundDeps<Command, Reply>,
  ) {
    this.startedMs = deps.env.nowMs();
    this.lastProgressMs = this.startedMs;
    this.#phaseStartedMs = this.startedMs;
  }

  get phase(): TransferPhase {
    return this.#phase;
  }

  private enter(phase: TransferPhase): void {
    const now = this.deps.env.nowMs();
    this.phaseMs[this.#phase] = (this.phaseMs[this.#phase] ?? 0) + (now - this.#phaseStartedMs);
    this.#phase = phase;
    this.#phaseStartedMs = now;
  }

  row(node: NodeName): TransferRow {
    const s = this.spec;
    return {
      id: s.id, node, direction: 'outbound', kind: s.kind, partition: s.partition, targetPartition: s.targetPartition, peer: s.to,
      phase: this.phase, items: this.items, bytes: this.bytes, ...(this.itemsTotal === undefined ? {} : { itemsTotal: this.itemsTotal }),
      attempt: s.attempt, elapsedMs: this.deps.env.nowMs() - this.startedMs,
    };
  }

  /** Stop the run: it throws `reason` at its next step. */
  cancel(reason: RondoError): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.controller.abort(reason);
    this.wake?.();
  }

  onReply(msg: HandoffReply): void {
    if (msg.to === 'batch') {
      const entry = this.inflight.get(msg.seq);
      if (entry === undefined) return; // a duplicate ack
      if (!msg.ok) {
        if (msg.reason === 'unknown-transfer') this.cancel(new RondoError('aborted', `${this.spec.to} does not know transfer ${this.spec.id} (restarted?)`));
        return; // otherwise resent after resendMs
      }
      this.inflight.delete(msg.seq);
      this.inflightBytes -= entry.bytes;
      this.items += entry.items;
      this.bytes += entry.bytes;
      this.lastProgressMs = this.deps.env.nowMs();
      this.wake?.();
      return;
    }
    if (this.awaiting?.to === msg.to) {
      const { resolve } = this.awaiting;
      this.awaiting = undefined;
      this.lastProgressMs = this.deps.env.nowMs();
      resolve(msg);
      this.wake?.();
    }
  }

  /** The whole transfer. Resolves when done (and, for ownership and hinted, the local copy dropped). */
  async run(): Promise<void> {
    const { env, host } = this.deps;
    const s = this.spec;
    this.timer = env.setTimer(this.deps.limits.resendMs / 2, () => this.onTimer());
    let prepared: Promise<number | false> | undefined;
    try {
      // The vnode gets ready (change record, size) while the start travels: one wait instead of two in a row.
      // Should the receiver refuse, the change record is cancelled like that of any failed transfer.
      const target = { node: s.to, partition: s.targetPartition };
      prepared = host.exclusive(s.partition, async (v) => {
        if (s.kind !== 'repair') {
          if (!(await v.handoffStarting(target))) return false;
          this.tracking = true;
        }
        return (await v.handoffSize?.()) ?? 0;
      });
      prepared.catch(() => undefined); // awaited below, unless the start fails first
      const started = await this.request('start', { type: 'handoff.start', id: s.id, kind: s.kind, partition: s.partition, targetPartition: s.targetPartition, epoch: s.epoch });
      const size = await prepared;
      if (!started.ok) throw new TransferRefused(`${s.to} refused ${s.kind} transfer of partition ${s.partition}: ${started.reason ?? 'no reason'}`);
      this.packed = started.packed === true;
      if (size === false) throw new TransferRefused(`vnode ${s.partition} is not ready to hand off`);
      this.itemsTotal = size;
      this.enter('folding');
      await this.fold();
      this.enter('draining');
      if (s.kind === 'ownership') {
        // Sends what changed meanwhile until nothing is left, then forwards, in that last vnode turn.
        await this.drained();
        await this.startForwarding();
      } else {
        if (s.kind === 'hinted') while ((await this.sendChanges()) > 0) this.check();
        await this.drained();
      }
      // Everything is sent and acknowledged: only the receiver's final ack is awaited, so the slot goes to the next transfer
      // now (the receiver reads this finish before that transfer's start: both travel on the control channel).
      this.enter('finishing');
      this.deps.onSlotFreed();
      const finished = await this.request('finish', { type: 'handoff.finish', id: s.id, batches: this.nextSeq });
      if (!finished.ok) throw new TransferRefused(`${s.to} did not accept the end of transfer ${s.id}: ${finished.reason ?? 'no reason'}`);
      if (s.kind === 'ownership') await this.awaitSwitch();
      if (s.kind !== 'repair') await this.drop();
    } catch (err) {
      host.setForward(s.partition, undefined);
      await prepared?.catch(() => undefined); // it may still be starting the change record
      if (this.tracking) await host.exclusive(s.partition, (v) => v.handoffCancelled()).catch(() => undefined);
      throw err;
    } finally {
      this.enter(this.#phase); // closes the last phase's time
      this.deps.send(s.to, { type: 'handoff.close', id: s.id }, 'control'); // ends the receiver's session either way
      if (this.timer !== undefined) env.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  private async fold(): Promise<void> {
    const s = this.spec;
    const vnode = this.deps.host.vnode(s.partition);
    assert(vnode !== undefined, 'the vnode was started by the exclusive step');
    const belongsTo = this.deps.belongsTo;
    const keep = s.kind === 'repair' ? (item: HandoffItem) => belongsTo?.(item, s.targetPartition) === true : undefined;
    try {
      await this.takeFoldTurn();
      for await (const batch of batchesOf(vnode.foldHandoffItems(this.controller.signal), this.deps.limits, keep)) {
        this.check();
        await this.sendBatch(batch.items, batch.bytes);
        // A fold that reads without waiting runs in microtasks only: without a turn of the event loop here the
        // network would see no batch before the whole partition is read, and the receiver would sit idle meanwhile.
        await this.yieldTurn();
      }
    } finally {
      this.deps.foldTurns?.release(this);
      this.folding = false;
    }
  }

  /** Waits (cancellably) until this transfer's fold may read; see FoldTurns. */
  private async takeFoldTurn(): Promise<void> {
    const turns = this.deps.foldTurns;
    if (turns !== undefined) {
      let granted = false;
      void turns.acquire(this).then(() => {
        granted = true;
        this.wake?.();
      });
      while (!granted) {
        await this.sleep();
        this.check();
      }
    }
    this.folding = true;
  }

  /** Lets the event loop (timers, sockets: the batch just queued leaves) run before going on. */
  private yieldTurn(): Promise<void> {
    return new Promise((resolve) => this.deps.env.setTimer(0, resolve));
  }

  /** Sends the next changed items; how many were sent. Throws if the change record was lost. */
  private async sendChanges(): Promise<number> {
    const changes = await this.deps.host.exclusive(this.spec.partition, (v) => v.takeHandoffChanges(this.deps.limits.batchItemsMax));
    if (changes === 'lost') throw this.lostRecord();
    if (changes.length > 0) await this.sendBatch(changes, itemsBytes(changes));
    return changes.length;
  }

  /**
   * In one vnode turn: take the changes; when there are none, run `last` in
   * that same turn (no command can slip in between); otherwise send them,
   * wait for their acks and try again.
   */
  private async whenNoChanges<T>(last: (vnode: VnodeBehaviour<Command, Reply>) => Promise<T>): Promise<T> {
    for (;;) {
      const outcome = await this.deps.host.exclusive(this.spec.partition, async (v): Promise<{ kind: 'done'; value: T } | { kind: 'changes'; changes: HandoffItem[] | 'lost' }> => {
        const changes = await v.takeHandoffChanges(this.deps.limits.batchItemsMax);
        if (changes === 'lost' || changes.length > 0) return { kind: 'changes', changes };
        return { kind: 'done', value: await last(v) };
      });
      if (outcome.kind === 'done') return outcome.value;
      if (outcome.changes === 'lost') throw this.lostRecord();
      await this.sendBatch(outcome.changes, itemsBytes(outcome.changes));
      await this.drained();
    }
  }

  private lostRecord(): RondoError {
    return new RondoError('aborted', `vnode ${this.spec.partition} lost its change record; the transfer starts over`);
  }

  private async sendBatch(items: HandoffItem[], bytes: number): Promise<void> {
    this.check();
    if (this.inflightBytes > 0 && this.inflightBytes + bytes > this.deps.limits.inflightBytesMax) {
      // Waiting for the receiver: another fold may read meanwhile.
      const folding = this.folding;
      if (folding) this.deps.foldTurns?.release(this);
      while (this.inflightBytes > 0 && this.inflightBytes + bytes > this.deps.limits.inflightBytesMax) {
        await this.sleep();
        this.check();
      }
      if (folding) await this.takeFoldTurn();
    }
    const head = { type: 'handoff.batch' as const, id: this.spec.id, seq: this.nextSeq++ };
    const batch: HandoffBatchOut = this.packed ? { ...head, packed: packItems(items) } : { ...head, items };
    this.inflight.set(batch.seq, { batch, items: items.length, bytes, sentMs: this.deps.env.nowMs() });
    this.inflightBytes += bytes;
    this.deps.send(this.spec.to, batch, 'bulk'); // a full queue counts as lost: resent by onTimer
  }

  private async drained(): Promise<void> {
    this.check();
    while (this.inflight.size > 0) {
      await this.sleep();
      this.check();
    }
  }

  /**
   * Ownership, before finish: in one vnode turn with nothing left unsent,
   * start forwarding the partition's commands to the new owner. From then on
   * the new owner sees every write first, so when the ring switches it
   * already holds everything (reads there cannot miss a write made here).
   */
  private async startForwarding(): Promise<void> {
    const target = { node: this.spec.to, partition: this.spec.targetPartition };
    await this.whenNoChanges(() => {
      this.deps.host.setForward(this.spec.partition, target);
      return Promise.resolve();
    });
  }

  /** Ownership: keep sending changes until the ring names the new owner. */
  private async awaitSwitch(): Promise<void> {
    this.enter('awaiting-switch');
    this.deps.env.log.debug({ id: this.spec.id, partition: this.spec.partition, items: this.items, bytes: this.bytes, phaseMs: this.phaseMs }, 'handoff data sent; waiting for the ring to switch');
    this.deps.onSlotFreed();
    for (;;) {
      const state = this.deps.switchState(this.spec.partition, this.spec.to);
      if (state === 'switched') return;
      if (state === 'gone') throw new RondoError('aborted', `the ring no longer moves partition ${this.spec.partition} to ${this.spec.to}`);
      this.lastProgressMs = this.deps.env.nowMs(); // waiting for the claimant is not a stall
      await this.sendChanges();
      await this.drained();
      await this.pause(this.deps.limits.checkIntervalMs);
    }
  }

  /** Delete the local copy, in the vnode's own turn, only when every change has been acknowledged. */
  private async drop(): Promise<void> {
    this.enter('dropping');
    this.deps.onSlotFreed();
    if (this.spec.kind === 'ownership') {
      // Nodes still on the old ring may read here a little longer: keep the copy (and keep sending changes) meanwhile.
      const until = this.deps.env.nowMs() + this.deps.limits.dropGraceMs;
      while (this.deps.env.nowMs() < until) {
        this.lastProgressMs = this.deps.env.nowMs();
        await this.sendChanges();
        await this.drained();
        await this.pause(Math.min(this.deps.limits.checkIntervalMs, until - this.deps.env.nowMs()));
      }
    }
    const target = { node: this.spec.to, partition: this.spec.targetPartition };
    const outcome = await this.whenNoChanges(async (v) => {
      // Checked in the vnode's turn: the ring may have given the partition back to this node meanwhile.
      if (this.failure !== undefined || !this.deps.mayDrop(this.spec.partition)) return 'keep' as const;
      await v.delete();
      await v.handoffFinished(target);
      this.tracking = false;
      this.deps.host.setForward(this.spec.partition, undefined);
      return 'dropped' as const;
    });
    if (outcome === 'keep') throw this.failure ?? new RondoError('aborted', `partition ${this.spec.partition} is (again) this node's to keep`);
  }

  /** Send `msg` until a reply to it arrives (resent every resendMs; stall timeout applies). */
  private request(to: 'start' | 'finish', msg: HandoffMessage): Promise<HandoffReply> {
    this.check();
    return new Promise<HandoffReply>((resolve, reject) => {
      let sentMs = this.deps.env.nowMs();
      this.deps.send(this.spec.to, msg, 'control');
      this.awaiting = { to, resolve };
      const waitLoop = async (): Promise<void> => {
        while (this.awaiting !== undefined) {
          await this.sleep();
          this.check();
          if (this.awaiting !== undefined && this.deps.env.nowMs() - sentMs >= this.deps.limits.resendMs) {
            sentMs = this.deps.env.nowMs();
            this.deps.send(this.spec.to, msg, 'control');
          }
        }
      };
      waitLoop().catch((err: unknown) => {
        this.awaiting = undefined;
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  /** Resend overdue batches, enforce the stall timeout, wake the run. */
  private onTimer(): void {
    const { env, limits } = this.deps;
    this.timer = env.setTimer(limits.resendMs / 2, () => this.onTimer());
    const now = env.nowMs();
    if (now - this.lastProgressMs > limits.stallTimeoutMs) {
      this.cancel(new TimeoutError(`transfer ${this.spec.id} of partition ${this.spec.partition} to ${this.spec.to} made no progress for ${limits.stallTimeoutMs} ms`));
    }
    if (this.failure !== undefined) {
      this.wake?.(); // every waiting loop checks and throws
      return;
    }
    for (const entry of this.inflight.values()) {
      if (now - entry.sentMs < limits.resendMs) continue;
      entry.sentMs = now;
      this.deps.send(this.spec.to, entry.batch, 'bulk');
    }
    this.wake?.();
  }

  /** Until the next ack, reply or timer tick. */
  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async pause(ms: number): Promise<void> {
    const until = this.deps.env.nowMs() + ms;
    while (this.deps.env.nowMs() < until) {
      await this.sleep();
      this.check();
    }
  }

  /** Throws once the transfer was cancelled or timed out. */
  private check(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.controller.signal.aborted) throw new AbortedError();
  }
}

/** Groups items into batches of at most batchItemsMax items and batchBytesMax bytes (a larger item travels alone), skipping those `keep` refuses. */
export async function* batchesOf(
  items: AsyncIterable<HandoffItem>,
  limits: Pick<HandoffLimits, 'batchItemsMax' | 'batchBytesMax'>,
  keep?: (item: HandoffItem) => boolean,
): AsyncGenerator<{ items: HandoffItem[]; bytes: number }> {
  let batch: HandoffItem[] = [];
  let bytes = 0;
  for await (const item of items) {
    if (keep !== undefined && !keep(item)) continue;
    const size = item.key.byteLength + item.value.byteLength;
    if (batch.length > 0 && (batch.length >= limits.batchItemsMax || bytes + size > limits.batchBytesMax)) {
      yield { items: batch, bytes };
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) yield { items: batch, bytes };
}
