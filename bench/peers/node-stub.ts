// Starts the Node stub (node-stub-server.ts) in its own process, so that it
// gets a core of its own like any server measured, not the driver's.
import { resolve, join } from 'node:path';
import { logTail, makeTempDir, removeTempDir, spawnLogged, stopChild, waitUntilReady, type Peer } from './peer.js';

const REPO = resolve(import.meta.dirname, '../..');
const SERVER_SCRIPT = join(REPO, 'bench', 'peers', 'node-stub-server.ts');
const READY_DEADLINE_MS = 10_000;
const HOST = '127.0.0.1';

export interface NodeStubOptions {
  port: number;
  /** Parent of the fresh temp folder holding the log (default: the OS temp folder). */
  dataRoot?: string;
}

/** Ready once it routes: a GET of an absent key answers 404. */
async function stubAnswers(port: number): Promise<boolean> {
  const response = await fetch(`http://${HOST}:${port}/buckets/ready/keys/probe`, { signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return response.status === 404;
}

export async function startNodeStub(opts: NodeStubOptions): Promise<Peer> {
  const dir = makeTempDir('rondo-peer-stub-', opts.dataRoot);
  const logPath = join(dir, 'stub.log');
  // cwd = the repository, so that `--import tsx` resolves from its node_modules.
  const child = spawnLogged(process.execPath, ['--import', 'tsx', SERVER_SCRIPT, '--port', String(opts.port)], logPath, REPO);
  const stop = async (): Promise<void> => {
    await stopChild(child);
    removeTempDir(dir);
  };
  try {
    await waitUntilReady(`node stub on port ${opts.port}`, () => stubAnswers(opts.port), READY_DEADLINE_MS, [child]);
  } catch (err) {
    console.error(`--- node stub log tail (${logPath}):\n${logTail(logPath)}`);
    await stop();
    throw err;
  }
  return { name: 'node-stub', targets: [`${HOST}:${opts.port}`], pids: [child.pid as number], stop };
}
