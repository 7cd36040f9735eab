// A 3-member etcd cluster on 127.0.0.1 for side-by-side benchmarks.
//
// Durability: etcd's defaults, on purpose. Every Raft commit fsyncs the WAL
// on the leader and on each follower before it counts as durable, and the
// bbolt backend commits (and fsyncs) in batches (--backend-batch-interval,
// 100 ms by default). etcd 3.4 has no switch to turn WAL fsync off: the
// `--unsafe-no-fsync` flag appeared in 3.5 (`etcd --help` of 3.4.23 lists
// only --force-new-cluster under "Unsafe feature"). We run WITH fsync.
//
// No auto-compaction (etcd's default): every put adds a revision, so a long
// write-heavy run grows the database towards its 2 GB quota.
import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { logTail, makeTempDir, removeTempDir, requireBinary, spawnLogged, stopChild, waitUntilReady, type Peer } from './peer.js';

const MEMBER_COUNT = 3;
/** Peer (Raft) ports are the client ports plus this. */
const PEER_PORT_OFFSET = 10;
const READY_DEADLINE_MS = 20_000;
const HOST = '127.0.0.1';

export interface EtcdClusterOptions {
  /** Client ports basePort..basePort+2, peer ports basePort+10..basePort+12. */
  basePort: number;
  /** Parent of the fresh temp folder (default: the OS temp folder). */
  dataRoot?: string;
}

/** GET /health answers {"health":"true"} once the member sees a leader and can serve a read. */
async function memberHealthy(clientPort: number): Promise<boolean> {
  const response = await fetch(`http://${HOST}:${clientPort}/health`, { signal: AbortSignal.timeout(1_000) });
  const body = await response.text();
  return response.ok && body.includes('"health":"true"');
}

export async function startEtcdCluster(opts: EtcdClusterOptions): Promise<Peer> {
  const etcd = requireBinary('etcd');
  const dir = makeTempDir('rondo-peer-etcd-', opts.dataRoot);
  const members = Array.from({ length: MEMBER_COUNT }, (_, i) => ({
    name: `m${i}`,
    clientPort: opts.basePort + i,
    peerPort: opts.basePort + PEER_PORT_OFFSET + i,
    logPath: join(dir, `m${i}.log`),
  }));
  const initialCluster = members.map((m) => `${m.name}=http://${HOST}:${m.peerPort}`).join(',');
  // A token unique to this run: a member left over from another run cannot join this cluster by mistake.
  const clusterToken = `rondo-bench-${process.pid}-${Date.now()}`;
  const children: ChildProcess[] = [];
  // One member at a time: a leader stopping hands leadership to a live member first, and waits
  // (up to ~5 s) for one that is itself stopping when all stop together.
  const stop = async (): Promise<void> => {
    for (const child of children) await stopChild(child);
    removeTempDir(dir);
  };
  try {
    for (const m of members) {
      const args = [
        '--name', m.name,
        '--data-dir', join(dir, m.name),
        '--listen-client-urls', `http://${HOST}:${m.clientPort}`,
        '--advertise-client-urls', `http://${HOST}:${m.clientPort}`,
        '--listen-peer-urls', `http://${HOST}:${m.peerPort}`,
        '--initial-advertise-peer-urls', `http://${HOST}:${m.peerPort}`,
        '--initial-cluster', initialCluster,
        '--initial-cluster-token', clusterToken,
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ];
      children.push(spawnLogged(etcd, args, m.logPath));
    }
    await Promise.all(members.map((m) => waitUntilReady(`etcd member ${m.name} (client port ${m.clientPort})`, () => memberHealthy(m.clientPort), READY_DEADLINE_MS, children)));
  } catch (err) {
    for (const m of members) console.error(`--- etcd ${m.name} log tail (${m.logPath}):\n${logTail(m.logPath)}`);
    await stop();
    throw err;
  }
  return {
    name: 'etcd',
    targets: members.map((m) => `${HOST}:${m.clientPort}`),
    pids: children.map((child) => child.pid as number),
    stop,
  };
}
