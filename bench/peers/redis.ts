// One redis-server for side-by-side benchmarks, configured on the command
// line only (no config file), with its own port and temp folder: Debian's
// packaged service on 6379, if running, is neither used nor touched.
//
// Durability: RDB snapshots off (--save ''), the append-only file on, and
// the AOF fsync policy chosen by the caller: 'always' fsyncs before each
// write is acknowledged (the setting comparable with etcd's WAL fsync),
// 'everysec' once a second (Redis's default: up to ~1 s of acknowledged
// writes can be lost), 'no' leaves flushing to the OS.
import { connect } from 'node:net';
import { join } from 'node:path';
import { logTail, makeTempDir, removeTempDir, requireBinary, spawnLogged, stopChild, waitUntilReady, type Peer } from './peer.js';

export type RedisFsync = 'always' | 'everysec' | 'no';

export interface RedisOptions {
  port: number;
  fsync: RedisFsync;
  /** Parent of the fresh temp folder (default: the OS temp folder). */
  dataRoot?: string;
}

const READY_DEADLINE_MS = 10_000;
const HOST = '127.0.0.1';

/** One inline PING on a fresh connection; true on +PONG. */
function pingAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(opts: RedisOptions): Promise<Peer> {
  const redisServer = requireBinary('redis-server');
  const dir = makeTempDir('rondo-peer-redis-', opts.dataRoot);
  const logPath = join(dir, 'redis.log');
  const args = [
    '--port', String(opts.port),
    '--bind', HOST,
    '--save', '',
    '--appendonly', 'yes',
    '--appendfsync', opts.fsync,
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'no',
  ];
  const child = spawnLogged(redisServer, args, logPath);
  const stop = async (): Promise<void> => {
    await stopChild(child);
    removeTempDir(dir);
  };
  try {
    await waitUntilReady(`redis-server on port ${opts.port}`, () => pingAnswers(opts.port), READY_DEADLINE_MS, [child]);
  } catch (err) {
    console.error(`--- redis-server log tail (${logPath}):\n${logTail(logPath)}`);
    await stop();
    throw err;
  }
  return { name: 'redis', targets: [`${HOST}:${opts.port}`], pids: [child.pid as number], stop };
}
