// What the raw-socket drivers share: one TCP connection per client, one
// operation in flight, a per-operation deadline, and a lazy reconnect after
// the connection broke (timeout, server close, protocol error). Subclasses
// (the http, pb, etcd and redis drivers) only build request bytes and parse
// replies.
import { connect, type Socket } from 'node:net';
import { InvalidArgumentError } from '../../core/errors.js';
import type { DriverClient, OpName, OpOutcome } from '../types.js';

/** After a failed connect, a client waits this long before trying again, so a dead server is not hammered in a tight loop. */
export const RECONNECT_BACKOFF_MS = 100;

export interface Target {
  host: string;
  port: number;
}

export function parseTarget(target: string): Target {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.slice(colon + 1));
  if (colon <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidArgumentError(`target "${target}": expected host:port`);
  return { host, port };
}

/** Checks every target up front, so a typo is reported before anything connects. */
export function parseTargets(targets: readonly string[]): Target[] {
  if (targets.length === 0) throw new InvalidArgumentError('no targets: give at least one host:port');
  return targets.map(parseTarget);
}

/** A connected socket, or a rejection naming the target (refused, timed out, aborted). */
export function openSocket(target: Target, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (why: string): void => {
      cleanup();
      socket.destroy();
      reject(new Error(`cannot connect to ${target.host}:${target.port}: ${why}`));
    };
    const onError = (err: Error): void => fail(err.message);
    const onAbort = (): void => fail('aborted');
    const timer = setTimeout(() => fail(`no connection after ${timeoutMs} ms`), timeoutMs);
    if (signal.aborted) return fail('aborted');
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      cleanup();
      resolve(socket);
    });
  });
}

export abstract class SerialSocketClient implements DriverClient {
  private socket: Socket | undefined;
  private settle: ((outcome: OpOutcome) => void) | undefined;
  /** From send() until its outcome, reconnect included: a second operation meanwhile is refused. */
  private busy = false;
  private closed = false;
  private reconnectNotBeforeMs = 0;
  /** One timer per client, re-armed per operation with refresh(): cheaper than a timer per operation. */
  private readonly deadline: NodeJS.Timeout;

  constructor(
    protected readonly target: Target,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
  ) {
    this.deadline = setTimeout(() => this.onDeadline(), timeoutMs);
    this.deadline.unref();
  }

  /** What the operation in flight (or the last one) is: onData judges the reply by it. */
  protected op: OpName = 'get';

  abstract get(key: string): Promise<OpOutcome>;
  abstract put(key: string, value: Buffer): Promise<OpOutcome>;
  /** A fresh connection: forget any partial reply. */
  protected abstract resetParser(): void;
  /** Bytes from the server; call complete() when the reply is whole, or throw on a protocol error. */
  protected abstract onData(chunk: Buffer): void;

  /** The server closed the connection; a reply that runs to the close may now be whole. */
  protected onServerClose(): void {}

  /** Opens the first connection; rejects when the server cannot be reached. */
  async open(): Promise<void> {
    this.attach(await openSocket(this.target, this.timeoutMs, this.signal));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.deadline);
    this.drop();
    this.complete('error');
  }

  /**
   * Sends the request of one `op` (a single write, or corked pieces; a string
   * is written as UTF-8) and waits for its outcome. Rejects while another
   * operation of this client is in flight: one at a time per client.
   */
  protected async send(op: OpName, request: string | Buffer | readonly Buffer[]): Promise<OpOutcome> {
    if (this.busy) throw new Error('one operation at a time per client');
    if (this.closed) return 'error';
    this.op = op;
    this.busy = true;
    // A connection the server has half-closed (its 'close' not yet seen) is not worth a write that fails.
    if (this.socket && !this.socket.writable) this.drop();
    if (!this.socket && !(await this.reconnect())) {
      this.busy = false;
      return 'error';
    }
    const socket = this.socket as Socket;
    return new Promise<OpOutcome>((resolve) => {
      this.settle = resolve;
      this.deadline.refresh();
      if (typeof request === 'string' || Buffer.isBuffer(request)) {
        socket.write(request);
      } else {
        socket.cork();
        for (const piece of request as readonly Buffer[]) socket.write(piece);
        socket.uncork();
      }
    });
  }

  /** The reply of the operation in flight is whole. A reply nobody asked for breaks the protocol. */
  protected complete(outcome: OpOutcome): void {
    const settle = this.settle;
    this.settle = undefined;
    if (settle) {
      this.busy = false;
      settle(outcome);
    } else if (!this.closed) this.drop();
  }

  /** Closes the connection; the next operation opens a new one. */
  protected drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  private attach(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.resetParser();
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.socket) return;
      try {
        this.onData(chunk);
      } catch {
        this.drop();
        this.complete('error');
      }
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.onServerClose();
      this.complete('error');
    });
    socket.on('error', () => undefined); // 'close' follows and settles
  }

  private async reconnect(): Promise<boolean> {
    const waitMs = this.reconnectNotBeforeMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (this.closed) return false;
    try {
      this.attach(await openSocket(this.target, this.timeoutMs, this.signal));
      return this.socket !== undefined;
    } catch {
      this.reconnectNotBeforeMs = performance.now() + RECONNECT_BACKOFF_MS;
      return false;
    }
  }

  private onDeadline(): void {
    if (!this.settle) return;
    this.drop();
    this.complete('error');
  }
}
