// Shared test helpers: an in-memory logger, transports on ephemeral ports, polling.
import { createServer } from 'node:net';
import type { Logger, NodeName, WireMessage } from '../../../src/core/env.js';
import { TcpTransport } from '../../../src/core/transport/tcp-transport.js';
import type { TransportLimits } from '../../../src/core/transport/limits.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

export class MemoryLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(obj: object, msg = ''): void {
    this.lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg });
  }
  info(obj: object, msg = ''): void {
    this.lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg });
  }
  warn(obj: object, msg = ''): void {
    this.lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
  }
  error(obj: object, msg = ''): void {
    this.lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
  }
  find(level: LogLine['level'], pattern: RegExp): LogLine | undefined {
    return this.lines.find((line) => line.level === level && pattern.test(line.msg));
  }
}

export const SECRET = 'test-secret';
export const CLUSTER = 'test-cluster';
export const FAST_LIMITS: Partial<TransportLimits> = { reconnectBackoffMinMs: 10, reconnectBackoffMaxMs: 50, handshakeTimeoutMs: 1_000 };

export interface Node {
  readonly name: NodeName;
  readonly transport: TcpTransport;
  readonly log: MemoryLogger;
  readonly address: string;
  readonly received: { from: NodeName; msg: WireMessage }[];
}

export async function startNode(
  name: NodeName,
  options: { secret?: string; cluster?: string; port?: number; limits?: Partial<TransportLimits> } = {},
): Promise<Node> {
  const log = new MemoryLogger();
  const transport = new TcpTransport({
    nodeName: name,
    clusterName: options.cluster ?? CLUSTER,
    clusterSecret: options.secret ?? SECRET,
    host: '127.0.0.1',
    port: options.port ?? 0,
    log,
    limits: { ...FAST_LIMITS, ...options.limits },
  });
  const received: Node['received'] = [];
  transport.onReceive((from, msg) => received.push({ from, msg }));
  const { port } = await transport.start();
  return { name, transport, log, address: `127.0.0.1:${port}`, received };
}

/** Make each node know every other's address. */
export function introduce(...nodes: Node[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.setPeerAddress(b.name, b.address);
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function stopAll(...nodes: (Node | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((node) => node?.transport.stop()));
}

/** Two default nodes that know each other, stopped when `body` ends, however it ends. */
export async function withPair(body: (a: Node, b: Node) => Promise<void>): Promise<void> {
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    a = await startNode('a');
    b = await startNode('b');
    introduce(a, b);
    await body(a, b);
  } finally {
    await stopAll(a, b);
  }
}
