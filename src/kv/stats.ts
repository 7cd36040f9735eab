// The KV service's counters for /stats, in Riak's names (riak_kv_stat):
// one-minute figures over sliding windows (core/stats) and totals since
// start. Each is counted where its event happens: coordinated gets and puts
// in the service, vnode commands where the service runs them on its own
// vnodes, index entries in the vnode, read repairs in the get coordinator.
// Times come from the service's Env clock; nothing here reads the time.
import { CountWindow, HistogramWindow, type HistogramSummary } from '../core/stats/index.js';
import type { RondoError } from '../core/errors.js';

/** Why a read repair was sent, and to which kind of replica (Riak's read_repairs_{primary,fallback}_{notfound,outofdate}). */
export type RepairKind = 'primary_notfound' | 'primary_outofdate' | 'fallback_notfound' | 'fallback_outofdate';

export class KvStats {
  readonly gets = new CountWindow();
  readonly puts = new CountWindow();
  readonly getTimeUs = new HistogramWindow();
  readonly putTimeUs = new HistogramWindow();
  readonly getSiblings = new HistogramWindow();
  readonly getObjectBytes = new HistogramWindow();
  readonly getErrors = new CountWindow();
  readonly putErrors = new CountWindow();
  readonly getRejected = new CountWindow();
  readonly putRejected = new CountWindow();
  getActive = 0;
  putActive = 0;
  readonly vnodeGets = new CountWindow();
  readonly vnodePuts = new CountWindow();
  readonly vnodeIndexReads = new CountWindow();
  readonly vnodeIndexWrites = new CountWindow();
  readonly vnodeIndexDeletes = new CountWindow();
  readonly readRepairs = new CountWindow();
  readonly repairsByKind: Readonly<Record<RepairKind, CountWindow>> = {
    primary_notfound: new CountWindow(), primary_outofdate: new CountWindow(), fallback_notfound: new CountWindow(), fallback_outofdate: new CountWindow(),
  };
  /** Puts this node did not coordinate itself: it holds no replica of the key, and sent the put to one that does. */
  coordRedirs = 0;
  readonly listCreate = new CountWindow();
  readonly indexCreate = new CountWindow();
  listActive = 0;
  indexActive = 0;

  constructor(readonly nowMs: () => number) {}

  /** A coordinated get or put ended: its time, and whether it failed (overload counts as rejected too). */
  ended(op: 'get' | 'put', startedMs: number, error: RondoError | undefined): void {
    const nowMs = this.nowMs();
    const get = op === 'get';
    if (get) this.getActive--;
    else this.putActive--;
    (get ? this.getTimeUs : this.putTimeUs).record(nowMs, (nowMs - startedMs) * 1000);
    if (error === undefined) return;
    (get ? this.getErrors : this.putErrors).add(nowMs);
    if (error.code === 'overload') (get ? this.getRejected : this.putRejected).add(nowMs);
  }

  repaired(kind: RepairKind): void {
    const nowMs = this.nowMs();
    this.readRepairs.add(nowMs);
    this.repairsByKind[kind].add(nowMs);
  }

  /** The flat /stats fields. */
  render(): Record<string, number> {
    const now = this.nowMs();
    const out: Record<string, number> = {};
    const count = (name: string, w: CountWindow): void => {
      out[name] = w.lastMinute(now);
      out[`${name}_total`] = w.total;
    };
    const histogram = (name: string, h: HistogramWindow, round: boolean): void => {
      const s: HistogramSummary = h.summary(now);
      const r = (v: number): number => (round ? Math.round(v) : v);
      out[`${name}_mean`] = r(s.mean);
      out[`${name}_median`] = r(s.median);
      out[`${name}_95`] = r(s.p95);
      out[`${name}_99`] = r(s.p99);
      out[`${name}_100`] = r(s.max);
    };
    count('node_gets', this.gets);
    count('node_puts', this.puts);
    histogram('node_get_fsm_time', this.getTimeUs, true);
    histogram('node_put_fsm_time', this.putTimeUs, true);
    histogram('node_get_fsm_siblings', this.getSiblings, false);
    histogram('node_get_fsm_objsize', this.getObjectBytes, true);
    count('node_get_fsm_errors', this.getErrors);
    count('node_put_fsm_errors', this.putErrors);
    out.node_get_fsm_active = this.getActive;
    out.node_put_fsm_active = this.putActive;
    count('node_get_fsm_rejected', this.getRejected);
    count('node_put_fsm_rejected', this.putRejected);
    count('vnode_gets', this.vnodeGets);
    count('vnode_puts', this.vnodePuts);
    count('vnode_index_reads', this.vnodeIndexReads);
    count('vnode_index_writes', this.vnodeIndexWrites);
    count('vnode_index_deletes', this.vnodeIndexDeletes);
    count('read_repairs', this.readRepairs);
    for (const [kind, w] of Object.entries(this.repairsByKind)) {
      // Riak's names: _one for the last minute, _count since start.
      out[`read_repairs_${kind}_one`] = w.lastMinute(now);
      out[`read_repairs_${kind}_count`] = w.total;
    }
    out.coord_redirs_total = this.coordRedirs;
    out.list_fsm_active = this.listActive;
    count('list_fsm_create', this.listCreate);
    out.index_fsm_active = this.indexActive;
    count('index_fsm_create', this.indexCreate);
    return out;
  }
}
