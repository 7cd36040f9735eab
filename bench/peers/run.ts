// Starts one benchmark peer in the foreground for manual use, prints its
// targets, and stops it (removing its temp folder) on Ctrl-C or SIGTERM.
//   node --import tsx bench/peers/run.ts etcd|redis|stub [--port N] [--fsync always|everysec|no]
// --port is etcd's first client port (its members take N..N+2, Raft N+10..N+12).
// The defaults keep clear of the packaged services' ports (etcd 2379, Redis 6379).
import { parseArgs } from 'node:util';
import { startEtcdCluster } from './etcd.js';
import { startNodeStub } from './node-stub.js';
import { startRedis, type RedisFsync } from './redis.js';
import type { Peer } from './peer.js';

const DEFAULT_PORTS = { etcd: 22379, redis: 26379, stub: 28098 } as const;
type PeerKind = keyof typeof DEFAULT_PORTS;
const FSYNC_POLICIES: RedisFsync[] = ['always', 'everysec', 'no'];
const USAGE = 'usage: node --import tsx bench/peers/run.ts etcd|redis|stub [--port N] [--fsync always|everysec|no]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { port: { type: 'string' }, fsync: { type: 'string', default: 'always' } } });
const kind = positionals[0] as PeerKind | undefined;
if (positionals.length !== 1 || kind === undefined || !(kind in DEFAULT_PORTS)) fail('name one peer');
const port = values.port === undefined ? DEFAULT_PORTS[kind] : Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65_535) fail(`bad --port ${values.port}`);
const fsync = values.fsync as RedisFsync;
if (!FSYNC_POLICIES.includes(fsync)) fail(`bad --fsync ${values.fsync}`);

// Installed before starting, so that peer.ts leaves signals to us. A signal during start-up exits at
// once; peer.ts's exit handler then kills what had started and removes its folder.
let stopping: Promise<void> | undefined;
let peer: Peer | undefined;
const stopOnSignal = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  console.log(`${signal}: stopping ${kind}`);
  stopping = (peer?.stop() ?? Promise.resolve()).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);

try {
  if (kind === 'etcd') peer = await startEtcdCluster({ basePort: port });
  else if (kind === 'redis') peer = await startRedis({ port, fsync });
  else peer = await startNodeStub({ port });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
console.log(`${peer.name} running, pids ${peer.pids.join(' ')}${kind === 'redis' ? `, appendfsync ${fsync}` : ''}`);
console.log(`targets: ${peer.targets.join(',')}`);
console.log('Press Ctrl-C to stop');
