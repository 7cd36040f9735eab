// The node host's /stats and /metrics: what the KV service, the handoff
// manager, the transport and the PB API count, plus what only the host can
// read (CPU, memory, the LMDB file's size, event-loop lag). Host code: it may
// read the real clock and the file system (core and kv may not).
import { statSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { NodeMetrics } from './api/metrics.js';
import type { PbApi } from './api/pb/server.js';
import type { NodeConfig } from './cli/config.js';
import { processCpuStats } from './core/host/process-cpu.js';
import { presentMembers } from './core/membership/index.js';
import type { ClusterNode } from './core/node/cluster-node.js';
import type { TcpTransport } from './core/transport/index.js';
import type { KvService } from './kv/service.js';

/** Event-loop delay sampling resolution (perf_hooks): 10 ms, Node's default. */
const EVENT_LOOP_RESOLUTION_MS = 10;

export interface StatsSources {
  config: NodeConfig;
  version: string;
  cluster: ClusterNode;
  kv: KvService;
  transport: TcpTransport;
  storageBackend: string;
  /** Where the LMDB data file is (its size is reported). */
  lmdbFile: string;
  pb: () => PbApi | undefined;
  /** The clock the PB API counts connections by (the node's Env). */
  nowMs: () => number;
}

/** /stats: a flat JSON object in Riak's names (riak_kv_stat, riak_core_stat), plus Rondo's own handoff, transport and CPU fields. */
export function riakStats(s: StatsSources): Record<string, unknown> {
  const load = loadavg();
  return {
    ...nodeStats(s),
    ...s.kv.stats.render(),
    ...s.kv.handoff.stats(),
    ...pbStats(s.pb(), s.nowMs),
    ...transportStats(s.transport),
    ring_creation_size: s.cluster.ring().ringSize,
    cpu_nprocs: cpus().length,
    // Riak (cpu_sup) reports load averages times 256, as integers.
    cpu_avg1: Math.round((load[0] ?? 0) * 256),
    cpu_avg5: Math.round((load[1] ?? 0) * 256),
    cpu_avg15: Math.round((load[2] ?? 0) * 256),
    mem_total: totalmem(),
    mem_allocated: totalmem() - freemem(),
    rondo_version: s.version,
  };
}

/** Node-to-node traffic since start: messages, and the socket writes and reads that carried them (their ratio is the batching). */
function transportStats(transport: TcpTransport): Record<string, number> {
  const s = transport.stats();
  return { transport_messages_sent: s.messagesSent, transport_writes: s.writes, transport_messages_received: s.messagesReceived, transport_reads: s.reads };
}

/** PB API counters for /stats, named like Riak's pbc_* stats where one exists. */
function pbStats(pb: PbApi | undefined, nowMs: () => number): Record<string, number> {
  if (pb === undefined) return {};
  const st = pb.stats;
  return {
    pbc_active: st.connections, pbc_connects: st.connects.lastMinute(nowMs()), pbc_connects_total: st.connects.total,
    pbc_refused: st.connectionsRefused, pbc_requests: st.requests, pbc_errors: st.errors, pbc_framing_errors: st.framingErrors,
  };
}

function nodeStats(s: StatsSources): Record<string, unknown> {
  const ring = s.cluster.ring();
  const name = s.config.name;
  return {
    nodename: name,
    cluster_name: s.config.clusterName,
    ring_members: presentMembers(ring).map((m) => m.name),
    ring_num_partitions: ring.ringSize,
    ring_ownership: JSON.stringify(Object.entries(ring.ownership.owners.reduce<Record<string, number>>((acc, owner) => ({ ...acc, [owner]: (acc[owner] ?? 0) + 1 }), {}))),
    connected_nodes: [...s.cluster.upNodes()].filter((n) => n !== name).sort(),
    storage_backend: s.storageBackend,
    // This process's CPU time so far (all threads), for per-operation CPU budgets.
    ...processCpuStats(),
  };
}

/** The node's /metrics: request metrics (recorded by the APIs) and gauges read at scrape time. `stop` ends the event-loop sampling. */
export function nodeMetrics(s: StatsSources): { metrics: NodeMetrics; stop: () => void } {
  const metrics = new NodeMetrics({ nodeName: s.config.name });
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  loop.enable();
  // Node 20's histogram holds the time between two samples, resolution included (an idle loop shows about the
  // resolution): the lag is what exceeds it.
  const lagSeconds = (ns: number): number => Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS) / 1000;
  metrics.gauge({
    name: 'rondo_event_loop_lag_seconds', help: 'Event-loop lag since the last scrape (perf_hooks monitorEventLoopDelay, less its sampling interval): mean, p50, p99, max', labelNames: ['stat'],
    read: (set) => {
      if (loop.count > 0) {
        set(lagSeconds(loop.mean), { stat: 'mean' });
        set(lagSeconds(loop.percentile(50)), { stat: 'p50' });
        set(lagSeconds(loop.percentile(99)), { stat: 'p99' });
        set(lagSeconds(loop.max), { stat: 'max' });
      }
      loop.reset();
    },
  });
  metrics.gauge({
    name: 'rondo_vnode_mailbox_messages', help: 'Commands queued in vnode mailboxes: summed over vnodes, and the fullest one', labelNames: ['stat'],
    read: (set) => {
      let sum = 0;
      let max = 0;
      for (const v of s.kv.vnodeStats()) {
        sum += v.queued;
        if (v.queued > max) max = v.queued;
      }
      set(sum, { stat: 'sum' });
      set(max, { stat: 'max' });
    },
  });
  metrics.gauge({ name: 'rondo_vnodes', help: 'Vnodes this node hosts', read: (set) => set(s.kv.vnodeStats().length) });
  metrics.counterFrom({
    name: 'rondo_vnode_overload_refusals_total', help: 'Commands refused because a vnode mailbox was full (overload), summed over the vnodes hosted now',
    read: (set) => set(s.kv.vnodeStats().reduce((acc, v) => acc + v.overloads, 0)),
  });
  metrics.gauge({
    name: 'rondo_transport_queued_bytes', help: 'Bytes waiting in outbound node-to-node queues, summed over peers and channels',
    read: (set) => set(s.transport.stats().queuedBytes),
  });
  metrics.counterFrom({ name: 'rondo_transport_reconnects_total', help: 'Outbound node-to-node connection attempts after the first, per link', read: (set) => set(s.transport.stats().reconnects) });
  metrics.counterFrom({
    name: 'rondo_transport_messages_total', help: 'Node-to-node messages, by direction', labelNames: ['direction'],
    read: (set) => {
      const t = s.transport.stats();
      set(t.messagesSent, { direction: 'sent' });
      set(t.messagesReceived, { direction: 'received' });
    },
  });
  metrics.gauge({
    name: 'rondo_handoff_transfers_active', help: 'Handoff transfers running, by direction', labelNames: ['direction'],
    read: (set) => {
      const h = s.kv.handoff.stats();
      set(h.handoff_outbound_active ?? 0, { direction: 'outbound' });
      set(h.handoff_inbound_active ?? 0, { direction: 'inbound' });
    },
  });
  metrics.gauge({ name: 'rondo_handoff_pending', help: 'Handoff transfers this node still has to make', read: (set) => set(s.kv.handoff.stats().handoff_pending ?? 0) });
  metrics.counterFrom({
    name: 'rondo_handoff_items_total', help: 'Objects handed off, by direction', labelNames: ['direction'],
    read: (set) => {
      const h = s.kv.handoff.stats();
      set(h.handoff_items_sent ?? 0, { direction: 'sent' });
      set(h.handoff_items_received ?? 0, { direction: 'received' });
    },
  });
  metrics.counterFrom({
    name: 'rondo_handoff_bytes_total', help: 'Bytes handed off, by direction', labelNames: ['direction'],
    read: (set) => {
      const h = s.kv.handoff.stats();
      set(h.handoff_bytes_sent ?? 0, { direction: 'sent' });
      set(h.handoff_bytes_received ?? 0, { direction: 'received' });
    },
  });
  metrics.gauge({
    name: 'rondo_lmdb_file_bytes', help: 'Size of the LMDB data file on disk',
    read: (set) => {
      try {
        set(statSync(s.lmdbFile).size);
      } catch {
        // No file (yet): no sample.
      }
    },
  });
  metrics.counterFrom({
    name: 'rondo_read_repairs_total', help: 'Read repairs sent by this node\'s get coordinators',
    read: (set) => set(s.kv.stats.readRepairs.total),
  });
  return { metrics, stop: () => loop.disable() };
}
