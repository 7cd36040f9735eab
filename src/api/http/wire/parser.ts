// An incremental HTTP/1.1 request parser (RFC 9112), for the Riak HTTP API's
// own server. Pure: bytes in, parsed requests or one error out; no sockets.
// Why not node:http: per request it builds an IncomingMessage and a
// ServerResponse stream pair and writes head and body with writev; on this
// API's small requests that was a measurable share of a node's CPU.
//
// What it accepts, strictly: a request line `METHOD SP target SP HTTP/1.x`,
// header lines `name: value` with token names, CRLF line ends, and a body
// framed by Content-Length or `Transfer-Encoding: chunked` (not both, which
// is how requests are smuggled). Everything else is a ParseError naming the
// problem and the status to answer with (400, 413, 431, 501, 505); the
// connection is closed after it, as the stream can no longer be trusted.
import { HTTP_HEAD_BYTES_MAX, HTTP_HEADERS_MAX } from './limits.js';

export interface ParsedRequest {
  method: string;
  /** The request target as sent (origin form, e.g. /buckets/b/keys/k?r=2). */
  url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  /** Lowercase names; repeated headers joined with ", " (as node:http does for most). */
  headers: Record<string, string>;
  body: Buffer;
  /** The connection stays open after this request (HTTP/1.1 unless `Connection: close`; 1.0 only with keep-alive). */
  keepAlive: boolean;
  /** The client sent `Expect: 100-continue`. */
  expectsContinue: boolean;
}

export class ParseError extends Error {
  constructor(
    readonly status: 400 | 413 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
    this.name = 'ParseError';
  }
}

/** A request whose head is complete and whose body is still arriving. */
export interface HeadEvent {
  kind: 'head';
  request: Omit<ParsedRequest, 'body'>;
  bodyBytes: number | 'chunked';
}

export type ParseEvent = HeadEvent | { kind: 'request'; request: ParsedRequest };

type State =
  | { at: 'head' }
  | { at: 'body'; head: Omit<ParsedRequest, 'body'>; remaining: number; chunks: Buffer[]; bytes: number }
  | { at: 'chunk-size'; head: Omit<ParsedRequest, 'body'>; chunks: Buffer[]; bytes: number }
  | { at: 'chunk-data'; head: Omit<ParsedRequest, 'body'>; chunks: Buffer[]; bytes: number; remaining: number }
  | { at: 'chunk-end'; head: Omit<ParsedRequest, 'body'>; chunks: Buffer[]; bytes: number }
  | { at: 'trailers'; head: Omit<ParsedRequest, 'body'>; chunks: Buffer[]; bytes: number };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHOD = /^[A-Z]+$/;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const CHUNK_SIZE_LINE_MAX = 1024;
const EMPTY = Buffer.alloc(0);

export class RequestParser {
  private buffered: Buffer = EMPTY;
  private state: State = { at: 'head' };
  private failed = false;

  constructor(private readonly bodyBytesMax: number) {}

  /**
   * Feeds the bytes that arrived; returns what they completed: a 'head' event
   * when a request's head is complete (so the server can answer
   * `Expect: 100-continue` or refuse an oversized body at once), then a
   * 'request' event when its body is. Throws ParseError, after which the
   * parser takes no more input.
   */
  push(chunk: Buffer): ParseEvent[] {
    if (this.failed) throw new ParseError(400, 'the connection already had a malformed request');
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const events: ParseEvent[] = [];
    try {
      while (this.step(events));
    } catch (err) {
      this.failed = true;
      throw err;
    }
    return events;
  }

  /** Bytes held for a request not yet complete (the connection's read buffer). */
  get bufferedBytes(): number {
    return this.buffered.length;
  }

  /** True between requests (nothing of the next one has arrived). */
  get idle(): boolean {
    return this.state.at === 'head' && this.buffered.length === 0;
  }

