// The Redis driver for `rondo bench`: RESP2 over a raw socket, one command in
// flight per client. GET <bucket>:<key> answers a bulk string (null bulk:
// notfound); SET <bucket>:<key> <value> answers +OK. Lean on purpose: it
// shares the machine's cores with the server it measures.
import type { Driver, DriverClient, DriverFactory, DriverOptions, OpOutcome } from '../types.js';
import { SerialSocketClient, parseTargets, type Target } from './socket.js';

export type RespReply =
  | { kind: 'simple'; value: string }
  | { kind: 'error'; message: string }
  | { kind: 'integer'; value: number }
  | { kind: 'bulk'; value: Buffer | null };

export class RespProtocolError extends Error {}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * An incremental parser of RESP2 replies: simple strings, errors, integers
 * and bulk strings (null included); arrays are refused (GET and SET never
 * answer one). Replies may arrive split or coalesced in any way.
 */
export class RespParser {
  private buffer: Buffer = EMPTY;
  /** Chunks held back while a bulk body is known to be incomplete, so a large value is copied once, not once per chunk. */
  private heldChunks: Buffer[] = [];
  private heldBytes = 0;
  private bytesNeeded = 0;

  /** Feeds one chunk; returns the replies it completed, in order. Throws RespProtocolError on bytes that are not RESP2. */
  push(chunk: Buffer): RespReply[] {
    if (this.heldBytes + this.buffer.length + chunk.length < this.bytesNeeded) {
      this.heldChunks.push(chunk);
      this.heldBytes += chunk.length;
      return [];
    }
    let buf: Buffer;
    if (this.heldChunks.length > 0) {
      buf = Buffer.concat([this.buffer, ...this.heldChunks, chunk]);
      this.heldChunks = [];
      this.heldBytes = 0;
    } else buf = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.bytesNeeded = 0;
    const replies: RespReply[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const lineEnd = buf.indexOf(CR, pos);
      if (lineEnd === -1 || lineEnd + 1 >= buf.length) break;
      if (buf[lineEnd + 1] !== LF) throw new RespProtocolError('CR without LF');
      const type = buf[pos];
      const line = buf.toString('latin1', pos + 1, lineEnd);
      if (type === 0x2b /* + */) replies.push({ kind: 'simple', value: line });
      else if (type === 0x2d /* - */) replies.push({ kind: 'error', message: line });
      else if (type === 0x3a /* : */) {
        const value = Number(line);
        if (line === '' || !Number.isInteger(value)) throw new RespProtocolError(`bad integer reply ${JSON.stringify(line)}`);
        replies.push({ kind: 'integer', value });
      } else if (type === 0x24 /* $ */) {
        const length = Number(line);
        if (line === '' || !Number.isInteger(length) || length < -1) throw new RespProtocolError(`bad bulk length ${JSON.stringify(line)}`);
        if (length === -1) replies.push({ kind: 'bulk', value: null });
        else {
          const bodyStart = lineEnd + 2;
          const end = bodyStart + length + 2;
          if (buf.length < end) {
            this.bytesNeeded = end - pos;
            break;
          }
          if (buf[end - 2] !== CR || buf[end - 1] !== LF) throw new RespProtocolError('bulk string not followed by CRLF');
          replies.push({ kind: 'bulk', value: buf.subarray(bodyStart, bodyStart + length) });
          pos = end;
          continue;
        }
      } else throw new RespProtocolError(`unsupported reply type ${JSON.stringify(String.fromCharCode(type ?? 0))}`);
      pos = lineEnd + 2;
    }
    this.buffer = pos === buf.length ? EMPTY : buf.subarray(pos);
    return replies;
  }

  reset(): void {
    this.buffer = EMPTY;
    this.heldChunks = [];
    this.heldBytes = 0;
    this.bytesNeeded = 0;
  }
}

/** `GET key` as a RESP array of bulk strings. */
export function encodeGet(key: string): string {
  return `*2\r\n$3\r\nGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`;
}

/** `SET key value` as one Buffer (one write, no copy of the value beyond this one). */
export function encodeSet(key: string, value: Buffer): Buffer {
  const head = `*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${value.length}\r\n`;
  const headBytes = Buffer.byteLength(head);
  const frame = Buffer.allocUnsafe(headBytes + value.length + 2);
  frame.write(head, 0, 'utf8');
  value.copy(frame, headBytes);
  frame[frame.length - 2] = CR;
  frame[frame.length - 1] = LF;
  return frame;
}

/** What a reply means for the command it answers. */
export function outcomeOf(command: 'get' | 'set', reply: RespReply): OpOutcome {
  if (command === 'get') {
    if (reply.kind !== 'bulk') return 'error';
    return reply.value === null ? 'notfound' : 'ok';
  }
  return reply.kind === 'simple' && reply.value === 'OK' ? 'ok' : 'error';
}

/** One connection, one command in flight; a timeout, error or bad reply drops the connection and the next command reconnects (socket.ts). */
class RedisClient extends SerialSocketClient {
  private readonly parser = new RespParser();

  constructor(
    target: Target,
    private readonly keyPrefix: string,
    timeoutMs: number,
    signal: AbortSignal,
  ) {
    super(target, timeoutMs, signal);
  }

  get(key: string): Promise<OpOutcome> {
    return this.send('get', encodeGet(this.keyPrefix + key));
  }

  put(key: string, value: Buffer): Promise<OpOutcome> {
    return this.send('put', encodeSet(this.keyPrefix + key, value));
  }

  protected resetParser(): void {
    this.parser.reset();
  }

  protected onData(chunk: Buffer): void {
    for (const reply of this.parser.push(chunk)) this.complete(outcomeOf(this.op === 'get' ? 'get' : 'set', reply));
  }
}

export const redisDriver: DriverFactory = (opts: DriverOptions): Driver => {
  const unknown = Object.keys(opts.params);
  if (unknown.length > 0) throw new Error(`redis driver: unknown params ${unknown.join(', ')} (it takes none)`);
  if (opts.targets.length === 0) throw new Error('redis driver: no targets');
  const targets = parseTargets(opts.targets);
  const keyPrefix = `${opts.bucket}:`;
  return {
    name: 'redis',
    async connect(index: number, signal: AbortSignal): Promise<DriverClient> {
      const client = new RedisClient(targets[index % targets.length]!, keyPrefix, opts.timeoutMs, signal);
      await client.open();
      return client;
    },
  };
};
