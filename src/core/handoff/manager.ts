// The handoff manager (riak_core_handoff_manager + vnode_manager's handoff
// checks): on every ring or liveness change and every checkIntervalMs it asks
// the planner what this node must hand off, starts up to `concurrency`
// outbound transfers (ownership first), cancels those the ring no longer
// wants, and retries failed ones after a jittered delay. It routes the
// receiving side's messages to InboundSessions (inbound.ts), serves
// `rondo admin transfers|transfers-cancel|repair`, and counts for /stats.
import {
  HANDOFF_BATCH_BYTES_MAX, HANDOFF_BATCH_ITEMS_MAX, HANDOFF_CHECK_INTERVAL_MS, HANDOFF_CONCURRENCY_DEFAULT, HANDOFF_CONCURRENCY_MAX, HANDOFF_DROP_GRACE_MS,
  HANDOFF_INFLIGHT_BYTES_MAX, HANDOFF_RESEND_MS, HANDOFF_RETRY_DELAY_MS, HANDOFF_STALL_TIMEOUT_MS, HANDOFF_STATUS_TIMEOUT_MS, N_VAL_DEFAULT,
} from '../constants.js';
import type { Env, NodeName, TimerId, WireMessage } from '../env.js';
import { InvalidArgumentError, MessageTooLargeError, RondoError, assert } from '../errors.js';
import type { RingState } from '../membership/index.js';
import type { AdminReply } from '../node/admin-messages.js';
import type { ClusterNode } from '../node/cluster-node.js';
import type { VnodeHost } from '../vnode/host.js';
import type { HandoffItem } from '../vnode/types.js';
import { isHandoffAdminRequest, type HandoffAdminRequest, type NodeTransfers, type TransfersReport } from './admin.js';
import { FoldTurns } from './fold-turns.js';
import { InboundSessions } from './inbound.js';
import { parseHandoffMessage, type HandoffMessage } from './messages.js';
import { OutboundTransfer, TransferRefused, batchesOf, type HandoffLimits, type SwitchState } from './outbound.js';
import { wantedTransfers } from './planner.js';
import { renderTransfers } from './render.js';
import type { TransferKind, TransferPhase, TransferRow } from './types.js';

export interface HandoffOptions extends HandoffLimits {
  /** Outbound and inbound transfers at once, each (riak's handoff_concurrency). */
  concurrency: number;
  retryDelayMs: number;
}

export const HANDOFF_DEFAULTS: HandoffOptions = {
  concurrency: HANDOFF_CONCURRENCY_DEFAULT,
  batchItemsMax: HANDOFF_BATCH_ITEMS_MAX,
  batchBytesMax: HANDOFF_BATCH_BYTES_MAX,
  inflightBytesMax: HANDOFF_INFLIGHT_BYTES_MAX,
  stallTimeoutMs: HANDOFF_STALL_TIMEOUT_MS,
  resendMs: HANDOFF_RESEND_MS,
  retryDelayMs: HANDOFF_RETRY_DELAY_MS,
  checkIntervalMs: HANDOFF_CHECK_INTERVAL_MS,
  dropGraceMs: HANDOFF_DROP_GRACE_MS,
};

export interface HandoffManagerOptions<Command, Reply> {
  cluster: ClusterNode;
  host: VnodeHost<Command, Reply>;
  /** Local partitions that hold any data. */
  partitionsWithData(): Promise<number[]>;
  /** Repair: whether an item of one partition also belongs to `targetPartition` (its key's preference list includes it). */
  belongsTo?(item: HandoffItem, targetPartition: number): boolean;
  /** n_val repair assumes for neighbours (default N_VAL_DEFAULT). */
  repairNVal?: number;
  options?: Partial<HandoffOptions>;
}

/** Phases of an outbound transfer that has sent (and had acknowledged) all it reads: it holds no concurrency slot. */
const NOT_MOVING: ReadonlySet<TransferPhase> = new Set(['finishing', 'awaiting-switch', 'dropping']);

/** A repair transfer that fails is queued again at most this many times in all. */
const REPAIR_ATTEMPTS_MAX = 5;