  /** One step; false when more bytes are needed. */
  private step(events: ParseEvent[]): boolean {
    const s = this.state;
    switch (s.at) {
      case 'head':
        return this.head(events);
      case 'body': {
        if (this.buffered.length === 0 && s.remaining > 0) return false;
        const take = Math.min(s.remaining, this.buffered.length);
        if (take > 0) this.takeBody(s, take);
        s.remaining -= take;
        if (s.remaining > 0) return false;
        this.finish(events, s.head, s.chunks, s.bytes);
        return true;
      }
      case 'chunk-size': {
        const lineEnd = this.buffered.indexOf(CRLF);
        if (lineEnd < 0) {
          if (this.buffered.length > CHUNK_SIZE_LINE_MAX) throw new ParseError(400, 'chunk size line too long');
          return false;
        }
        const line = this.buffered.toString('latin1', 0, lineEnd);
        this.buffered = this.buffered.subarray(lineEnd + 2);
        const sizeText = (line.split(';')[0] ?? '').trim();
        if (!/^[0-9A-Fa-f]{1,8}$/.test(sizeText)) throw new ParseError(400, `bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
        const size = parseInt(sizeText, 16);
        if (size === 0) {
          this.state = { at: 'trailers', head: s.head, chunks: s.chunks, bytes: s.bytes };
          return true;
        }
        if (s.bytes + size > this.bodyBytesMax) throw new ParseError(413, `request body larger than ${this.bodyBytesMax} bytes`);
        this.state = { at: 'chunk-data', head: s.head, chunks: s.chunks, bytes: s.bytes, remaining: size };
        return true;
      }
      case 'chunk-data': {
        if (this.buffered.length === 0) return false;
        const take = Math.min(s.remaining, this.buffered.length);
        this.takeBody(s, take);
        s.remaining -= take;
        if (s.remaining === 0) this.state = { at: 'chunk-end', head: s.head, chunks: s.chunks, bytes: s.bytes };
        return true;
      }
      case 'chunk-end': {
        if (this.buffered.length < 2) return false;
        if (this.buffered[0] !== 0x0d || this.buffered[1] !== 0x0a) throw new ParseError(400, 'chunk data not followed by CRLF');
        this.buffered = this.buffered.subarray(2);
        this.state = { at: 'chunk-size', head: s.head, chunks: s.chunks, bytes: s.bytes };
        return true;
      }
      case 'trailers': {
        // Trailer fields are read and ignored, up to the empty line.
        const lineEnd = this.buffered.indexOf(CRLF);
        if (lineEnd < 0) {
          if (this.buffered.length > HTTP_HEAD_BYTES_MAX) throw new ParseError(431, 'trailer section too large');
          return false;
        }
        this.buffered = this.buffered.subarray(lineEnd + 2);
        if (lineEnd === 0) this.finish(events, s.head, s.chunks, s.bytes);
        return true;
      }
    }
  }

  private takeBody(s: { chunks: Buffer[]; bytes: number }, take: number): void {
    s.chunks.push(this.buffered.subarray(0, take));
    s.bytes += take;
    this.buffered = this.buffered.subarray(take);
  }

  private finish(events: ParseEvent[], head: Omit<ParsedRequest, 'body'>, chunks: Buffer[], bytes: number): void {
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, bytes);
    events.push({ kind: 'request', request: { ...head, body } });
    this.state = { at: 'head' };
  }

  private head(events: ParseEvent[]): boolean {
    if (this.buffered.length === 0) return false;
    // Robustness (RFC 9112 2.2): empty lines before a request line are ignored.
    while (this.buffered.length >= 2 && this.buffered[0] === 0x0d && this.buffered[1] === 0x0a) this.buffered = this.buffered.subarray(2);
    const end = this.buffered.indexOf(HEAD_END);
    if (end < 0) {
      if (this.buffered.length > HTTP_HEAD_BYTES_MAX) throw new ParseError(431, `request head larger than ${HTTP_HEAD_BYTES_MAX} bytes`);
      return false;
    }
    if (end > HTTP_HEAD_BYTES_MAX) throw new ParseError(431, `request head larger than ${HTTP_HEAD_BYTES_MAX} bytes`);
    const text = this.buffered.toString('latin1', 0, end);
    this.buffered = this.buffered.subarray(end + 4);
    const head = parseHead(text);
    const framing = bodyFraming(head.headers, this.bodyBytesMax);
    events.push({ kind: 'head', request: head, bodyBytes: framing });
    if (framing === 'chunked') this.state = { at: 'chunk-size', head, chunks: [], bytes: 0 };
    else if (framing > 0) this.state = { at: 'body', head, remaining: framing, chunks: [], bytes: 0 };
    else events.push({ kind: 'request', request: { ...head, body: EMPTY } });
    return true;
  }
}

function parseHead(text: string): Omit<ParsedRequest, 'body'> {
  const lines = text.split('\r\n');
  const requestLine = lines[0] ?? '';
  const parts = requestLine.split(' ');
  if (parts.length !== 3) throw new ParseError(400, `malformed request line ${JSON.stringify(requestLine.slice(0, 80))}`);
  const [method, url, version] = parts as [string, string, string];
  if (!METHOD.test(method)) throw new ParseError(400, `malformed method ${JSON.stringify(method.slice(0, 20))}`);
  if (url.length === 0 || hasByteBelow(url, 0x21, false)) throw new ParseError(400, 'malformed request target');
  let minorVersion: 0 | 1;
  if (version === 'HTTP/1.1') minorVersion = 1;
  else if (version === 'HTTP/1.0') minorVersion = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) throw new ParseError(505, `HTTP version ${version} is not supported`);
  else throw new ParseError(400, `malformed HTTP version ${JSON.stringify(version.slice(0, 20))}`);
  if (lines.length - 1 > HTTP_HEADERS_MAX) throw new ParseError(431, `more than ${HTTP_HEADERS_MAX} header fields`);
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(' ') || line.startsWith('\t')) throw new ParseError(400, 'obsolete header line folding');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError(400, `malformed header line ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new ParseError(400, `malformed header name ${JSON.stringify(name.slice(0, 40))}`);
    const value = line.slice(colon + 1).trim();
    if (hasByteBelow(value, 0x20, true)) throw new ParseError(400, `header ${name} has a control character`);
    const lower = name.toLowerCase();
    const previous = headers[lower];
    headers[lower] = previous === undefined ? value : `${previous}, ${value}`;
  }
  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive = minorVersion === 1 ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  const expectsContinue = minorVersion === 1 && (headers.expect ?? '').toLowerCase() === '100-continue';
  return { method, url, minorVersion, headers, keepAlive, expectsContinue };
}

function bodyFraming(headers: Record<string, string>, bodyBytesMax: number): number | 'chunked' {
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) throw new ParseError(400, 'both Transfer-Encoding and Content-Length');
    if (te.toLowerCase() !== 'chunked') throw new ParseError(501, `Transfer-Encoding ${JSON.stringify(te.slice(0, 40))} is not supported (only chunked)`);
    return 'chunked';
  }
  if (cl === undefined) return 0;
  // Repeated headers arrive joined: "5, 5" is one length said twice.
  const values = new Set(cl.split(',').map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^[0-9]{1,15}$/.test(only)) throw new ParseError(400, `malformed Content-Length ${JSON.stringify(cl.slice(0, 40))}`);
  const bytes = Number(only);
  if (bytes > bodyBytesMax) throw new ParseError(413, `request body larger than ${bodyBytesMax} bytes`);
  return bytes;
}

/** Whether `text` holds a character below `limit`, or DEL (tab allowed when `tabOk`). */
function hasByteBelow(text: string, limit: number, tabOk: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < limit && !(tabOk && c === 0x09)) || c === 0x7f) return true;
  }
  return false;
}
