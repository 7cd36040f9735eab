// The HTTP/1.1 connection handler on real loopback sockets: response bytes,
// keep-alive and close, pipelining order, 100-continue, malformed requests,
// streaming with backpressure, and the abort signal when the client leaves.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { HttpResponse } from '../../../../src/api/http/codec/index.js';
import { HttpConnection, type HttpHandler } from '../../../../src/api/http/wire/connection.js';

const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const servers: Server[] = [];
const sockets: Socket[] = [];
const serverSockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of serverSockets.splice(0)) s.destroy();
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function serve(handler: HttpHandler, bodyBytesMax = 1_000): Promise<number> {
  const server = createServer((socket) => {
    serverSockets.push(socket);
    new HttpConnection(socket, { bodyBytesMax, keepAliveMs: 60_000, handler, log, onError: (err) => ({ status: 500, headers: {}, body: `failed: ${String(err)}\n` }) });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A raw client: send bytes, read what comes back until `until` holds or the socket closes. */
async function client(port: number): Promise<{ socket: Socket; send: (text: string) => void; read: (until: (text: string) => boolean) => Promise<string>; closed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  let received = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    socket,
    closed,
    send: (text) => socket.write(Buffer.from(text, 'latin1')),
    read: async (until) => {
      while (!until(received) && !socket.destroyed) await new Promise<void>((resolve) => waiters.push(resolve));
      return received;
    },
  };
}

const ok = (body: string, extra: Record<string, string> = {}): HttpResponse => ({ status: 200, headers: { 'Content-Type': 'text/plain', ...extra }, body });
const responses = (text: string): number => (text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length;

describe('HTTP connection', () => {
  it('answers in one message: status line, headers, Content-Length, Date, keep-alive; a second request on the same socket', async () => {
    const port = await serve(async (req) => ok(`you asked ${req.method} ${req.url}`, { 'X-Test': 'v' }));
    const c = await client(port);
    c.send('GET /a?b=1 HTTP/1.1\r\nHost: h\r\n\r\n');
    let text = await c.read((t) => t.endsWith('you asked GET /a?b=1'));
    const [head] = text.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 200 OK');
    assert.ok(lines.includes('Content-Type: text/plain') && lines.includes('X-Test: v') && lines.includes('Content-Length: 20'));
    assert.ok(lines.includes('Connection: keep-alive') && lines.some((l) => /^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(l)));
    c.send('GET /second HTTP/1.1\r\n\r\n');
    text = await c.read((t) => t.endsWith('you asked GET /second'));
    assert.equal(responses(text), 2);
    assert.equal(c.socket.destroyed, false, 'kept alive');
  });

  it('pipelined requests are answered in order even when an earlier one is slower', async () => {
    const port = await serve(async (req) => {
      if (req.url === '/slow') await new Promise((resolve) => setTimeout(resolve, 50));
      return ok(req.url);
    });
    const c = await client(port);
    c.send('GET /slow HTTP/1.1\r\n\r\nGET /fast HTTP/1.1\r\n\r\nPUT /body HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi');
    const text = await c.read((t) => responses(t) === 3 && t.endsWith('/body'));
    assert.ok(text.indexOf('/slow') < text.indexOf('/fast') && text.indexOf('/fast') < text.lastIndexOf('/body'));
  });

  it('Connection: close and HTTP/1.0 without keep-alive close after the response', async () => {
    const port = await serve(async () => ok('bye'));
    for (const request of ['GET / HTTP/1.1\r\nConnection: close\r\n\r\n', 'GET / HTTP/1.0\r\n\r\n']) {
      const c = await client(port);
      c.send(request);
      await c.closed;
      assert.match(await c.read(() => true), /Connection: close\r\n\r\nbye$/);
    }
  });

  it('Expect: 100-continue gets a 100 before the body is sent; the body then arrives', async () => {
    const port = await serve(async (req) => ok(`got ${Buffer.from(req.body).toString()}`));
    const c = await client(port);
    c.send('PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    assert.equal(await c.read((t) => t.includes('\r\n\r\n')), 'HTTP/1.1 100 Continue\r\n\r\n');
    c.send('hello');
    assert.match(await c.read((t) => t.endsWith('got hello')), /200 OK/);
  });

  it('a malformed request is answered with its status and the connection closed; an oversized body is refused before it is read', async () => {
    let calls = 0;
    const port = await serve(async () => {
      calls++;
      return ok('x');
    });
    for (const [request, status] of [
      ['GARBAGE\r\n\r\n', 400],
      ['PUT / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n', 413],
      ['GET / HTTP/3.0\r\n\r\n', 505],
    ] as const) {
      const c = await client(port);
      c.send(request);
      await c.closed;
      assert.match(await c.read(() => true), new RegExp(`^HTTP/1\\.1 ${status} `));
    }
    assert.equal(calls, 0, 'the handler never saw them');
  });

  it('HEAD, 204 and 304 carry no body; 204 and 304 no Content-Length', async () => {
    const port = await serve(async (req) => (req.url === '/204' ? { status: 204, headers: {}, body: '' } : req.url === '/304' ? { status: 304, headers: { ETag: '"e"' }, body: '' } : ok('')));
    const c = await client(port);
    c.send('HEAD / HTTP/1.1\r\n\r\nGET /204 HTTP/1.1\r\n\r\nGET /304 HTTP/1.1\r\n\r\nGET /last HTTP/1.1\r\n\r\n');
    const text = await c.read((t) => responses(t) === 4);
    const parts = text.split(/(?=HTTP\/1\.1 )/);
    assert.match(parts[1]!, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.doesNotMatch(parts[1]!, /Content-Length/);
    assert.doesNotMatch(parts[2]!, /Content-Length/);
    assert.ok(parts.every((p) => p.endsWith('\r\n\r\n')), 'no bodies');
  });

  it('streams a chunked body through a slow reader with backpressure, one drain listener at a time, none left behind', async () => {
    const piece = 'x'.repeat(64 * 1024);
    let maxDrainListeners = 0;
    let closeListenersAtStart = -1;
    let maxCloseListeners = 0;
    let serverSocket: Socket | undefined;
    const server = createServer((socket) => {
      serverSocket = socket;
      serverSockets.push(socket);
      new HttpConnection(socket, {
        bodyBytesMax: 1_000, keepAliveMs: 60_000, log, onError: () => ok('err'),
        handler: async () => ({
          status: 200,
          headers: { 'Content-Type': 'text/plain' },
          body: (async function* () {
            closeListenersAtStart = socket.listenerCount('close');
            for (let i = 0; i < 200; i++) {
              maxDrainListeners = Math.max(maxDrainListeners, socket.listenerCount('drain'));
              maxCloseListeners = Math.max(maxCloseListeners, socket.listenerCount('close'));
              yield piece;
            }
          })(),
        }),
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const c = await client((server.address() as { port: number }).port);
    c.socket.pause(); // a slow reader
    c.send('GET /list HTTP/1.1\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    c.socket.resume();
    const text = await c.read((t) => t.endsWith('0\r\n\r\n'));
    assert.match(text, /Transfer-Encoding: chunked/);
    assert.equal(text.length > 200 * piece.length, true);
    assert.ok(maxDrainListeners <= 1, `drain listeners stayed at ${maxDrainListeners}`);
    // Each wait for room adds a drain and a close listener and removes both, whichever fires.
    assert.ok(closeListenersAtStart >= 0 && maxCloseListeners <= closeListenersAtStart + 1, `close listeners went from ${closeListenersAtStart} to ${maxCloseListeners}`);
    assert.ok(serverSocket !== undefined && serverSocket.listenerCount('drain') === 0, 'no drain listener left behind');
    assert.equal(serverSocket.listenerCount('close'), closeListenersAtStart, 'no close listener left behind');
  });

  it('the request signal aborts when the client goes away mid-request', async () => {
    let signal: AbortSignal | undefined;
    const port = await serve(
      (_req, s) =>
        new Promise((resolve) => {
          signal = s;
          s.addEventListener('abort', () => resolve(ok('late')), { once: true });
        }),
    );
    const c = await client(port);
    c.send('GET / HTTP/1.1\r\n\r\n');
    while (signal === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(signal.aborted, false);
    c.socket.destroy();
    while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  });

  it('a header value no HTTP message may carry becomes the 500 of onError, not a crash', async () => {
    const port = await serve(async () => ok('x', { 'X-Bad': 'snow\u2603man' }));
    const c = await client(port);
    c.send('GET / HTTP/1.1\r\n\r\n');
    assert.match(await c.read((t) => t.includes('failed:')), /^HTTP\/1\.1 500 /);
  });
});
