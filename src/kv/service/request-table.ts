// The table of requests this node sent to peers' vnodes and awaits replies
// for. Bounded (OverloadError when full); each entry has its own Env timer and
// is answered exactly once: by the reply, its timeout, or clear().
import type { Env, NodeName, TimerId } from '../../core/env.js';
import { OverloadError, RondoError, TimeoutError, assert } from '../../core/errors.js';
import type { KvReply } from '../vnode/index.js';

interface Pending {
  node: NodeName;
  resolve: (reply: KvReply) => void;
  reject: (err: RondoError) => void;
  timer: TimerId;
}

export class RequestTable {
  private readonly env: Env;
  private readonly max: number;
  private readonly prefix: string;
  private readonly table = new Map<string, Pending>();
  private seq = 0;

  constructor(opts: { env: Env; max: number; idPrefix: string }) {
    assert(Number.isSafeInteger(opts.max) && opts.max > 0, 'pending request limit is a positive integer');
    this.env = opts.env;
    this.max = opts.max;
    this.prefix = opts.idPrefix;
  }

  get size(): number {
    return this.table.size;
  }

  /** A new request id and the promise of its reply. Throws OverloadError when the table is full. */
  open(node: NodeName, timeoutMs: number, what: string): { reqId: string; reply: Promise<KvReply> } {
    if (this.table.size >= this.max) throw new OverloadError(`${this.max} vnode requests already pending on ${this.env.nodeName}`);
    const reqId = `${this.prefix}:${++this.seq}`;
    const reply = new Promise<KvReply>((resolve, reject) => {
      const timer = this.env.setTimer(timeoutMs, () => {
        this.table.delete(reqId);
        reject(new TimeoutError(`${what} on ${node}: no reply within ${timeoutMs} ms`));
      });
      this.table.set(reqId, { node, resolve, reject, timer });
    });
    assert(this.table.size <= this.max, 'pending table within its limit');
    return { reqId, reply };
  }

  /** Deliver a reply; false when nothing waits for it (late, duplicate, or from the wrong node). */
  settle(reqId: string, from: NodeName, reply: KvReply): boolean {
    const p = this.table.get(reqId);
    if (p === undefined || p.node !== from) return false;
    this.table.delete(reqId);
    this.env.clearTimer(p.timer);
    p.resolve(reply);
    return true;
  }

  fail(reqId: string, err: RondoError): void {
    const p = this.table.get(reqId);
    if (p === undefined) return;
    this.table.delete(reqId);
    this.env.clearTimer(p.timer);
    p.reject(err);
  }

  clear(err: RondoError): void {
    for (const reqId of [...this.table.keys()]) this.fail(reqId, err);
    assert(this.table.size === 0, 'cleared table is empty');
  }
}
