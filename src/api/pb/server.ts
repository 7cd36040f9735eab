// Riak's Protocol Buffers API on TCP. Each connection reads frames (codec/
// frame.ts), runs its requests one at a time in arrival order (clients
// pipeline; Riak answers in order too), and writes each answer, or each
// message of a streamed answer, waiting for the socket to drain.
// - Framing errors (a length of 0 or above the limit) get an RpbErrorResp and
//   close that connection: the byte stream can no longer be trusted. An
//   unknown code or an undecodable body fails only that request; the stream
//   is still in step, so the connection stays.
// - Requests waiting on one connection are bounded: at the limit the socket
//   stops reading (TCP pushes back on the client) until the queue drains.
// - Connections are bounded: one beyond the limit gets an RpbErrorResp and is
//   closed. Idle connections are closed after PB_IDLE_TIMEOUT_MS.
// - A closed connection aborts its running request (the KV calls get the signal).
import { RondoError } from '../../core/errors.js';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../core/env.js';
import { FrameDecoder, PB_CONNECTIONS_MAX, PB_FRAME_BYTES_MAX, PB_IDLE_TIMEOUT_MS, PB_REQUESTS_QUEUED_PER_CONNECTION_MAX } from './codec/index.js';
import { errorFrame, type PbHandler, type PbSession } from './handlers.js';
import { writeDrained } from '../socket-write.js';
import { CountWindow } from '../../core/stats/index.js';
import type { OpName, RequestMetrics } from '../metrics.js';

export interface PbApiOptions {
  host: string;
  port: number;
  log: Logger;
  handler: PbHandler;
  connectionsMax?: number;
  frameBytesMax?: number;
  idleTimeoutMs?: number;
  queuedRequestsMax?: number;
  /** Where requests are counted and timed for /metrics (none: not counted). */
  metrics?: RequestMetrics;
  /** The node's clock (ms), for the one-minute pbc_connects (default performance.now). */
  nowMs?: () => number;
}

export interface PbStats {
  connections: number;
  connectionsRefused: number;
  requests: number;
  errors: number;
  framingErrors: number;
  /** Connections accepted: in the last minute (`lastMinute`) and since start (`total`). */
  readonly connects: CountWindow;
}

export class PbApi {
  private readonly opts: PbApiOptions;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly stats: PbStats = { connections: 0, connectionsRefused: 0, requests: 0, errors: 0, framingErrors: 0, connects: new CountWindow() };

  constructor(opts: PbApiOptions) {
    this.opts = opts;
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('pb server has no address');
    return { host: address.address, port: address.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined); // a reset by the client ends this connection only
    if (this.sockets.size >= (this.opts.connectionsMax ?? PB_CONNECTIONS_MAX)) {
      this.stats.connectionsRefused++;
      socket.end(errorFrame(`overload: too many connections (limit ${this.opts.connectionsMax ?? PB_CONNECTIONS_MAX})`));
      return;
    }
    this.sockets.add(socket);
    this.stats.connects.add(this.opts.nowMs?.() ?? performance.now());
    this.stats.connections = this.sockets.size;
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.stats.connections = this.sockets.size;
    });
    new PbConnection(socket, this.opts, this.stats).run();
  }
}

/** One client connection: frames in, answers out, strictly in order. */
class PbConnection {
  private readonly decoder: FrameDecoder;
  private readonly queue: { code: number; body: Buffer }[] = [];
  private readonly aborter = new AbortController();
  private readonly session: PbSession = { clientId: undefined };
  private busy = false;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly opts: PbApiOptions,
    private readonly stats: PbStats,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: opts.frameBytesMax ?? PB_FRAME_BYTES_MAX });
  }

  run(): void {
    const socket = this.socket;
    // A listener of its own, not setTimeout's callback: that one is a `once`
    // listener, so a timeout that fired while a request was running (and was
    // rightly ignored) would leave the connection never closed for idleness.
    socket.setTimeout(this.opts.idleTimeoutMs ?? PB_IDLE_TIMEOUT_MS);
    socket.on('timeout', () => {
      if (!this.busy && this.queue.length === 0) socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.once('close', () => {
      this.closing = true;
      this.aborter.abort();
    });
  }

  private received(chunk: Buffer): void {
    if (this.closing) return;
    for (const event of this.decoder.push(chunk)) {
      if (event.kind === 'error') {
        this.stats.framingErrors++;
        this.closing = true;
        this.opts.log.debug({ remote: this.socket.remoteAddress, reason: event.reason }, 'pb framing error; closing the connection');
        // Answer after the requests already queued, then close.
        this.queue.push({ code: -1, body: Buffer.from(event.message, 'utf8') });
        break;
      }
      this.queue.push({ code: event.code, body: event.body });
    }
    if (this.queue.length >= (this.opts.queuedRequestsMax ?? PB_REQUESTS_QUEUED_PER_CONNECTION_MAX)) this.socket.pause();
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.socket.destroyed) return;
        if (this.socket.isPaused() && !this.closing && this.queue.length < (this.opts.queuedRequestsMax ?? PB_REQUESTS_QUEUED_PER_CONNECTION_MAX) / 2) this.socket.resume();
        if (next.code === -1) {
          this.socket.end(errorFrame(next.body.toString('utf8')));
          return;
        }
        this.stats.requests++;
        const metrics = this.opts.metrics;
        if (metrics === undefined) {
          await this.answer(next.code, next.body);
          continue;
        }
        const startedMs = performance.now();
        await this.answer(next.code, next.body);
        metrics.request('pb', PB_OPS.get(next.code) ?? 'other', (performance.now() - startedMs) / 1000);
      }
    } finally {
      this.busy = false;
    }
  }

  private async answer(code: number, body: Buffer): Promise<void> {
    try {
      const reply = await this.opts.handler(code, body, this.session, this.aborter.signal);
      if (Buffer.isBuffer(reply)) {
        await this.write(reply);
        return;
      }
      for await (const frame of reply) {
        if (this.socket.destroyed) return;
        await this.write(frame);
      }
    } catch (err) {
      // The handler turns operating errors into RpbErrorResp itself; reaching here is a failure midway through a stream, or a bug.
      this.stats.errors++;
      this.opts.metrics?.error('pb', err instanceof RondoError ? err.code : 'internal');
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err), code }, 'pb request failed');
      if (!this.socket.destroyed) await this.write(errorFrame(err));
    }
  }

  private write(frame: Buffer): Promise<void> {
    return writeDrained(this.socket, frame);
  }
}

/** Request message codes (codec/codes.ts) -> the operation /metrics counts them as. */
const PB_OPS: ReadonlyMap<number, OpName> = new Map<number, OpName>([
  [9, 'get'], // RpbGetReq
  [11, 'put'], // RpbPutReq
  [13, 'delete'], // RpbDelReq
  [15, 'list'], // RpbListBucketsReq
  [17, 'list'], // RpbListKeysReq
  [25, 'index'], // RpbIndexReq
]);
