// RondoClient: Rondo's TypeScript client over Riak's Protocol Buffers API.
//
// - Every call picks a node by the power of two random choices (balancer.ts),
//   borrows a pooled connection to it (pool.ts) and sends one request
//   (connection.ts).
// - `timeoutMs` is the deadline of a whole call, retries included; for
//   streams (listKeys, listBuckets, indexStream) it bounds the wait for each
//   next message instead, as a listing's length is not known in advance.
// - Retries go to another node where one is left, after a short jittered
//   backoff, and only where repeating the call is safe: get, ping, index
//   pages, props reads, and listings before their first item was yielded
//   retry on 'connection', 'overload' and 'timeout'; put, delete and props
//   writes only when asked (`retry: true`, or the option `retryWrites`), and
//   then only on 'connection' and 'overload' (a retried write may apply twice).
import { type PbCodecName, type RpbDelReq, type RpbGetReq, type RpbIndexReq, type RpbPutReq } from '../api/pb/codec/index.js';
import { backoffMs, chooseNode } from './balancer.js';
import { parseAddress, request, requestStream, type Deadline, type PbConnection } from './connection.js';
import { abortedError, RondoClientError } from './errors.js';
import { assert, CALL_TIMEOUT_MS_DEFAULT, CONNECTIONS_PER_NODE_DEFAULT, CONNECTIONS_PER_NODE_MAX, NODE_DOWN_MS, NODES_MAX, RETRIES_DEFAULT, RETRIES_MAX, RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_MAX_MS } from './limits.js';
import { continuationFromPb, contentToPb, indexHitsFromPb, indexRequest, propsFromPb, propsToPb, quorumsToPb, siblingFromPb } from './mapping.js';
import { NodePool } from './pool.js';
import { causalContext, type BucketProps, type BucketRef, type CallOptions, type DeleteOptions, type GetOptions, type GetResult, type IndexHit, type IndexPage, type IndexQuery, type KeyRef, type NewSibling, type PutOptions, type PutResult, type SiblingResolver, type WriteCallOptions } from './types.js';

export interface RondoClientOptions {
  /** PB addresses, "host:port" (e.g. the `--pb-listen` of each node). */
  nodes: string[];
  /** Default CONNECTIONS_PER_NODE_DEFAULT (8). */
  connectionsPerNode?: number;
  /** Default deadline of a call, CALL_TIMEOUT_MS_DEFAULT (10 s). */
  timeoutMs?: number;
  /** Extra attempts for calls safe to retry; default RETRIES_DEFAULT (2). */
  retries?: number;
  /** Retry put, delete and props writes as if each passed `retry: true`. Default false. */
  retryWrites?: boolean;
  /** Picks one of several siblings on get (a call's `resolve` overrides it). */
  resolveSiblings?: SiblingResolver;
  /** Random numbers in [0, 1) for node choice and backoff jitter (tests pass a seeded one). */
  random?: () => number;
}

/** What may be retried, and on which errors. */
type RetryPolicy = 'read' | 'write' | 'none';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new RondoClientError('invalid_argument', `${what} must be a non-empty string`);
  return value;
}

function typeField(type: string | undefined): { type?: Buffer } {
  return type === undefined ? {} : { type: bytes(checkName(type, 'type')) };
}

function retryable(err: unknown, policy: RetryPolicy): boolean {
  if (!(err instanceof RondoClientError) || policy === 'none') return false;
  if (err.code === 'connection' || err.code === 'overload') return true;
  return err.code === 'timeout' && policy === 'read';
}

