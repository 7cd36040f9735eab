// The handoff acceptance test on real node processes: a 3-node cluster holding
// PRELOAD_KEYS keys grows to 5 nodes and shrinks back to 3 while a client keeps
// writing. Afterwards every key must be readable with its last acknowledged
// value, and the client must have seen no error except explicit overloads
// (503s), which it retried with backoff.
//
// Phases (each timed and printed): start 3 nodes and form the cluster; preload;
// grow (start n4 and n5, join, plan, commit, wait for no pending transfers and
// 5 valid members everywhere); shrink (stage leaves of n4 and n5, plan, commit,
// wait until they are gone from the ring and their processes have exited);
// read every key back through n1..n3.
//
// PRELOAD_KEYS can be lowered with RONDO_HANDOFF_TEST_KEYS for a quick local run.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { adminCall, adminCallOnClaimant } from '../../src/cli/admin.js';
import type { AdminRequest } from '../../src/core/node/admin-messages.js';
import type { MemberStatusRow } from '../../src/core/membership/index.js';
import { freePort, readLog, sleep, startNodeProcess, stopProcess, tempDir, waitFor, waitForPing, type NodeProcess } from '../helpers/processes.js';

// ---- phases and limits -------------------------------------------------------
const SECRET = 'multiproc-handoff-secret';
const BUCKET = 'handoff'; // default bucket type: allow_mult false, so one value per key
const PRELOAD_KEYS = Number(process.env.RONDO_HANDOFF_TEST_KEYS ?? 100_000);
const VALUE_BYTES = 100;
/** Requests in flight while preloading and while reading back (spread over the nodes). */
const LOAD_CONCURRENCY = 64;
/** Requests the background writer keeps in flight. */
const WRITER_CONCURRENCY = 4;
/** Every OVERWRITE_EVERY-th writer request overwrites a (distinct) preloaded key instead of adding a new one. */
const OVERWRITE_EVERY = 50;
/** A 503 is retried up to this many times, backing off from BACKOFF_MIN_MS doubling up to BACKOFF_MAX_MS. */
const RETRIES_503_MAX = 30;
const BACKOFF_MIN_MS = 20;
const BACKOFF_MAX_MS = 1_000;
const START_BOUND_MS = 30_000;
const FORM_BOUND_MS = 20_000;
/** From the 3-node commit until every node shows 3 valid members and nothing pending (empty partitions still hand off). */
const FORM_SETTLE_BOUND_MS = 120_000;
/** From commit until every node shows the target membership and no pending transfers. */
const GROW_BOUND_MS = 180_000;
const SHRINK_BOUND_MS = 180_000;
/** The writer keeps writing at least this long in each of the grow and shrink phases. */
const WRITER_MIN_PHASE_MS = 3_000;
const POLL_MS = 250;
const ADMIN_TIMEOUT_MS = 5_000;
const TEST_TIMEOUT_MS = 600_000;

interface Node {
  name: string;
  address: string;
  http: string;
  proc: NodeProcess;
}

// ---- HTTP client ---------------------------------------------------------------
// One keep-alive pool; per-origin sockets sized to the load so no socket sits idle
// long enough to meet the server's keep-alive timeout mid-request.
const agent = new Agent({ keepAlive: true, maxSockets: LOAD_CONCURRENCY });

interface HttpAnswer {
  status: number;
  body: string;
}

