// The Riak-compatible HTTP API on node:http. Bodies are read up to a named
// limit (413 beyond it), connections are capped, every request gets an
// AbortSignal that fires when the client goes away, and no error escapes
// as a crash: each is answered with the status the codec's table gives.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../core/env.js';
import type { MetadataService } from '../../core/metadata/index.js';
import { OBJECT_BYTES_MAX } from '../../kv/constants.js';
import type { KvService } from '../../kv/service.js';
import { parseRoute, renderError, type HttpResponse } from './codec/index.js';
import { handle } from './handlers.js';

/** Request bodies above this are refused with 413 before they are buffered whole. option: httpBodyBytesMax */
export const HTTP_BODY_BYTES_MAX = OBJECT_BYTES_MAX + 64 * 1024;
/** Concurrent client connections. option: httpConnectionsMax */
export const HTTP_CONNECTIONS_MAX = 1_000;
/**
 * Idle keep-alive connections are closed after this. Long, like load
 * balancers (60 s and more): a client that sends on an idle connection just as
 * the server closes it gets a connection reset, and clients' pools keep idle
 * connections for seconds. option: httpKeepAliveMs
 */
export const HTTP_KEEP_ALIVE_MS = 65_000;

export interface HttpApiOptions {
  kv: KvService;
  metadata: MetadataService;
  host: string;
  port: number;
  log: Logger;
  stats: () => Record<string, unknown>;
  bodyBytesMax?: number;
  connectionsMax?: number;
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        req.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: HttpResponse, head: boolean, log: Logger): void {
  if (typeof response.body === 'object' && Symbol.asyncIterator in response.body) {
    void sendStream(res, response, response.body, head, log);
    return;
  }
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
  res.writeHead(response.status, { ...response.headers, 'Content-Length': String(body.length), Server: 'Rondo' });
  res.end(head ? undefined : body);
}

/** Chunked: each piece is written as it comes, waiting for the socket to drain. A failure midway cuts the response. */
async function sendStream(res: ServerResponse, response: HttpResponse, body: AsyncIterable<string>, head: boolean, log: Logger): Promise<void> {
  res.writeHead(response.status, { ...response.headers, Server: 'Rondo' });
  try {
    if (!head) {
      for await (const piece of body) {
        if (res.destroyed) return;
        if (!res.write(piece)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
      }
    }
    res.end();
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'streamed http response failed midway; closing it');
    res.destroy();
  }
}

export class HttpApi {
  private readonly opts: HttpApiOptions;
  private server: Server | undefined;

  constructor(opts: HttpApiOptions) {
    this.opts = opts;
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.maxConnections = this.opts.connectionsMax ?? HTTP_CONNECTIONS_MAX;
    server.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('http server has no address');
    return { host: address.address, port: address.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    const head = req.method === 'HEAD';
    try {
      const route = parseRoute(req.method ?? 'GET', req.url ?? '/');
      if (route instanceof Error) {
        send(res, renderError(route), head, this.opts.log);
        return;
      }
      const body = await readBody(req, this.opts.bodyBytesMax ?? HTTP_BODY_BYTES_MAX);
      const response = await handle(route, { kv: this.opts.kv, metadata: this.opts.metadata, headers: req.headers, body, signal: aborter.signal, stats: this.opts.stats, log: this.opts.log });
      send(res, response, head, this.opts.log);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        send(res, { status: 413, headers: { 'Content-Type': 'text/plain', Connection: 'close' }, body: `request body larger than ${this.opts.bodyBytesMax ?? HTTP_BODY_BYTES_MAX} bytes\n` }, head, this.opts.log);
        return;
      }
      const response = renderError(err);
      if (response.status >= 500) this.opts.log.error({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'http request failed');
      if (!res.headersSent) send(res, response, head, this.opts.log);
      else res.destroy();
    }
  }
}
