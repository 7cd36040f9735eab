// Handoff throughput between two local node processes: node A alone (a
// single-node cluster owning every partition) is loaded with K keys of 1 KiB in
// an n_val=1 bucket (W=1), then node B joins; the clock runs from the commit
// until ring-status on both nodes shows no pending transfers. Reports MB/s and
// keys/s over all K keys (the figure the handoff issue asks for) and over the
// share of keys in the partitions that actually moved, the CPU each node used
// while handing off, and a read-back check through B of a sample of keys (once
// B knows the bucket's n_val, which reaches it by metadata gossip).
// With --profile-dir D, each node is CPU-profiled (admin cpu-profile) for
// --profile-seconds from just before the commit; profiles go to D and the
// busiest functions are printed. CPU per thread (/proc/<pid>/task) is printed
// either way: a V8 profile's samples count wall time, not CPU.
// Usage: node --import tsx bench/handoff.ts [--keys 100000] [--concurrency 64] [--ring-size 64] [--handoff-concurrency 2] [--keep-data]
//   [--log-level warn] [--profile-dir D] [--profile-seconds 4]
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { adminCall, adminCallOnClaimant, type AnyAdminRequest } from '../src/cli/admin.js';
import { analyzeProfile, type CpuProfileLike } from '../src/bench/cpu-roles.js';
import type { CpuProfileData } from '../src/core/host/cpu-profiler.js';
import type { MemberStatusRow } from '../src/core/membership/index.js';
import { freePort, startNodeProcess, stopProcess, tempDir, waitFor, waitForPing, type NodeProcess } from '../test/helpers/processes.js';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    'ring-size': { type: 'string', default: '64' },
    'keep-data': { type: 'boolean', default: false },
    'sample-reads': { type: 'string', default: '1000' },
    'handoff-concurrency': { type: 'string', default: '2' },
    'log-level': { type: 'string', default: 'warn' },
    'profile-dir': { type: 'string' },
    'profile-seconds': { type: 'string', default: '4' },
  },
});
const KEYS = Number(args.keys);
const CONCURRENCY = Number(args.concurrency);
const RING_SIZE = Number(args['ring-size']);
const SAMPLE_READS = Math.min(KEYS, Number(args['sample-reads']));
const VALUE = Buffer.alloc(1024, 'h');
const BUCKET = 'handoff-bench';
const SECRET = 'bench-handoff-secret';
const HANDOFF_BOUND_MS = 30 * 60_000;
// Sockets sized to the load: idle keep-alive sockets past the server's keep-alive
// timeout get closed, and a request sent on one as it closes is reset.
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Node {
  name: string;
  address: string;
  http: string;
  proc: NodeProcess;
}

