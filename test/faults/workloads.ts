// Workloads: what the clients do during a fault run, how the state is read
// back after healing, and which checker judges the history. Adding one is a
// factory here plus its name in WORKLOAD_NAMES and makeWorkload (see README.md
// in this folder).
import { RondoClient, RondoClientError, type CausalContext, type GetOptions, type GetResult, type PutOptions } from '../../src/client/index.js';
import type { Prng } from '../../src/core/sim/prng.js';
import { checkHandoff, checkLastWriteWins, checkSession, checkSiblingRegister, finalProcess, type CheckResult } from './checkers.js';
import type { FaultNode } from './cluster.js';
import type { CompletionType, History, Op } from './history.js';
import { sleep, sleepUnlessAborted } from '../helpers/processes.js';

/** A client operation that has not answered after this long is given up as unknown. */
const OP_TIMEOUT_MS = 5_000;
/** After an operation that could not reach its node, the client waits this long (a killed node refuses at once). */
const UNREACHABLE_PAUSE_MS = 500;
/** The LWW set workload moves to new keys this often. */
const LWW_KEY_EPOCH_MS = 10_000;
/** Final reads retry this often before the key is reported unreadable. */
const FINAL_READ_ATTEMPTS = 5;
const FINAL_READ_CONCURRENCY = 16;

export interface WorkloadEnv {
  history: History;
  /** The nodes clients may talk to (client i pins to node i mod length). */
  clientNodes: FaultNode[];
  /** The node never faulted: session clients and the final reads use it. */
  steadyNode: FaultNode;
  random: Prng;
  /** Fires when the clients must stop. */
  signal: AbortSignal;
}

export interface Workload {
  name: string;
  /** The bucket type its keys live in, created and activated before the run. */
  bucketType: { name: string; props: Record<string, unknown> };
  /** Runs the clients until env.signal fires. */
  run(env: WorkloadEnv): Promise<void>;
  /** After healing: reads every key written, recorded as processes final/<name>/<i>. */
  finalRead(env: WorkloadEnv): Promise<void>;
  check(ops: readonly Op[]): CheckResult;
}

/** Write errors after which the write certainly did not happen (refused before any replica was touched). */
const DEFINITE_WRITE_FAILURES: ReadonlySet<string> = new Set(['kv_insufficient_vnodes', 'invalid_argument', 'kv_precondition_failed', 'kv_unknown_bucket_type']);

function writeFailure(err: unknown): CompletionType {
  if (!(err instanceof RondoClientError)) return 'info';
  if (DEFINITE_WRITE_FAILURES.has(err.code)) return 'fail';
  // Never connected: the request was never sent.
  if (err.code === 'connection' && /ECONNREFUSED/.test(err.message)) return 'fail';
  return 'info';
}

function describe(err: unknown): string {
  return err instanceof RondoClientError ? `${err.code}: ${err.message}` : String(err);
}

/** A client pinned to one node, recording every call in the history. */
export class RecordingClient {
  private readonly client: RondoClient;
  /** Set when a call could not reach the node; cleared by `takeUnreachable`. */
  private unreachable = false;

  constructor(
    private readonly history: History,
    readonly process: string,
    readonly node: FaultNode,
    private readonly type: string,
  ) {
    this.client = new RondoClient({ nodes: [node.pb], retries: 0, timeoutMs: OP_TIMEOUT_MS, connectionsPerNode: 2 });
  }

  /** A read; the history gets the sibling values. Undefined when it failed. */
  async get(bucket: string, key: string, opts: GetOptions): Promise<GetResult | undefined> {
    const done = this.history.invoke(this.process, 'read', { key, node: this.node.name });
    try {
      const result = await this.client.get({ type: this.type, bucket, key }, opts);
      done('ok', { value: result.found ? result.siblings.map((s) => s.value.toString('utf8')) : [] });
      return result;
    } catch (err) {
      this.noteError(err);
      done('fail', { error: describe(err) });
      return undefined;
    }
  }

  /**
   * A write of `value` (or of `body`, recording `value` as what it adds);
   * `observed` are the values the read that gave the context returned. True when acknowledged.
   */
  async put(bucket: string, key: string, value: string, opts: PutOptions, observed?: string[], body: string = value): Promise<boolean> {
    const done = this.history.invoke(this.process, 'write', { key, value, node: this.node.name, ...(observed ? { observed } : {}) });
    try {
      await this.client.put({ type: this.type, bucket, key }, body, opts);
      done('ok');
      return true;
    } catch (err) {
      this.noteError(err);
      done(writeFailure(err), { error: describe(err) });
      return false;
    }
  }

