// Wiring: one running node = transport + Env + cluster core (+ KV and APIs in
// later layers). Used by `rondo start` and by the multi-process tests.
import { join } from 'node:path';
import { pino } from 'pino';
import type { WireMessage } from './core/env.js';
import { FileMetaStore, RealEnv } from './core/host/real-env.js';
import { ClusterNode } from './core/node/cluster-node.js';
import { MetadataService } from './core/metadata/index.js';
import { BucketTypeAdmin, isBucketTypeRequest } from './kv/admin/index.js';
import { rpcRequest, TcpTransport } from './core/transport/index.js';
import type { AdminReply } from './core/node/admin-messages.js';
import { RondoError } from './core/errors.js';
import { parseAddress, type NodeConfig } from './cli/config.js';

export interface RunningNode {
  readonly config: NodeConfig;
  readonly cluster: ClusterNode;
  readonly metadata: MetadataService;
  readonly transport: TcpTransport;
  /** Where the transport really listens (port 0 resolved). */
  readonly address: string;
  stop(): Promise<void>;
}

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
  const bucketTypes = new BucketTypeAdmin(metadata);
  transport.onRequest(async (req: WireMessage) => (isBucketTypeRequest(req) ? bucketTypes.handle(req) : cluster.handleAdmin(req)));
  cluster.start();
  metadata.start();
  log.info({ address, clusterName: config.clusterName, ringSize: config.ringSize }, 'node started');

  let stopped = false;
  return {
    config,
    cluster,
    metadata,
    transport,
    address,
    async stop() {
      if (stopped) return;
      stopped = true;
      metadata.stop();
      cluster.stop();
      env.clearAllTimers();
      await transport.stop();
      log.info({}, 'node stopped');
      log.flush();
    },
  };
}
