// A minimal Riak PB driver for benchmarks: one socket, one request at a
// time, built on the server's own codec. Lean on purpose: the load generator
// must cost as little CPU as possible (src/client adds pooling and retries).
import { connect, type Socket } from 'node:net';
import { FrameDecoder, PB_FRAME_BYTES_MAX, decodeMessage, encodeMessage, type PbCodecName, type PbMessages } from '../src/api/pb/codec/index.js';

export interface PbReplyFrame {
  name: string;
  message: Record<string, unknown>;
}

export class PbBenchConnection {
  private readonly decoder = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX });
  private waiting: ((frame: PbReplyFrame) => void) | undefined;
  private readonly backlog: PbReplyFrame[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.decoder.push(chunk)) {
        if (event.kind === 'error') throw new Error(`bad frame from server: ${event.message}`);
        const decoded = decodeMessage(event.code, event.body);
        const frame: PbReplyFrame = decoded.ok && decoded.supported ? { name: decoded.name, message: (decoded.message ?? {}) as Record<string, unknown> } : { name: 'undecodable', message: {} };
        const waiter = this.waiting;
        if (waiter) {
          this.waiting = undefined;
          waiter(frame);
        } else this.backlog.push(frame);
      }
    });
  }

  static open(address: string): Promise<PbBenchConnection> {
    const [host, port] = address.split(':') as [string, string];
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port: Number(port), noDelay: true }, () => resolve(new PbBenchConnection(socket)));
      socket.once('error', reject);
    });
  }

  private next(): Promise<PbReplyFrame> {
    const ready = this.backlog.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Sends one request and returns its reply (the first frame). */
  async call<N extends PbCodecName>(name: N, message: PbMessages[N]): Promise<PbReplyFrame> {
    this.socket.write(encodeMessage(name, message));
    return this.next();
  }

  /** Sends one request and reads frames until one says done (streamed listings). */
  async stream<N extends PbCodecName>(name: N, message: PbMessages[N], onFrame: (frame: PbReplyFrame) => void): Promise<void> {
    this.socket.write(encodeMessage(name, message));
    for (;;) {
      const frame = await this.next();
      onFrame(frame);
      if (frame.name === 'RpbErrorResp') throw new Error(`error: ${String(frame.message.errmsg)}`);
      if (frame.message.done === true) return;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