  private noteError(err: unknown): void {
    if (err instanceof RondoClientError && err.code === 'connection') this.unreachable = true;
  }

  /** Whether a call since the last check could not reach the node. */
  takeUnreachable(): boolean {
    const was = this.unreachable;
    this.unreachable = false;
    return was;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Runs `count` sequential client loops, process "<workload>/<i>" pinned to `pin(i)`, until the signal fires. */
async function runClients(env: WorkloadEnv, workload: Workload, count: number, pin: (i: number) => FaultNode, step: (client: RecordingClient, seq: number, random: Prng) => Promise<void>, pauseMs: [number, number]): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = new RecordingClient(env.history, `${workload.name}/${i}`, pin(i), workload.bucketType.name);
      const random = env.random.fork(`${workload.name}/${i}`);
      try {
        for (let seq = 1; !env.signal.aborted; seq++) {
          await step(client, seq, random);
          await sleepUnlessAborted(client.takeUnreachable() ? UNREACHABLE_PAUSE_MS : random.intBetween(pauseMs[0], pauseMs[1]), env.signal);
        }
      } finally {
        await client.close();
      }
    }),
  );
}

/** Reads every key `workload` wrote at R=all through the steady node (retrying failures), as processes final/<workload>/<i>. */
async function readAllFinal(env: WorkloadEnv, workload: Workload, bucket: string): Promise<void> {
  const keys = keysWritten(env.history.ops, workload.name);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(FINAL_READ_CONCURRENCY, keys.length) }, async (_, r) => {
      const client = new RecordingClient(env.history, finalProcess(workload.name, r), env.steadyNode, workload.bucketType.name);
      try {
        while (next < keys.length) {
          const key = keys[next++] as string;
          for (let attempt = 1; attempt <= FINAL_READ_ATTEMPTS; attempt++) {
            if ((await client.get(bucket, key, { r: 'all', notfoundOk: true })) !== undefined) break;
            await sleep(500 * attempt);
          }
        }
      } finally {
        await client.close();
      }
    }),
  );
}

function keysWritten(ops: readonly Op[], workload: string): string[] {
  return [...new Set(ops.filter((op) => op.process.startsWith(`${workload}/`) && op.f === 'write' && op.type === 'invoke').map((op) => op.key as string))];
}

const BUCKET = 'faults';

/**
 * Register with siblings: allow_mult, R=W=quorum. Clients read a key and
 * write a new unique value with the read's causal context, so each write
 * replaces what its read saw and stays a sibling of anything concurrent.
 */
export function siblingRegister(opts: { clients: number; keys: number }): Workload {
  const workload: Workload = {
    name: 'register-mult',
    bucketType: { name: 'faults_mult', props: { allow_mult: true, last_write_wins: false, n_val: 3 } },
    run: (env) =>
      runClients(env, workload, opts.clients, (i) => env.clientNodes[i % env.clientNodes.length] as FaultNode, async (client, seq, random) => {
        const key = `r${random.int(opts.keys)}`;
        const read = await client.get(BUCKET, key, { r: 'quorum' });
        if (read === undefined) return;
        const observed = read.found ? read.siblings.map((s) => s.value.toString('utf8')) : [];
        const context: CausalContext | undefined = read.found ? read.context : undefined;
        await client.put(BUCKET, key, `${client.process}:${seq}`, { w: 'quorum', ...(context ? { context } : {}) }, observed);
      }, [20, 80]),
    finalRead: (env) => readAllFinal(env, workload, BUCKET),
    check: (ops) => checkSiblingRegister(ops, workload.name),
  };
  return workload;
}

/**
 * Last-write-wins set: clients read a key's list (R=quorum), append a unique
 * element and write the list back (W=quorum). A fresh set of keys every
 * LWW_KEY_EPOCH_MS keeps the lists short however long the run.
 */
