// The Node stub: the least a Node HTTP key-value server can do, as a ceiling
// for any Node HTTP server on this machine (Rondo's HTTP API included). A
// bare node:http server over a Map; no framework, no per-request logging,
// keep-alive on (HTTP/1.1's default).
//   GET /buckets/:bucket/keys/:key -> 200 with the body, 404 when absent
//   PUT /buckets/:bucket/keys/:key -> stores the body, 204
// Query strings are ignored. Usage: node --import tsx bench/peers/node-stub-server.ts --port N
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const store = new Map<string, Buffer>();

/** The `:bucket/keys/:key` part of the path, the store's key; undefined when the path is not an object's. */
function objectPath(url: string): string | undefined {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (!path.startsWith('/buckets/')) return undefined;
  const rest = path.slice('/buckets/'.length);
  const keysAt = rest.indexOf('/keys/');
  if (keysAt <= 0 || keysAt + '/keys/'.length === rest.length) return undefined;
  return rest;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const key = objectPath(req.url ?? '');
  if (key === undefined) {
    res.writeHead(400).end();
    return;
  }
  if (req.method === 'GET') {
    const value = store.get(key);
    if (value === undefined) res.writeHead(404, { 'Content-Length': 0 }).end();
    else res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': value.length }).end(value);
    return;
  }
  if (req.method === 'PUT') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      store.set(key, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(405, { 'Content-Length': 0 }).end();
}

const portAt = process.argv.indexOf('--port');
const port = Number(process.argv[portAt + 1]);
if (portAt === -1 || !Number.isInteger(port) || port <= 0) {
  console.error('usage: node --import tsx bench/peers/node-stub-server.ts --port N');
  process.exit(2);
}
const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, handle);
server.listen(port, '127.0.0.1', () => console.log(`node stub listening on 127.0.0.1:${port}`));
