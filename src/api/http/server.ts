// The Riak-compatible HTTP API, on its own HTTP/1.1 wire layer (wire/: a
// strict request parser and one connection handler; node:http cost more per
// request than the rest of the API). Bodies are read up to a named limit (413
// beyond it), connections are capped, every request gets an AbortSignal that
// fires when the client goes away, and no error escapes as a crash: each is
// answered with the status the codec's table gives.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../core/env.js';
import type { MetadataService } from '../../core/metadata/index.js';
import { OBJECT_BYTES_MAX } from '../../kv/constants.js';
import type { KvService } from '../../kv/service.js';
import { RondoError } from '../../core/errors.js';
import type { OpName, RequestMetrics } from '../metrics.js';
import { parseRoute, renderError, type HttpResponse, type Route } from './codec/index.js';
import { handle } from './handlers.js';
import { loadConsoleAssets, type ConsoleAssets } from './console/assets.js';
import { overviewProvider, type ConsoleOverview, type ConsoleSource } from './console/overview.js';
import { HttpConnection, type HttpRequest } from './wire/connection.js';

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
  /** The node's state for the web console (/console); without it /console is 404. */
  console?: ConsoleSource;
  /** /metrics, and where requests are counted and timed (none: neither). */
  metrics?: { render: () => Promise<{ contentType: string; body: string }>; requests: RequestMetrics };
  bodyBytesMax?: number;
  connectionsMax?: number;
}

export class HttpApi {
  private readonly opts: HttpApiOptions;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly console: { assets: ConsoleAssets; overview: () => Promise<ConsoleOverview> } | undefined;

  constructor(opts: HttpApiOptions) {
    this.opts = opts;
    // Read once, at start: a missing file fails the node now, not the first visitor.
    this.console = opts.console === undefined ? undefined : { assets: loadConsoleAssets(), overview: overviewProvider(opts.console) };
  }

  async start(): Promise<{ host: string; port: number }> {
    const bodyBytesMax = this.opts.bodyBytesMax ?? HTTP_BODY_BYTES_MAX;
    const server = createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      new HttpConnection(socket, {
        bodyBytesMax,
        keepAliveMs: HTTP_KEEP_ALIVE_MS,
        log: this.opts.log,
        handler: (request, signal) => this.serve(request, signal),
        onError: (err, request) => this.failed(err, request),
      });
    });
    // Connections beyond the limit are closed as they arrive (as node:http's maxConnections does).
    server.maxConnections = this.opts.connectionsMax ?? HTTP_CONNECTIONS_MAX;
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
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const requests = this.opts.metrics?.requests;
    const startedMs = requests === undefined ? 0 : performance.now();
    let op: OpName = 'other';
    try {
      const route = parseRoute(request.method, request.url);
      if (route instanceof Error) {
        requests?.error('http', route.code);
        return renderError(route);
      }
      op = opOf(route);
      const metrics = this.opts.metrics?.render;
      const response = await handle(route, { kv: this.opts.kv, metadata: this.opts.metadata, headers: request.headers, body: request.body, signal, stats: this.opts.stats, log: this.opts.log, ...(metrics ? { metrics } : {}), ...(this.console ? { console: this.console } : {}) });
      requests?.request('http', op, (performance.now() - startedMs) / 1000);
      return response;
    } catch (err) {
      if (requests !== undefined) {
        requests.request('http', op, (performance.now() - startedMs) / 1000);
        requests.error('http', err instanceof RondoError ? err.code : 'internal');
      }
      return this.failed(err, request);
    }
  }

  private failed(err: unknown, request: HttpRequest): HttpResponse {
    const response = renderError(err);
    if (response.status >= 500) this.opts.log.error({ err: err instanceof Error ? err.message : String(err), url: request.url }, 'http request failed');
    return response;
  }
}

/** The operation a route is, for /metrics. */
function opOf(route: Route): OpName {
  switch (route.kind) {
    case 'object':
      return route.method === 'GET' || route.method === 'HEAD' ? 'get' : route.method === 'DELETE' ? 'delete' : 'put';
    case 'object-create':
      return 'put';
    case 'list-keys':
    case 'list-buckets':
      return 'list';
    case 'index':
      return 'index';
    default:
      return 'other';
  }
}