export function lwwSet(opts: { clients: number; keys: number }): Workload {
  const startedMs = performance.now();
  const workload: Workload = {
    name: 'set-lww',
    bucketType: { name: 'faults_lww', props: { allow_mult: false, last_write_wins: true, dvv_enabled: false, n_val: 3 } },
    run: (env) =>
      runClients(env, workload, opts.clients, (i) => env.clientNodes[i % env.clientNodes.length] as FaultNode, async (client, seq, random) => {
        const key = `l${random.int(opts.keys)}.${Math.floor((performance.now() - startedMs) / LWW_KEY_EPOCH_MS)}`;
        const read = await client.get(BUCKET, key, { r: 'quorum' });
        if (read === undefined) return;
        const current = read.found ? (JSON.parse(read.value.value.toString('utf8')) as string[]) : [];
        const element = `${client.process}:${seq}`;
        await client.put(BUCKET, key, element, { w: 'quorum' }, undefined, JSON.stringify([...current, element]));
      }, [20, 80]),
    finalRead: (env) => readAllFinal(env, workload, BUCKET),
    check: (ops) => checkLastWriteWins(ops, workload.name),
  };
  return workload;
}

/**
 * Session guarantees: each client alone writes its own keys (values are
 * sequence numbers, each written with the context of the read before it) and
 * talks only to the steady node, which no nemesis kills, pauses or skews.
 * `primary` asks for PR=PW=quorum as well; without it the quorums may be met
 * by fallbacks (sloppy quorum).
 */
export function sessionGuarantees(opts: { name: string; clients: number; primary: boolean }): Workload {
  const quorums = opts.primary ? { r: 'quorum', pr: 'quorum', w: 'quorum', pw: 'quorum' } as const : { r: 'quorum', w: 'quorum' } as const;
  const workload: Workload = {
    name: opts.name,
    bucketType: { name: 'faults_session', props: { allow_mult: true, last_write_wins: false, n_val: 3 } },
    run: (env) => {
      const written = new Map<string, number>();
      return runClients(env, workload, opts.clients, () => env.steadyNode, async (client, _seq, random) => {
        const key = `${client.process}:k${random.int(2)}`;
        const read = await client.get(BUCKET, key, { r: quorums.r, ...('pr' in quorums ? { pr: quorums.pr } : {}) });
        if (read === undefined) return;
        const next = (written.get(client.process) ?? 0) + 1;
        written.set(client.process, next);
        const observed = read.found ? read.siblings.map((s) => s.value.toString('utf8')) : [];
        await client.put(BUCKET, key, String(next), { w: quorums.w, ...('pw' in quorums ? { pw: quorums.pw } : {}), ...(read.found ? { context: read.context } : {}) }, observed);
        await client.get(BUCKET, key, { r: quorums.r, ...('pr' in quorums ? { pr: quorums.pr } : {}) });
      }, [10, 50]);
    },
    finalRead: (env) => readAllFinal(env, workload, BUCKET),
    check: (ops) => checkSession(ops, workload.name),
  };
  return workload;
}

/** Handoff under faults: every write a new key (W=quorum) while nodes join and leave; all must survive. */
export function handoffKeys(opts: { clients: number }): Workload {
  const workload: Workload = {
    name: 'handoff',
    bucketType: { name: 'faults_handoff', props: { allow_mult: false, last_write_wins: false, n_val: 3 } },
    run: (env) =>
      runClients(env, workload, opts.clients, (i) => env.clientNodes[(i + 1) % env.clientNodes.length] as FaultNode, async (client, seq) => {
        await client.put(BUCKET, `${client.process}:${seq}`, `${client.process}:${seq}`, { w: 'quorum' });
      }, [20, 60]),
    finalRead: (env) => readAllFinal(env, workload, BUCKET),
    check: (ops) => checkHandoff(ops, workload.name),
  };
  return workload;
}

export const WORKLOAD_NAMES = ['register-mult', 'set-lww', 'session', 'session-sloppy', 'handoff'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export function makeWorkload(name: WorkloadName): Workload {
  switch (name) {
    case 'register-mult':
      return siblingRegister({ clients: 4, keys: 5 });
    case 'set-lww':
      return lwwSet({ clients: 4, keys: 3 });
    case 'session':
      return sessionGuarantees({ name, clients: 1, primary: true });
    case 'session-sloppy':
      return sessionGuarantees({ name, clients: 1, primary: false });
    case 'handoff':
      return handoffKeys({ clients: 2 });
  }
}