function call(method: 'GET' | 'PUT', http: string, path: string, body?: Buffer, contentType = 'application/octet-stream'): Promise<{ status: number; body: string }> {
  const [host, port] = http.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const headers = body ? { 'Content-Type': contentType, 'Content-Length': body.length } : {};
    const req = request({ host, port: Number(port), method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function admin(node: Node, req: AnyAdminRequest, timeoutMs = 5_000): ReturnType<typeof adminCall> {
  return adminCall({ address: node.address, clusterSecret: SECRET, timeoutMs }, req);
}

/** CPU seconds (user + system) per thread of a process so far, by 'main' or name/tid (Linux /proc; empty elsewhere). Node leaves most threads named 'node'. */
function threadCpuSeconds(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}/${tid}`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    }
  } catch {
    // the process or a thread ended
  }
  return out;
}

function threadCpuLine(before: Map<string, number>, after: Map<string, number>): string {
  const parts: string[] = [];
  for (const [name, s] of after) {
    const used = s - (before.get(name) ?? 0);
    if (used >= 0.01) parts.push(`${name} ${used.toFixed(2)} s`);
  }
  return parts.join(', ');
}

async function profile(node: Node, seconds: number, outDir: string): Promise<string> {
  const durationMs = Math.round(seconds * 1000);
  const reply = await admin(node, { type: 'admin.cpu-profile', durationMs }, durationMs + 30_000);
  const data = reply.data as CpuProfileData;
  const file = join(outDir, `handoff-${node.name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(data.profile));
  const breakdown = analyzeProfile(data.profile as unknown as CpuProfileLike);
  const top = [...breakdown.functions.values()].sort((x, y) => y.selfUs - x.selfUs).slice(0, 25);
  const lines = [`${node.name}: ${file}; process CPU ${((data.cpuUserUs + data.cpuSystemUs) / 1e6).toFixed(2)} s over ${(data.wallMs / 1000).toFixed(1)} s, main thread ${((data.mainThread?.cpuUs ?? NaN) / 1e6).toFixed(2)} s (waited ${((data.mainThread?.runQueueWaitUs ?? NaN) / 1e6).toFixed(2)} s for a CPU), sampled busy ${(breakdown.busyUs / 1e6).toFixed(2)} s`];
  for (const f of top) lines.push(`  ${(f.selfUs / 1000).toFixed(0).padStart(6)} ms self  ${f.name} ${f.location}`);
  return lines.join('\n');
}

async function pending(node: Node): Promise<number> {
  // admin-render spreads the RingStatus into `data`; accept a nested `status` too.
  const data = (await admin(node, { type: 'admin.ring-status' })).data as { pending?: unknown[]; status?: { pending?: unknown[] } } | undefined;
  const list = data?.pending ?? data?.status?.pending;
  if (!Array.isArray(list)) throw new Error(`ring-status from ${node.name} has no pending list`);
  return list.length;
}

async function members(node: Node): Promise<MemberStatusRow[]> {
  return ((await admin(node, { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
}

/** User+system CPU seconds of a process so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3. Ticks are 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine so far, all cores (Linux /proc/stat; NaN elsewhere); steal excluded. */
function machineBusySeconds(): number {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = f.map(Number);
    // user nice system idle iowait irq softirq steal
    return ((n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0)) / 100;
  } catch {
    return NaN;
  }
}

async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await work(next++);
  }));
}

const dir = tempDir('rondo-bench-handoff-');
const nodes: Node[] = [];

async function startNode(name: string): Promise<Node> {
  const address = `127.0.0.1:${await freePort()}`;
  const http = `127.0.0.1:${await freePort()}`;
  const node = { name, address, http, proc: startNodeProcess({ name, address, dataDir: dir.path, secret: SECRET, clusterName: 'rondo-bench', extraArgs: ['--http-listen', http, '--ring-size', String(RING_SIZE), '--log-level', String(args['log-level']), '--handoff-concurrency', String(args['handoff-concurrency'])] }) };
  nodes.push(node);
  await waitForPing(node.proc, http);
  return node;
}

try {
  const a = await startNode('a');
  const props = await call('PUT', a.http, `/buckets/${BUCKET}/props`, Buffer.from(JSON.stringify({ props: { n_val: 1 } })), 'application/json');
  if (props.status >= 300) throw new Error(`setting n_val=1 failed: ${props.status} ${props.body}`);

  let loadErrors = 0;
  const loadStart = performance.now();
  await pool(KEYS, CONCURRENCY, async (i) => {
    const res = await call('PUT', a.http, `/buckets/${BUCKET}/keys/k${i}?w=1`, VALUE);
    if (res.status >= 300) loadErrors++;
  });
  const loadS = (performance.now() - loadStart) / 1000;
  console.log(`load: ${KEYS} keys of 1 KiB into a (n_val=1, W=1) in ${loadS.toFixed(1)} s (${(KEYS / loadS).toFixed(0)} puts/s), ${loadErrors} errors`);

  const b = await startNode('b');
  await admin(b, { type: 'admin.join', seed: a.address });
  if ((await waitFor(async () => (await members(a)).length === 2, 10_000)) < 0) throw new Error('a never saw b join');
  const plan = (await adminCallOnClaimant({ address: a.address, clusterSecret: SECRET }, { type: 'admin.plan' })).reply;
  const transfers = ((plan.data as { transfers?: unknown[] } | undefined)?.transfers ?? []).length;
  const profileDir = args['profile-dir'];
  const profiles = profileDir === undefined ? [] : nodes.map((n) => profile(n, Number(args['profile-seconds']), profileDir));
  const cpuBefore = nodes.map((n) => cpuSeconds(n.proc.child.pid));
  const machineBefore = machineBusySeconds();
  const threadsBefore = nodes.map((n) => threadCpuSeconds(n.proc.child.pid));
  const committedAt = performance.now();
  await adminCallOnClaimant({ address: a.address, clusterSecret: SECRET }, { type: 'admin.commit' });
  const doneMs = await waitFor(async () => {
    for (const node of nodes) {
      if ((await pending(node)) !== 0) return false;
      const rows = await members(node);
      if (rows.length !== 2 || rows.some((r) => r.status !== 'valid' || r.ringPct !== r.pendingPct)) return false;
    }
    return true;
  }, HANDOFF_BOUND_MS, 50);
  const handoffS = (performance.now() - committedAt) / 1000;
  if (doneMs < 0) throw new Error(`transfers still pending after ${HANDOFF_BOUND_MS} ms`);
  const cpu = nodes.map((n, i) => cpuSeconds(n.proc.child.pid) - (cpuBefore[i] ?? NaN));
  // What else ran on the machine meanwhile (the bench itself, other processes): it competes for the same cores.
  const otherS = machineBusySeconds() - machineBefore - cpu.reduce((x, y) => x + y, 0);
  const threads = nodes.map((n, i) => threadCpuLine(threadsBefore[i]!, threadCpuSeconds(n.proc.child.pid)));
  const statsOf = async (http: string): Promise<Record<string, number>> => JSON.parse((await call('GET', http, '/stats')).body) as Record<string, number>;
  const sent = await statsOf(a.http);

  // B learns the bucket's n_val=1 through cluster metadata gossip (about one digest a second), which a fast handoff
  // can beat: until then B reads with the default n_val and may answer not found from a replica that never held the key.
  // Wait for it (the clock has stopped), so the read-back checks where the data is, and say how long it took.
  const nValOnB = async (): Promise<number> => (JSON.parse((await call('GET', b.http, `/buckets/${BUCKET}/props`)).body) as { props: { n_val: number } }).props.n_val;
  const propsWaitMs = await waitFor(async () => (await nValOnB()) === 1, 10_000, 50);
  // With n_val=1 every key lives in exactly one partition: B must now answer for the keys in the partitions it took.
  let found = 0;
  let notFound = 0;
  let readErrors = 0;
  await pool(SAMPLE_READS, Math.min(CONCURRENCY, 32), async (j) => {
    const i = Math.floor((j * KEYS) / SAMPLE_READS);
    const res = await call('GET', b.http, `/buckets/${BUCKET}/keys/k${i}?r=1`);
    if (res.status === 200 && res.body.length === VALUE.length) found++;
    else if (res.status === 404) notFound++;
    else readErrors++;
  });

  const rows: [string, string][] = [
    ['keys loaded (1 KiB, n_val=1)', String(KEYS)],
    ['load time', `${loadS.toFixed(1)} s`],
    ['partitions transferred', `${transfers} of ${RING_SIZE} (handoff_concurrency ${args['handoff-concurrency']})`],
    ['commit → no pending transfers', `${handoffS.toFixed(2)} s`],
    ['moved (a\'s /stats: items, bytes incl. keys and object metadata)', `${sent.handoff_items_sent} items, ${((sent.handoff_bytes_sent ?? 0) / 1e6).toFixed(1)} MB`],
    ['throughput, commit → no pending', `${((sent.handoff_bytes_sent ?? 0) / 1e6 / handoffS).toFixed(1)} MB/s, ${((sent.handoff_items_sent ?? 0) / handoffS).toFixed(0)} keys/s`],
    ['1 KiB values moved per second', `${(((sent.handoff_items_sent ?? 0) * VALUE.length) / 1e6 / handoffS).toFixed(1)} MB/s`],
    ...nodes.map((n, i): [string, string] => [`CPU of node ${n.name} during handoff`, `${(cpu[i] ?? NaN).toFixed(2)} s (${(((cpu[i] ?? NaN) / handoffS) * 100).toFixed(0)}% of one core)`]),
    ['other work on the machine during handoff', `${otherS.toFixed(2)} s (${((otherS / handoffS) * 100).toFixed(0)}% of one core)`],
    ['b knew the bucket n_val=1 (metadata gossip)', propsWaitMs < 0 ? 'not within 10 s after the clock stopped (reads below use the default n_val)' : propsWaitMs < 60 ? 'when the clock stopped' : `${(propsWaitMs / 1000).toFixed(2)} s after the clock stopped`],
    ['sample reads through b (r=1)', `${found} found, ${notFound} not found, ${readErrors} errors of ${SAMPLE_READS}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('\n| what | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
  for (const [i, n] of nodes.entries()) console.log(`CPU by thread, node ${n.name}: ${threads[i]}`);
  for (const p of profiles) console.log(`\n${await p}`);
  if (found < SAMPLE_READS) console.log(`\nnote: ${SAMPLE_READS - found} sampled keys not readable through b: data did not (all) move.`);
} finally {
  agent.destroy();
  await Promise.all(nodes.map((n) => stopProcess(n.proc)));
  if (args['keep-data']) console.log(`data and logs kept in ${dir.path}`);
  else dir.remove();
}
