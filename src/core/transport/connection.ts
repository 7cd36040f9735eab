// One framed socket. Decodes inbound frames and hands each decoded value to
// the current frame handler; a RondoError a handler throws (bad input from
// the remote) closes THIS connection with one warn line. Any other error is a
// bug and is rethrown: the process crashes loudly instead of limping on.
import type { Socket } from 'node:net';
import type { Logger } from '../env.js';
import { MessageTooLargeError, RondoError } from '../errors.js';
import { REFUSE_LINGER_MS } from '../constants.js';
import { FrameDecoder, decodePayload, encodePayload, frameHeader } from './frame.js';

export interface ConnectionHandlers {
  /**
   * Throw a RondoError (e.g. FrameInvalidError) to reject the frame and close
   * the connection. Anything else is a bug: it is rethrown and crashes the
   * process loudly rather than being swallowed here.
   */
  frame(value: unknown): void;
  /** Called once, after the socket is gone. */
  close(reason: string): void;
  drain?(): void;
}

export interface ConnectionOptions {
  readonly socket: Socket;
  readonly log: Logger;
  /** What to call the remote end in logs: "host:port". */
  readonly remote: string;
  readonly frameBytesMax: number;
  /** Counts frames rejected as malformed (stats). */
  readonly onRejected?: () => void;
  /** Counts socket reads (stats). */
  readonly onRead?: () => void;
}

const noHandlers: ConnectionHandlers = { frame: () => undefined, close: () => undefined };

export class Connection {
  readonly remote: string;
  private readonly socket: Socket;
  private readonly log: Logger;
  private readonly decoder: FrameDecoder;
  private readonly frameBytesMax: number;
  private readonly onRejected: () => void;
  private readonly onRead: () => void;
  private handlers: ConnectionHandlers = noHandlers;
  private closeReason: string | undefined;
  private closeNotified = false;
  private needsDrain = false;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions) {
    this.socket = options.socket;
    this.remote = options.remote;
    this.log = options.log;
    this.decoder = new FrameDecoder(options.frameBytesMax);
    this.frameBytesMax = options.frameBytesMax;
    this.onRejected = options.onRejected ?? (() => undefined);
    this.onRead = options.onRead ?? (() => undefined);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('drain', () => {
      this.needsDrain = false;
      this.guard(() => this.handlers.drain?.());
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.closeReason ??= err.code ?? err.message;
    });
    this.socket.on('close', () => this.onSocketClose());
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined || this.socket.destroyed;
  }

  /** False while the socket buffer is over its high-water mark: wait for drain. */
  get hasRoom(): boolean {
    return !this.needsDrain && !this.isClosed;
  }

  /**
   * Encode and write one value now (handshake, RPC). Throws
   * MessageTooLargeError, writing nothing, when it exceeds the frame limit:
   * the remote would refuse the frame and close the connection with it.
   */
  sendValue(value: unknown): void {
    if (this.isClosed) return;
    const payload = encodePayload(value);
    if (payload.length > this.frameBytesMax) {
      throw new MessageTooLargeError(`a frame of ${payload.length} bytes to ${this.remote} exceeds the frame limit ${this.frameBytesMax}`, payload.length, this.frameBytesMax);
    }
    this.write(Buffer.concat([frameHeader(payload.length), payload]));
  }

  write(bytes: Buffer): boolean {
    if (this.isClosed) return false;
    const hasRoom = this.socket.write(bytes);
    if (!hasRoom) this.needsDrain = true;
    return hasRoom;
  }

  /** Writes between cork and uncork leave in one syscall (writev). */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  close(reason: string): void {
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  /** A protocol violation: one warn line naming the remote and the reason, then close. */
  reject(reason: string): void {
    if (this.isClosed) return;
    this.onRejected();
    this.log.warn({ remote: this.remote, reason }, `transport: closing connection from ${this.remote}: ${reason}`);
    this.close(reason);
  }

  /** The remote refused us and said why: one warn line, then close. */
  refusedByRemote(reason: string): void {
    if (this.isClosed) return;
    this.log.warn({ remote: this.remote, reason }, `transport: ${this.remote} refused the connection: ${reason}`);
    this.close(`refused by remote: ${reason}`);
  }

  /** Tell the remote why (so an admin CLI can print it), then close. */
  refuse(reason: string): void {
    if (this.isClosed) return;
    this.log.warn({ remote: this.remote, reason }, `transport: refusing connection with ${this.remote}: ${reason}`);
    this.sendValue({ kind: 'refused', reason });
    this.closeReason = reason;
    this.socket.end();
    // A remote that never closes its side must not hold the socket forever.
    this.lingerTimer = setTimeout(() => this.socket.destroy(), REFUSE_LINGER_MS);
    this.lingerTimer.unref();
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.onRead();
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      this.reject((err as Error).message);
      return;
    }
    for (const payload of payloads) {
      if (this.isClosed) return;
      this.guard(() => this.handlers.frame(decodePayload(payload)));
    }
  }

  /**
   * Bad input (a RondoError) closes this connection with one warn line. A
   * programmer error (a failed assertion, a TypeError) is not swallowed: it
   * leaves the socket event handler and crashes the process loudly.
   */
  private guard(action: () => void): void {
    try {
      action();
    } catch (err) {
      if (!(err instanceof RondoError)) {
        this.log.error({ remote: this.remote, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'transport: bug in connection handler; crashing');
        this.close('internal error');
        throw err;
      }
      this.reject(err.message);
    }
  }

  private onSocketClose(): void {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    if (this.closeNotified) return;
    this.closeNotified = true;
    const reason = this.closeReason ?? 'closed by remote';
    this.closeReason = reason;
    try {
      this.handlers.close(reason);
    } catch (err) {
      // A close handler has no input to refuse: whatever it throws is a bug.
      this.log.error({ remote: this.remote, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'transport: bug in close handler; crashing');
      throw err;
    }
  }
}
