// One TCP connection to one node's PB listener. Requests are written in
// order and the server answers in order, so replies are matched to requests
// by position: a FIFO of pending requests, each consuming one frame or, for
// streams, frames until one says done (or an RpbErrorResp ends it).
//
// Because matching is by position, a request given up on (its timeout, its
// AbortSignal, a stream its consumer left early) cannot simply be forgotten:
// its reply would later be taken for the next request's. So giving up
// DESTROYS the connection, failing any other pending request with a
// retryable 'connection' error. The pool then opens a fresh one.
import { connect, type Socket } from 'node:net';
import { decodeMessage, encodeMessage, FrameDecoder, type Decoded, type PbCodecName, type PbDecodedMessage, type PbMessages } from '../api/pb/codec/index.js';
import { abortedError, connectionError, RondoClientError, serverError } from './errors.js';
import { assert, FRAME_BYTES_MAX, REQUESTS_PENDING_PER_CONNECTION_MAX, STREAM_MESSAGES_BUFFERED_MAX } from './limits.js';

export type PbMessage = PbDecodedMessage;
/** The decoded body of a reply message. */
export type Reply<R extends PbCodecName> = Decoded<PbMessages[R]>;

interface Pending {
  /** Takes one decoded frame; returns true when the request has had its last frame. */
  onMessage(message: PbMessage): boolean;
  /** The connection failed before the request completed. */
  fail(err: RondoClientError): void;
}

export interface Deadline {
  signal?: AbortSignal | undefined;
  /** Absolute time (Date.now() clock) after which the wait fails with 'timeout'. */
  deadlineMs: number;
}

/** "host:port" or "[v6]:port". */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) throw new RondoClientError('invalid_argument', `node address must be host:port, not ${JSON.stringify(address)}`);
  return { host: (match[1] ?? match[2]) as string, port };
}

/**
 * Runs `start` and settles with it, unless the deadline passes or the signal
 * fires first: then `onGiveUp` runs (to destroy what `start` was using) and
 * the promise rejects with 'timeout' or 'aborted'.
 */
export function withDeadline<T>(what: string, deadline: Deadline, onGiveUp: () => void, start: (settle: { resolve: (v: T) => void; reject: (e: unknown) => void }) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal } = deadline;
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const giveUp = (err: RondoClientError): void => {
      if (!finish()) return;
      reject(err);
      onGiveUp();
    };
    const onAbort = (): void => giveUp(abortedError(signal as AbortSignal));
    const timer = setTimeout(() => giveUp(new RondoClientError('timeout', `${what}: no reply within the deadline`)), Math.max(0, deadline.deadlineMs - Date.now()));
    signal?.addEventListener('abort', onAbort, { once: true });
    start({
      resolve: (v) => finish() && resolve(v),
      reject: (e) => finish() && reject(e),
    });
  });
}