/** Resolves after `ms`, or rejects with 'aborted' when the signal fires first. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RondoClient {
  private readonly pools: NodePool[];
  private readonly downUntilMs: number[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryWrites: boolean;
  private readonly resolveSiblings: SiblingResolver | undefined;
  private readonly random: () => number;
  private closed = false;

  constructor(options: RondoClientOptions) {
    const nodes = options.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > NODES_MAX) throw new RondoClientError('invalid_argument', `nodes must list 1..${NODES_MAX} addresses`);
    if (new Set(nodes).size !== nodes.length) throw new RondoClientError('invalid_argument', 'nodes lists an address twice');
    for (const node of nodes) parseAddress(node);
    const connectionsMax = options.connectionsPerNode ?? CONNECTIONS_PER_NODE_DEFAULT;
    if (!Number.isInteger(connectionsMax) || connectionsMax < 1 || connectionsMax > CONNECTIONS_PER_NODE_MAX) throw new RondoClientError('invalid_argument', `connectionsPerNode must be 1..${CONNECTIONS_PER_NODE_MAX}`);
    this.retries = options.retries ?? RETRIES_DEFAULT;
    if (!Number.isInteger(this.retries) || this.retries < 0 || this.retries > RETRIES_MAX) throw new RondoClientError('invalid_argument', `retries must be 0..${RETRIES_MAX}`);
    this.timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS_DEFAULT;
    if (!(this.timeoutMs > 0)) throw new RondoClientError('invalid_argument', 'timeoutMs must be positive');
    this.pools = nodes.map((address) => new NodePool(address, { connectionsMax }));
    this.downUntilMs = nodes.map(() => 0);
    this.retryWrites = options.retryWrites === true;
    this.resolveSiblings = options.resolveSiblings;
    this.random = options.random ?? Math.random;
  }

  // ---- key/value ----

  async ping(opts: CallOptions = {}): Promise<void> {
    await this.call('RpbPingReq', opts, 'read', (conn, d) => request(conn, 'RpbPingReq', {}, 'RpbPingResp', d));
  }

  async get(ref: KeyRef, opts: GetOptions = {}): Promise<GetResult> {
    const req: RpbGetReq = { bucket: bytes(checkName(ref.bucket, 'bucket')), key: bytes(checkName(ref.key, 'key')), ...typeField(ref.type), ...quorumsToPb(opts, ['r', 'pr'] as const) };
    if (opts.notfoundOk !== undefined) req.notfound_ok = opts.notfoundOk;
    if (opts.basicQuorum !== undefined) req.basic_quorum = opts.basicQuorum;
    const m = await this.call('RpbGetReq', opts, 'read', (conn, d) => request(conn, 'RpbGetReq', req, 'RpbGetResp', d));
    if (m.content === undefined || m.content.length === 0) return { found: false };
    const siblings = m.content.map(siblingFromPb);
    const context = causalContext(m.vclock ?? Buffer.alloc(0));
    if (siblings.length === 1) return { found: true, siblings, value: siblings[0] as (typeof siblings)[0], conflict: false, context };
    const resolve = opts.resolve ?? this.resolveSiblings;
    if (resolve === undefined) return { found: true, siblings, value: siblings[0] as (typeof siblings)[0], conflict: true, context };
    return { found: true, siblings, value: resolve(siblings), conflict: false, context };
  }

  /** Writes a value. Without `ref.key` the server generates one (PutResult.key). */
  async put(ref: Omit<KeyRef, 'key'> & { key?: string }, value: string | Uint8Array | NewSibling, opts: PutOptions = {}): Promise<PutResult> {
    const req: RpbPutReq = { bucket: bytes(checkName(ref.bucket, 'bucket')), content: contentToPb(value), ...typeField(ref.type), ...quorumsToPb(opts, ['w', 'dw', 'pw'] as const) };
    if (ref.key !== undefined) req.key = bytes(checkName(ref.key, 'key'));
    if (opts.context !== undefined && opts.context.length > 0) req.vclock = opts.context;
    if (opts.returnBody === true) req.return_body = true;
    if (opts.ifNoneMatch === true) req.if_none_match = true;
    if (opts.ifNotModified === true) req.if_not_modified = true;
    const m = await this.call('RpbPutReq', opts, this.writePolicy(opts), (conn, d) => request(conn, 'RpbPutReq', req, 'RpbPutResp', d));
    const key = ref.key ?? (m.key !== undefined && m.key.length > 0 ? m.key.toString('utf8') : undefined);
    if (key === undefined) throw new RondoClientError('protocol', 'the server generated a key but did not say which');
    const out: PutResult = { key, context: causalContext(m.vclock ?? Buffer.alloc(0)) };
    if (opts.returnBody === true) out.siblings = (m.content ?? []).map(siblingFromPb);
    return out;
  }

  async delete(ref: KeyRef, opts: DeleteOptions = {}): Promise<void> {
    const req: RpbDelReq = { bucket: bytes(checkName(ref.bucket, 'bucket')), key: bytes(checkName(ref.key, 'key')), ...typeField(ref.type), ...quorumsToPb(opts, ['rw', 'r', 'w', 'pr', 'pw', 'dw'] as const) };
    if (opts.context !== undefined && opts.context.length > 0) req.vclock = opts.context;
    await this.call('RpbDelReq', opts, this.writePolicy(opts), (conn, d) => request(conn, 'RpbDelReq', req, 'RpbDelResp', d));
  }

  // ---- listings and secondary indexes ----

  /**
   * Every key of a bucket, streamed. This scans every key in the cluster (a
   * coverage query over all partitions): fine for tools and tests, too costly
   * for a request path. Keys come in no particular order.
   */
  async *listKeys(ref: BucketRef, opts: CallOptions = {}): AsyncGenerator<string> {
    const req = { bucket: bytes(checkName(ref.bucket, 'bucket')), ...typeField(ref.type) };
    yield* this.stream('RpbListKeysReq', opts, (conn, idleMs) => flatMap(requestStream(conn, 'RpbListKeysReq', req, 'RpbListKeysResp', (m) => m.done === true, { signal: opts.signal, idleMs }), (m) => (m.keys ?? []).map(String)));
  }

  /** Every bucket (of a type) holding a key, streamed. Scans the cluster, like listKeys. */
  async *listBuckets(ref: { type?: string } = {}, opts: CallOptions = {}): AsyncGenerator<string> {
    const req = { stream: true, ...typeField(ref.type) };
    yield* this.stream('RpbListBucketsReq', opts, (conn, idleMs) => flatMap(requestStream(conn, 'RpbListBucketsReq', req, 'RpbListBucketsResp', (m) => m.done === true, { signal: opts.signal, idleMs }), (m) => (m.buckets ?? []).map(String)));
  }

  /** One page of a 2i query: an equality query on `start`, or a range query `start`..`end` (inclusive). */
  async index(query: IndexQuery, opts: CallOptions = {}): Promise<IndexPage> {
    const req = this.indexReq(query, false);
    const m = await this.call('RpbIndexReq', opts, 'read', (conn, d) => request(conn, 'RpbIndexReq', req, 'RpbIndexResp', d));
    const continuation = continuationFromPb(m);
    return { hits: indexHitsFromPb(query.index, m), ...(continuation !== undefined ? { continuation } : {}) };
  }

  /** Every hit of a 2i query, streamed; with `maxResults`, page after page, following continuations. */
  async *indexStream(query: IndexQuery, opts: CallOptions = {}): AsyncGenerator<IndexHit> {
    let continuation = query.continuation;
    for (;;) {
      const req = this.indexReq({ ...query, ...(continuation !== undefined ? { continuation } : {}) }, true);
      let next: string | undefined;
      yield* this.stream('RpbIndexReq', opts, (conn, idleMs) => {
        next = undefined; // a retried page starts over
        return flatMap(requestStream(conn, 'RpbIndexReq', req, 'RpbIndexResp', (m) => m.done === true, { signal: opts.signal, idleMs }), (m) => {
          next = continuationFromPb(m) ?? next;
          return indexHitsFromPb(query.index, m);
        });
      });
      if (query.maxResults === undefined || next === undefined) return;
      if (next === continuation) throw new RondoClientError('protocol', 'the server repeated a 2i continuation');
      continuation = next;
    }
  }

  // ---- bucket and bucket type properties ----

  async getBucketProps(ref: BucketRef, opts: CallOptions = {}): Promise<BucketProps> {
    const req = { bucket: bytes(checkName(ref.bucket, 'bucket')), ...typeField(ref.type) };
    const m = await this.call('RpbGetBucketReq', opts, 'read', (conn, d) => request(conn, 'RpbGetBucketReq', req, 'RpbGetBucketResp', d));
    return propsFromPb(m.props);
  }

  /** Changes the given properties of a bucket; the others keep their values. */
  async setBucketProps(ref: BucketRef, props: BucketProps, opts: WriteCallOptions = {}): Promise<void> {
    const req = { bucket: bytes(checkName(ref.bucket, 'bucket')), props: propsToPb(props), ...typeField(ref.type) };
    await this.call('RpbSetBucketReq', opts, this.writePolicy(opts), (conn, d) => request(conn, 'RpbSetBucketReq', req, 'RpbSetBucketResp', d));
  }

  /** Back to the bucket type's properties. */
  async resetBucketProps(ref: BucketRef, opts: WriteCallOptions = {}): Promise<void> {
    const req = { bucket: bytes(checkName(ref.bucket, 'bucket')), ...typeField(ref.type) };
    await this.call('RpbResetBucketReq', opts, this.writePolicy(opts), (conn, d) => request(conn, 'RpbResetBucketReq', req, 'RpbResetBucketResp', d));
  }

  async getBucketTypeProps(type: string, opts: CallOptions = {}): Promise<BucketProps> {
    const req = { type: bytes(checkName(type, 'type')) };
    const m = await this.call('RpbGetBucketTypeReq', opts, 'read', (conn, d) => request(conn, 'RpbGetBucketTypeReq', req, 'RpbGetBucketResp', d));
    return propsFromPb(m.props);
  }

  /** Changes the given properties of an existing bucket type (create and activate types with `rondo admin bucket-type`). */
  async setBucketTypeProps(type: string, props: BucketProps, opts: WriteCallOptions = {}): Promise<void> {
    const req = { type: bytes(checkName(type, 'type')), props: propsToPb(props) };
    await this.call('RpbSetBucketTypeReq', opts, this.writePolicy(opts), (conn, d) => request(conn, 'RpbSetBucketTypeReq', req, 'RpbSetBucketResp', d));
  }

  /** Closes every connection. Calls in progress fail with 'connection'; later calls fail at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pool of this.pools) pool.close();
    // Destroyed sockets finish closing on the next turns of the event loop.
    await new Promise((r) => setImmediate(r));
  }

  // ---- the machinery ----

  private writePolicy(opts: WriteCallOptions): RetryPolicy {
    return (opts.retry ?? this.retryWrites) ? 'write' : 'none';
  }

  private indexReq(query: IndexQuery, stream: boolean): RpbIndexReq {
    checkName(query.bucket, 'bucket');
    checkName(query.index, 'index');
    return indexRequest(query, stream);
  }

  private checkOpen(what: PbCodecName): void {
    if (this.closed) throw new RondoClientError('connection', `${what}: the client is closed`);
  }

  /** A node for the next attempt, preferring one not tried yet. */
  private pick(tried: Set<number>): number {
    if (tried.size >= this.pools.length) tried.clear();
    const loads = this.pools.map((pool, i) => ({ inFlight: pool.inFlight, downUntilMs: this.downUntilMs[i] as number }));
    const index = chooseNode(loads, tried, Date.now(), this.random);
    assert(index >= 0 && index < this.pools.length, 'some node is always allowed');
    tried.add(index);
    return index;
  }

  private noteOutcome(index: number, err: unknown): void {
    if (err === undefined) this.downUntilMs[index] = 0;
    else if (err instanceof RondoClientError && err.code === 'connection' && !this.closed) this.downUntilMs[index] = Date.now() + NODE_DOWN_MS;
  }

  /** Waits before retry `attempt`, never past the deadline. */
  private async backoff(attempt: number, signal: AbortSignal | undefined, deadlineMs: number): Promise<void> {
    const ms = Math.min(backoffMs(attempt, RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_MAX_MS, this.random), Math.max(0, deadlineMs - Date.now()));
    await delay(ms, signal);
  }

  /** One request/reply call with the retry policy; `what` names the request in errors. */
  private async call<T>(what: PbCodecName, opts: CallOptions, policy: RetryPolicy, fn: (conn: PbConnection, deadline: Deadline) => Promise<T>): Promise<T> {
    this.checkOpen(what);
    if (opts.signal?.aborted) throw abortedError(opts.signal);
    const deadline: Deadline = { signal: opts.signal, deadlineMs: Date.now() + (opts.timeoutMs ?? this.timeoutMs) };
    const attempts = 1 + (policy === 'none' ? 0 : this.retries);
    const tried = new Set<number>();
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.backoff(attempt, opts.signal, deadline.deadlineMs);
      const index = this.pick(tried);
      const pool = this.pools[index] as NodePool;
      pool.inFlight++;
      let conn: PbConnection | undefined;
      try {
        conn = await pool.acquire(deadline);
        const result = await fn(conn, deadline);
        this.noteOutcome(index, undefined);
        return result;
      } catch (err) {
        this.noteOutcome(index, err);
        if (err instanceof RondoClientError) err.node ??= pool.address;
        if (this.closed || attempt + 1 >= attempts || Date.now() >= deadline.deadlineMs || !retryable(err, policy)) throw err;
      } finally {
        pool.inFlight--;
        if (conn !== undefined) pool.release(conn);
      }
    }
  }

  /**
   * A streamed call: `start` runs the request on a connection and yields its
   * items. Retried (on another node) only while nothing has been yielded.
   */
  private async *stream<T>(what: PbCodecName, opts: CallOptions, start: (conn: PbConnection, idleMs: number) => AsyncGenerator<T>): AsyncGenerator<T> {
    this.checkOpen(what);
    if (opts.signal?.aborted) throw abortedError(opts.signal);
    const idleMs = opts.timeoutMs ?? this.timeoutMs;
    const tried = new Set<number>();
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.backoff(attempt, opts.signal, Date.now() + RETRY_BACKOFF_MAX_MS);
      const index = this.pick(tried);
      const pool = this.pools[index] as NodePool;
      pool.inFlight++;
      let conn: PbConnection | undefined;
      let yielded = false;
      try {
        conn = await pool.acquire({ signal: opts.signal, deadlineMs: Date.now() + idleMs });
        for await (const item of start(conn, idleMs)) {
          // Items of one message come at once: an abort stops them too.
          if (opts.signal?.aborted) throw abortedError(opts.signal);
          yielded = true;
          yield item;
        }
        this.noteOutcome(index, undefined);
        return;
      } catch (err) {
        this.noteOutcome(index, err);
        if (err instanceof RondoClientError) err.node ??= pool.address;
        if (yielded || this.closed || attempt >= this.retries || !retryable(err, 'read')) throw err;
      } finally {
        pool.inFlight--;
        if (conn !== undefined) pool.release(conn);
      }
    }
  }
}

async function* flatMap<M, T>(source: AsyncGenerator<M>, items: (m: M) => T[]): AsyncGenerator<T> {
  for await (const m of source) yield* items(m);
}
