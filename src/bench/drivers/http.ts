// Riak's HTTP API (GET/PUT /buckets/<bucket>/keys/<key>) over a minimal
// HTTP/1.1 keep-alive client on a raw socket. node:http costs several times
// the CPU per request, and the load generator shares the cores it measures.
// Bodies are skipped, never kept: only the status matters (the parser keeps
// them only when asked, for the etcd driver).
import { InvalidArgumentError } from '../../core/errors.js';
import type { Driver, DriverClient, DriverFactory, DriverOptions, OpOutcome } from '../types.js';
import { SerialSocketClient, parseTargets, type Target } from './socket.js';

/** A response head larger than this is not a server we should be benchmarking. */
export const HTTP_HEAD_BYTES_MAX = 64 * 1024;

export interface HttpResponseHead {
  status: number;
  /** False when the server will close the connection after this response. */
  keepAlive: boolean;
}

/** A response parsed with `keepBody: true`. */
export interface HttpResponse extends HttpResponseHead {
  /** The body, de-chunked; empty for 204 and 304. */
  body: Buffer;
}

export interface HttpResponseParserOptions<KeepBody extends boolean> {
  /** Keep each response's body (the etcd driver reads its JSON). Default false: bodies are skipped, never copied. */
  keepBody?: KeepBody;
  /** Accept a body with neither Content-Length nor chunked encoding, read up to the close (default true); false refuses it as an HttpParseError. */
  bodyUntilClose?: boolean;
}

/** What push() and end() yield: heads, or whole responses with `keepBody: true`. */
export type ParsedHttpResponse<KeepBody extends boolean> = KeepBody extends true ? HttpResponse : HttpResponseHead;

type ParserState = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'chunk-trailer' | 'until-close';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

export class HttpParseError extends Error {
  override readonly name = 'HttpParseError';
}

/**
 * Splits a byte stream into HTTP/1.x responses: status line, headers, and a
 * body by Content-Length, chunked encoding or (without either) up to the
 * close. Replies may arrive split over chunks or several in one chunk.
 * Answers to HEAD requests are not handled: the drivers never send HEAD.
 */
export class HttpResponseParser<KeepBody extends boolean = false> {
  private state: ParserState = 'head';
  /** Bytes of a head or chunk-size line not yet whole. */
  private pending: Buffer = EMPTY;
  private remaining = 0;
  private current: HttpResponseHead = { status: 0, keepAlive: true };
  private readonly keepBody: boolean;
  private readonly bodyUntilClose: boolean;
  /** With keepBody: the pieces of the current body (views of the pushed chunks, not copies). */
  private bodyParts: Buffer[] = [];

  constructor(options: HttpResponseParserOptions<KeepBody> = {}) {
    this.keepBody = options.keepBody ?? false;
    this.bodyUntilClose = options.bodyUntilClose ?? true;
  }

