// A raw Riak PB connection for tests: frames out exactly as given, frames in
// through the server's own FrameDecoder, decoded with decodeMessage. No
// retries, no pooling, no cleverness: what the server sends is what a test sees.
import { connect, type Socket } from 'node:net';
import {
  FrameDecoder, PB_FRAME_BYTES_MAX, decodeMessage, encodeMessage, messageName,
  type PbCodecName, type PbMessages,
} from '../../src/api/pb/codec/index.js';

export interface RawReply {
  code: number;
  /** riak_pb's name for the code, or `code <n>` for one it never assigned. */
  name: string;
  /** The decoded body (plain object with Buffers), or undefined when it does not decode. */
  message: Record<string, unknown> | undefined;
  body: Buffer;
}

const REPLY_TIMEOUT_MS = 10_000;

export class RawPbConnection {
  readonly socket: Socket;
  private readonly decoder = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX });
  private readonly replies: RawReply[] = [];
  private waiter: (() => void) | undefined;
  private closedFlag = false;
  private badFrame: string | undefined;
  /** Resolves when the server (or we) closed the connection. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.decoder.push(chunk)) {
        if (event.kind === 'error') {
          this.badFrame = event.message; // the test fails on its next read, not with an uncaught throw
          break;
        }
        const name = messageName(event.code) ?? `code ${event.code}`;
        const decoded = decodeMessage(event.code, event.body);
        const message = decoded.ok && decoded.supported ? (decoded.message as Record<string, unknown>) : undefined;
        this.replies.push({ code: event.code, name, message, body: Buffer.from(event.body) });
      }
      this.wake();
    });
    socket.on('error', () => undefined); // a reset shows up as `closed`
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static async open(address: string): Promise<RawPbConnection> {
    const at = address.lastIndexOf(':');
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)), noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPbConnection(socket);
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Replies received and not yet taken. */
  get pending(): number {
    return this.replies.length;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Writes bytes as they are; resolves once the socket took them (true) or buffered them (false). */
  sendRaw(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  send<N extends PbCodecName>(name: N, message: PbMessages[N]): void {
    this.socket.write(encodeMessage(name, message));
  }

  /** The next reply; rejects when the connection closes first or none comes in time. */
  async next(timeoutMs = REPLY_TIMEOUT_MS): Promise<RawReply> {
    // One reader at a time: replies are matched to requests by order alone.
    if (this.waiter !== undefined) throw new Error('next() while another next() waits: await requests one by one');
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.badFrame !== undefined) throw new Error(`server sent a bad frame: ${this.badFrame}`);
      if (this.closedFlag) throw new Error('connection closed before a reply');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.replies.shift() as RawReply;
  }

  async request<N extends PbCodecName>(name: N, message: PbMessages[N], timeoutMs?: number): Promise<RawReply> {
    this.send(name, message);
    return this.next(timeoutMs);
  }

  /** Sends a request and collects replies up to the one with done=true (or an RpbErrorResp). */
  async stream<N extends PbCodecName>(name: N, message: PbMessages[N], timeoutMs?: number): Promise<RawReply[]> {
    this.send(name, message);
    const out: RawReply[] = [];
    for (;;) {
      const reply = await this.next(timeoutMs);
      out.push(reply);
      if (reply.name === 'RpbErrorResp' || reply.message?.done === true) return out;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** errmsg of an RpbErrorResp as text; fails when the reply is anything else. */
export function errmsgOf(reply: RawReply): string {
  if (reply.name !== 'RpbErrorResp') throw new Error(`expected RpbErrorResp, got ${reply.name} ${JSON.stringify(reply.message)}`);
  return (reply.message?.errmsg as Buffer).toString('utf8');
}
