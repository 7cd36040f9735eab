// The table of requests this node sent to peers' vnodes and awaits replies
// for. Bounded (OverloadError when full); each entry is answered exactly
// once, through its callback: by the reply, its deadline, or clear().
// Deadlines share one DeadlineTable (one Env timer for all of them).
//
// Request ids are numbers, unique per node incarnation: the vnode epoch (one
// more at every start of the service) times 2^32, plus a sequence number
// modulo 2^32. A receiver that remembers ids to drop duplicates never
// confuses a restarted node's requests with its earlier ones; a sequence
// wrap reuses an id only after 2^32 requests, far beyond any table or window.
import { DeadlineTable, type DeadlineId } from '../../core/deadline/index.js';
import type { Env, NodeName } from '../../core/env.js';
import { OverloadError, RondoError, TimeoutError, assert } from '../../core/errors.js';
import type { KvReply } from '../vnode/index.js';

const SEQ_SPAN = 2 ** 32;
/** Epochs above this would make ids unsafe integers; they wrap (see the top of this file). */
const EPOCH_SPAN = 2 ** 20;

export type RequestOutcome = { ok: true; reply: KvReply } | { ok: false; error: RondoError };

interface Pending {
  node: NodeName;
  done: (outcome: RequestOutcome) => void;
  deadline: DeadlineId;
}

export class RequestTable {
  private readonly max: number;
  private readonly nodeName: NodeName;
  private readonly base: number;
  private readonly table = new Map<number, Pending>();
  private readonly deadlines: DeadlineTable;
  private seq = 0;

  constructor(opts: { env: Env; max: number; epoch: number }) {
    assert(Number.isSafeInteger(opts.max) && opts.max > 0, 'pending request limit is a positive integer');
    assert(Number.isSafeInteger(opts.epoch) && opts.epoch >= 0, 'epoch is a non-negative integer');
    this.max = opts.max;
    this.nodeName = opts.env.nodeName;
    this.base = (opts.epoch % EPOCH_SPAN) * SEQ_SPAN;
    this.deadlines = new DeadlineTable(opts.env);
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * A new request id; `done` gets the reply, or a TimeoutError after
   * `timeoutMs`. Throws OverloadError when the table is full.
   */
  open(node: NodeName, timeoutMs: number, what: string, done: (outcome: RequestOutcome) => void): number {
    if (this.table.size >= this.max) throw new OverloadError(`${this.max} vnode requests already pending on ${this.nodeName}`);
    this.seq = (this.seq + 1) % SEQ_SPAN;
    const reqId = this.base + this.seq;
    assert(!this.table.has(reqId), 'request ids are not reused while pending');
    const deadline = this.deadlines.add(timeoutMs, () => {
      this.table.delete(reqId);
      done({ ok: false, error: new TimeoutError(`${what} on ${node}: no reply within ${timeoutMs} ms`) });
    });
    this.table.set(reqId, { node, done, deadline });
    assert(this.table.size <= this.max, 'pending table within its limit');
    return reqId;
  }

  /** Deliver a reply; false when nothing waits for it (late, duplicate, or from the wrong node). */
  settle(reqId: number, from: NodeName, reply: KvReply): boolean {
    const p = this.table.get(reqId);
    if (p === undefined || p.node !== from) return false;
    this.table.delete(reqId);
    this.deadlines.remove(p.deadline);
    p.done({ ok: true, reply });
    return true;
  }

  fail(reqId: number, err: RondoError): void {
    const p = this.table.get(reqId);
    if (p === undefined) return;
    this.table.delete(reqId);
    this.deadlines.remove(p.deadline);
    p.done({ ok: false, error: err });
  }

  clear(err: RondoError): void {
    for (const reqId of [...this.table.keys()]) this.fail(reqId, err);
    assert(this.table.size === 0, 'cleared table is empty');
    this.deadlines.clear();
  }
}
