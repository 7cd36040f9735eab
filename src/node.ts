// Wiring: one running node = transport + Env + cluster core (+ KV and APIs in
// later layers). Used by `rondo start` and by the multi-process tests.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PB_FRAME_BYTES_MAX } from './api/pb/codec/index.js';
import { pino, type Logger } from 'pino';
import type { WireMessage } from './core/env.js';
import { CpuProfiler, isCpuProfileRequest } from './core/host/cpu-profiler.js';
import { processHealthSampler } from './core/host/process-cpu.js';
import { FileMetaStore, RealEnv } from './core/host/real-env.js';
import { ClusterNode } from './core/node/cluster-node.js';
import { MetadataService } from './core/metadata/index.js';
import { BucketTypeAdmin, handleKvAdmin, isBucketTypeRequest, isKvAdminRequest } from './kv/admin/index.js';
import { LMDB_FILE_NAME, openLmdbEngine, type StorageEngine } from './kv/backend/index.js';
import { nodeMetrics, riakStats, type StatsSources } from './node-stats.js';
import { KvService } from './kv/service.js';
import { HttpApi } from './api/http/server.js';
import type { ConsoleSource } from './api/http/console/overview.js';
import { createPbHandler } from './api/pb/handlers.js';
import { PbApi } from './api/pb/server.js';
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
   * Called once a leave that completed while this node ran is over: the node
   * handed everything off and started over as a fresh one-node cluster (or
   * LEAVE_HANDOFF_WAIT_MS passed, and it kept its data and old ring for the
   * next start). Like Riak, it may then shut down. Not called for a node
   * that was started already having left: that one finishes its leave and
   * keeps running as the fresh node (see finishLeaving).
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
    // One source for /stats and `rondo admin status` (called only once the node runs).
    stats: () => stats(),
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
  let stopped = false;
  const leftListeners: (() => void)[] = [];
  // Before start: a node restarted after its leave completed learns it on its first tick.
  finishLeaving({ cluster, kv, engine, log, stopped: () => stopped, onLeaveOver: () => leftListeners.forEach((listener) => listener()) });
  const bucketTypes = new BucketTypeAdmin(metadata);
  const profiler = new CpuProfiler({ nodeName: config.name });
  transport.onRequest(async (req: WireMessage, ctx) => {
    if (isCpuProfileRequest(req)) return profiler.handle(req, ctx.signal);
    if (isKvAdminRequest(req)) return handleKvAdmin(kv, req);
    return isBucketTypeRequest(req) ? bucketTypes.handle(req) : cluster.handleAdmin(req);
  });
  cluster.start();
  metadata.start();
  let pb: PbApi | undefined;
  const sources: StatsSources = { config, version: SERVER_VERSION, cluster, kv, transport, storageBackend: engine.name, lmdbFile: join(config.dataDir, 'kv', LMDB_FILE_NAME), pb: () => pb, nowMs: () => env.nowMs() };
  const observed = nodeMetrics(sources);
  const metrics = observed.metrics;
  /** Every stat of this node: the HTTP /stats body and `rondo admin status`. */
  const stats = (): Record<string, unknown> => riakStats(sources);
  let http: HttpApi | undefined;
  let httpAddress: string | undefined;
  if (config.httpListen !== undefined) {
    const where = parseAddress(config.httpListen);
    const health = processHealthSampler();
    // The web console reads the node through this (read-only) interface only.
    const consoleSource: ConsoleSource = {
      nodeName: config.name,
      ring: () => cluster.ring(),
      liveness: () => cluster.livenessSnapshot(),
      transfers: () => kv.handoff.report(),
      health,
    };
    http = new HttpApi({
      kv, metadata, host: where.host, port: where.port, log, console: consoleSource, bodyBytesMax: config.objectBytesMax + 64 * 1024,
      stats,
      metrics: { render: async () => ({ contentType: metrics.contentType(), body: await metrics.render() }), requests: metrics },
    });
    const boundHttp = await http.start();
    httpAddress = `${boundHttp.host}:${boundHttp.port}`;
  }
  let pbAddress: string | undefined;
  if (config.pbListen !== undefined) {
    const where = parseAddress(config.pbListen);
    pb = new PbApi({
      host: where.host, port: where.port, log, frameBytesMax: Math.max(PB_FRAME_BYTES_MAX, config.objectBytesMax + 64 * 1024),
      handler: createPbHandler({ kv, metadata, node: config.name, serverVersion: SERVER_VERSION, onError: (code) => metrics.error('pb', code) }),
      metrics, nowMs: () => env.nowMs(),
    });
    const boundPb = await pb.start();
    pbAddress = `${boundPb.host}:${boundPb.port}`;
  }
  log.info({ address, httpAddress, pbAddress, clusterName: config.clusterName, ringSize: config.ringSize }, 'node started');

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
      observed.stop();
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

