// Connections to one node: up to `connectionsMax`, opened on demand. A call
// borrows a connection for its whole request (one request per connection at
// a time, so a slow request never holds up another) and gives it back; when
// all are lent out, calls wait in a bounded queue, and one more fails at once
// with 'overload'. Idle connections close after IDLE_CONNECTION_MS and never
// keep the process alive (their sockets and timers are unref'd).
import { PbConnection, type Deadline } from './connection.js';
import { abortedError, RondoClientError } from './errors.js';
import { assert, CONNECT_TIMEOUT_MS, IDLE_CONNECTION_MS, POOL_WAITERS_PER_NODE_MAX } from './limits.js';

interface Waiter {
  resolve: (conn: PbConnection) => void;
  reject: (err: unknown) => void;
  deadline: Deadline;
}

export interface NodePoolOptions {
  connectionsMax: number;
  waitersMax?: number;
  idleMs?: number;
}

export class NodePool {
  readonly address: string;
  private readonly connectionsMax: number;
  private readonly waitersMax: number;
  private readonly idleMs: number;
  private readonly idle: { conn: PbConnection; timer: NodeJS.Timeout }[] = [];
  private readonly waiters: Waiter[] = [];
  /** Every open connection, idle or lent out (close() destroys them all). */
  private readonly connections = new Set<PbConnection>();
  /** Connections open or being opened, idle or lent out. */
  private total = 0;
  /** Calls using this node now: waiting for, or holding, a connection. The node chooser compares these. */
  inFlight = 0;
  private closed = false;

  constructor(address: string, opts: NodePoolOptions) {
    assert(Number.isInteger(opts.connectionsMax) && opts.connectionsMax >= 1, 'connectionsMax >= 1');
    this.address = address;
    this.connectionsMax = opts.connectionsMax;
    this.waitersMax = opts.waitersMax ?? POOL_WAITERS_PER_NODE_MAX;
    this.idleMs = opts.idleMs ?? IDLE_CONNECTION_MS;
  }

  get openConnections(): number {
    return this.total;
  }

  /** A connection for one request; give it back with release(). */
  async acquire(deadline: Deadline): Promise<PbConnection> {
    if (this.closed) throw new RondoClientError('connection', 'the client is closed', { node: this.address });
    if (deadline.signal?.aborted) throw abortedError(deadline.signal);
    for (let entry = this.idle.pop(); entry !== undefined; entry = this.idle.pop()) {
      clearTimeout(entry.timer);
      entry.conn.setIdle(false);
      return entry.conn;
    }
    if (this.total < this.connectionsMax) return this.open(deadline);
    if (this.waiters.length >= this.waitersMax) {
      throw new RondoClientError('overload', `all ${this.connectionsMax} connections to ${this.address} are busy and ${this.waitersMax} calls already wait`, { node: this.address });
    }
    return this.wait(deadline);
  }

  /** Gives a connection back: to the first waiter, or to the idle list. A closed one frees its slot. */
  release(conn: PbConnection): void {
    if (conn.closed || this.closed) {
      conn.destroy();
      return; // the close listener frees the slot and serves a waiter
    }
    assert(conn.pendingCount === 0, 'a connection comes back with no request pending');
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(conn);
      return;
    }
    conn.setIdle(true);
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((e) => e.conn === conn);
      if (at >= 0) this.idle.splice(at, 1);
      conn.destroy();
    }, this.idleMs);
    timer.unref();
    this.idle.push({ conn, timer });
  }

  /** Closes every connection; calls waiting for one fail with 'connection'. */
  close(): void {
    this.closed = true;
    const err = new RondoClientError('connection', 'the client is closed', { node: this.address });
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
    for (const { timer } of this.idle.splice(0)) clearTimeout(timer);
    for (const conn of [...this.connections]) conn.destroy(err);
  }

  private async open(deadline: Deadline): Promise<PbConnection> {
    this.total++;
    let conn: PbConnection;
    try {
      conn = await PbConnection.open(this.address, { signal: deadline.signal, deadlineMs: Math.min(deadline.deadlineMs, Date.now() + CONNECT_TIMEOUT_MS) });
    } catch (err) {
      this.total--;
      // The node is likely down: the calls waiting for it fail too, rather than wait out their deadlines.
      if (err instanceof RondoClientError && err.code === 'connection') for (const waiter of this.waiters.splice(0)) waiter.reject(err);
      throw err;
    }
    this.connections.add(conn);
    conn.onClose(() => {
      this.connections.delete(conn);
      const at = this.idle.findIndex((e) => e.conn === conn);
      if (at >= 0) clearTimeout(this.idle.splice(at, 1)[0]?.timer);
      this.total--;
      assert(this.total >= 0, 'connection count stays non-negative');
      this.serveWaiter();
    });
    if (this.closed) {
      conn.destroy();
      throw new RondoClientError('connection', 'the client is closed', { node: this.address });
    }
    return conn;
  }

  /** A slot was freed: open a connection for the first waiter, if any. */
  private serveWaiter(): void {
    if (this.closed || this.total >= this.connectionsMax) return;
    const waiter = this.waiters.shift();
    if (!waiter) return;
    this.open(waiter.deadline).then(waiter.resolve, waiter.reject);
  }

  private wait(deadline: Deadline): Promise<PbConnection> {
    return new Promise<PbConnection>((resolve, reject) => {
      const { signal } = deadline;
      const leave = (err: RondoClientError): void => {
        const at = this.waiters.indexOf(waiter);
        if (at < 0) return;
        this.waiters.splice(at, 1);
        reject(err);
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        leave(abortedError(signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        leave(new RondoClientError('timeout', `no connection to ${this.address} became free within the deadline`, { node: this.address }));
      }, Math.max(0, deadline.deadlineMs - Date.now()));
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        deadline,
        resolve: (conn) => {
          cleanup();
          resolve(conn);
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
}
