// Wiring: one running node = transport + Env + cluster core (+ KV and APIs in
// later layers). Used by `rondo start` and by the multi-process tests.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PB_FRAME_BYTES_MAX } from './api/pb/codec/index.js';
import { pino } from 'pino';
import type { WireMessage } from './core/env.js';
import { CpuProfiler, isCpuProfileRequest } from './core/host/cpu-profiler.js';
import { processCpuStats } from './core/host/process-cpu.js';
import { FileMetaStore, RealEnv } from './core/host/real-env.js';
import { ClusterNode } from './core/node/cluster-node.js';
import { MetadataService } from './core/metadata/index.js';
import { BucketTypeAdmin, isBucketTypeRequest } from './kv/admin/index.js';
import { openLmdbEngine } from './kv/backend/index.js';
import { KvService } from './kv/service.js';
import { HttpApi } from './api/http/server.js';
import { createPbHandler } from './api/pb/handlers.js';
import { PbApi } from './api/pb/server.js';
import { presentMembers } from './core/membership/index.js';
import { rpcRequest, TcpTransport } from './core/transport/index.js';
import type { AdminReply } from './core/node/admin-messages.js';
import { RondoError } from './core/errors.js';
import { parseAddress, parseDeleteMode, type NodeConfig } from './cli/config.js';

/** What GetServerInfo reports: Rondo's version (package.json). */
const SERVER_VERSION = `rondo-${(createRequire(import.meta.url)('../package.json') as { version: string }).version}`;

export interface RunningNode {
  readonly config: NodeConfig;
  readonly cluster: ClusterNode;
  readonly metadata: MetadataService;
  readonly kv: KvService;
  /** Where the HTTP API really listens, when it is enabled. */
  readonly httpAddress: string | undefined;
  /** Where the PB API really listens, when it is enabled. */
  readonly pbAddress: string | undefined;
  readonly transport: TcpTransport;
  /** Where the transport really listens (port 0 resolved). */
  readonly address: string;
  /**
   * Called once this node has left the cluster and handed everything off (or
   * LEAVE_HANDOFF_WAIT_MS passed): like Riak, it may then shut down.
   */
  onLeft(listener: () => void): void;
  stop(): Promise<void>;
}