  /** The responses completed by this chunk, in order. Throws HttpParseError on bytes that are not HTTP. */
  push(chunk: Buffer): ParsedHttpResponse<KeepBody>[] {
    const done: HttpResponseHead[] = [];
    let buf = chunk;
    if (this.pending.length > 0) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = EMPTY;
    }
    let offset = 0;
    while (offset < buf.length) {
      const next = this.step(buf, offset, done);
      if (next < 0) {
        this.pending = buf.subarray(offset);
        if (this.pending.length > HTTP_HEAD_BYTES_MAX) throw new HttpParseError(`response head or chunk line longer than ${HTTP_HEAD_BYTES_MAX} bytes`);
        break;
      }
      offset = next;
    }
    return done as ParsedHttpResponse<KeepBody>[];
  }

  /** The server closed the connection: a body read up to the close is now whole. */
  end(): ParsedHttpResponse<KeepBody> | undefined {
    if (this.state !== 'until-close') return undefined;
    const done: HttpResponseHead[] = [];
    this.finish(done);
    return done[0] as ParsedHttpResponse<KeepBody>;
  }

  /** Consumes what it can from buf at offset; returns the new offset, or -1 when a line is incomplete. */
  private step(buf: Buffer, offset: number, done: HttpResponseHead[]): number {
    switch (this.state) {
      case 'head': {
        const end = buf.indexOf(CRLFCRLF, offset);
        if (end < 0) return -1;
        this.startBody(buf.toString('latin1', offset, end), done);
        return end + CRLFCRLF.length;
      }
      case 'body':
      case 'chunk-data': {
        const taken = Math.min(this.remaining, buf.length - offset);
        if (this.keepBody) this.bodyParts.push(buf.subarray(offset, offset + taken));
        this.remaining -= taken;
        if (this.remaining === 0) {
          if (this.state === 'body') this.finish(done);
          else this.state = 'chunk-end';
        }
        return offset + taken;
      }
      case 'chunk-end': {
        // The CRLF that ends a chunk's data: checked, so a chunk whose size lies is an error, not a silent misparse.
        if (buf[offset] !== CR || (offset + 1 < buf.length && buf[offset + 1] !== LF)) throw new HttpParseError('chunk data not followed by CRLF');
        if (offset + 1 === buf.length) return -1;
        this.state = 'chunk-size';
        return offset + CRLF.length;
      }
      case 'chunk-size': {
        const eol = buf.indexOf(CRLF, offset);
        if (eol < 0) return -1;
        const sizeText = buf.toString('latin1', offset, eol).split(';')[0]!.trim();
        const size = parseInt(sizeText, 16);
        if (!/^[0-9a-fA-F]+$/.test(sizeText) || !Number.isSafeInteger(size)) throw new HttpParseError(`bad chunk size "${sizeText}"`);
        if (size === 0) this.state = 'chunk-trailer';
        else {
          this.remaining = size;
          this.state = 'chunk-data';
        }
        return eol + CRLF.length;
      }
      case 'chunk-trailer': {
        const eol = buf.indexOf(CRLF, offset);
        if (eol < 0) return -1;
        if (eol === offset) this.finish(done); // the empty line ends the message
        return eol + CRLF.length;
      }
      case 'until-close':
        if (this.keepBody) this.bodyParts.push(buf.subarray(offset));
        return buf.length;
    }
  }

  private startBody(head: string, done: HttpResponseHead[]): void {
    const lines = head.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!statusLine) throw new HttpParseError(`bad status line "${(lines[0] ?? '').slice(0, 80)}"`);
    const status = Number(statusLine[2]);
    let keepAlive = statusLine[1] === '1';
    let contentLength = -1;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpParseError(`bad header line "${line.slice(0, 80)}"`);
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === 'content-length') {
        const value = line.slice(colon + 1).trim();
        contentLength = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(contentLength)) throw new HttpParseError(`bad content-length "${value}"`);
      } else if (name === 'transfer-encoding') {
        chunked = line.slice(colon + 1).toLowerCase().split(',').some((coding) => coding.trim() === 'chunked');
      } else if (name === 'connection') {
        const value = line.slice(colon + 1).toLowerCase();
        keepAlive = value.includes('keep-alive') || (keepAlive && !value.includes('close'));
      }
    }
    if (status >= 100 && status < 200) return; // interim (100 Continue): the real response follows
    // One object shape per parser: with keepBody the body field exists from the start.
    const withBody: HttpResponse | undefined = this.keepBody ? { status, keepAlive, body: EMPTY } : undefined;
    this.current = withBody ?? { status, keepAlive };
    if (status === 204 || status === 304) this.finish(done);
    else if (chunked) this.state = 'chunk-size';
    else if (contentLength >= 0) {
      this.remaining = contentLength;
      if (contentLength === 0) this.finish(done);
      else this.state = 'body';
    } else if (this.bodyUntilClose) {
      // No length: the body runs to the close, and the connection cannot be reused.
      this.current.keepAlive = false;
      this.state = 'until-close';
    } else throw new HttpParseError('response without Content-Length or chunked encoding');
  }

  private finish(done: HttpResponseHead[]): void {
    if (this.keepBody) {
      const parts = this.bodyParts;
      (this.current as HttpResponse).body = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      this.bodyParts = [];
    }
    done.push(this.current);
    this.state = 'head';
  }
}

