// A bare node:http server backed by a Map, serving GET/PUT /buckets/<b>/keys/<k>
// like Rondo's HTTP API does for the benchmark: the http driver's test target.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubServer {
  address: string;
  store: Map<string, Buffer>;
  /** Requests seen, by method. */
  requests: { GET: number; PUT: number; other: number };
  /** Query strings seen (e.g. "w=2"), for checking params. */
  queries: Set<string>;
  close(): Promise<void>;
}

/** `closeEach`: answer every request with Connection: close, so each operation needs a new connection. */
export async function startStubServer(opts: { closeEach?: boolean } = {}): Promise<StubServer> {
  const store = new Map<string, Buffer>();
  const requests = { GET: 0, PUT: 0, other: 0 };
  const queries = new Set<string>();
  const server: Server = createServer((req, res) => {
    if (opts.closeEach) res.setHeader('Connection', 'close');
    const url = new URL(req.url ?? '/', 'http://stub');
    const match = /^\/buckets\/([^/]+)\/keys\/([^/]+)$/.exec(url.pathname);
    if (url.search) queries.add(url.search.slice(1));
    if (!match) {
      requests.other++;
      res.writeHead(400).end('bad path\n');
      return;
    }
    const key = `${match[1]}/${decodeURIComponent(match[2]!)}`;
    if (req.method === 'GET') {
      requests.GET++;
      const value = store.get(key);
      if (value) res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(value);
      else res.writeHead(404).end('not found\n');
      return;
    }
    if (req.method !== 'PUT') {
      requests.other++;
      res.writeHead(405).end();
      return;
    }
    requests.PUT++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      store.set(key, Buffer.concat(chunks));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    store,
    requests,
    queries,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