/** A node that has left keeps handing off what it still holds (writes that reached it late) for at most this long. */
const LEAVE_HANDOFF_WAIT_MS = 10 * 60_000;
const LEAVE_HANDOFF_POLL_MS = 500;

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const log = pino({ level: config.logLevel, base: { node: config.name } });
  const { host, port } = parseAddress(config.listen);
  const transport = new TcpTransport({
    nodeName: config.name,
    clusterName: config.clusterName,
    clusterSecret: config.clusterSecret,
    host,
    port,
    log,
  });
  const bound = await transport.start();
  const address = `${bound.host}:${bound.port}`;
  const env = new RealEnv({ nodeName: config.name, net: transport, log, meta: new FileMetaStore(join(config.dataDir, 'meta')) });
  const cluster = new ClusterNode({
    env,
    address,
    clusterName: config.clusterName,
    ringSize: config.ringSize,
    targetNVal: config.targetNVal,
    pid: process.pid,
    autoCompleteTransfers: false, // the KV service's handoff reports them
    // A join seed is given by address: ask it (as an authenticated peer of
    // this cluster, so a node of another cluster refuses) for its name.
    resolveAddress: async (seedAddress) => {
      const reply = (await rpcRequest({
        address: seedAddress,
        clusterSecret: config.clusterSecret,
        clusterName: config.clusterName,
        fromName: config.name,
        role: 'peer',
        msg: { type: 'admin.node-info' },
      })) as AdminReply;
      const name = (reply.data as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string') throw new RondoError('internal', `${seedAddress} did not say its name`);
      return name;
    },
  });
  const metadata = new MetadataService({ cluster });
  const engine = openLmdbEngine({ path: join(config.dataDir, 'kv') });
  const kv = new KvService({
    cluster,
    env,
    engine,
    deleteMode: parseDeleteMode(config.deleteMode),
    handoff: { concurrency: config.handoffConcurrency },
    objectLimits: { objectBytesWarn: config.objectBytesWarn, objectBytesMax: config.objectBytesMax, siblingsWarn: config.siblingsWarn, siblingsMax: config.siblingsMax },
  });
  const bucketTypes = new BucketTypeAdmin(metadata);
  const profiler = new CpuProfiler({ nodeName: config.name });
  transport.onRequest(async (req: WireMessage, ctx) => {
    if (isCpuProfileRequest(req)) return profiler.handle(req, ctx.signal);
    return isBucketTypeRequest(req) ? bucketTypes.handle(req) : cluster.handleAdmin(req);
  });
  cluster.start();
  metadata.start();
  let http: HttpApi | undefined;
  let httpAddress: string | undefined;
  if (config.httpListen !== undefined) {
    const where = parseAddress(config.httpListen);
    http = new HttpApi({ kv, metadata, host: where.host, port: where.port, log, bodyBytesMax: config.objectBytesMax + 64 * 1024, stats: () => ({ ...nodeStats(config, cluster, engine.name), ...kv.handoff.stats(), ...pbStats(pb), ...transportStats(transport) }) });
    const boundHttp = await http.start();
    httpAddress = `${boundHttp.host}:${boundHttp.port}`;
  }
  let pb: PbApi | undefined;
  let pbAddress: string | undefined;
  if (config.pbListen !== undefined) {
    const where = parseAddress(config.pbListen);
    pb = new PbApi({ host: where.host, port: where.port, log, frameBytesMax: Math.max(PB_FRAME_BYTES_MAX, config.objectBytesMax + 64 * 1024), handler: createPbHandler({ kv, metadata, node: config.name, serverVersion: SERVER_VERSION }) });
    const boundPb = await pb.start();
    pbAddress = `${boundPb.host}:${boundPb.port}`;
  }
  log.info({ address, httpAddress, pbAddress, clusterName: config.clusterName, ringSize: config.ringSize }, 'node started');

  let stopped = false;
  const leftListeners: (() => void)[] = [];
  cluster.onLeft(() => {
    const started = Date.now();
    const poll = (): void => {
      if (stopped) return;
      kv.handoff.idle().then(
        (idle) => {
          if (idle || Date.now() - started > LEAVE_HANDOFF_WAIT_MS) {
            if (!idle) log.warn({ waitedMs: Date.now() - started }, 'left the cluster with data not yet handed off');
            else log.info({ waitedMs: Date.now() - started }, 'left the cluster and handed everything off');
            for (const listener of leftListeners) listener();
          } else setTimeout(poll, LEAVE_HANDOFF_POLL_MS);
        },
        (err: unknown) => {
          log.error({ err: String(err) }, 'handoff idle check failed');
          setTimeout(poll, LEAVE_HANDOFF_POLL_MS);
        },
      );
    };
    poll();
  });
  return {
    onLeft: (listener) => {
      leftListeners.push(listener);
    },
    config,
    cluster,
    metadata,
    kv,
    httpAddress,
    pbAddress,
    transport,
    address,
    async stop() {
      if (stopped) return;
      stopped = true;
      profiler.stop();
      if (http) await http.stop();
      if (pb) await pb.stop();
      await kv.stop();
      metadata.stop();
      cluster.stop();
      env.clearAllTimers();
      await transport.stop();
      await engine.close();
      log.info({}, 'node stopped');
      log.flush();
    },
  };
}

/** Node-to-node traffic since start: messages, and the socket writes and reads that carried them (their ratio is the batching). */
function transportStats(transport: TcpTransport): Record<string, number> {
  const s = transport.stats();
  return { transport_messages_sent: s.messagesSent, transport_writes: s.writes, transport_messages_received: s.messagesReceived, transport_reads: s.reads };
}

/** PB API counters for /stats, named like Riak's pbc_* stats where one exists. */
function pbStats(pb: PbApi | undefined): Record<string, number> {
  if (pb === undefined) return {};
  return { pbc_active: pb.stats.connections, pbc_refused: pb.stats.connectionsRefused, pbc_requests: pb.stats.requests, pbc_errors: pb.stats.errors, pbc_framing_errors: pb.stats.framingErrors };
}

/** A basic /stats body in Riak's shape (a flat JSON object of named values). */
function nodeStats(config: NodeConfig, cluster: ClusterNode, storageBackend: string): Record<string, unknown> {
  const ring = cluster.ring();
  return {
    nodename: config.name,
    cluster_name: config.clusterName,
    ring_members: presentMembers(ring).map((m) => m.name),
    ring_num_partitions: ring.ringSize,
    ring_ownership: JSON.stringify(Object.entries(ring.ownership.owners.reduce<Record<string, number>>((acc, owner) => ({ ...acc, [owner]: (acc[owner] ?? 0) + 1 }), {}))),
    connected_nodes: [...cluster.upNodes()].filter((n) => n !== config.name).sort(),
    storage_backend: storageBackend,
    // This process's CPU time so far (all threads), for per-operation CPU budgets.
    ...processCpuStats(),
  };
}
