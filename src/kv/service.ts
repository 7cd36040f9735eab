// The KV service: the node's KV vnodes (a VnodeHost of KvVnodes) and the
// get/put/delete coordinators, on top of a ClusterNode (riak_kv's app).
//
// - Messages with the 'kv' prefix: a peer asks one of our vnodes to run a
//   command (kv.vnode-request) and we answer (kv.vnode-reply). Malformed ones
//   are logged and dropped. A command for one of our own vnodes never touches
//   the network.
// - Requests we sent wait in a bounded table (RequestTable); coordinators
//   (coord/*-fsm.ts) are pure state machines that runFsm drives. Their
//   deadlines, and those of the vnode host, live in DeadlineTables: one Env
//   timer each, not one per request.
// - The hot path is callbacks end to end (dispatch, request table, vnode
//   host); the only promise of a get or put is the one its caller awaits.
// - Preference lists are cached per (first partition, n_val) until the ring
//   or the set of up nodes changes.
// - Vnode epoch: a counter in env.meta, incremented every time a service
//   starts on this node, is part of every vnode's actor id. Simple and always
//   safe: a node whose store was wiped can never reissue a dot another replica
//   holds. The cost is one more actor in version vectors per restart.
// - The HLC is not persisted: nextTimestamp observes the stored siblings, so a
//   restarted node still stamps after what it stored.
import { pack, unpack } from 'msgpackr';
import type { ClusterNode } from '../core/node/cluster-node.js';
import type { Env, NodeName, WireMessage } from '../core/env.js';
import { AbortedError, InvalidArgumentError, MessageTooLargeError, PeerUnreachableError, RondoError, assert } from '../core/errors.js';
import { DeadlineTable } from '../core/deadline/index.js';
import { chashKey, keyPartition } from '../core/ring/hash.js';
import { firstPreference, preflistFrom, primaryPartitions } from '../core/ring/preflist.js';
import type { RingState } from '../core/membership/index.js';
import { HandoffManager, type HandoffOptions } from '../core/handoff/index.js';
import type { HandoffItem } from '../core/vnode/types.js';
import { VnodeHost, type VnodeOutcome as HostOutcome } from '../core/vnode/index.js';
import type { StorageEngine } from './backend/index.js';
import type { Props } from './buckets/index.js';
import { DeleteFsm } from './coord/delete-fsm.js';
import { reasonOf, runFsm, type Dispatch, type Fsm, type VnodeTarget } from './coord/fsm.js';
import { GetFsm, type GetAnswer } from './coord/get-fsm.js';
import {
  BACKGROUND_REQUEST_TIMEOUT_MS, COORD_TIMEOUT_MS_DEFAULT, DELETE_REAP_DELAY_MS_DEFAULT, N_VAL_DEFAULT, PENDING_VNODE_REQUESTS_MAX, REAPS_SCHEDULED_MAX,
  SEEN_VNODE_REQUESTS_MAX,
} from './coord/limits.js';
import { OBJECT_BYTES_MAX_CEILING } from './constants.js';
import { parseKvMessage, replyMessage, requestMessage } from './coord/messages.js';
import { PutFsm, type PutAnswer } from './coord/put-fsm.js';
import { checkTargets, deleteQuorums, resolveQuorums, type QuorumName, type QuorumSpec } from './coord/quorum/index.js';
import { indexQuery, listBuckets, listKeys, type CoverageDeps, type CoverageOptions, type IndexChunk, type IndexQuery } from './index/index.js';
import { RequestTable } from './service/request-table.js';
import { KvStats, type RepairKind } from './stats.js';
import { SeenRequests } from './service/seen-requests.js';
import { describeKey, HybridClock } from './object/index.js';
import type { ObjectLimits, ObjectProps, VersionVector } from './object/index.js';
import { KvVnode, decodeHandoffKey, errorReply, pendingDurability, withoutPending } from './vnode/index.js';
import type { KeyRef, KvCommand, KvReply, PutContent } from './vnode/index.js';

export type { GetAnswer } from './coord/get-fsm.js';
export type { PutAnswer } from './coord/put-fsm.js';
export type { IndexChunk, IndexHit, IndexQuery } from './index/index.js';

const EPOCH_META_KEY = 'kv.vnode-epoch';

/**
 * primary: this node owns it; incoming: it will once a pending transfer
 * completes; fallback: it holds data for another owner; idle: a vnode still
 * runs for another owner's partition but holds nothing (handed off).
 */
export type VnodeRole = 'primary' | 'incoming' | 'fallback' | 'idle';

export interface VnodeStatusRow {
  partition: number;
  role: VnodeRole;
  owner: NodeName;
  /** Where a pending ownership transfer moves it. */
  nextOwner: NodeName | undefined;
  hasData: boolean;
  /** A vnode runs for it (started by its first command). */
  running: boolean;
  objects: number | undefined;
  pendingWrites: number;
  /** Mailbox: commands waiting, and commands the vnode answers later. */
  queued: number;
  awaiting: number;
  processed: number;
  overloads: number;
  timeouts: number;
  /** The handoff rows about it, one line each. */
  handoff: string[];
}

