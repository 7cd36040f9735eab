// The outbound path to one peer on one channel: a bounded queue of encoded
// messages and (at most) one dialed connection that drains it. Control and
// bulk are separate links, so a big transfer never delays a control message.
import { connect } from 'node:net';
import type { Channel, Logger, NodeAddress, NodeName } from '../env.js';
import { OverloadError, assert } from '../errors.js';
import { Connection, type ConnectionHandlers } from './connection.js';
import { BATCH_FRAME_BYTES_MAX, BATCH_FRAME_MESSAGES_MAX, CAPABILITY_BATCH_FRAMES } from '../constants.js';
import { BATCH_ENVELOPE_HEAD_BYTES_MAX, encodeBatchFrame, envelopeFramePrefix } from './frame.js';
import { startHandshake, type HandshakeResult } from './handshake.js';
import { backoffDelayMs, type TransportLimits } from './limits.js';
import { parseAddress } from './address.js';

export interface LinkContext {
  readonly nodeName: NodeName;
  readonly clusterName: string;
  readonly clusterSecret: string;
  readonly log: Logger;
  readonly limits: TransportLimits;
  readonly onRejected: () => void;
  /** Counts socket reads (stats). */
  readonly onRead: () => void;
  /** Install the post-handshake frame handling; `extra` gets close and drain. */
  readonly serve: (conn: Connection, peer: HandshakeResult, extra: Pick<ConnectionHandlers, 'close' | 'drain'>) => void;
}

export interface LinkStats {
  readonly connected: boolean;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  readonly messagesSent: number;
  /** Socket writes (one per flush: every message queued by then leaves in it). */
  readonly writes: number;
  /** Connection attempts after the first (after a failure or a close). */
  readonly reconnects: number;
}

type LinkState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'stopped';

// Compact the queue array once this many consumed slots sit at its head.
const QUEUE_COMPACT_SLOTS = 1024;

export class OutboundLink {
  private state: LinkState = 'idle';
  private readonly queue: Buffer[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private messagesSent = 0;
  private writes = 0;
  private connects = 0;
  private conn: Connection | undefined;
  private version = 0;
  /** The peer takes batch envelopes (many messages per frame). */
  private batches = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private flushImmediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly context: LinkContext,
    private readonly peer: NodeName,
    private readonly channel: Channel,
    private address: NodeAddress,
  ) {}

  /** Queue one encoded message. Throws OverloadError when the queue is full. */
  enqueue(body: Buffer): void {
    assert(this.state !== 'stopped', 'enqueue on a stopped link');
    const { outboundQueueMessagesMax, outboundQueueBytesMax } = this.context.limits;
    const queuedMessages = this.queue.length - this.queueHead;
    if (queuedMessages + 1 > outboundQueueMessagesMax) {
      throw new OverloadError(`outbound ${this.channel} queue to ${this.peer} is full (${outboundQueueMessagesMax} messages max)`);
    }
    if (this.queuedBytes + body.length > outboundQueueBytesMax) {
      throw new OverloadError(`outbound ${this.channel} queue to ${this.peer} is full (${outboundQueueBytesMax} bytes max)`);
    }
    this.queue.push(body);
    this.queuedBytes += body.length;
    if (this.state === 'idle') this.connect();
    else if (this.state === 'ready') this.scheduleFlush();
  }

  /** The peer moved: drop the connection and dial the new address. */
  setAddress(address: NodeAddress): void {
    if (address === this.address || this.state === 'stopped') return;
    this.address = address;
    this.attempts = 0;
    if (this.conn !== undefined) {
      this.conn.close('peer address changed'); // its close handler reconnects
    } else if (this.state === 'backoff') {
      clearTimeout(this.reconnectTimer);
      this.connect();
    }
  }

  stop(): void {
    this.state = 'stopped';
    clearTimeout(this.reconnectTimer);
    if (this.flushImmediate !== undefined) clearImmediate(this.flushImmediate);
    this.conn?.close('transport stopped');
    this.conn = undefined;
    this.queue.length = 0;
    this.queueHead = 0;
    this.queuedBytes = 0;
  }

  stats(): LinkStats {
    return {
      connected: this.state === 'ready',
      queuedMessages: this.queue.length - this.queueHead,
      queuedBytes: this.queuedBytes,
      messagesSent: this.messagesSent,
      writes: this.writes,
      reconnects: Math.max(0, this.connects - 1),
    };
  }