export class HandoffManager<Command, Reply> {
  readonly options: HandoffOptions;
  private readonly cluster: ClusterNode;
  private readonly env: Env;
  private readonly self: NodeName;
  private readonly host: VnodeHost<Command, Reply>;
  private readonly o: HandoffManagerOptions<Command, Reply>;
  /** Outbound transfers by source partition (one at a time per partition). */
  private readonly outbound = new Map<number, OutboundTransfer<Command, Reply>>();
  private readonly inbound: InboundSessions<Command, Reply>;
  private readonly foldTurns = new FoldTurns();
  private readonly attempts = new Map<number, number>();
  private readonly retryAtMs = new Map<number, number>();
  /** Repairs this node was asked to send, waiting for a free slot. */
  private readonly repairQueue: { partition: number; targetPartition: number; to: NodeName; attempt: number }[] = [];
  private readonly statusWaiters = new Map<string, (rows: TransferRow[]) => void>();
  private nextId = 0;
  private timer: TimerId | undefined;
  private checking = false;
  private recheck = false;
  private running = false;
  /** Since start, for /stats: transfers completed and failed, items and bytes acknowledged out by ended transfers (stats() adds running ones). */
  completed = 0;
  failed = 0;
  itemsSent = 0;
  bytesSent = 0;

  /** Transfers this node still had to make (running, waiting for a slot or for a retry) at its last check. */
  private pendingAtLastCheck = 0;

  /** Counters in Riak's /stats style (flat names). */
  stats(): Record<string, number> {
    let itemsSent = this.itemsSent;
    let bytesSent = this.bytesSent;
    for (const t of this.outbound.values()) {
      itemsSent += t.items;
      bytesSent += t.bytes;
    }
    return {
      handoff_outbound_active: this.moving(), handoff_inbound_active: this.inbound.active(), handoff_pending: this.pendingAtLastCheck + this.repairQueue.length,
      handoff_completed: this.completed, handoff_failed: this.failed,
      handoff_items_sent: itemsSent, handoff_bytes_sent: bytesSent, handoff_items_received: this.inbound.itemsReceived, handoff_bytes_received: this.inbound.bytesReceived,
    };
  }

  constructor(opts: HandoffManagerOptions<Command, Reply>) {
    this.o = opts;
    this.cluster = opts.cluster;
    this.env = opts.cluster.env;
    this.self = opts.cluster.name;
    this.host = opts.host;
    this.options = { ...HANDOFF_DEFAULTS, ...opts.options };
    const o = this.options;
    assert(Number.isSafeInteger(o.concurrency) && o.concurrency >= 1, 'handoff concurrency is a positive integer');
    assert(o.batchItemsMax >= 1 && o.batchBytesMax >= 1 && o.inflightBytesMax >= o.batchBytesMax, 'handoff batch limits are positive and fit the window');
    assert(o.resendMs > 0 && o.stallTimeoutMs > o.resendMs && o.retryDelayMs > 0 && o.checkIntervalMs > 0 && o.dropGraceMs >= 0, 'handoff timings are positive');
    this.inbound = new InboundSessions({
      env: this.env, self: this.self, host: this.host, concurrency: this.options.concurrency, stallTimeoutMs: this.options.stallTimeoutMs,
      ring: () => this.cluster.ring(),
      send: (to, msg) => this.cluster.send(to, msg),
      reportTransferComplete: (partition) => this.cluster.reportTransferComplete(partition),
    });
    opts.cluster.registerService('handoff', {
      receive: (from, msg) => this.receive(from, msg),
      handleAdmin: (req) => this.handleAdmin(req),
    });
    opts.cluster.onChange(() => this.scheduleCheck(0));
  }

  start(): void {
    this.running = true;
    this.scheduleCheck(this.options.checkIntervalMs);
  }