export type DeleteMode = { delayMs: number } | 'keep' | 'immediate';

export interface KvServiceOptions {
  cluster: ClusterNode;
  env: Env;
  engine: StorageEngine;
  /** Default n_val when a request's props give none (N_VAL_DEFAULT). */
  nVal?: number;
  /**
   * Riak's delete_mode: reap tombstones a delay after all N primaries hold
   * them (default DELETE_REAP_DELAY_MS_DEFAULT), never ('keep'), or as soon as
   * the delete has answered ('immediate').
   */
  deleteMode?: DeleteMode;
  /** Object size and sibling limits (warn and refuse); Riak's defaults when absent. */
  objectLimits?: Partial<ObjectLimits>;
  pendingRequestsMax?: number; // default PENDING_VNODE_REQUESTS_MAX
  /** Tombstone reaps waiting for their delay at once (default REAPS_SCHEDULED_MAX); beyond it a tombstone is kept, as with delete_mode keep. */
  reapsScheduledMax?: number;
  /** Handoff limits and timings (HANDOFF_DEFAULTS when absent). */
  handoff?: Partial<HandoffOptions>;
}

/** Bucket properties the caller passes for now (bucket types come later). */
export interface KvBucketProps {
  nVal?: number;
  allowMult?: boolean;
  lastWriteWins?: boolean;
  /** The bucket's quorum defaults (Riak's defaults when absent). */
  quorums?: Partial<Record<QuorumName, QuorumSpec>>;
  notfoundOk?: boolean;
  basicQuorum?: boolean;
}

/** A bucket's properties (from bucket metadata) as the coordinators take them. */
export function bucketPropsOf(props: Props): KvBucketProps {
  return {
    nVal: props.n_val,
    allowMult: props.allow_mult,
    lastWriteWins: props.last_write_wins,
    notfoundOk: props.notfound_ok,
    basicQuorum: props.basic_quorum,
    quorums: { r: props.r, w: props.w, dw: props.dw, rw: props.rw, pr: props.pr, pw: props.pw },
  };
}

export interface KvRequestOptions {
  signal?: AbortSignal;
  /** Default COORD_TIMEOUT_MS_DEFAULT. */
  timeoutMs?: number;
  props?: KvBucketProps;
}
export interface KvGetOptions extends KvRequestOptions {
  r?: QuorumSpec;
  pr?: QuorumSpec;
  notfoundOk?: boolean;
  basicQuorum?: boolean;
}
export interface KvPutOptions extends KvRequestOptions {
  w?: QuorumSpec;
  pw?: QuorumSpec;
  dw?: QuorumSpec;
  returnBody?: boolean;
  ifNoneMatch?: boolean;
  ifNotModified?: VersionVector;
}
export interface KvDeleteOptions extends KvRequestOptions {
  rw?: QuorumSpec;
  r?: QuorumSpec;
  pr?: QuorumSpec;
  w?: QuorumSpec;
  pw?: QuorumSpec;
  dw?: QuorumSpec;
  /** The context the client read; without it the delete reads the key first. */
  context?: VersionVector;
}
export interface KvPutValue {
  content: PutContent;
  /** What the client has seen; absent or [] for a blind write. */
  context?: VersionVector;
}
/** `body` only with returnBody. */
export interface KvPutResult {
  context: VersionVector;
  body?: Pick<PutAnswer, 'object' | 'siblings'>;
  warnings: PutAnswer['warnings'];
}
export interface KvDeleteResult {
  /** False when the read phase found nothing to delete (nothing was written). */
  found: boolean;
}

export class KvService {
  readonly name: NodeName;
  readonly vnodeEpoch: number;
  private readonly cluster: ClusterNode;
  private readonly env: Env;
  private readonly host: VnodeHost<KvCommand, KvReply>;
  private readonly engine: StorageEngine;
  readonly handoff: HandoffManager<KvCommand, KvReply>;
  private readonly requests: RequestTable;
  private readonly nVal: number;
  private readonly reapDelayMs: number | undefined; // undefined = keep tombstones
  /** Reaps waiting for their delay (bounded by reapsScheduledMax; each leaves the set when it fires or at stop). */
  private readonly reapTimers = new Set<number>();
  private readonly reapsScheduledMax: number;
  private reapsSkipped = 0;
  /**
   * Recent (sender, reqId) of coordinated writes we ran. A network that
   * duplicates a put-coordinate must not make the vnode issue a second dot
   * for the same write (a false sibling of the value with itself); the
   * requester settles each reqId once, so the duplicate is simply dropped.
   * Every other command is idempotent, and a duplicate's reply is ignored.
   */
  private readonly seenRequests = new SeenRequests(SEEN_VNODE_REQUESTS_MAX);
  /** Coordinator deadlines (one Env timer for every request in flight). */
  private readonly deadlines: DeadlineTable;
  /** Preference lists by `firstPartition * (N_VAL_CACHE_MAX + 1) + nVal`, valid for `cacheRing` and `cacheUp`. */
  private readonly preflists = new Map<number, VnodeTarget[]>();
  private cacheRing: RingState | undefined;
  private cacheUp: ReadonlySet<NodeName> | undefined;
  private stopped = false;
  /** The /stats counters (Riak's names; see stats.ts). */
  readonly stats: KvStats;

