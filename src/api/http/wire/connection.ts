// One HTTP/1.1 client connection of the Riak HTTP API: requests are parsed
// (parser.ts), answered one at a time in arrival order (pipelined ones wait,
// bounded), and each response leaves in one socket write when small. A
// malformed request is answered with its status and the connection closed.
// The handler gets an AbortSignal that fires when the client goes away.
import type { Socket } from 'node:net';
import type { Logger } from '../../../core/env.js';
import type { HttpResponse } from '../codec/index.js';
import { writeDrained } from '../../socket-write.js';
import { ParseError, RequestParser, type ParsedRequest } from './parser.js';
import { HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUESTS_QUEUED_PER_CONNECTION_MAX, HTTP_SINGLE_WRITE_BYTES_MAX } from './limits.js';

export interface HttpRequest {
  method: string;
  url: string;
  /** Lowercase names, repeated fields joined with ", ". */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

export type HttpHandler = (request: HttpRequest, signal: AbortSignal) => Promise<HttpResponse>;

export interface HttpConnectionOptions {
  bodyBytesMax: number;
  keepAliveMs: number;
  handler: HttpHandler;
  log: Logger;
  /** Turns a failure of the handler itself into a response (it should not throw; this is the last resort). */
  onError: (err: unknown, request: HttpRequest) => HttpResponse;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const HEADER_VALUE_INVALID = /[^\t\x20-\x7e\x80-\xff]/;
const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 300: 'Multiple Choices', 304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
};

let dateSecond = -1;
let dateText = '';
/** The Date header, formatted once a second. */
function httpNow(): string {
  const nowMs = Date.now();
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

export class HttpConnection {
  private readonly parser: RequestParser;
  private readonly queue: ParsedRequest[] = [];
  private readonly aborter = new AbortController();
  private busy = false;
  private closing = false;
  private headersTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly opts: HttpConnectionOptions,
  ) {
    this.parser = new RequestParser(opts.bodyBytesMax);
    socket.setNoDelay(true);
    socket.setTimeout(opts.keepAliveMs);
    socket.on('timeout', () => {
      // Idle keep-alive connections are closed; a busy one is not.
      if (!this.busy && this.queue.length === 0) socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', () => undefined); // a reset by the client ends this connection only
    socket.once('close', () => {
      this.closing = true;
      this.clearHeadersTimer();
      this.aborter.abort();
    });
  }

  private received(chunk: Buffer): void {
    if (this.closing) return;
    let events;
    try {
      events = this.parser.push(chunk);
    } catch (err) {
      this.refuse(err);
      return;
    }
    for (const event of events) {
      if (event.kind === 'head') {
        if (event.request.expectsContinue && event.bodyBytes !== 0) this.socket.write(CONTINUE);
      } else this.queue.push(event.request);
    }
    this.watchHead();
    if (this.queue.length >= HTTP_REQUESTS_QUEUED_PER_CONNECTION_MAX) this.socket.pause();
    void this.drain();
  }

  /** A request head left incomplete must complete in time (one timer only while one is partial). */
  private watchHead(): void {
    if (this.parser.idle) return this.clearHeadersTimer();
    if (this.headersTimer !== undefined) return;
    this.headersTimer = setTimeout(() => {
      this.headersTimer = undefined;
      if (this.parser.idle || this.closing) return;
      this.closing = true;
      this.socket.end(this.encodeSmall({ status: 408, headers: { 'Content-Type': 'text/plain' }, body: 'request head not received in time\n' }));
    }, HTTP_HEADERS_TIMEOUT_MS);
    this.headersTimer.unref();
  }

  private clearHeadersTimer(): void {
    if (this.headersTimer !== undefined) clearTimeout(this.headersTimer);
    this.headersTimer = undefined;
  }

  /** A malformed request: answer with its status after the requests before it, then close. */
  private refuse(err: unknown): void {
    const status = err instanceof ParseError ? err.status : 400;
    const message = err instanceof Error ? err.message : String(err);
    this.opts.log.debug({ remote: this.socket.remoteAddress, status, reason: message }, 'malformed http request; closing the connection');
    this.closing = true;
    this.clearHeadersTimer();
    const answer = async (): Promise<void> => {
      while (this.busy) await new Promise((resolve) => setImmediate(resolve));
      if (!this.socket.destroyed) this.socket.end(this.encodeSmall({ status, headers: { 'Content-Type': 'text/plain' }, body: `${message}\n` }));
    };
    void answer();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.socket.destroyed) return;
        if (this.socket.isPaused() && this.queue.length < HTTP_REQUESTS_QUEUED_PER_CONNECTION_MAX / 2) this.socket.resume();
        const keepAlive = next.keepAlive && !this.closing;
        const head = next.method === 'HEAD';
        const request: HttpRequest = { method: next.method, url: next.url, headers: next.headers, body: next.body };
        let response: HttpResponse;
        try {
          response = await this.opts.handler(request, this.aborter.signal);
        } catch (err) {
          response = this.opts.onError(err, request);
        }
        if (this.socket.destroyed) return;
        await this.send(response, keepAlive, head, request);
        if (!keepAlive) {
          this.closing = true;
          this.socket.end();
          return;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async send(response: HttpResponse, keepAlive: boolean, head: boolean, request: HttpRequest): Promise<void> {
    const body = response.body;
    if (typeof body === 'object' && Symbol.asyncIterator in body) return this.sendStream(response, body, keepAlive, head);
    let encoded: Buffer | [Buffer, Uint8Array];
    try {
      encoded = this.encode(response, keepAlive, head);
    } catch (err) {
      encoded = this.encode(this.opts.onError(err, request), keepAlive, head);
    }
    if (Array.isArray(encoded)) {
      this.socket.write(encoded[0]);
      await this.write(encoded[1]);
    } else {
      await this.write(encoded);
    }
  }

  /**
   * Status line, headers and (for a small body) the body in one buffer; a
   * large body comes back apart so it is not copied. Throws on a header value
   * no HTTP message may carry (as node:http does).
   */
  private encode(response: HttpResponse, keepAlive: boolean, head: boolean): Buffer | [Buffer, Uint8Array] {
    const raw = response.body as string | Uint8Array;
    const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    // No Content-Length (and no body) on 204 and 304 (RFC 9110 8.6, 15.4.5).
    const bodiless = response.status === 204 || response.status === 304;
    const text = headText(response.status, response.headers, keepAlive, bodiless ? '' : `Content-Length: ${body.byteLength}\r\n`);
    if (bodiless) return Buffer.from(text, 'latin1');
    const headBytes = Buffer.byteLength(text, 'latin1');
    if (head || body.byteLength === 0) return Buffer.from(text, 'latin1');
    if (body.byteLength > HTTP_SINGLE_WRITE_BYTES_MAX) return [Buffer.from(text, 'latin1'), body];
    const out = Buffer.allocUnsafe(headBytes + body.byteLength);
    out.write(text, 0, 'latin1');
    out.set(body, headBytes);
    return out;
  }

  /** A short text response of our own (refusals), closing the connection. */
  private encodeSmall(response: HttpResponse): Buffer {
    const encoded = this.encode(response, false, false);
    return Array.isArray(encoded) ? Buffer.concat([encoded[0], encoded[1]]) : encoded;
  }

  /** Chunked: each piece is written as it comes, waiting for the socket to drain. A failure midway cuts the response. */
  private async sendStream(response: HttpResponse, body: AsyncIterable<string>, keepAlive: boolean, head: boolean): Promise<void> {
    this.socket.write(Buffer.from(headText(response.status, response.headers, keepAlive, head ? '' : 'Transfer-Encoding: chunked\r\n'), 'latin1'));
    if (head) return;
    try {
      for await (const piece of body) {
        if (this.socket.destroyed) return;
        if (piece.length === 0) continue;
        const bytes = Buffer.from(piece, 'utf8');
        await this.write(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]));
      }
      await this.write(LAST_CHUNK);
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'streamed http response failed midway; closing it');
      this.closing = true;
      this.socket.destroy();
    }
  }

  private write(bytes: Uint8Array): Promise<void> {
    return writeDrained(this.socket, bytes);
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

function headText(status: number, headers: Readonly<Record<string, string>>, keepAlive: boolean, framing: string): string {
  let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\n`;
  for (const name in headers) {
    const value = headers[name] as string;
    if (HEADER_VALUE_INVALID.test(value)) throw new TypeError(`invalid character in the value of header ${name}`);
    text += `${name}: ${value}\r\n`;
  }
  return `${text}${framing}Date: ${httpNow()}\r\nServer: Rondo\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
}
