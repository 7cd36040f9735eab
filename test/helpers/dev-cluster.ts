// A real `rondo dev` cluster on free ports in a scratch folder, for
// multi-process tests: start it, find its HTTP and PB addresses, and stop it
// (SIGINT to `rondo dev`, which stops its nodes), killing any process left
// behind and removing the folder (or keeping it, to start `rondo dev` again
// on the same folder and ports). Node processes are found by PID (admin
// node-info and /proc), so a killed `rondo dev` leaves no orphans either.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, freePort, runCli, tempDir, waitFor } from './processes.js';

/** First node-to-node, HTTP and PB ports (node i listens on base + i - 1). */
export interface DevPorts {
  base: number;
  http: number;
  pb: number;
}

export interface DevCluster {
  /** The scratch folder holding n1..nN (configs, data, logs). */
  dataDir: string;
  ports: DevPorts;
  /** PB API addresses, node i at index i - 1. */
  pb: string[];
  /** HTTP API addresses ("host:port"), node i at index i - 1. */
  http: string[];
  /** PIDs of the node processes, node i at index i - 1. */
  nodePids: number[];
  /** Node i's config (1-based), for `rondo admin --config`. */
  configPath(i: number): string;
  /** Everything `rondo dev` printed so far. */
  output(): string;
  /** The end of every node's log and of the dev output, for a failing test. */
  logs(): string;
  /** Stops the cluster and removes its folder (unless keepData); safe to call again (then it removes the folder unless keepData). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

async function canListen(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** A base port such that base .. base + count - 1 are free now (rondo dev gives node i base + i - 1). */
async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    let free = true;
    for (let i = 1; i < count && free; i++) free = await canListen(base + i);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

export function tcpOpen(address: string): Promise<boolean> {
  const at = address.lastIndexOf(':');
  return new Promise((resolveOpen) => {
    const socket = connect(Number(address.slice(at + 1)), address.slice(0, at));
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolveOpen(false);
    });
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs whose parent is `ppid` (Linux /proc; empty elsewhere). */
function childPids(ppid: number): number[] {
  if (!existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function nodeConfig(dataDir: string, i: number): { pbListen?: string; httpListen?: string } {
  return JSON.parse(readFileSync(join(dataDir, `n${i}`, 'rondo.json'), 'utf8')) as { pbListen?: string; httpListen?: string };
}

export async function startDevCluster(opts: { nodes?: number; readyTimeoutMs?: number; /** Start again on the folder and ports of a cluster stopped with keepData. */ reuse?: { dataDir: string; ports: DevPorts } } = {}): Promise<DevCluster> {
  const nodes = opts.nodes ?? 3;
  const reuse = opts.reuse;
  const dir = reuse === undefined ? tempDir('rondo-dev-cluster-') : { path: reuse.dataDir, remove: () => rmSync(reuse.dataDir, { recursive: true, force: true }) };
  const [basePort, httpBasePort, pbBasePort] = reuse === undefined ? [await consecutiveFreePorts(nodes), await consecutiveFreePorts(nodes), await consecutiveFreePorts(nodes)] : [reuse.ports.base, reuse.ports.http, reuse.ports.pb];
  const ports: DevPorts = { base: basePort, http: httpBasePort, pb: pbBasePort };
  const dev: ChildProcess = spawn(process.execPath, [BIN, 'dev', '--nodes', String(nodes), '--base-port', String(basePort), '--http-base-port', String(httpBasePort), '--pb-base-port', String(pbBasePort), '--data', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dev.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const indexes = Array.from({ length: nodes }, (_, i) => i + 1);
  let nodePids: number[] = [];
  const knownPids = (): number[] => [...new Set([...nodePids, ...(dev.pid === undefined ? [] : childPids(dev.pid))])];
  const killEverything = (): void => {
    for (const pid of knownPids()) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGKILL');
  };
  process.once('exit', killEverything);

  const logs = (): string => {
    const parts = [`--- rondo dev output ---\n${output.slice(-4000)}`];
    for (const i of indexes) {
      try {
        parts.push(`--- n${i} log ---\n${readFileSync(join(dir.path, `n${i}`, 'node.log'), 'utf8').slice(-3000)}`);
      } catch {
        // no log
      }
    }
    return parts.join('\n');
  };
  let stopped = false;
  let removed = false;
  const stop = async (stopOpts: { keepData?: boolean } = {}): Promise<void> => {
    if (stopped) {
      if (!removed && stopOpts.keepData !== true) dir.remove();
      removed ||= stopOpts.keepData !== true;
      return;
    }
    stopped = true;
    if (dev.exitCode === null && dev.signalCode === null) {
      nodePids = knownPids();
      const gone = new Promise<void>((r) => dev.once('exit', () => r()));
      dev.kill('SIGINT'); // rondo dev stops its nodes (SIGTERM), then exits
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      await waitFor(async () => nodePids.every((pid) => !pidAlive(pid)), 5_000);
    }
    killEverything();
    process.removeListener('exit', killEverything);
    if (stopOpts.keepData !== true) {
      dir.remove();
      removed = true;
    }
  };

  try {
    const exited = (): boolean => dev.exitCode !== null || dev.signalCode !== null;
    const readyMs = await waitFor(async () => {
      if (exited()) throw new Error('rondo dev exited');
      return output.includes('Press Ctrl-C');
    }, opts.readyTimeoutMs ?? 60_000, 100, () => exited());
    assert.ok(readyMs >= 0, `rondo dev did not come up:\n${output}`);
    assert.match(output, new RegExp(`Valid:${nodes} / Leaving:0 / Exiting:0 / Joining:0 / Down:0`), `the dev cluster is not ${nodes} valid members`);
    nodePids = indexes.map((i) => {
      const info = runCli(['admin', '--config', join(dir.path, `n${i}`, 'rondo.json'), '--json', 'node-info']);
      assert.equal(info.code, 0, info.stderr);
      return (JSON.parse(info.stdout) as { pid: number }).pid;
    });
    const configs = indexes.map((i) => nodeConfig(dir.path, i));
    const pb = configs.map((c, i) => c.pbListen ?? assert.fail(`n${i + 1}/rondo.json has no pbListen`));
    const http = configs.map((c, i) => c.httpListen ?? assert.fail(`n${i + 1}/rondo.json has no httpListen`));
    for (const address of pb) assert.ok((await waitFor(() => tcpOpen(address), 10_000, 100)) >= 0, `nothing listens on the PB address ${address}`);
    return { dataDir: dir.path, ports, pb, http, nodePids, configPath: (i) => join(dir.path, `n${i}`, 'rondo.json'), output: () => output, logs, stop };
  } catch (err) {
    const why = logs();
    await stop();
    throw new Error(`${(err as Error).message}\n${why}`, { cause: err });
  }
}