  constructor(opts: KvServiceOptions) {
    this.cluster = opts.cluster;
    this.env = opts.env;
    this.name = opts.cluster.name;
    assert(this.name === opts.env.nodeName, 'the service runs on its node\'s Env');
    this.nVal = opts.nVal ?? N_VAL_DEFAULT;
    const mode = opts.deleteMode ?? { delayMs: DELETE_REAP_DELAY_MS_DEFAULT };
    this.reapDelayMs = mode === 'keep' ? undefined : mode === 'immediate' ? 0 : mode.delayMs;
    assert(Number.isSafeInteger(this.nVal) && this.nVal >= 1, 'nVal is a positive integer');
    assert(this.reapDelayMs === undefined || (Number.isFinite(this.reapDelayMs) && this.reapDelayMs >= 0), 'delete_mode delay is non-negative');
    this.reapsScheduledMax = opts.reapsScheduledMax ?? REAPS_SCHEDULED_MAX;
    assert(Number.isSafeInteger(this.reapsScheduledMax) && this.reapsScheduledMax > 0, 'reapsScheduledMax is a positive integer');
    const objectBytesMax = opts.objectLimits?.objectBytesMax;
    if (objectBytesMax !== undefined && !(Number.isSafeInteger(objectBytesMax) && objectBytesMax > 0 && objectBytesMax <= OBJECT_BYTES_MAX_CEILING)) {
      throw new InvalidArgumentError(`objectBytesMax must be an integer in 1..${OBJECT_BYTES_MAX_CEILING}: an object must fit one transport frame with its message`);
    }
    this.vnodeEpoch = bumpEpoch(opts.env);
    const stats = new KvStats(() => opts.env.nowMs());
    this.stats = stats;
    const clock = new HybridClock();
    const engine = opts.engine;
    this.engine = engine;
    engine.onIndexEntriesRemoved((entries) => stats.vnodeIndexDeletes.add(stats.nowMs(), entries));
    this.host = new VnodeHost<KvCommand, KvReply>({
      env: opts.env,
      node: this.name,
      create: (partition) =>
        new KvVnode({
          node: this.name, partition, store: engine.partition(partition), clock, vnodeEpoch: this.vnodeEpoch,
          wallClockMs: () => opts.env.wallClockMs(), random: opts.env.random,
          onIndexWrites: (entries) => stats.vnodeIndexWrites.add(stats.nowMs(), entries),
          ...(opts.objectLimits ? { limits: opts.objectLimits } : {}),
        }),
    });
    this.requests = new RequestTable({ env: opts.env, max: opts.pendingRequestsMax ?? PENDING_VNODE_REQUESTS_MAX, epoch: this.vnodeEpoch });
    this.deadlines = new DeadlineTable(opts.env);
    opts.cluster.onChange(() => this.forgetPreflists());
    opts.cluster.registerService('kv', { receive: (from, msg) => this.receive(from, msg) });
    this.handoff = new HandoffManager({
      cluster: opts.cluster,
      host: this.host,
      partitionsWithData: () => engine.partitions(),
      belongsTo: (item, targetPartition) => this.belongsTo(item, targetPartition),
      repairNVal: this.nVal,
      ...(opts.handoff ? { options: opts.handoff } : {}),
    });
    this.handoff.start();
  }

  /**
   * Repair's filter: the item's key has `targetPartition` in its preference
   * list. Uses the service's default n_val: a bucket with a larger n_val gets
   * only the keys the default covers (repair by bucket n_val is not built).
   */
  private belongsTo(item: HandoffItem, targetPartition: number): boolean {
    const key = decodeHandoffKey(item.key);
    const ringSize = this.cluster.ring().ringSize;
    return primaryPartitions(chashKey(key.bucketType, key.bucket, key.key), Math.min(this.nVal, ringSize), ringSize).includes(targetPartition);
  }

