// `rondo dev` / `npm start`: a local cluster of real node processes on
// loopback, joined through the same admin commands an operator would use.
// Started again on the same data, it joins back any node that left the
// cluster meanwhile (a node that has left starts over as a fresh one-node
// cluster, as in Riak).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RondoError } from '../core/errors.js';
import { adminCall, adminCallOnClaimant, type AdminTarget } from './admin.js';

export interface DevOptions {
  nodes: number;
  basePort: number;
  httpBasePort: number;
  pbBasePort: number;
  dataRoot: string;
  ringSize: number;
  /** Extra Node.js flags for every node process, e.g. ['--cpu-prof'] to profile them. */
  nodeArgs?: string[];
}

const NODE_READY_TIMEOUT_MS = 30_000;
/** How long to wait for a node finishing a leave to start over, and for the seed to drop it from its ring. */
const LEAVE_OVER_TIMEOUT_MS = 60_000;
const POLL_MS = 200;
const BIN = fileURLToPath(new URL('../../bin/rondo.mjs', import.meta.url));

export async function runDevCluster(opts: DevOptions): Promise<void> {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 16) throw new RondoError('invalid_argument', '--nodes must be 1..16');
  const root = resolve(opts.dataRoot);
  mkdirSync(root, { recursive: true });
  const secret = loadOrCreateSecret(join(root, 'cluster-secret'));
  const configs = Array.from({ length: opts.nodes }, (_, i) => writeNodeConfig(root, i + 1, opts, secret));
  const children = configs.map((c) => spawnNode(c.path, c.logPath, opts.nodeArgs ?? []));
  let stopping = false;
  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    setTimeout(() => process.exit(code), 3_000).unref();
    Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve()))).then(() => process.exit(code));
  };
  process.once('SIGINT', () => stopAll(0));
  process.once('SIGTERM', () => stopAll(0));
  for (const [i, child] of children.entries()) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      // Exit code 0 without a signal from us: the node left the cluster (or someone stopped it).
      const hint = code === 0 ? "; if it left the cluster, the next 'rondo dev' joins it back" : '';
      process.stderr.write(`rondo dev: node n${i + 1} exited (${signal ?? code})${hint}; see ${configs[i]?.logPath}\n`);
    });
  }
  try {
    const targets = configs.map((c) => ({ address: c.listen, clusterSecret: secret }));
    for (const target of targets) await waitReady(target);
    const seed = await formCluster(targets);
    await waitSettled(seed, opts.nodes);
    const status = await adminCall(seed, { type: 'admin.member-status' });
    process.stdout.write(`\nRondo dev cluster: ${opts.nodes} node(s), data under ${root}\n`);
    for (const line of status.lines) process.stdout.write(`${line}\n`);
    process.stdout.write(`\nHTTP API (Riak-compatible): ${configs.map((c) => `http://${c.httpListen}`).join('  ')}\n`);
    process.stdout.write(`PB API (Riak-compatible):   ${configs.map((c) => c.pbListen).join('  ')}\n`);
    const http = `http://${configs[0]?.httpListen}`;
    process.stdout.write(`Try:\n  curl -i -X PUT -H 'Content-Type: text/plain' --data 'hello' ${http}/buckets/demo/keys/k1\n  curl -i ${http}/buckets/demo/keys/k1\n`);
    process.stdout.write(`\nLogs: ${join(root, 'n*', 'node.log')}\n`);
    process.stdout.write(`Admin: node bin/rondo.mjs admin --config ${join(root, 'n1', 'rondo.json')} member-status\n`);
    process.stdout.write('Press Ctrl-C to stop the cluster.\n');
  } catch (err) {
    process.stderr.write(`rondo dev: ${(err as Error).message}\n`);
    stopAll(1);
  }
}

/** What admin node-info says (see ClusterNode.handleAdmin). */
interface NodeInfo {
  name: string;
  address: string;
  memberCount: number;
  /** The node's own status in its ring. */
  status?: string;
}

async function nodeInfo(target: AdminTarget): Promise<NodeInfo> {
  return (await adminCall(target, { type: 'admin.node-info' })).data as NodeInfo;
}

/**
 * Join every node that is a one-node cluster of its own, then plan and
 * commit; returns the seed. At a first start every node is alone and n1 is
 * the seed. On a restart the seed is a valid member of the formed cluster,
 * and the nodes still alone are those that left it (and started over): they
 * join again, as at a first start.
 */