  private connect(): void {
    assert(this.conn === undefined, 'one connection per link');
    const { limits, log } = this.context;
    const { host, port } = parseAddress(this.address);
    this.state = 'connecting';
    this.connects++;
    const socket = connect({ host, port });
    const conn = new Connection({ socket, log, remote: this.address, frameBytesMax: limits.frameBytesMax, onRejected: this.context.onRejected, onRead: this.context.onRead });
    this.conn = conn;
    const connectTimer = setTimeout(() => conn.close(`connect timed out after ${limits.connectTimeoutMs} ms`), limits.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(connectTimer));
    const handshake = {
      side: 'dial' as const,
      cluster: this.context.clusterName,
      node: this.context.nodeName,
      role: 'peer' as const,
      channel: this.channel,
      secret: this.context.clusterSecret,
      timeoutMs: limits.handshakeTimeoutMs,
    };
    startHandshake(conn, handshake, (result) => {
      clearTimeout(connectTimer);
      if (this.conn !== conn) return; // superseded (stopped)
      if (result instanceof Error) {
        log.debug({ peer: this.peer, channel: this.channel, reason: result.message }, 'transport: dial failed');
        return this.onDown();
      }
      if (result.node !== this.peer) {
        conn.refuse(`dialed ${this.peer} at ${this.address} but reached ${result.node}`);
        return this.onDown();
      }
      this.state = 'ready';
      this.attempts = 0;
      this.version = result.version;
      this.batches = result.caps.includes(CAPABILITY_BATCH_FRAMES);
      this.context.serve(conn, result, {
        close: () => {
          if (this.conn === conn) this.onDown();
        },
        drain: () => this.scheduleFlush(),
      });
      this.scheduleFlush();
    });
  }

  /** Queued messages stay queued (bounded); dial again later if any wait. */
  private onDown(): void {
    this.conn = undefined;
    if (this.state === 'stopped') return;
    if (this.queue.length === this.queueHead) {
      this.state = 'idle'; // lazy: the next send dials
      return;
    }
    this.attempts += 1;
    this.state = 'backoff';
    this.reconnectTimer = setTimeout(() => this.connect(), backoffDelayMs(this.context.limits, this.attempts, Math.random()));
  }

  private scheduleFlush(): void {
    if (this.flushImmediate !== undefined || this.state !== 'ready') return;
    // One batch per tick: sends made in the same tick leave in one writev.
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = undefined;
      this.flush();
    });
  }

  private flush(): void {
    const conn = this.conn;
    if (this.state !== 'ready' || conn === undefined) return;
    this.writes += 1;
    if (this.batches) this.flushBatches(conn);
    else this.flushFrames(conn);
    if (this.queueHead === this.queue.length || this.queueHead >= QUEUE_COMPACT_SLOTS) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** The next queued body, taken off the queue. */
  private take(): Buffer {
    const body = this.queue[this.queueHead];
    assert(body !== undefined, 'queued body present');
    this.queue[this.queueHead] = EMPTY; // release for GC
    this.queueHead += 1;
    this.queuedBytes -= body.length;
    this.messagesSent += 1;
    return body;
  }

  /**
   * Everything queued leaves in batch frames, each built in one buffer: one
   * socket write carries many messages, and the receiver decodes each frame
   * once. Stops at the socket's high-water mark; 'drain' schedules the rest.
   */
  private flushBatches(conn: Connection): void {
    // Every queued body fits a frame alone (TcpTransport.send checks); a batch
    // adds bodies only while the whole still fits, so one large message can
    // never push a frame, and the messages sharing it, over the peer's limit.
    const batchBytesMax = Math.min(BATCH_FRAME_BYTES_MAX, this.context.limits.frameBytesMax - BATCH_ENVELOPE_HEAD_BYTES_MAX);
    conn.cork();
    try {
      while (this.queueHead < this.queue.length && conn.hasRoom) {
        const bodies: Buffer[] = [];
        let bytes = 0;
        while (this.queueHead < this.queue.length && bodies.length < BATCH_FRAME_MESSAGES_MAX) {
          const next = this.queue[this.queueHead] as Buffer;
          if (bodies.length > 0 && bytes + next.length > batchBytesMax) break;
          bodies.push(this.take());
          bytes += next.length;
        }
        conn.write(encodeBatchFrame(this.version, bodies));
      }
    } finally {
      conn.uncork();
    }
  }

  /** One frame per message (a peer without batch envelopes). */
  private flushFrames(conn: Connection): void {
    conn.cork();
    try {
      // Stop at the socket's high-water mark; 'drain' schedules the rest.
      while (this.queueHead < this.queue.length && conn.hasRoom) {
        const body = this.take();
        conn.write(envelopeFramePrefix(this.version, body.length));
        conn.write(body);
      }
    } finally {
      conn.uncork();
    }
  }
}

const EMPTY = Buffer.alloc(0);