/**
 * What a node does once its leave has completed (ClusterNode.onLeft: the
 * claimant marked it exiting or removed it). It keeps handing off what it
 * still holds (writes that reached it late) until nothing is left to hand off
 * and its store is empty (ownership and hinted handoffs delete what they
 * sent); only then does it start over as a fresh one-node cluster, so it
 * never forgets a ring while it holds data that ring says belongs elsewhere.
 * A node that left while it ran then calls `onLeaveOver` (which shuts it
 * down, as Riak does); one started already having left (stopped before it
 * could start over, or data from an older version) keeps running as the
 * fresh node, ready to `cluster join` again. After LEAVE_HANDOFF_WAIT_MS
 * without finishing, it keeps its data and old ring (the next start resumes)
 * and calls `onLeaveOver` all the same.
 *
 * The vnodes run on: each one that handed its data off already took a new
 * actor id (KvVnode's drop count), so the fresh node never reissues a dot
 * of the old cluster's writes.
 */
function finishLeaving(o: { cluster: ClusterNode; kv: KvService; engine: StorageEngine; log: Logger; stopped: () => boolean; onLeaveOver: () => void }): void {
  let leftBeforeStart = o.cluster.leftCluster();
  o.cluster.onLeft(() => {
    const startedMs = Date.now();
    const poll = (): void => {
      if (o.stopped()) return;
      nothingToHandOff(o.kv, o.engine).then(
        (done) => {
          if (o.stopped()) return;
          const waitedMs = Date.now() - startedMs;
          if (!o.cluster.leftCluster()) {
            // A seed re-added it under its name before its leave was over: it is a member again, and stays one.
            o.log.info({ waitedMs }, 'a member again before its leave was over; keeping its ring');
            return;
          }
          if (!done && waitedMs <= LEAVE_HANDOFF_WAIT_MS) {
            setTimeout(poll, LEAVE_HANDOFF_POLL_MS);
            return;
          }
          if (!done) {
            o.log.warn({ waitedMs }, 'left the cluster with data not yet handed off; keeping it and the old ring: the next start hands it off');
            o.onLeaveOver();
            return;
          }
          o.log.info({ waitedMs }, 'left the cluster and handed everything off');
          o.cluster.startOver();
          if (!leftBeforeStart) {
            o.onLeaveOver();
            return;
          }
          leftBeforeStart = false;
          o.log.info({}, "running on as a fresh one-node cluster; 'rondo admin cluster join <seed>' joins it to a cluster again");
        },
        (err: unknown) => {
          o.log.error({ err: String(err) }, 'checking what is left to hand off failed');
          setTimeout(poll, LEAVE_HANDOFF_POLL_MS);
        },
      );
    };
    poll();
  });
}

/** No handoff runs or is wanted, and the store holds no row at all (a node that has left owns no partition). */
async function nothingToHandOff(kv: KvService, engine: StorageEngine): Promise<boolean> {
  if (!(await kv.handoff.idle())) return false;
  return (await engine.partitions()).length === 0;
}
