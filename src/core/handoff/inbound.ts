// The receiving side of handoff: one session per incoming transfer. Batches
// are applied through the vnode host (so they queue with commands and obey
// the mailbox bound) and acknowledged once stored; for an ownership transfer,
// finish tells the membership core the partition is complete. A session is
// kept after finish (the sender still sends what changes until it drops its
// copy) until the sender closes it or goes quiet for the stall timeout.
import { HANDOFF_INBOUND_SESSIONS_MAX } from '../constants.js';
import type { Env, NodeName } from '../env.js';
import { RondoError, assert } from '../errors.js';
import type { RingState } from '../membership/index.js';
import type { VnodeHost } from '../vnode/host.js';
import type { HandoffItem } from '../vnode/types.js';
import { itemsBytes, type HandoffBatch, type HandoffFinish, type HandoffReply, type HandoffStart, type OutgoingHandoffMessage } from './messages.js';
import type { TransferKind, TransferRow } from './types.js';

export interface InboundDeps<Command, Reply> {
  env: Env;
  self: NodeName;
  host: VnodeHost<Command, Reply>;
  concurrency: number;
  stallTimeoutMs: number;
  ring(): RingState;
  send(to: NodeName, msg: OutgoingHandoffMessage): boolean;
  reportTransferComplete(partition: number): void;
}

interface Session {
  id: string;
  from: NodeName;
  kind: TransferKind;
  partition: number;
  targetPartition: number;
  epoch: number;
  items: number;
  bytes: number;
  applied: Set<number>;
  finished: boolean;
  startedMs: number;
  lastMs: number;
  /** Time batches spent being applied (queued for the vnode, checked, written, made durable), summed. */
  applyMs: number;
}