export class PbConnection {
  readonly address: string;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder({ maxFrameBytes: FRAME_BYTES_MAX });
  private readonly pending: Pending[] = [];
  private closedWith: RondoClientError | undefined;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(address: string, socket: Socket) {
    this.address = address;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (err) => this.destroy(connectionError(`connection to ${address} failed: ${err.message}`, address, err)));
    socket.on('close', () => this.destroy(connectionError(`connection to ${address} closed`, address)));
  }

  /** Opens a connection; fails with 'connection', 'timeout' or 'aborted'. */
  static open(address: string, deadline: Deadline): Promise<PbConnection> {
    const { host, port } = parseAddress(address);
    let socket: Socket | undefined;
    return withDeadline<PbConnection>(`connecting to ${address}`, deadline, () => socket?.destroy(), ({ resolve, reject }) => {
      const s = connect({ host, port });
      socket = s;
      const onError = (err: Error): void => {
        s.destroy();
        reject(connectionError(`cannot connect to ${address}: ${err.message}`, address, err));
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        resolve(new PbConnection(address, s));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Let the process exit while this connection sits idle in a pool. */
  setIdle(idle: boolean): void {
    if (idle) this.socket.unref();
    else this.socket.ref();
  }

  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }

  /** Writes a request; `pending` gets its frames in order. Throws when closed or at the pending limit. */
  send<N extends PbCodecName>(name: N, message: PbMessages[N], pending: Pending): void {
    if (this.closedWith) throw this.closedWith;
    if (this.pending.length >= REQUESTS_PENDING_PER_CONNECTION_MAX) throw new RondoClientError('overload', `${REQUESTS_PENDING_PER_CONNECTION_MAX} requests already pending on the connection to ${this.address}`, { node: this.address });
    const frame = encodeMessage(name, message);
    assert(frame.length - 4 <= FRAME_BYTES_MAX, 'a request fits one frame');
    this.pending.push(pending);
    this.socket.write(frame);
  }

  /** Closes the connection; pending requests fail with `err` (a retryable connection error by default). */
  destroy(err: RondoClientError = connectionError(`connection to ${this.address} closed by the client`, this.address)): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.socket.destroy();
    const failed = this.pending.splice(0);
    for (const p of failed) p.fail(err);
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private received(chunk: Buffer): void {
    for (const event of this.decoder.push(chunk)) {
      if (this.closedWith) return;
      if (event.kind === 'error') {
        this.destroy(new RondoClientError('protocol', `bad frame from ${this.address}: ${event.message}`, { node: this.address }));
        return;
      }
      const decoded = decodeMessage(event.code, event.body);
      if (!decoded.ok || !decoded.supported) {
        const why = decoded.ok ? `unsupported message ${decoded.name}` : decoded.error;
        this.destroy(new RondoClientError('protocol', `unreadable reply from ${this.address}: ${why}`, { node: this.address }));
        return;
      }
      const head = this.pending[0];
      if (head === undefined) {
        this.destroy(new RondoClientError('protocol', `unsolicited ${decoded.name} from ${this.address}`, { node: this.address }));
        return;
      }
      let done: boolean;
      try {
        done = head.onMessage(decoded);
      } catch (err) {
        // The reply was not the expected message: the stream is out of step.
        this.destroy(err instanceof RondoClientError ? err : new RondoClientError('protocol', String(err), { node: this.address }));
        return;
      }
      if (done) this.pending.shift();
    }
  }
}

/** The message, or a thrown error: RpbErrorResp → its error; another name than `expected` → 'protocol'. */
function expect<N extends PbCodecName>(message: PbMessage, expected: N, address: string): Reply<N> {
  if (message.name === 'RpbErrorResp') throw serverError(message.message.errmsg.toString('utf8'), address);
  if (message.name !== expected) throw new RondoClientError('protocol', `expected ${expected} from ${address}, got ${message.name}`, { node: address });
  return message.message as Reply<N>;
}

/** One request, one reply. A server error rejects (the connection stays usable); a timeout or abort destroys the connection. */
export function request<Q extends PbCodecName, R extends PbCodecName>(conn: PbConnection, name: Q, message: PbMessages[Q], replyName: R, deadline: Deadline): Promise<Reply<R>> {
  return withDeadline(`${name} to ${conn.address}`, deadline, () => conn.destroy(), ({ resolve, reject }) => {
    try {
      conn.send(name, message, {
        onMessage: (m) => {
          if (m.name === 'RpbErrorResp') reject(serverError(m.message.errmsg.toString('utf8'), conn.address));
          else resolve(expect(m, replyName, conn.address));
          return true;
        },
        fail: reject,
      });
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * A streamed request: yields each reply message until `isLast` says so. At
 * most STREAM_MESSAGES_BUFFERED_MAX messages are read ahead; then the socket
 * is paused. `idleMs` bounds the wait for each message. Leaving the loop
 * early (break, an exception, the signal) destroys the connection.
 */
export async function* requestStream<Q extends PbCodecName, R extends PbCodecName>(
  conn: PbConnection,
  name: Q,
  message: PbMessages[Q],
  replyName: R,
  isLast: (m: Reply<R>) => boolean,
  opts: { signal?: AbortSignal | undefined; idleMs: number },
): AsyncGenerator<Reply<R>> {
  const queue: Reply<R>[] = [];
  let failure: unknown;
  let ended = false; // the last message (or an error) arrived
  let finished = false; // the consumer got everything
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  conn.send(name, message, {
    onMessage: (m) => {
      try {
        const reply = expect(m, replyName, conn.address);
        queue.push(reply);
        ended = isLast(reply);
        if (queue.length >= STREAM_MESSAGES_BUFFERED_MAX) conn.pause();
      } catch (err) {
        if (!(err instanceof RondoClientError) || err.code === 'protocol') throw err;
        failure = err; // an RpbErrorResp ends the stream; the connection stays in step
        ended = true;
      }
      notify();
      return ended;
    },
    fail: (err) => {
      failure ??= err;
      ended = true;
      notify();
    },
  });
  try {
    for (;;) {
      // Checked per message too: read-ahead messages must not outlive an abort.
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      const next = queue.shift();
      if (next !== undefined) {
        if (queue.length <= STREAM_MESSAGES_BUFFERED_MAX / 2) conn.resume();
        const last = ended && queue.length === 0 && failure === undefined;
        if (last) finished = true;
        yield next;
        if (last) return;
        continue;
      }
      if (failure !== undefined) {
        finished = true; // an error reply completes the request: the connection is still in step
        throw failure;
      }
      await withDeadline<void>(`${name} to ${conn.address}`, { signal: opts.signal, deadlineMs: Date.now() + opts.idleMs }, () => undefined, ({ resolve }) => {
        wake = resolve;
      });
    }
  } finally {
    wake = undefined;
    if (!finished) conn.destroy();
    else conn.resume();
  }
}