function call(method: 'GET' | 'PUT', http: string, key: string, query: string, body?: string): Promise<HttpAnswer> {
  const [host, port] = http.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = method === 'PUT' ? { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body ?? '') } : {};
    const req = request({ host, port: Number(port), method, path: `/buckets/${BUCKET}/keys/${key}?${query}`, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function valueFor(prefix: string, i: number): string {
  return `${prefix}${i}:`.padEnd(VALUE_BYTES, 'abcdefghijklmnopqrstuvwxyz'[i % 26] as string);
}

// ---- client-side accounting -----------------------------------------------------
const stats = {
  errors: [] as string[],
  retries503: 0,
  reasons503: new Map<string, number>(),
};

function note503(body: string): void {
  stats.retries503++;
  const reason = body.trim().replace(/\d+/g, 'N').slice(0, 80);
  stats.reasons503.set(reason, (stats.reasons503.get(reason) ?? 0) + 1);
}

function noteError(what: string): void {
  stats.errors.push(what);
  if (stats.errors.length <= 20) console.log(`client error: ${what}`);
}

/** PUT with W=2, retrying 503s with backoff. True once acknowledged (2xx). */
async function putAcked(pick: () => Node, key: string, value: string, inflight?: Map<string, number>): Promise<boolean> {
  let backoff = BACKOFF_MIN_MS;
  for (let attempt = 0; attempt <= RETRIES_503_MAX; attempt++) {
    const node = pick();
    inflight?.set(node.name, (inflight.get(node.name) ?? 0) + 1);
    let answer: HttpAnswer;
    try {
      answer = await call('PUT', node.http, key, 'w=2', value);
    } catch (err) {
      noteError(`PUT ${key} via ${node.name}: ${(err as Error).message}`);
      return false;
    } finally {
      inflight?.set(node.name, (inflight.get(node.name) ?? 1) - 1);
    }
    if (answer.status >= 200 && answer.status < 300) return true;
    if (answer.status !== 503) {
      noteError(`PUT ${key} via ${node.name}: ${answer.status} ${answer.body.trim()}`);
      return false;
    }
    note503(answer.body);
    await sleep(backoff);
    backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
  }
  noteError(`PUT ${key}: still 503 after ${RETRIES_503_MAX} retries`);
  return false;
}

/** GET with R=2, retrying 503s with backoff. */
async function getValue(node: Node, key: string): Promise<HttpAnswer | undefined> {
  let backoff = BACKOFF_MIN_MS;
  for (let attempt = 0; attempt <= RETRIES_503_MAX; attempt++) {
    let answer: HttpAnswer;
    try {
      answer = await call('GET', node.http, key, 'r=2');
    } catch (err) {
      noteError(`GET ${key} via ${node.name}: ${(err as Error).message}`);
      return undefined;
    }
    if (answer.status !== 503) return answer;
    note503(answer.body);
    await sleep(backoff);
    backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
  }
  noteError(`GET ${key}: still 503 after ${RETRIES_503_MAX} retries`);
  return undefined;
}

/** Run `work(i)` for i in [0, count) with `concurrency` in flight. */
async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/**
 * The background client: new keys w<j>, and every OVERWRITE_EVERY-th request an
 * overwrite of a preloaded key no other request touches (so its last acknowledged
 * value is known exactly). Writes only through `targets`, which the test changes
 * as members come and go.
 */
class Writer {
  targets: Node[] = [];
  readonly inflight = new Map<string, number>();
  /** Writer keys acknowledged, with their value. */
  readonly acked = new Map<string, string>();
  /** Preloaded keys overwritten: the new value, and whether it was acknowledged. */
  readonly overwrites = new Map<string, { value: string; acked: boolean }>();
  attempts = 0;
  private stopping = false;
  private running: Promise<void> | undefined;
  private turn = 0;
  private overwritesIssued = 0;

  start(): void {
    this.running = Promise.all(Array.from({ length: WRITER_CONCURRENCY }, () => this.loop())).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Resolves once no request is in flight to any of `names`. */
  async drained(names: string[]): Promise<void> {
    while (names.some((n) => (this.inflight.get(n) ?? 0) > 0)) await sleep(10);
  }

  private pick = (): Node => {
    const node = this.targets[this.turn++ % this.targets.length];
    assert.ok(node, 'writer has no targets');
    return node;
  };

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const j = this.attempts++;
      if (j % OVERWRITE_EVERY === OVERWRITE_EVERY - 1 && this.overwritesIssued < PRELOAD_KEYS) {
        // 7919 is prime, so coprime with the key count unless it divides it: distinct keys.
        const key = `k${(this.overwritesIssued++ * 7919) % PRELOAD_KEYS}`;
        const value = valueFor('o', j);
        const entry = { value, acked: false };
        this.overwrites.set(key, entry);
        entry.acked = await putAcked(this.pick, key, value, this.inflight);
      } else {
        const key = `w${j}`;
        const value = valueFor('w', j);
        if (await putAcked(this.pick, key, value, this.inflight)) this.acked.set(key, value);
      }
    }
  }
}

// ---- admin helpers ---------------------------------------------------------------
function admin(node: Node, req: AdminRequest): ReturnType<typeof adminCall> {
  return adminCall({ address: node.address, clusterSecret: SECRET, timeoutMs: ADMIN_TIMEOUT_MS }, req);
}

async function onClaimant(node: Node, req: AdminRequest): Promise<string[]> {
  return (await adminCallOnClaimant({ address: node.address, clusterSecret: SECRET, timeoutMs: ADMIN_TIMEOUT_MS }, req)).reply.lines;
}

async function members(node: Node): Promise<MemberStatusRow[]> {
  return ((await admin(node, { type: 'admin.member-status' })).data as { members: MemberStatusRow[] }).members;
}

async function pendingTransfers(node: Node): Promise<number> {
  // admin-render spreads the RingStatus into `data`; accept a nested `status` too.
  const data = (await admin(node, { type: 'admin.ring-status' })).data as { pending?: unknown[]; status?: { pending?: unknown[] } } | undefined;
  const pending = data?.pending ?? data?.status?.pending;
  assert.ok(Array.isArray(pending), `ring-status from ${node.name} has no pending list: ${JSON.stringify(data)}`);
  return pending.length;
}

/** Every node in `observers` shows exactly `expected` as valid members, owning what they will own, with nothing pending. */
async function settledOn(observers: Node[], expected: string[]): Promise<boolean> {
  for (const node of observers) {
    const rows = await members(node);
    const names = rows.map((r) => r.name).sort();
    if (names.join(',') !== [...expected].sort().join(',')) return false;
    if (rows.some((r) => r.status !== 'valid' || r.ringPct !== r.pendingPct)) return false;
    if ((await pendingTransfers(node)) !== 0) return false;
  }
  return true;
}

function exited(node: Node): boolean {
  return node.proc.child.exitCode !== null || node.proc.child.signalCode !== null;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

// ---- the test ------------------------------------------------------------------------
describe(`handoff: a 3-node cluster with ${PRELOAD_KEYS} keys grows to 5 and shrinks back to 3 under writes`, { timeout: TEST_TIMEOUT_MS }, () => {
  const dir = tempDir('rondo-handoff-');
  const nodes: Node[] = [];
  const writer = new Writer();
  const timings: [string, number][] = [];
  let failedPhase: string | undefined;
  const core = (): Node[] => nodes.slice(0, 3);

  async function startNode(i: number): Promise<Node> {
    const address = `127.0.0.1:${await freePort()}`;
    const http = `127.0.0.1:${await freePort()}`;
    const name = `n${i + 1}`;
    const node = { name, address, http, proc: startNodeProcess({ name, address, dataDir: dir.path, secret: SECRET, extraArgs: ['--http-listen', http] }) };
    nodes[i] = node;
    return node;
  }

  async function waitUp(node: Node): Promise<void> {
    await waitForPing(node.proc, node.http, START_BOUND_MS);
    const ms = await waitFor(async () => (await members(node)).length >= 1, START_BOUND_MS, 100);
    assert.ok(ms >= 0, `${node.name} did not start`);
  }

  /** Run one phase and time it. After a failed phase the later ones fail too (each needs the one before). */
  async function phase(name: string, body: () => Promise<void>): Promise<void> {
    if (failedPhase) throw new Error(`not run: phase "${failedPhase}" failed`);
    const t0 = performance.now();
    try {
      await body();
    } catch (err) {
      failedPhase = name;
      throw err;
    } finally {
      const ms = performance.now() - t0;
      timings.push([name, ms]);
      console.log(`phase ${name}: ${seconds(ms)}`);
    }
  }

  before(async () => {
    failedPhase = 'start and form 3 nodes'; // cleared below once formed
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) await startNode(i);
    for (const node of nodes) await waitUp(node);
    for (const node of nodes.slice(1)) await admin(node, { type: 'admin.join', seed: nodes[0]!.address });
    assert.ok((await waitFor(async () => (await admin(nodes[0]!, { type: 'admin.member-status' })).lines.join('\n').includes('Joining:2'), FORM_BOUND_MS)) >= 0, 'joins not seen by n1');
    await onClaimant(nodes[0]!, { type: 'admin.plan' });
    await onClaimant(nodes[0]!, { type: 'admin.commit' });
    const formed = await waitFor(() => settledOn(nodes, ['n1', 'n2', 'n3']), FORM_SETTLE_BOUND_MS, POLL_MS);
    assert.ok(formed >= 0, `the 3-node cluster did not settle within ${FORM_SETTLE_BOUND_MS} ms of commit`);
    console.log(`form: commit → 3 valid members, nothing pending: ${seconds(formed)}`);
    failedPhase = undefined;
    timings.push(['start and form 3 nodes', performance.now() - t0]);
    console.log(`phase start and form 3 nodes: ${seconds(performance.now() - t0)}`);
  });

  after(async () => {
    await writer.stop().catch(() => undefined);
    agent.destroy();
    await Promise.all(nodes.map((n) => stopProcess(n.proc, 'SIGKILL')));
    if (failedPhase) for (const n of nodes) console.log(`--- ${n.name} log (tail) ---\n${readLog(n.proc).slice(-3000)}`);
    dir.remove();
    console.log('timings:');
    for (const [name, ms] of timings) console.log(`  ${name.padEnd(28)} ${seconds(ms).padStart(9)}`);
  });

  it(`preloads ${PRELOAD_KEYS} keys of ${VALUE_BYTES} bytes with W=2 through all 3 nodes`, async () => {
    await phase('preload', async () => {
      const t0 = performance.now();
      const before503 = stats.retries503;
      let failed = 0;
      await pool(PRELOAD_KEYS, LOAD_CONCURRENCY, async (i) => {
        if (!(await putAcked(() => nodes[i % 3]!, `k${i}`, valueFor('v', i)))) failed++;
      });
      const s = (performance.now() - t0) / 1000;
      console.log(`preload: ${PRELOAD_KEYS} keys in ${s.toFixed(1)} s (${(PRELOAD_KEYS / s).toFixed(0)} puts/s, ${LOAD_CONCURRENCY} in flight), ${stats.retries503 - before503} 503 retries`);
      assert.equal(failed, 0, `${failed} preload writes failed`);
    });
  });

  it('grows to 5 nodes while the client keeps writing', async () => {
    await phase('grow to 5', async () => {
      writer.targets = core();
      writer.start();
      const n4 = await startNode(3);
      const n5 = await startNode(4);
      await Promise.all([waitUp(n4), waitUp(n5)]);
      await admin(n4, { type: 'admin.join', seed: nodes[0]!.address });
      await admin(n5, { type: 'admin.join', seed: nodes[0]!.address });
      assert.ok((await waitFor(async () => (await admin(nodes[0]!, { type: 'admin.member-status' })).lines.join('\n').includes('Joining:2'), FORM_BOUND_MS)) >= 0, 'joins not seen by n1');
      const plan = await onClaimant(nodes[0]!, { type: 'admin.plan' });
      console.log(plan.filter((l) => /join|Transfers|partition\(s\)/.test(l)).join('\n'));
      await onClaimant(nodes[0]!, { type: 'admin.commit' });
      const committedAt = performance.now();
      // n4 and n5 take client writes once they hold the committed ring.
      assert.ok((await waitFor(async () => (await members(n4)).length === 5 && (await members(n5)).length === 5, FORM_BOUND_MS)) >= 0, 'n4/n5 never saw 5 members');
      writer.targets = [...nodes];
      const settledMs = await waitFor(() => settledOn(nodes, ['n1', 'n2', 'n3', 'n4', 'n5']), GROW_BOUND_MS, POLL_MS);
      assert.ok(settledMs >= 0, `5-node cluster did not settle within ${GROW_BOUND_MS} ms of commit`);
      console.log(`grow: commit → no pending transfers, 5 valid members everywhere: ${seconds(performance.now() - committedAt)}; writer attempts so far ${writer.attempts}`);
      const remaining = WRITER_MIN_PHASE_MS - (performance.now() - committedAt);
      if (remaining > 0) await sleep(remaining);
    });
  });

  it('shrinks back to 3 nodes while the client keeps writing through n1..n3', async () => {
    await phase('shrink to 3', async () => {
      const leavers = nodes.slice(3);
      writer.targets = core();
      await writer.drained(leavers.map((n) => n.name));
      for (const leaver of leavers) await admin(nodes[0]!, { type: 'admin.leave', node: leaver.name });
      const plan = await onClaimant(nodes[0]!, { type: 'admin.plan' });
      console.log(plan.filter((l) => /leave|Transfers|partition\(s\)/.test(l)).join('\n'));
      await onClaimant(nodes[0]!, { type: 'admin.commit' });
      const committedAt = performance.now();
      const settledMs = await waitFor(async () => leavers.every(exited) && (await settledOn(core(), ['n1', 'n2', 'n3'])), SHRINK_BOUND_MS, POLL_MS);
      assert.ok(settledMs >= 0, `n4/n5 not gone (exited: ${leavers.map((n) => `${n.name}=${exited(n)}`).join(', ')}) within ${SHRINK_BOUND_MS} ms of commit`);
      for (const leaver of leavers) assert.equal(leaver.proc.child.exitCode, 0, `${leaver.name} exited with ${leaver.proc.child.exitCode ?? leaver.proc.child.signalCode}`);
      console.log(`shrink: commit → n4, n5 exited and 3 valid members with nothing pending: ${seconds(performance.now() - committedAt)}; writer attempts so far ${writer.attempts}`);
      const remaining = WRITER_MIN_PHASE_MS - (performance.now() - committedAt);
      if (remaining > 0) await sleep(remaining);
    });
  });

  it('reads every key back with R=2 through n1..n3: none missing, none stale, no client errors but retried 503s', async () => {
    await phase('read back', async () => {
      await writer.stop();
      const expected: [string, string][] = [];
      const either = new Map<string, string>(); // overwrites never acknowledged: old or new value
      for (let i = 0; i < PRELOAD_KEYS; i++) expected.push([`k${i}`, valueFor('v', i)]);
      const indexOf = new Map(expected.map(([k], i) => [k, i]));
      for (const [key, { value, acked }] of writer.overwrites) {
        if (acked) expected[indexOf.get(key)!]![1] = value;
        else either.set(key, value);
      }
      for (const [key, value] of writer.acked) expected.push([key, value]);
      let missing = 0;
      let wrong = 0;
      let unreadable = 0;
      const examples: string[] = [];
      const example = (kind: string, text: string): void => {
        if (examples.filter((e) => e.startsWith(kind)).length < 5) examples.push(`${kind} ${text}`);
      };
      const core3 = core();
      await pool(expected.length, LOAD_CONCURRENCY, async (i) => {
        const [key, value] = expected[i]!;
        const answer = await getValue(core3[i % 3]!, key);
        if (answer === undefined) unreadable++;
        else if (answer.status === 404) {
          missing++;
          example('missing', key);
        } else if (answer.status !== 200) {
          if (answer.status === 300) wrong++;
          else noteError(`GET ${key}: ${answer.status} ${answer.body.trim()}`);
          example(`status ${answer.status}`, key);
        } else if (answer.body !== value && answer.body !== either.get(key)) {
          wrong++;
          example('wrong', `${key}: got ${answer.body.slice(0, 12)}…, want ${value.slice(0, 12)}…`);
        }
      });
      const overwritesAcked = [...writer.overwrites.values()].filter((o) => o.acked).length;
      console.log(
        [
          'read back:',
          `  keys checked          ${expected.length} (${PRELOAD_KEYS} preloaded, ${writer.acked.size} written during the changes, ${overwritesAcked} preloaded keys overwritten)`,
          `  writer attempts       ${writer.attempts}`,
          `  missing               ${missing}`,
          `  wrong value/siblings  ${wrong}`,
          `  unreadable            ${unreadable}`,
          `  client errors         ${stats.errors.length}`,
          `  503 retries           ${stats.retries503}${[...stats.reasons503].map(([r, n]) => `\n    ${String(n).padStart(6)} × ${r}`).join('')}`,
          ...(examples.length > 0 ? ['  examples:', ...examples.map((e) => `    ${e}`)] : []),
        ].join('\n'),
      );
      assert.equal(stats.errors.length, 0, `client saw errors other than 503: ${stats.errors.slice(0, 5).join('; ')}`);
      assert.equal(missing, 0, `${missing} of ${expected.length} keys missing after grow and shrink`);
      assert.equal(wrong, 0, `${wrong} keys with a wrong value`);
      assert.equal(unreadable, 0);
    });
  });
});