/** Non-transient errors: a batch that fails with one of these is applied item by item, skipping the bad items. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['overload', 'timeout', 'aborted', 'internal', 'backend_closed']);

export class InboundSessions<Command, Reply> {
  private readonly sessions = new Map<string, Session>();
  /** Items and bytes applied since start (for /stats). */
  itemsReceived = 0;
  bytesReceived = 0;

  constructor(private readonly deps: InboundDeps<Command, Reply>) {}

  /** A new handoff_concurrency: sessions already receiving go on; new ones are refused while as many run. */
  setConcurrency(concurrency: number): void {
    assert(Number.isSafeInteger(concurrency) && concurrency >= 1, 'handoff concurrency is a positive integer');
    this.deps.concurrency = concurrency;
  }

  /** Sessions still receiving (finished ones wait only for the sender's close). */
  active(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (!s.finished) n++;
    return n;
  }

  size(): number {
    return this.sessions.size;
  }

  clear(): void {
    this.sessions.clear();
  }

  onClose(from: NodeName, id: string): void {
    const s = this.sessions.get(id);
    if (s !== undefined && s.from === from) this.sessions.delete(id);
  }

  rows(): TransferRow[] {
    const now = this.deps.env.nowMs();
    const rows: TransferRow[] = [];
    for (const s of this.sessions.values()) {
      if (s.finished) continue;
      rows.push({
        id: s.id, node: this.deps.self, direction: 'inbound', kind: s.kind, partition: s.partition, targetPartition: s.targetPartition, peer: s.from,
        phase: 'receiving', items: s.items, bytes: s.bytes, attempt: 1, elapsedMs: now - s.startedMs,
      });
    }
    return rows;
  }

  private reply(to: NodeName, id: string, kind: HandoffReply['to'], seq: number, ok: boolean, reason?: string): void {
    // An accepted start says this receiver takes packed batches.
    const packed = kind === 'start' && ok ? { packed: true } : {};
    this.deps.send(to, { type: 'handoff.reply', id, to: kind, seq, ok, ...(reason === undefined ? {} : { reason }), ...packed });
  }

  onStart(from: NodeName, msg: HandoffStart): void {
    const ring = this.deps.ring();
    if (msg.targetPartition >= ring.ringSize || msg.partition >= ring.ringSize) return this.reply(from, msg.id, 'start', 0, false, 'no such partition');
    if (this.sessions.has(msg.id)) return this.reply(from, msg.id, 'start', 0, true); // a resent start
    // A sender that restarted begins again: its earlier session for the same partition is dead.
    for (const [id, s] of this.sessions) if (s.from === from && s.partition === msg.partition && s.targetPartition === msg.targetPartition) this.sessions.delete(id);
    const active = this.active();
    if (active >= this.deps.concurrency) return this.reply(from, msg.id, 'start', 0, false, `busy: ${active} inbound transfers (handoff_concurrency ${this.deps.concurrency})`);
    if (this.sessions.size >= HANDOFF_INBOUND_SESSIONS_MAX) return this.reply(from, msg.id, 'start', 0, false, `busy: ${this.sessions.size} inbound sessions (HANDOFF_INBOUND_SESSIONS_MAX)`);
    if (msg.kind === 'ownership' && !this.pendingTo(msg.targetPartition, from)) {
      return this.reply(from, msg.id, 'start', 0, false, `this node's ring has no pending transfer of partition ${msg.targetPartition} from ${from} (not caught up yet?)`);
    }
    const now = this.deps.env.nowMs();
    this.sessions.set(msg.id, { id: msg.id, from, kind: msg.kind, partition: msg.partition, targetPartition: msg.targetPartition, epoch: msg.epoch, items: 0, bytes: 0, applied: new Set(), finished: false, startedMs: now, lastMs: now, applyMs: 0 });
    this.reply(from, msg.id, 'start', 0, true);
  }

  onBatch(from: NodeName, msg: HandoffBatch): void {
    const s = this.sessions.get(msg.id);
    if (s === undefined || s.from !== from) return this.reply(from, msg.id, 'batch', msg.seq, false, 'unknown-transfer');
    s.lastMs = this.deps.env.nowMs();
    if (s.applied.has(msg.seq)) return this.reply(from, msg.id, 'batch', msg.seq, true);
    const receivedMs = s.lastMs;
    this.apply(s, msg.items).then(
      () => {
        s.applyMs += this.deps.env.nowMs() - receivedMs;
        if (!s.applied.has(msg.seq)) {
          const bytes = itemsBytes(msg.items);
          s.applied.add(msg.seq);
          s.items += msg.items.length;
          s.bytes += bytes;
          this.itemsReceived += msg.items.length;
          this.bytesReceived += bytes;
        }
        s.lastMs = this.deps.env.nowMs();
        this.reply(from, msg.id, 'batch', msg.seq, true);
      },
      (err: unknown) => this.reply(from, msg.id, 'batch', msg.seq, false, err instanceof RondoError ? err.code : 'internal'),
    );
  }

  /** Apply a batch; if it fails for a non-transient reason, item by item, skipping (and logging) the bad ones. */
  private async apply(s: Session, items: HandoffItem[]): Promise<void> {
    try {
      await this.deps.host.exclusive(s.targetPartition, (v) => v.handleHandoffData(items));
    } catch (err) {
      if (!(err instanceof RondoError) || TRANSIENT_CODES.has(err.code)) throw err;
      for (const item of items) {
        try {
          await this.deps.host.exclusive(s.targetPartition, (v) => v.handleHandoffData([item]));
        } catch (itemErr) {
          if (!(itemErr instanceof RondoError) || TRANSIENT_CODES.has(itemErr.code)) throw itemErr;
          this.deps.env.log.error({ id: s.id, from: s.from, partition: s.targetPartition, err: itemErr.message }, 'handoff item refused; skipped');
        }
      }
    }
  }

  onFinish(from: NodeName, msg: HandoffFinish): void {
    const s = this.sessions.get(msg.id);
    if (s === undefined || s.from !== from) return this.reply(from, msg.id, 'finish', 0, false, 'unknown-transfer');
    s.lastMs = this.deps.env.nowMs();
    if (s.applied.size !== msg.batches) return this.reply(from, msg.id, 'finish', 0, false, `saw ${s.applied.size} of ${msg.batches} batches`);
    if (s.kind === 'ownership' && !s.finished) {
      if (!this.pendingTo(s.targetPartition, from)) return this.reply(from, msg.id, 'finish', 0, false, `no pending transfer of partition ${s.targetPartition} from ${from} any more`);
      this.deps.reportTransferComplete(s.targetPartition);
    }
    if (!s.finished) this.deps.env.log.info({ id: s.id, from, kind: s.kind, partition: s.targetPartition, items: s.items, bytes: s.bytes, ms: this.deps.env.nowMs() - s.startedMs, applyMs: s.applyMs }, 'handoff received');
    s.finished = true;
    this.reply(from, msg.id, 'finish', 0, true);
  }

  private pendingTo(partition: number, from: NodeName): boolean {
    return this.deps.ring().ownership.pending.some((t) => t.partition === partition && t.from === from && t.to === this.deps.self);
  }

  /** Forget sessions whose sender went quiet (it restarted or gave up without a close). */
  sweep(now: number): void {
    for (const [id, s] of this.sessions) if (now - s.lastMs > this.deps.stallTimeoutMs) this.sessions.delete(id);
  }
}