/** What an HTTP status means for the operation. 300 is a get that found siblings: a successful read. */
export function httpOutcome(status: number, isGet: boolean): OpOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (isGet && status === 404) return 'notfound';
  if (isGet && status === 300) return 'ok';
  return 'error';
}

/** The constant parts of every request for one target; only the key varies. */
interface RequestParts {
  getPrefix: Buffer;
  putPrefix: Buffer;
  /** ` HTTP/1.1` + query + Host header, then the end of the head (GET) or the body headers (PUT). */
  getSuffix: Buffer;
  putSuffixFor: (valueBytes: number) => Buffer;
}

function requestParts(target: Target, opts: DriverOptions): RequestParts {
  const path = `/buckets/${encodeURIComponent(opts.bucket)}/keys/`;
  const query = Object.entries(opts.params).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
  const host = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const tail = `${query ? `?${query}` : ''} HTTP/1.1\r\nHost: ${host}\r\n`;
  const putSuffixes = new Map<number, Buffer>();
  return {
    getPrefix: Buffer.from(`GET ${path}`, 'latin1'),
    putPrefix: Buffer.from(`PUT ${path}`, 'latin1'),
    getSuffix: Buffer.from(`${tail}\r\n`, 'latin1'),
    putSuffixFor: (valueBytes) => {
      let suffix = putSuffixes.get(valueBytes);
      if (!suffix) putSuffixes.set(valueBytes, (suffix = Buffer.from(`${tail}Content-Type: application/octet-stream\r\nContent-Length: ${valueBytes}\r\n\r\n`, 'latin1')));
      return suffix;
    },
  };
}

/** prefix + key + suffix in one allocation. */
function requestHead(prefix: Buffer, key: string, suffix: Buffer): Buffer {
  const keyPart = encodeURIComponent(key);
  const head = Buffer.allocUnsafe(prefix.length + keyPart.length + suffix.length);
  prefix.copy(head, 0);
  head.write(keyPart, prefix.length, 'latin1');
  suffix.copy(head, prefix.length + keyPart.length);
  return head;
}

class HttpClient extends SerialSocketClient {
  private parser = new HttpResponseParser();

  constructor(
    target: Target,
    private readonly parts: RequestParts,
    timeoutMs: number,
    signal: AbortSignal,
  ) {
    super(target, timeoutMs, signal);
  }

  get(key: string): Promise<OpOutcome> {
    return this.send('get', requestHead(this.parts.getPrefix, key, this.parts.getSuffix));
  }

  put(key: string, value: Buffer): Promise<OpOutcome> {
    return this.send('put', [requestHead(this.parts.putPrefix, key, this.parts.putSuffixFor(value.length)), value]);
  }

  protected resetParser(): void {
    this.parser = new HttpResponseParser();
  }

  protected onData(chunk: Buffer): void {
    for (const response of this.parser.push(chunk)) {
      if (!response.keepAlive) this.drop();
      this.complete(httpOutcome(response.status, this.op === 'get'));
    }
  }

  protected override onServerClose(): void {
    const response = this.parser.end();
    if (response) this.complete(httpOutcome(response.status, this.op === 'get'));
  }
}

export const createHttpDriver: DriverFactory = (opts: DriverOptions): Driver => {
  const targets = parseTargets(opts.targets);
  if (opts.bucket === '') throw new InvalidArgumentError('http driver: the bucket name is empty');
  const parts = targets.map((target) => requestParts(target, opts));
  return {
    name: 'http',
    async connect(index: number, signal: AbortSignal): Promise<DriverClient> {
      const slot = index % targets.length;
      const client = new HttpClient(targets[slot]!, parts[slot]!, opts.timeoutMs, signal);
      await client.open();
      return client;
    },
  };
};
