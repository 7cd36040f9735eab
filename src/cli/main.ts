// The `rondo` command.
import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { RondoError } from '../core/errors.js';
import type { AdminReply } from '../core/node/admin-messages.js';
import type { HandoffAdminRequest } from '../core/handoff/admin.js';
import { analyzeProfile } from '../bench/cpu-roles.js';
import type { CpuProfileData } from '../core/host/cpu-profiler.js';
import { startNode } from '../node.js';
import { adminCall, adminCallOnClaimant, type AdminTarget, type AnyAdminRequest } from './admin.js';
import { transferLimit, waitForService } from './admin-status.js';
import { benchCommand } from './bench.js';
import { configFromEnv, readConfigFile, resolveConfig, type ConfigSource } from './config.js';
import { runDevCluster } from './dev.js';

const program = new Command();
program.name('rondo').description('Rondo: a masterless, Riak-compatible distributed key-value store').showHelpAfterError();

program
  .command('start')
  .description('run one node in the foreground')
  .option('-c, --config <file>', 'JSON config file (keys: name, listen, httpListen, pbListen, dataDir, clusterName, clusterSecret, ringSize, targetNVal, logLevel)')
  .option('--name <name>', 'node name, unique in the cluster (RONDO_NAME)')
  .option('--listen <host:port>', 'node-to-node and admin address (RONDO_LISTEN)')
  .option('--http-listen <host:port>', 'Riak-compatible HTTP API address (RONDO_HTTP_LISTEN); none when absent')
  .option('--pb-listen <host:port>', 'Riak-compatible Protocol Buffers API address (RONDO_PB_LISTEN); none when absent')
  .option('--data <dir>', 'data directory (RONDO_DATA)')
  .option('--cluster-name <name>', 'cluster name; peers must match (RONDO_CLUSTER_NAME, default rondo)')
  .option('--cluster-secret <secret>', 'shared secret for node and admin handshakes (RONDO_CLUSTER_SECRET)')
  .option('--ring-size <n>', 'partitions in the ring, power of two 8..1024 (RONDO_RING_SIZE, default 64)')
  .option('--target-n-val <n>', 'claim keeps this many consecutive partitions on distinct nodes (default 4)')
  .option('--log-level <level>', 'pino log level (RONDO_LOG_LEVEL, default info)')
  .option('--handoff-concurrency <n>', "handoff transfers at once per direction, like Riak's handoff_concurrency (RONDO_HANDOFF_CONCURRENCY, default 2)")
  .option('--delete-mode <mode>', "tombstone reaping like Riak's delete_mode: a delay (3s, 500ms), keep, or immediate (RONDO_DELETE_MODE, default 3s)")
  .action(async (opts: Record<string, string | undefined>) => {
    const file: ConfigSource = opts.config ? readConfigFile(opts.config) : {};
    const flags: ConfigSource = {
      name: opts.name,
      listen: opts.listen,
      httpListen: opts.httpListen,
      pbListen: opts.pbListen,
      dataDir: opts.data,
      clusterName: opts.clusterName,
      clusterSecret: opts.clusterSecret,
      ringSize: opts.ringSize,
      targetNVal: opts.targetNVal,
      logLevel: opts.logLevel,
      deleteMode: opts.deleteMode,
      handoffConcurrency: opts.handoffConcurrency,
    };
    const config = resolveConfig(file, configFromEnv(process.env), flags);
    const node = await startNode(config);
    const shutdown = (signal: string): void => {
      process.stderr.write(`rondo: ${signal}, stopping ${config.name}\n`);
      node.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    // Like Riak: once a node has left and handed everything off, it starts over
    // as a fresh one-node cluster (saved) and shuts down; started again, it can join anew.
    node.onLeft(() => shutdown('left the cluster'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });

program
  .command('dev')
  .description('run a local N-node cluster (one process per node), joined and committed, until Ctrl-C')
  .option('--nodes <n>', 'number of nodes', '3')
  .option('--base-port <port>', 'first node listens here, the next on +1, ...', '7101')
  .option('--http-base-port <port>', "first node's HTTP API port, the next on +1, ...", '8098')
  .option('--pb-base-port <port>', "first node's Protocol Buffers API port, the next on +1, ...", '8087')
  .option('--data <dir>', 'data root; node i keeps its data in <dir>/n<i>', './data')
  .option('--ring-size <n>', 'partitions in the ring', '64')
  .option('--node-args <flags>', "extra Node.js flags for each node process, space-separated (e.g. '--cpu-prof --cpu-prof-dir=prof')")
  .action(async (opts: { nodes: string; basePort: string; httpBasePort: string; pbBasePort: string; data: string; ringSize: string; nodeArgs?: string }) => {
    const nodeArgs = opts.nodeArgs?.split(' ').filter((a) => a.length > 0) ?? [];
    await runDevCluster({ nodes: Number(opts.nodes), basePort: Number(opts.basePort), httpBasePort: Number(opts.httpBasePort), pbBasePort: Number(opts.pbBasePort), dataRoot: opts.data, ringSize: Number(opts.ringSize), nodeArgs });
  });

const admin = program
  .command('admin')
  .description('administer a running node')
  .option('-n, --node <host:port>', 'node to talk to (default: listen address from --config)')
  .option('-c, --config <file>', "a node's JSON config file: gives the address and the secret")
  .addOption(new Option('--cluster-secret <secret>', 'cluster secret').env('RONDO_CLUSTER_SECRET'))
  .option('--cluster-secret-file <file>', 'read the cluster secret from this file')
  .option('--json', 'print the structured reply as JSON');

function adminTarget(): AdminTarget {
  const opts = admin.opts<{ node?: string; config?: string; clusterSecret?: string; clusterSecretFile?: string }>();
  const file: ConfigSource = opts.config ? readConfigFile(opts.config) : {};
  const address = opts.node ?? (typeof file.listen === 'string' ? file.listen : undefined);
  const secret = opts.clusterSecret ?? (opts.clusterSecretFile ? readFileSync(opts.clusterSecretFile, 'utf8').trim() : undefined) ?? (typeof file.clusterSecret === 'string' ? file.clusterSecret : undefined);
  if (!address) throw new RondoError('invalid_argument', 'which node? give --node host:port or --config <node config file>');
  if (!secret) throw new RondoError('invalid_argument', 'no cluster secret: give --cluster-secret, RONDO_CLUSTER_SECRET, --cluster-secret-file or --config');
  return { address, clusterSecret: secret };
}

async function runAdmin(req: AnyAdminRequest, opts: { onClaimant?: boolean } = {}): Promise<void> {
  const target = adminTarget();
  const { reply, via } = opts.onClaimant ? await adminCallOnClaimant(target, req) : { reply: await adminCall(target, req), via: undefined };
  printReply(reply, via);
}

function printReply(reply: AdminReply, via?: string): void {
  if (admin.opts<{ json?: boolean }>().json) {
    process.stdout.write(`${JSON.stringify(reply.data ?? reply.lines, null, 2)}\n`);
    return;
  }
  if (via) process.stdout.write(`(run on the claimant, ${via})\n`);
  for (const line of reply.lines) process.stdout.write(`${line}\n`);
}

/** Repeat a request every `seconds` until Ctrl-C, redrawing in place on a terminal. */
async function watchAdmin(req: HandoffAdminRequest, seconds: number): Promise<void> {
  const target = adminTarget();
  for (;;) {
    const reply = await adminCall(target, req);
    // A pipe or log file gets every snapshot, separated, instead of escape codes.
    process.stdout.write(process.stdout.isTTY ? '\x1b[2J\x1b[H' : `--- ${new Date().toISOString()}\n`);
    printReply(reply);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}

function watchSeconds(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 2;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RondoError('invalid_argument', `--watch wants a positive number of seconds, got ${value}`);
  return seconds;
}

function partitionArg(p: string): number {
  const partition = Number(p);
  if (p.trim() === '' || !Number.isSafeInteger(partition) || partition < 0) throw new RondoError('invalid_argument', `partition must be a non-negative integer, got ${p}`);
  return partition;
}

const cluster = admin.command('cluster').description('stage, plan and commit membership changes (like riak-admin cluster)');
cluster.command('join <seed>').description('ask this node to join the cluster of the node at <seed> (host:port)').action((seed: string) => runAdmin({ type: 'admin.join', seed }));
cluster.command('leave [node]').description('stage a leave of this node (or of <node>)').action((node?: string) => runAdmin(node ? { type: 'admin.leave', node } : { type: 'admin.leave' }));
cluster.command('replace <old> <new>').description('stage moving every partition of <old> to <new> (which must have joined)').action((oldNode: string, newNode: string) => runAdmin({ type: 'admin.replace', old: oldNode, new: newNode }));
cluster.command('force-remove <node>').description('stage removing a dead node; its data is not handed off: the other replicas rebuild it through read repair (and anti-entropy, in a later release)').action((node: string) => runAdmin({ type: 'admin.force-remove', node }));
cluster.command('plan').description('show staged changes and the resulting ownership and transfers').action(() => runAdmin({ type: 'admin.plan' }, { onClaimant: true }));
cluster.command('commit').description('apply the staged changes').action(() => runAdmin({ type: 'admin.commit' }, { onClaimant: true }));
cluster.command('clear').description('drop all staged changes').action(() => runAdmin({ type: 'admin.clear' }));
cluster.command('status').description('members: status, availability, ring and pending shares, and the claimant (like riak-admin cluster status)').action(() => runAdmin({ type: 'admin.cluster-status' }));
const bucketType = admin.command('bucket-type').description('create and manage bucket types (like riak-admin bucket-type)');
bucketType.command('create <name> [props]').description(`create an inactive type; props as '{"props":{...}}'`).action((name: string, props?: string) => runAdmin({ type: 'bucket-type.create', name, props: props ?? '' }));
bucketType.command('activate <name>').description('activate a type once every node has it').action((name: string) => runAdmin({ type: 'bucket-type.activate', name }));
bucketType.command('update <name> <props>').description('change properties of an active type').action((name: string, props: string) => runAdmin({ type: 'bucket-type.update', name, props }));
bucketType.command('status <name>').description('whether a type is active, and its properties').action((name: string) => runAdmin({ type: 'bucket-type.status', name }));
bucketType.command('list').description('every type and whether it is active').action(() => runAdmin({ type: 'bucket-type.list' }));
admin.command('down <node>').description('mark an unreachable member down so the claimant role can move on (like riak-admin down)').action((node: string) => runAdmin({ type: 'admin.down', node }));
admin.command('member-status').description('members, their status, liveness and ring ownership').action(() => runAdmin({ type: 'admin.member-status' }));
admin.command('ring-status').description('claimant, ring epoch, pending ownership transfers, unreachable nodes').action(() => runAdmin({ type: 'admin.ring-status' }));
admin.command('node-info').description('name, address and cluster of the node').action(() => runAdmin({ type: 'admin.node-info' }));
admin
  .command('transfers')
  .description('active handoff transfers on every live member, and pending ownership changes (like riak-admin transfers)')
  .option('--watch [seconds]', 'redraw every N seconds (default 2) until Ctrl-C')
  .action((opts: { watch?: string | boolean }) => {
    const seconds = watchSeconds(opts.watch);
    return seconds === undefined ? runAdmin({ type: 'handoff.transfers' }) : watchAdmin({ type: 'handoff.transfers' }, seconds);
  });
admin
  .command('transfers-cancel <partition>')
  .description("cancel the node's outbound transfer of <partition>; it is retried later")
  .action((p: string) => runAdmin({ type: 'handoff.cancel', partition: partitionArg(p) }));
admin
  .command('repair <partition>')
  .description('rebuild one partition on its owner from the neighbouring replicas (like riak-admin repair)')
  .action((p: string) => runAdmin({ type: 'handoff.repair', partition: partitionArg(p) }));
admin.command('status').description("every stat of the node as 'name : value', the values of its HTTP /stats (like riak-admin status)").action(() => runAdmin({ type: 'admin.status' }));
admin
  .command('stat')
  .description('stats by name (like riak-admin stat)')
  .command('show <pattern>')
  .description("the stats whose names match <pattern>; * matches any characters (e.g. 'handoff_*', '*_active')")
  .action((pattern: string) => runAdmin({ type: 'admin.stat-show', pattern }));
admin
  .command('vnode-status')
  .description('every local vnode: partition, primary or fallback, objects, writes not yet durable, mailbox, handoff (like riak-admin vnode-status)')
  .option('--no-count', 'skip counting objects (a range count per partition)')
  .action((opts: { count: boolean }) => runAdmin({ type: 'kv.vnode-status', countObjects: opts.count }));
admin.command('ringready').description('TRUE when every member is up and shows the same ring (like riak-admin ringready)').action(() => runAdmin({ type: 'admin.ringready' }));
admin
  .command('wait-for-service <service> [node]')
  .description('wait until <service> (riak_kv or kv) runs on [node] (a member name or host:port; default the --node); exit 1 on timeout')
  .option('--timeout <seconds>', 'give up after this long', '60')
  .action(async (service: string, node: string | undefined, opts: { timeout: string }) => {
    const seconds = Number(opts.timeout);
    if (opts.timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw new RondoError('invalid_argument', `--timeout wants a positive number of seconds, got ${opts.timeout}`);
    const json = admin.opts<{ json?: boolean }>().json === true;
    const result = await waitForService({ target: adminTarget(), service, ...(node !== undefined ? { node } : {}), timeoutMs: seconds * 1000, print: (line) => (json ? undefined : process.stdout.write(`${line}\n`)) });
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!result.up) {
      process.stderr.write(`rondo: ${result.service} is not up on ${result.node} after ${seconds} s\n`);
      process.exitCode = 1;
    }
  });
admin
  .command('transfer-limit [args...]')
  .description('handoff_concurrency of every member; transfer-limit <limit> sets it on all, transfer-limit <node> <limit> on one, at runtime (like riak-admin transfer-limit)')
  .action(async (args: string[]) => {
    const result = await transferLimit(adminTarget(), args);
    if (admin.opts<{ json?: boolean }>().json) process.stdout.write(`${JSON.stringify(result.rows, null, 2)}\n`);
    else for (const line of result.lines) process.stdout.write(`${line}\n`);
    if (result.failed) process.exitCode = 1;
  });
admin
  .command('cpu-profile')
  .description("sample the node's CPU (V8 profiler, every 500 µs) for a while; write a .cpuprofile (Chrome DevTools: Performance, or the JavaScript Profiler) and print the process's CPU time over the same window")
  .option('--seconds <n>', 'how long to profile, 0.1 to 120', '10')
  .option('--out <file>', 'where to write the profile (default: rondo-<time>.cpuprofile here)')
  .action((opts: { seconds: string; out?: string }) => runCpuProfile({ seconds: opts.seconds, out: opts.out ?? `rondo-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile` }));

/** Admin requests get this long beyond the profile itself (connect, the profile's transfer). */
const CPU_PROFILE_REPLY_MARGIN_MS = 30_000;

async function runCpuProfile(opts: { seconds: string; out: string }): Promise<void> {
  const seconds = Number(opts.seconds);
  if (opts.seconds.trim() === '' || !Number.isFinite(seconds)) throw new RondoError('invalid_argument', `--seconds wants a number, got ${opts.seconds}`);
  // The node checks the range (0.1 s to 2 min) and says so.
  const durationMs = Math.round(seconds * 1000);
  const target = adminTarget();
  const reply = await adminCall({ ...target, timeoutMs: Math.max(0, durationMs) + CPU_PROFILE_REPLY_MARGIN_MS }, { type: 'admin.cpu-profile', durationMs });
  const data = reply.data as CpuProfileData;
  writeFileSync(opts.out, JSON.stringify(data.profile));
  const breakdown = analyzeProfile(data.profile);
  const cpuUs = data.cpuUserUs + data.cpuSystemUs;
  const figures = { pid: data.pid, wallMs: data.wallMs, cpuUserUs: data.cpuUserUs, cpuSystemUs: data.cpuSystemUs, samplingIntervalUs: data.samplingIntervalUs, samples: breakdown.samples, sampledBusyUs: breakdown.busyUs, sampledIdleUs: breakdown.idleUs, out: opts.out };
  if (admin.opts<{ json?: boolean }>().json) {
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    return;
  }
  for (const line of reply.lines) process.stdout.write(`${line}\n`);
  const offMain = cpuUs - breakdown.busyUs;
  process.stdout.write(`main thread, sampled: busy ${(breakdown.busyUs / 1000).toFixed(1)} ms, idle ${(breakdown.idleUs / 1000).toFixed(1)} ms; off the main thread or in the kernel (estimate: process CPU - sampled busy) ${(offMain / 1000).toFixed(1)} ms\n`);
  process.stdout.write(`profile written to ${opts.out}\n`);
}

program.addCommand(benchCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof RondoError) {
    process.stderr.write(`rondo: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`rondo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