  /** Fail pending requests, cancel scheduled reaps, stop the vnodes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.handoff.stop();
    this.requests.clear(new AbortedError('kv service stopping'));
    this.deadlines.clear();
    for (const id of this.reapTimers) this.env.clearTimer(id);
    this.reapTimers.clear();
    await this.host.stopAll();
  }

  /**
   * Every partition this node runs a vnode for, holds data of, owns, or is
   * about to own (riak-admin vnode-status): its role on the ring, objects
   * stored (an LMDB range count, or undefined with countObjects false),
   * writes not yet durable, mailbox, and the handoff rows about it.
   */
  async vnodeStatus(opts: { countObjects: boolean }): Promise<VnodeStatusRow[]> {
    const ring = this.cluster.ring();
    const owners = ring.ownership.owners;
    const hosted = new Map(this.host.stats().map((s) => [s.partition, s]));
    const withData = new Set(await this.engine.partitions());
    const incoming = new Set(ring.ownership.pending.filter((t) => t.to === this.name).map((t) => t.partition));
    const outgoing = new Map(ring.ownership.pending.filter((t) => t.from === this.name).map((t) => [t.partition, t.to]));
    const transfers = this.handoff.rows();
    const partitions = new Set([...hosted.keys(), ...withData, ...incoming]);
    owners.forEach((owner, p) => {
      if (owner === this.name) partitions.add(p);
    });
    const rows: VnodeStatusRow[] = [];
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      assert(partition < owners.length, 'a local partition is on the ring');
      const stats = hosted.get(partition);
      const vnode = this.host.vnode(partition);
      const pendingWrites = vnode instanceof KvVnode ? vnode.pendingWrites : 0;
      const holds = withData.has(partition) || pendingWrites > 0;
      const role: VnodeRole = owners[partition] === this.name ? 'primary' : incoming.has(partition) ? 'incoming' : holds ? 'fallback' : 'idle';
      rows.push({
        partition, role, owner: owners[partition] as NodeName, nextOwner: outgoing.get(partition), hasData: withData.has(partition), running: stats !== undefined,
        objects: opts.countObjects && withData.has(partition) ? await this.engine.partition(partition).countObjects() : opts.countObjects ? 0 : undefined,
        pendingWrites,
        queued: stats?.queued ?? 0, awaiting: stats?.awaiting ?? 0, processed: stats?.processed ?? 0, overloads: stats?.overloads ?? 0, timeouts: stats?.timeouts ?? 0,
        handoff: transfers.filter((t) => (t.direction === 'outbound' ? t.partition : t.targetPartition) === partition).map((t) => `${t.direction} ${t.kind} ${t.direction === 'outbound' ? 'to' : 'from'} ${t.peer} ${t.phase} (${t.items} items)`),
      });
    }
    return rows;
  }

  /** Each hosted vnode's mailbox and counters (for /metrics; computed when asked). */
  vnodeStats(): ReturnType<VnodeHost<KvCommand, KvReply>['stats']> {
    return this.host.stats();
  }

  /** Reaps waiting for their delay now, and tombstones kept because reapsScheduledMax were waiting already. */
  reapStats(): { scheduled: number; skipped: number } {
    return { scheduled: this.reapTimers.size, skipped: this.reapsSkipped };
  }

  /** The key's preference list as this node sees the ring and who is up (shared: do not modify it). */
  preflist(ref: KeyRef, nVal: number = this.nVal): readonly VnodeTarget[] {
    const ring = this.cluster.ring();
    if (ring !== this.cacheRing) this.forgetPreflists();
    this.cacheRing = ring;
    const owners = ring.ownership.owners;
    const first = firstPreference(keyPartition(ref.bucketType, ref.bucket, ref.key, owners.length), owners.length);
    const cacheable = Number.isSafeInteger(nVal) && nVal >= 1 && nVal <= N_VAL_CACHE_MAX;
    const slot = first * (N_VAL_CACHE_MAX + 1) + nVal;
    const cached = cacheable ? this.preflists.get(slot) : undefined;
    if (cached !== undefined) return cached;
    this.cacheUp ??= this.cluster.upNodes();
    const targets = preflistFrom(owners, first, nVal, this.cacheUp);
    if (cacheable) this.preflists.set(slot, targets);
    return targets;
  }

  /** The ring or the nodes up changed: preference lists are computed anew. */
  private forgetPreflists(): void {
    this.preflists.clear();
    this.cacheUp = undefined;
    this.cacheRing = undefined;
  }

  async get(ref: KeyRef, opts: KvGetOptions = {}): Promise<GetAnswer> {
    const stats = this.stats;
    const startedMs = stats.nowMs();
    stats.gets.add(startedMs);
    stats.getActive++;
    try {
      const { nVal, props, bucket } = this.propsOf(opts.props);
      const q = resolveQuorums({ r: opts.r, pr: opts.pr }, nVal, { ...DEFAULT_BUCKET_QUORUMS, ...bucket.quorums });
      const g = { nVal, props, r: q.r, pr: q.pr, notfoundOk: opts.notfoundOk ?? bucket.notfoundOk ?? true, basicQuorum: opts.basicQuorum ?? bucket.basicQuorum ?? false };
      const answer = await this.runGet(ref, opts, g, true);
      stats.ended('get', startedMs, undefined);
      return answer;
    } catch (err) {
      stats.ended('get', startedMs, asRondoError(err));
      throw err;
    }
  }

  async put(ref: KeyRef, value: KvPutValue, opts: KvPutOptions = {}): Promise<KvPutResult> {
    const stats = this.stats;
    const startedMs = stats.nowMs();
    stats.puts.add(startedMs);
    stats.putActive++;
    try {
      const result = await this.runPut(ref, value, opts);
      stats.ended('put', startedMs, undefined);
      return result;
    } catch (err) {
      stats.ended('put', startedMs, asRondoError(err));
      throw err;
    }
  }

  private async runPut(ref: KeyRef, value: KvPutValue, opts: KvPutOptions): Promise<KvPutResult> {
    const { nVal, props, bucket } = this.propsOf(opts.props);
    const q = resolveQuorums({ w: opts.w, pw: opts.pw, dw: opts.dw }, nVal, { ...DEFAULT_BUCKET_QUORUMS, ...bucket.quorums });
    const targets = this.targetsFor(ref, nVal, { w: q.w, pw: 0, dw: q.dw });
    const command: KvCommand = {
      kind: 'put-coordinate', ...keyOf(ref), props, context: value.context ?? [], content: value.content,
      ...(opts.ifNoneMatch === true ? { ifNoneMatch: true } : {}), ...(opts.ifNotModified !== undefined ? { ifNotModified: opts.ifNotModified } : {}),
    };
    const timeoutMs = opts.timeoutMs ?? COORD_TIMEOUT_MS_DEFAULT;
    const what = `put ${describeKey(ref)}`;
    const coordinator = this.coordinatorOf(targets);
    if (targets[coordinator]?.node !== this.name) this.stats.coordRedirs++;
    const fsm = new PutFsm({ targets, coordinator, command, props, w: q.w, pw: q.pw, dw: q.dw, returnBody: opts.returnBody === true, timeoutMs, what });
    const answer = await this.run(fsm, opts, timeoutMs, what);
    return { context: answer.context, warnings: answer.warnings, ...(opts.returnBody === true ? { body: { object: answer.object, siblings: answer.siblings } } : {}) };
  }

  async delete(ref: KeyRef, opts: KvDeleteOptions = {}): Promise<KvDeleteResult> {
    const { nVal, props, bucket } = this.propsOf(opts.props);
    const given = { rw: opts.rw, r: opts.r, pr: opts.pr, w: opts.w, pw: opts.pw, dw: opts.dw };
    const q = deleteQuorums(given, nVal, { ...DEFAULT_BUCKET_QUORUMS, ...bucket.quorums });
    let context = opts.context;
    if (context === undefined) {
      const read = await this.runGet(ref, opts, { nVal, props, r: q.read.r, pr: q.read.pr, notfoundOk: bucket.notfoundOk ?? true, basicQuorum: bucket.basicQuorum ?? false }, false);
      if (!read.found) return { found: false };
      context = read.context;
    }
    const targets = this.targetsFor(ref, nVal, { w: q.write.w, pw: 0, dw: q.write.dw });
    const timeoutMs = opts.timeoutMs ?? COORD_TIMEOUT_MS_DEFAULT;
    const what = `delete ${describeKey(ref)}`;
    const fsm = new DeleteFsm({
      targets, coordinator: this.coordinatorOf(targets), command: { kind: 'delete-coordinate', ...keyOf(ref), props, context }, props,
      w: q.write.w, pw: q.write.pw, dw: q.write.dw, timeoutMs, what, nVal,
      onReapable: (expectedContext) => this.scheduleReap(ref, targets, expectedContext),
    });
    await this.run(fsm, opts, timeoutMs, what);
    return { found: true };
  }

  /** A bucket's keys in chunks, sorted; scans the cluster (see index/queries.ts). */
  listKeys(bucket: { bucketType: string; bucket: string }, opts: CoverageOptions & { props?: KvBucketProps } = {}): AsyncGenerator<string[]> {
    return this.counted('list', listKeys(this.coverageDeps, { ...bucket, nVal: this.propsOf(opts.props).nVal }, opts));
  }

  /** The names of a type's buckets that hold objects, in chunks; scans the cluster. */
  listBuckets(bucketType: string, opts: CoverageOptions = {}): AsyncGenerator<string[]> {
    return this.counted('list', listBuckets(this.coverageDeps, bucketType, this.nVal, opts));
  }

  /** A secondary index query (see index/queries.ts); scans the index range on covering vnodes. */
  indexQuery(q: IndexQuery, opts: CoverageOptions & { props?: KvBucketProps } = {}): AsyncGenerator<IndexChunk> {
    return this.counted('index', indexQuery(this.coverageDeps, q, this.propsOf(opts.props).nVal, opts));
  }

  /** A listing or index query, counted for /stats: created and active from its first chunk asked for until its generator ends or is closed. */
  private async *counted<T>(kind: 'list' | 'index', chunks: AsyncGenerator<T>): AsyncGenerator<T> {
    const stats = this.stats;
    (kind === 'list' ? stats.listCreate : stats.indexCreate).add(stats.nowMs());
    if (kind === 'list') stats.listActive++;
    else stats.indexActive++;
    try {
      yield* chunks;
    } finally {
      if (kind === 'list') stats.listActive--;
      else stats.indexActive--;
    }
  }

  private readonly coverageDeps: CoverageDeps = {
    owners: () => this.cluster.ring().ownership.owners,
    upNodes: () => this.cluster.upNodes(),
    randomInt: (n) => this.env.random.int(n),
    dispatch: (target, command, timeoutMs) => this.sendPromise(target, command, timeoutMs),
    setTimer: (ms, fn) => {
      const id = this.env.setTimer(ms, fn);
      return () => this.env.clearTimer(id);
    },
  };

  private async runGet(
    ref: KeyRef,
    opts: KvRequestOptions,
    g: { nVal: number; props: ObjectProps; r: number; pr: number; notfoundOk: boolean; basicQuorum: boolean },
    /** A client's get (its siblings and size go to /stats), not a delete's read. */
    counted: boolean,
  ): Promise<GetAnswer> {
    const targets = this.targetsFor(ref, g.nVal, { r: g.r });
    const timeoutMs = opts.timeoutMs ?? COORD_TIMEOUT_MS_DEFAULT;
    const what = `get ${describeKey(ref)}`;
    const fsm = new GetFsm({ ref, targets, r: g.r, pr: g.pr, notfoundOk: g.notfoundOk, basicQuorum: g.basicQuorum, props: g.props, timeoutMs, what, onRepair: this.onRepair });
    const answer = await this.run(fsm, opts, timeoutMs, what);
    if (counted && answer.found) {
      const nowMs = this.stats.nowMs();
      this.stats.getSiblings.record(nowMs, answer.siblings.length);
      this.stats.getObjectBytes.record(nowMs, fsm.answerBytes);
    }
    return answer;
  }

  private readonly onRepair = (kind: RepairKind): void => this.stats.repaired(kind);

  private run<A>(fsm: Fsm<A>, opts: KvRequestOptions, timeoutMs: number, what: string): Promise<A> {
    const env = this.env;
    return runFsm(fsm, { deadlines: this.deadlines, nowMs: () => env.nowMs(), log: env.log, dispatch: this.dispatch, timeoutMs, what, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** The preference list, refusing quorums that more replicas than are reachable could never meet. */
  private targetsFor(ref: KeyRef, nVal: number, quorums: { r?: number; w?: number; pw?: number; dw?: number }): readonly VnodeTarget[] {
    const targets = this.preflist(ref, nVal);
    checkTargets(quorums, targets.length);
    return targets;
  }

  /** This node's own entry when it has one (no network for the write), else the first. */
  private coordinatorOf(targets: readonly VnodeTarget[]): number {
    const own = targets.findIndex((t) => t.node === this.name);
    return own >= 0 ? own : 0;
  }

  private propsOf(given: KvBucketProps = {}): { nVal: number; props: ObjectProps; bucket: KvBucketProps } {
    const nVal = given.nVal ?? this.nVal;
    return { nVal, props: { allowMult: given.allowMult ?? false, lastWriteWins: given.lastWriteWins ?? false }, bucket: given };
  }

  private scheduleReap(ref: KeyRef, targets: readonly VnodeTarget[], expectedContext: VersionVector): void {
    if (this.stopped || this.reapDelayMs === undefined) return;
    if (this.reapTimers.size >= this.reapsScheduledMax) {
      // Bounded: this tombstone stays, as with delete_mode keep (a later write and delete of the key reaps anew).
      this.reapsSkipped++;
      this.env.log.debug({ key: describeKey(ref), scheduled: this.reapTimers.size }, 'reap not scheduled: too many waiting; the tombstone is kept');
      return;
    }
    const id = this.env.setTimer(this.reapDelayMs, () => {
      this.reapTimers.delete(id);
      for (const target of targets) {
        this.dispatch(target, { kind: 'reap', ...keyOf(ref), expectedContext }, BACKGROUND_REQUEST_TIMEOUT_MS, (outcome) => {
          if (outcome.kind === 'reply') this.env.log.debug({ key: describeKey(ref), node: target.node, reply: outcome.reply.kind }, 'reap');
          else if (outcome.kind === 'failed') this.env.log.debug({ key: describeKey(ref), node: target.node, err: outcome.reason }, 'reap failed');
        });
      }
    });
    this.reapTimers.add(id);
  }

  /** Run a command on a vnode: our own directly, a peer's through a request. */
  private readonly dispatch: Dispatch = (target, command, timeoutMs, done) =>
    this.send(target, command, timeoutMs, false, (outcome) => {
      if (!outcome.ok) return done({ kind: 'failed', reason: reasonOf(outcome.error), error: outcome.error });
      const durable = pendingDurability(outcome.reply);
      if (durable === undefined) return done({ kind: 'reply', reply: outcome.reply });
      if (!EARLY_REPORTED_COMMANDS.has(command.kind)) return afterDurable(outcome.reply, durable, (settled) => done(settled.ok ? { kind: 'reply', reply: settled.reply } : { kind: 'failed', reason: reasonOf(settled.error) }));
      done({ kind: 'reply', reply: withoutPending(outcome.reply), durable: false });
      durable.then(
        () => done({ kind: 'durable' }),
        (err: unknown) => done({ kind: 'failed', reason: reasonOf(err) }),
      );
    });

  /** dispatch for the coverage queries (index/queries.ts), which await a promise per page. */
  private sendPromise(target: { node: NodeName; partition: number }, command: KvCommand, timeoutMs: number): Promise<KvReply> {
    return new Promise((resolve, reject) =>
      this.send(target, command, timeoutMs, false, (outcome) => {
        if (!outcome.ok) return reject(outcome.error);
        const durable = pendingDurability(outcome.reply);
        if (durable === undefined) return resolve(outcome.reply);
        afterDurable(outcome.reply, durable, (settled) => (settled.ok ? resolve(settled.reply) : reject(settled.error)));
      }),
    );
  }

  private send(target: { node: NodeName; partition: number; primary?: boolean }, command: KvCommand, timeoutMs: number | undefined, forwarded: boolean, done: (outcome: SendOutcome) => void): void {
    if (target.node === this.name) return this.runLocal(target.partition, command, timeoutMs, forwarded, done);
    let reqId: number;
    try {
      reqId = this.requests.open(target.node, timeoutMs ?? BACKGROUND_REQUEST_TIMEOUT_MS, `${command.kind} on vnode ${target.partition}`, done);
    } catch (err) {
      return done({ ok: false, error: err instanceof RondoError ? err : new RondoError('internal', String(err)) });
    }
    const primaryEpoch = target.primary === true ? this.cluster.ring().ownership.epoch : undefined;
    const failure = this.cluster.trySend(target.node, requestMessage(reqId, target.partition, command, { forwarded, ...(primaryEpoch === undefined ? {} : { primaryEpoch }) }));
    if (failure === undefined) return;
    if (failure instanceof MessageTooLargeError) {
      // Resending can never help: this request fails with the reason (413), and only this request.
      const error = new MessageTooLargeError(`${command.kind} on vnode ${target.partition} of ${target.node}: ${failure.message}`, failure.bytes, failure.limitBytes);
      this.requests.fail(reqId, error);
      return;
    }
    this.requests.fail(reqId, new PeerUnreachableError(`could not send to ${target.node}: ${failure.message}`));
  }

  /** Run on our own vnode; a vnode that has handed off forwards to the new owner (once: a forwarded command is not forwarded again). */
  private runLocal(partition: number, command: KvCommand, timeoutMs: number | undefined, forwarded: boolean, done: (outcome: SendOutcome) => void): void {
    this.countVnodeCommand(command.kind);
    const opts = { coverage: COVERAGE_COMMANDS.has(command.kind), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
    this.host.submit(partition, command, opts, (result: HostOutcome<KvReply>) => {
      if (result instanceof RondoError) return done({ ok: false, error: result });
      if (result.kind === 'reply') return done({ ok: true, reply: result.reply });
      if (forwarded) {
        return done({ ok: false, error: new RondoError('kv_forwarded', `vnode ${partition} on ${this.name} forwarded a command that was already forwarded (to ${result.node})`) });
      }
      this.send({ node: result.node, partition: result.partition }, command, timeoutMs, true, done);
    });
  }

  /** Riak's vnode_gets, vnode_puts (writes of any kind: coordinated, replicated, deletes) and vnode_index_reads, counted as commands reach this node's vnodes. */
  private countVnodeCommand(kind: KvCommand['kind']): void {
    const stats = this.stats;
    switch (kind) {
      case 'get':
        return stats.vnodeGets.add(stats.nowMs());
      case 'put-coordinate':
      case 'put-replicate':
      case 'delete-coordinate':
        return stats.vnodePuts.add(stats.nowMs());
      case 'index-query':
        return stats.vnodeIndexReads.add(stats.nowMs());
      default:
        return;
    }
  }

  private receive(from: NodeName, raw: WireMessage): void {
    if (this.stopped) return;
    const msg = parseKvMessage(raw);
    if (typeof msg === 'string') {
      this.env.log.warn({ from, type: raw.type, problem: msg }, 'dropping malformed kv message');
      return;
    }
    if (msg.type === 'kv.vnode-reply') {
      if (!this.requests.settle(msg.reqId, from, msg.reply)) this.env.log.debug({ from, reqId: msg.reqId }, 'late or unknown kv reply');
      return;
    }
    const { reqId, partition, command } = msg;
    const forwarded = msg.forwarded === true;
    if (DEDUPLICATED_COMMANDS.has(command.kind) && !this.seenRequests.firstDelivery(from, reqId)) {
      this.env.log.debug({ from, reqId }, 'dropping duplicate kv request');
      return;
    }
    const reply = (r: KvReply): void => {
      const failure = this.cluster.trySend(from, replyMessage(reqId, r));
      if (failure === undefined) return;
      if (!(failure instanceof MessageTooLargeError)) {
        this.env.log.debug({ to: from, reqId, err: failure.message }, 'kv reply not sent'); // lost like any message: the requester times out
        return;
      }
      // The reply cannot fit one frame: answer its error instead, so the requester fails this request at once (413).
      const message = `${command.kind} on vnode ${partition} of ${this.name}: the reply is ${failure.bytes} bytes, over the frame limit ${failure.limitBytes}`;
      this.env.log.warn({ to: from, reqId, kind: command.kind, bytes: failure.bytes }, message);
      this.cluster.send(from, replyMessage(reqId, { kind: 'error', code: failure.code, message }));
    };
    const ring = this.cluster.ring();
    if (partition >= ring.ringSize) {
      reply({ kind: 'error', code: 'invalid_argument', message: `no partition ${partition} in a ring of ${ring.ringSize}` });
      return;
    }
    // A peer hears of a write only once it is durable.
    const answer = (outcome: SendOutcome): void => {
      if (!outcome.ok) return reply(errorReply(outcome.error));
      const durable = pendingDurability(outcome.reply);
      if (durable === undefined) return reply(outcome.reply);
      afterDurable(outcome.reply, durable, (settled) => reply(settled.ok ? settled.reply : errorReply(settled.error)));
    };
    // The sender took us for the owner by an older ring than ours, which names
    // another: the owner serves it (once; see VnodeRequestMessage.primary).
    const owner = ring.ownership.owners[partition];
    if (msg.primary !== undefined && !forwarded && msg.primary.epoch < ring.ownership.epoch && owner !== undefined && owner !== this.name) {
      this.env.log.debug({ from, partition, owner, senderEpoch: msg.primary.epoch, epoch: ring.ownership.epoch }, 'passing a command from a stale ring to the owner');
      this.send({ node: owner, partition }, command, BACKGROUND_REQUEST_TIMEOUT_MS, true, answer);
      return;
    }
    this.runLocal(partition, command, undefined, forwarded, answer);
  }
}

function asRondoError(err: unknown): RondoError {
  return err instanceof RondoError ? err : new RondoError('internal', err instanceof Error ? err.message : String(err));
}

type SendOutcome = { ok: true; reply: KvReply } | { ok: false; error: RondoError };

/** Commands a local coordinator hears of twice, written then durable: their replication need not wait for the fsync. */
const EARLY_REPORTED_COMMANDS: ReadonlySet<KvCommand['kind']> = new Set(['put-coordinate', 'delete-coordinate']);

/** Calls `done` with the reply once the write it reports is durable, or with the write's error. */
function afterDurable(reply: KvReply, durable: Promise<void>, done: (outcome: SendOutcome) => void): void {
  durable.then(
    () => done({ ok: true, reply: withoutPending(reply) }),
    (err: unknown) => done({ ok: false, error: err instanceof RondoError ? err : new RondoError('internal', `write failed: ${err instanceof Error ? err.message : String(err)}`) }),
  );
}

/** The commands that are not idempotent: a duplicate delivery would issue a second dot. */
const DEDUPLICATED_COMMANDS: ReadonlySet<KvCommand['kind']> = new Set(['put-coordinate', 'delete-coordinate']);

/** n_vals up to this get cached preference lists (larger ones are computed per request). */
const N_VAL_CACHE_MAX = 16;

const COVERAGE_COMMANDS: ReadonlySet<KvCommand['kind']> = new Set(['fold-keys', 'fold-buckets', 'index-query']);

const DEFAULT_BUCKET_QUORUMS: Readonly<Record<QuorumName, QuorumSpec>> = { r: 'quorum', pr: 0, w: 'quorum', pw: 0, dw: 'quorum', rw: 'quorum' };

function keyOf(ref: KeyRef): KeyRef {
  return { bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key };
}

/** Read, increment and persist this node's vnode epoch (see the top of this file). */
function bumpEpoch(env: Env): number {
  const stored = env.meta.load(EPOCH_META_KEY);
  const previous = stored === undefined ? -1 : (unpack(stored) as unknown);
  assert(typeof previous === 'number' && Number.isSafeInteger(previous) && previous >= -1, 'stored vnode epoch is an integer');
  const epoch = previous + 1;
  env.meta.save(EPOCH_META_KEY, pack(epoch));
  return epoch;
}