  /** Cancel every transfer and stop checking. Local data stays (a later start hands it off). */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.env.clearTimer(this.timer);
    this.timer = undefined;
    for (const t of this.outbound.values()) t.cancel(new RondoError('aborted', 'handoff stopping'));
    this.inbound.clear();
  }

  /** No outbound transfer runs or waits (used by a leaving node before it shuts down). */
  async idle(): Promise<boolean> {
    if (this.outbound.size > 0 || this.repairQueue.length > 0) return false;
    return wantedTransfers(this.cluster.ring(), this.self, await this.o.partitionsWithData()).length === 0;
  }

  rows(): TransferRow[] {
    return [...[...this.outbound.values()].map((t) => t.row(this.self)), ...this.inbound.rows()];
  }

  /** One line about the manager's state, for failure reports. */
  describe(): string {
    const now = this.env.nowMs();
    const out = [...this.outbound.values()].map((t) => `${t.spec.kind}:p${t.spec.partition}->${t.spec.to}@${t.phase}`);
    const retries = [...this.retryAtMs].filter(([, at]) => at > now).map(([p, at]) => `p${p}+${at - now}ms`);
    return `running=${this.running} checking=${this.checking} timer=${this.timer !== undefined} outbound=[${out.join(' ')}] retries=[${retries.join(' ')}] inbound=${this.inbound.size()} repairs=${this.repairQueue.length} foldsWaiting=${this.foldTurns.queued}`;
  }

  /** Every live member's rows (this node's own directly), for `rondo admin transfers`. */
  async report(): Promise<TransfersReport> {
    const ring = this.cluster.ring();
    const up = this.cluster.upNodes();
    const members = Object.values(ring.members).filter((m) => m.status !== 'removed').map((m) => m.name).sort();
    const nodes = await Promise.all(members.map(async (node): Promise<NodeTransfers> => {
      if (node === this.self) return { node, rows: this.rows() };
      if (!up.has(node)) return { node, rows: [], error: 'down' };
      const rows = await this.askStatus(node);
      return rows === undefined ? { node, rows: [], error: `no answer within ${HANDOFF_STATUS_TIMEOUT_MS} ms` } : { node, rows };
    }));
    return { via: this.self, concurrency: this.options.concurrency, nodes, pending: ring.ownership.pending };
  }

  /**
   * Change handoff_concurrency at runtime (riak-admin transfer-limit).
   * Running transfers are never stopped: a lower limit only keeps new ones
   * from starting until fewer than `concurrency` move data; a higher one
   * starts waiting ones at the next check, scheduled now.
   */
  setConcurrency(concurrency: number): void {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > HANDOFF_CONCURRENCY_MAX) {
      throw new InvalidArgumentError(`transfer limit must be an integer in 1..${HANDOFF_CONCURRENCY_MAX}, got ${concurrency}`);
    }
    this.options.concurrency = concurrency;
    this.inbound.setConcurrency(concurrency);
    assert(this.options.concurrency === concurrency, 'the new limit holds');
    this.scheduleCheck(0);
  }

  /** Cancel this node's outbound transfer of `partition`; it is retried after the retry delay. */
  cancel(partition: number): boolean {
    const t = this.outbound.get(partition);
    if (t === undefined) return false;
    t.cancel(new RondoError('aborted', `transfer of partition ${partition} cancelled by an operator`));
    return true;
  }

  /**
   * Rebuild `partition` here from its neighbours (riak-admin repair): each
   * owner of the partitions within repairNVal - 1 of it sends the keys whose
   * preference list includes `partition`. Returns what was asked of whom.
   */
  repair(partition: number): string[] {
    const ring = this.cluster.ring();
    if (!Number.isSafeInteger(partition) || partition < 0 || partition >= ring.ringSize) {
      throw new InvalidArgumentError(`partition must be an integer in 0..${ring.ringSize - 1}`);
    }
    if (ring.ownership.owners[partition] !== this.self) {
      throw new InvalidArgumentError(`${this.self} does not own partition ${partition} (${ring.ownership.owners[partition]} does); run repair there`);
    }
    if (this.o.belongsTo === undefined) throw new InvalidArgumentError('this service does not support repair');
    const n = this.o.repairNVal ?? N_VAL_DEFAULT;
    const lines: string[] = [];
    for (let d = -(n - 1); d <= n - 1; d++) {
      if (d === 0) continue;
      const source = (((partition + d) % ring.ringSize) + ring.ringSize) % ring.ringSize;
      const owner = ring.ownership.owners[source] as NodeName;
      if (owner === this.self) {
        this.repairLocally(source, partition).then(
          (items) => this.env.log.info({ source, partition, items }, 'local repair done'),
          (err: unknown) => this.env.log.error({ source, partition, err: String(err) }, 'local repair failed; run repair again'),
        );
        lines.push(`copying partition ${source}'s keys of partition ${partition} locally`);
      } else {
        this.cluster.send(owner, { type: 'handoff.repair-request', partition: source, targetPartition: partition, to: this.self });
        lines.push(`asked ${owner} to send partition ${source}'s keys of partition ${partition}`);
      }
    }
    this.scheduleCheck(0);
    return lines;
  }

  async handleAdmin(raw: WireMessage): Promise<AdminReply> {
    if (!isHandoffAdminRequest(raw)) throw new InvalidArgumentError(`unknown handoff admin request ${JSON.stringify(raw.type)}`);
    const req: HandoffAdminRequest = raw;
    switch (req.type) {
      case 'handoff.transfers': {
        const report = await this.report();
        return { type: 'admin.reply', ok: true, lines: renderTransfers(report), data: report };
      }
      case 'handoff.cancel': {
        const cancelled = this.cancel(req.partition);
        return { type: 'admin.reply', ok: true, lines: [cancelled ? `cancelled the transfer of partition ${req.partition} on ${this.self}; it will be retried in about ${Math.round(this.options.retryDelayMs / 1000)} s` : `no active transfer of partition ${req.partition} on ${this.self}`], data: { cancelled } };
      }
      case 'handoff.repair': {
        const lines = this.repair(req.partition);
        return { type: 'admin.reply', ok: true, lines: [...lines, "watch progress with 'rondo admin transfers'"], data: { asked: lines.length } };
      }
      case 'handoff.transfer-limit': {
        const before = this.options.concurrency;
        if (req.limit !== undefined) this.setConcurrency(req.limit);
        const limit = this.options.concurrency;
        const line = req.limit === undefined ? `${this.self}: transfer limit ${limit}` : `${this.self}: transfer limit ${before} -> ${limit}`;
        return { type: 'admin.reply', ok: true, lines: [line], data: { node: this.self, limit, previous: before } };
      }
      default: {
        const never: never = req;
        throw new InvalidArgumentError(`unhandled handoff admin request ${JSON.stringify(never)}`);
      }
    }
  }

  /** Repair from a partition this node also owns: fold it and apply the matching items to the target, batch by batch. */
  private async repairLocally(source: number, target: number): Promise<number> {
    const belongsTo = this.o.belongsTo;
    assert(belongsTo !== undefined, 'repair needs belongsTo');
    await this.host.exclusive(source, () => Promise.resolve()); // starts the vnode
    const vnode = this.host.vnode(source);
    assert(vnode !== undefined, 'the source vnode runs');
    let items = 0;
    for await (const batch of batchesOf(vnode.foldHandoffItems(new AbortController().signal), this.options, (item) => belongsTo(item, target))) {
      await this.host.exclusive(target, (v) => v.handleHandoffData(batch.items));
      items += batch.items.length;
    }
    return items;
  }

  // --- planning ---

  private scheduleCheck(delayMs: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) this.env.clearTimer(this.timer);
    this.timer = this.env.setTimer(delayMs, () => {
      this.timer = undefined;
      this.check().then(
        () => this.scheduleCheck(this.recheck ? 0 : this.options.checkIntervalMs),
        (err: unknown) => {
          this.env.log.error({ err: String(err) }, 'handoff check failed');
          this.scheduleCheck(this.options.checkIntervalMs);
        },
      );
    });
  }

  private async check(): Promise<void> {
    if (this.checking || !this.running) return;
    this.checking = true;
    this.recheck = false;
    try {
      const ring = this.cluster.ring();
      const wanted = wantedTransfers(ring, this.self, await this.o.partitionsWithData());
      if (!this.running) return;
      this.pendingAtLastCheck = wanted.length;
      const byPartition = new Map(wanted.map((w) => [w.partition, w]));
      for (const [partition, t] of this.outbound) {
        if (t.spec.kind === 'repair') continue;
        const w = byPartition.get(partition);
        // Without a wanted transfer, one that is waiting to drop finishes (its data is gone), unless the partition is ours again.
        const finishing = t.phase === 'dropping' || t.phase === 'awaiting-switch';
        if (w === undefined && (!finishing || this.mustKeep(ring, partition))) t.cancel(new RondoError('aborted', `partition ${partition} no longer needs handing off`));
        else if (w !== undefined && w.to !== t.spec.to) t.cancel(new RondoError('aborted', `partition ${partition} now goes to ${w.to}, not ${t.spec.to}`));
      }
      const up = this.cluster.upNodes();
      // A node that has left no longer hears from the detector; it tries every owner (a down one costs a stall timeout).
      const status = ring.members[this.self]?.status;
      const left = status === 'exiting' || status === 'removed';
      const now = this.env.nowMs();
      for (const w of wanted) {
        if (this.moving() >= this.options.concurrency) break;
        if (this.outbound.has(w.partition) || (!left && !up.has(w.to)) || (this.retryAtMs.get(w.partition) ?? 0) > now) continue;
        this.launch(w.partition, w.partition, w.kind, w.to, w.epoch);
      }
      while (this.repairQueue.length > 0 && this.moving() < this.options.concurrency) {
        const r = this.repairQueue[0]!;
        if (this.outbound.has(r.partition)) break;
        this.repairQueue.shift();
        this.launch(r.partition, r.targetPartition, 'repair', r.to, 0, r.attempt);
      }
      this.inbound.sweep(now);
    } finally {
      this.checking = false;
    }
  }

  private launch(partition: number, targetPartition: number, kind: TransferKind, to: NodeName, epoch: number, repairAttempt = 0): void {
    const attempt = kind === 'repair' ? repairAttempt : (this.attempts.get(partition) ?? 0) + 1;
    if (kind !== 'repair') this.attempts.set(partition, attempt);
    const id = `${this.self}:${this.env.random.int(2 ** 30).toString(36)}:${this.nextId++}`;
    const transfer = new OutboundTransfer({ id, kind, partition, targetPartition, to, epoch, attempt }, {
      env: this.env,
      host: this.host,
      limits: this.options,
      send: (peer, msg, channel) => {
        const failure = this.cluster.trySend(peer, msg, channel);
        if (failure === undefined) return true;
        // A batch that cannot fit one frame is never delivered by resending it: fail this transfer now (it is
        // retried later from scratch and deletes nothing meanwhile); lost or refused sends are resent.
        if (failure instanceof MessageTooLargeError) transfer.cancel(failure);
        else this.env.log.debug({ id, to: peer, type: msg.type, err: failure.message }, 'handoff message not sent');
        return false;
      },
      switchState: (p, newOwner) => this.switchState(p, newOwner),
      mayDrop: (p) => !this.mustKeep(this.cluster.ring(), p),
      onSlotFreed: () => this.scheduleCheck(0),
      foldTurns: this.foldTurns,
      ...(this.o.belongsTo ? { belongsTo: this.o.belongsTo } : {}),
    });
    this.outbound.set(partition, transfer);
    this.env.log.info({ id, kind, partition, targetPartition, to, attempt }, 'handoff starting');
    transfer.run().then(
      () => {
        this.completed++;
        this.attempts.delete(partition);
        this.retryAtMs.delete(partition);
        this.env.log.info({ id, kind, partition, to, items: transfer.items, bytes: transfer.bytes, ms: this.env.nowMs() - transfer.startedMs, phaseMs: transfer.phaseMs }, 'handoff done');
      },
      (err: unknown) => {
        const refused = err instanceof TransferRefused;
        if (!refused) this.failed++;
        if (kind === 'repair' && attempt < REPAIR_ATTEMPTS_MAX) this.repairQueue.push({ partition, targetPartition, to, attempt: attempt + 1 });
        const jitter = 0.5 + this.env.random.next();
        this.retryAtMs.set(partition, this.env.nowMs() + Math.round(this.options.retryDelayMs * jitter));
        this.env.log[refused ? 'debug' : 'warn']({ id, kind, partition, to, err: err instanceof Error ? err.message : String(err) }, 'handoff did not complete; will retry');
      },
    ).finally(() => {
      this.itemsSent += transfer.items;
      this.bytesSent += transfer.bytes;
      if (this.outbound.get(partition) === transfer) this.outbound.delete(partition);
      this.recheck = true;
      this.scheduleCheck(0);
    });
  }

  /**
   * Outbound transfers that count against the concurrency limit: those still
   * moving data. One waiting for its receiver's final ack, for the ring to
   * switch, or in its drop grace holds no slot (forming a cluster would
   * otherwise crawl).
   */
  private moving(): number {
    let n = 0;
    for (const t of this.outbound.values()) if (!NOT_MOVING.has(t.phase)) n++;
    return n;
  }

  /** This node owns the partition or is about to: its data must not be dropped. */
  private mustKeep(ring: RingState, partition: number): boolean {
    return ring.ownership.owners[partition] === this.self || ring.ownership.pending.some((t) => t.partition === partition && t.to === this.self);
  }

  private switchState(partition: number, to: NodeName): SwitchState {
    const ring: RingState = this.cluster.ring();
    if (ring.ownership.pending.some((t) => t.partition === partition && t.from === this.self && t.to === to)) return 'waiting';
    return ring.ownership.owners[partition] === to ? 'switched' : 'gone';
  }

  // --- messages ---

  private receive(from: NodeName, raw: WireMessage): void {
    if (!this.running) return;
    const msg = parseHandoffMessage(raw);
    if (typeof msg === 'string') {
      this.env.log.warn({ from, type: raw.type, problem: msg }, 'dropping malformed handoff message');
      return;
    }
    this.onMessage(from, msg);
  }

  private onMessage(from: NodeName, msg: HandoffMessage): void {
    switch (msg.type) {
      case 'handoff.start':
        return this.inbound.onStart(from, msg);
      case 'handoff.batch':
        return this.inbound.onBatch(from, msg);
      case 'handoff.finish':
        return this.inbound.onFinish(from, msg);
      case 'handoff.close':
        return this.inbound.onClose(from, msg.id);
      case 'handoff.reply': {
        for (const t of this.outbound.values()) if (t.spec.id === msg.id && t.spec.to === from) t.onReply(msg);
        return;
      }
      case 'handoff.status-request':
        this.cluster.send(from, { type: 'handoff.status', reqId: msg.reqId, rows: this.rows() });
        return;
      case 'handoff.status':
        this.statusWaiters.get(`${from}|${msg.reqId}`)?.(msg.rows);
        return;
      case 'handoff.repair-request':
        if (msg.partition < this.cluster.ring().ringSize && msg.targetPartition < this.cluster.ring().ringSize && this.repairQueue.length < this.cluster.ring().ringSize) {
          this.repairQueue.push({ partition: msg.partition, targetPartition: msg.targetPartition, to: from, attempt: 1 });
          this.scheduleCheck(0);
        }
        return;
      default: {
        const never: never = msg;
        this.env.log.warn({ from, msg: String(never) }, 'unhandled handoff message');
      }
    }
  }

  private askStatus(node: NodeName): Promise<TransferRow[] | undefined> {
    const reqId = `${this.nextId++}`;
    const key = `${node}|${reqId}`;
    return new Promise((resolve) => {
      const timer = this.env.setTimer(HANDOFF_STATUS_TIMEOUT_MS, () => {
        this.statusWaiters.delete(key);
        resolve(undefined);
      });
      this.statusWaiters.set(key, (rows) => {
        this.env.clearTimer(timer);
        this.statusWaiters.delete(key);
        resolve(rows);
      });
      if (!this.cluster.send(node, { type: 'handoff.status-request', reqId })) {
        this.env.clearTimer(timer);
        this.statusWaiters.delete(key);
        resolve(undefined);
      }
    });
  }
}