async function formCluster(targets: AdminTarget[]): Promise<AdminTarget> {
  const infos: NodeInfo[] = [];
  for (const target of targets) infos.push(await waitLeaveOver(target));
  const formed = infos.findIndex((info) => info.memberCount > 1 && info.status === 'valid');
  const seedIndex = Math.max(formed, 0);
  const seed = targets[seedIndex] as AdminTarget;
  const seedInfo = infos[seedIndex] as NodeInfo;
  for (const [i, target] of targets.entries()) {
    const info = infos[i] as NodeInfo;
    if (i === seedIndex || info.memberCount > 1) continue; // the seed, or a member already (restart)
    if (formed >= 0) {
      process.stdout.write(`${info.name} is a one-node cluster of its own (it left the cluster): joining it back via ${seedInfo.name}\n`);
      await waitDroppedFrom(seed, info.name);
    }
    await adminCall(target, { type: 'admin.join', seed: seedInfo.address });
  }
  try {
    const plan = await adminCallOnClaimant(seed, { type: 'admin.plan' });
    for (const line of plan.reply.lines) process.stdout.write(`${line}\n`);
    await adminCallOnClaimant(seed, { type: 'admin.commit' });
  } catch (err) {
    if (!(err instanceof RondoError && err.code === 'plan_empty')) throw err;
  }
  return seed;
}

/**
 * A node whose leave completed (exiting, removed) hands off what it still
 * holds, then starts over as a fresh one-node cluster: wait (bounded) for
 * that. One still at it after LEAVE_OVER_TIMEOUT_MS is left alone.
 */
async function waitLeaveOver(target: AdminTarget): Promise<NodeInfo> {
  const deadline = Date.now() + LEAVE_OVER_TIMEOUT_MS;
  for (;;) {
    const info = await nodeInfo(target);
    if (info.status !== 'exiting' && info.status !== 'removed') return info;
    if (Date.now() > deadline) {
      process.stderr.write(`rondo dev: ${info.name} is still finishing its leave (handing off) after ${LEAVE_OVER_TIMEOUT_MS} ms; not joining it back\n`);
      return info;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The seed refuses to re-add a node it still lists (as exiting): wait (bounded) until its claimant has removed it. */
async function waitDroppedFrom(seed: AdminTarget, name: string): Promise<void> {
  const deadline = Date.now() + LEAVE_OVER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const reply = await adminCall(seed, { type: 'admin.member-status' });
    const rows = (reply.data as { members: { name: string }[] }).members;
    if (!rows.some((r) => r.name === name)) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Wait (bounded) until every member is valid and no ownership transfer is pending. */
async function waitSettled(target: AdminTarget, nodes: number): Promise<void> {
  const deadline = Date.now() + NODE_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const reply = await adminCall(target, { type: 'admin.member-status' });
    const rows = (reply.data as { members: { status: string; ringPct: number; pendingPct: number }[] }).members;
    if (rows.length === nodes && rows.every((r) => r.status === 'valid' && r.ringPct === r.pendingPct)) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function waitReady(target: AdminTarget): Promise<void> {
  const deadline = Date.now() + NODE_READY_TIMEOUT_MS;
  for (;;) {
    try {
      await adminCall({ ...target, timeoutMs: 1_000 }, { type: 'admin.node-info' });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new RondoError('timeout', `node at ${target.address} not ready after ${NODE_READY_TIMEOUT_MS} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

function loadOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function writeNodeConfig(root: string, index: number, opts: DevOptions, secret: string): { path: string; logPath: string; listen: string; httpListen: string; pbListen: string } {
  const dir = join(root, `n${index}`);
  mkdirSync(dir, { recursive: true });
  const listen = `127.0.0.1:${opts.basePort + index - 1}`;
  const httpListen = `127.0.0.1:${opts.httpBasePort + index - 1}`;
  const pbListen = `127.0.0.1:${opts.pbBasePort + index - 1}`;
  const config = { name: `n${index}`, listen, httpListen, pbListen, dataDir: dir, clusterName: 'rondo-dev', clusterSecret: secret, ringSize: opts.ringSize };
  const path = join(dir, 'rondo.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { path, logPath: join(dir, 'node.log'), listen, httpListen, pbListen };
}

function spawnNode(configPath: string, logPath: string, nodeArgs: string[]): ChildProcess {
  const log = openSync(logPath, 'a');
  return spawn(process.execPath, [...nodeArgs, BIN, 'start', '--config', configPath], { stdio: ['ignore', log, log] });
}
