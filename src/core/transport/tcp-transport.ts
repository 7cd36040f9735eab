// The real NetworkPort: TCP, one dialed connection per peer per channel for
// what we send, and whatever peers dial to us for what they send. Admin tools
// and peers may also send requests ({ v, id, req }) answered on the same
// connection by the onRequest handler.
import { createServer, type Server, type Socket } from 'node:net';
import type { Channel, Logger, NetworkPort, NodeAddress, NodeName, WireMessage } from '../env.js';
import { FrameInvalidError, MessageTooLargeError, NotClaimantError, RondoError, UnknownPeerError, assert } from '../errors.js';
import { formatAddress, parseAddress } from './address.js';
import { Connection, type ConnectionHandlers } from './connection.js';
import { BATCH_ENVELOPE_HEAD_BYTES_MAX, ENVELOPE_MESSAGE_HEAD_BYTES, encodePayload, parseEnvelope, type WireErrorBody } from './frame.js';
import { startHandshake, type HandshakeResult, type Role } from './handshake.js';
import { resolveLimits, type TransportLimits } from './limits.js';
import { OutboundLink, type LinkContext, type LinkStats } from './link.js';

export interface RequestContext {
  readonly role: Role;
  /** Authenticated node name, or "admin@host:port" for an admin without one. */
  readonly from: string;
  /** Aborted when the connection closes or the transport stops. */
  readonly signal: AbortSignal;
}

export type RequestHandler = (req: WireMessage, ctx: RequestContext) => Promise<WireMessage>;

export interface TcpTransportOptions {
  readonly nodeName: NodeName;
  readonly clusterName: string;
  readonly clusterSecret: string;
  readonly host: string;
  /** 0 = pick an ephemeral port. */
  readonly port: number;
  readonly log: Logger;
  readonly limits?: Partial<TransportLimits>;
}

export interface PeerStats {
  readonly address: NodeAddress | undefined;
  readonly control: LinkStats;
  readonly bulk: LinkStats;
  readonly messagesReceived: number;
}

export interface TransportStats {
  readonly peers: Record<NodeName, PeerStats>;
  readonly messagesSent: number;
  /** Socket writes that carried them (messages per write = batching). */
  readonly writes: number;
  readonly messagesReceived: number;
  /** Socket reads that brought them. */
  readonly reads: number;
  readonly framesRejected: number;
  readonly inboundConnections: number;
  /** Outbound connection attempts after each link's first, summed over peers (removed ones included). */
  readonly reconnects: number;
  /** Bytes waiting in outbound queues, summed over peers and channels. */
  readonly queuedBytes: number;
}

interface Peer {
  address: NodeAddress;
  readonly links: Record<Channel, OutboundLink>;
}

const emptyLinkStats: LinkStats = { connected: false, queuedMessages: 0, queuedBytes: 0, messagesSent: 0, writes: 0, reconnects: 0 };

export class TcpTransport implements NetworkPort {
  readonly limits: TransportLimits;
  private readonly options: TcpTransportOptions;
  private readonly log: Logger;
  private readonly peers = new Map<NodeName, Peer>();
  private readonly inbound = new Set<Connection>();
  /** Which authenticated peer each inbound connection belongs to (removePeer closes them). */
  private readonly inboundPeer = new WeakMap<Connection, NodeName>();
  /**
   * Per-peer handshake results and receive counts. Bounded by who may be in
   * them: a known peer (setPeerAddress; removePeer prunes it) or a peer with
   * an open inbound connection (at most inboundConnectionsMax; pruned when an
   * unknown peer's last connection closes).
   */
  private readonly capabilities = new Map<NodeName, { version: number; caps: readonly string[] }>();
  private readonly receivedByPeer = new Map<NodeName, number>();
  private readonly linkContext: LinkContext;
  private readonly requestAborts = new Set<AbortController>();
  private server: Server | undefined;
  private stopped = false;
  private receiveHandler: (from: NodeName, msg: WireMessage) => void = () => undefined;
  private requestHandler: RequestHandler | undefined;
  private counters = { messagesReceived: 0, reads: 0, framesRejected: 0, messagesSentByRemovedPeers: 0, writesByRemovedPeers: 0, reconnectsByRemovedPeers: 0 };

  constructor(options: TcpTransportOptions) {
    assert(options.nodeName !== '', 'node name set');
    assert(options.clusterName !== '', 'cluster name set');
    assert(options.clusterSecret !== '', 'cluster secret set');
    this.options = options;
    this.log = options.log;
    this.limits = resolveLimits(options.limits);
    this.linkContext = {
      nodeName: options.nodeName,
      clusterName: options.clusterName,
      clusterSecret: options.clusterSecret,
      log: options.log,
      limits: this.limits,
      onRejected: () => (this.counters.framesRejected += 1),
      onRead: () => (this.counters.reads += 1),
      serve: (conn, peer, extra) => this.serve(conn, peer, extra),
    };
  }

  async start(): Promise<{ host: string; port: number }> {
    assert(this.server === undefined && !this.stopped, 'start once');
    const server = createServer((socket) => this.onInbound(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err: String(err) }, 'transport: listener error'));
    const bound = server.address();
    assert(bound !== null && typeof bound === 'object', 'listening on TCP');
    this.log.info({ host: bound.address, port: bound.port }, `transport: listening on ${formatAddress(bound.address, bound.port)}`);
    return { host: bound.address, port: bound.port };
  }

  /** Closes the listener and every connection, clears every timer. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const name of [...this.peers.keys()]) this.removePeer(name);
    for (const controller of this.requestAborts) controller.abort();
    for (const conn of this.inbound) conn.close('transport stopped');
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Never blocks. Throws OverloadError when that peer's queue for `channel` is
   * full (the explicit back-pressure signal: nothing is dropped silently),
   * UnknownPeerError without an address, MessageTooLargeError when the message
   * cannot fit one frame (checked before it is queued: it never shares, and
   * never spoils, a batch frame with other messages).
   */
  send(to: NodeName, msg: WireMessage, channel: Channel = 'control'): void {
    const peer = this.peers.get(to);
    if (peer === undefined || this.stopped) throw new UnknownPeerError(`no address known for peer ${to}`);
    const body = encodePayload(msg);
    const frameBytes = body.length + Math.max(ENVELOPE_MESSAGE_HEAD_BYTES, BATCH_ENVELOPE_HEAD_BYTES_MAX);
    if (frameBytes > this.limits.frameBytesMax) {
      throw new MessageTooLargeError(`message ${msg.type} to ${to} is ${body.length} bytes, over the frame limit ${this.limits.frameBytesMax}`, body.length, this.limits.frameBytesMax);
    }
    peer.links[channel].enqueue(body);
  }

  setPeerAddress(name: NodeName, address: NodeAddress): void {
    assert(name !== this.options.nodeName, 'no address for ourselves');
    parseAddress(address); // throws InvalidArgumentError now rather than in a reconnect timer
    const peer = this.peers.get(name);
    if (peer !== undefined) {
      peer.address = address;
      peer.links.control.setAddress(address);
      peer.links.bulk.setAddress(address);
      return;
    }
    this.peers.set(name, {
      address,
      links: {
        control: new OutboundLink(this.linkContext, name, 'control', address),
        bulk: new OutboundLink(this.linkContext, name, 'bulk', address),
      },
    });
  }

  removePeer(name: NodeName): void {
    const peer = this.peers.get(name);
    if (peer === undefined) return;
    this.counters.messagesSentByRemovedPeers += peer.links.control.stats().messagesSent + peer.links.bulk.stats().messagesSent;
    this.counters.writesByRemovedPeers += peer.links.control.stats().writes + peer.links.bulk.stats().writes;
    this.counters.reconnectsByRemovedPeers += peer.links.control.stats().reconnects + peer.links.bulk.stats().reconnects;
    peer.links.control.stop();
    peer.links.bulk.stop();
    this.peers.delete(name);
    this.capabilities.delete(name);
    this.receivedByPeer.delete(name);
    for (const conn of this.inbound) if (this.inboundPeer.get(conn) === name) conn.close('peer removed');
  }

  onReceive(handler: (from: NodeName, msg: WireMessage) => void): void {
    this.receiveHandler = handler;
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** Capabilities the peer advertised in its latest handshake with us. */
  peerCapabilities(name: NodeName): readonly string[] | undefined {
    return this.capabilities.get(name)?.caps;
  }

  peerProtocolVersion(name: NodeName): number | undefined {
    return this.capabilities.get(name)?.version;
  }

  stats(): TransportStats {
    const peers: Record<NodeName, PeerStats> = {};
    let messagesSent = this.counters.messagesSentByRemovedPeers;
    let writes = this.counters.writesByRemovedPeers;
    let reconnects = this.counters.reconnectsByRemovedPeers;
    let queuedBytes = 0;
    const names = new Set([...this.peers.keys(), ...this.receivedByPeer.keys()]);
    for (const name of names) {
      const peer = this.peers.get(name);
      const control = peer?.links.control.stats() ?? emptyLinkStats;
      const bulk = peer?.links.bulk.stats() ?? emptyLinkStats;
      messagesSent += control.messagesSent + bulk.messagesSent;
      writes += control.writes + bulk.writes;
      reconnects += control.reconnects + bulk.reconnects;
      queuedBytes += control.queuedBytes + bulk.queuedBytes;
      peers[name] = { address: peer?.address, control, bulk, messagesReceived: this.receivedByPeer.get(name) ?? 0 };
    }
    const { messagesReceived, reads, framesRejected } = this.counters;
    return { peers, messagesSent, writes, messagesReceived, reads, framesRejected, inboundConnections: this.inbound.size, reconnects, queuedBytes };
  }

  private onInbound(socket: Socket): void {
    const remote = formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    if (this.stopped || this.inbound.size >= this.limits.inboundConnectionsMax) {
      this.log.warn({ remote, limit: this.limits.inboundConnectionsMax }, `transport: refusing connection from ${remote}: ${this.limits.inboundConnectionsMax} inbound connections max`);
      socket.destroy();
      return;
    }
    const conn = new Connection({ socket, log: this.log, remote, frameBytesMax: this.limits.frameBytesMax, onRejected: this.linkContext.onRejected, onRead: this.linkContext.onRead });
    this.inbound.add(conn);
    socket.once('close', () => {
      this.inbound.delete(conn);
      this.forgetIfUnknown(this.inboundPeer.get(conn));
    });
    const { clusterName, nodeName, clusterSecret } = this.options;
    const handshake = { side: 'accept' as const, cluster: clusterName, node: nodeName, role: 'peer' as const, channel: 'control' as const, secret: clusterSecret, timeoutMs: this.limits.handshakeTimeoutMs };
    startHandshake(conn, handshake, (result) => {
      if (result instanceof Error) return; // refusals are logged by the handshake
      if (result.role === 'peer') this.inboundPeer.set(conn, result.node);
      this.serve(conn, result, { close: () => undefined });
    });
  }

  /** Post-handshake frames, on dialed and accepted connections alike. */
  private serve(conn: Connection, peer: HandshakeResult, extra: Pick<ConnectionHandlers, 'close' | 'drain'>): void {
    if (peer.role === 'peer') this.capabilities.set(peer.node, { version: peer.version, caps: peer.caps });
    const from = peer.role === 'peer' ? peer.node : `admin@${conn.remote}`;
    const connectionAbort = new AbortController();
    this.requestAborts.add(connectionAbort);
    let requestsInflight = 0;
    const handlers: ConnectionHandlers = {
      frame: (value) => {
        const envelope = parseEnvelope(value, peer.version);
        switch (envelope.kind) {
          case 'message':
            if (peer.role !== 'peer') throw new FrameInvalidError('admin connection sent a peer message');
            this.deliver(peer.node, envelope.msg);
            return;
          case 'messages':
            if (peer.role !== 'peer') throw new FrameInvalidError('admin connection sent peer messages');
            for (const msg of envelope.msgs) this.deliver(peer.node, msg);
            return;
          case 'request':
            if (requestsInflight >= this.limits.rpcInflightPerConnectionMax) {
              const message = `${requestsInflight} requests in flight on this connection (max ${this.limits.rpcInflightPerConnectionMax})`;
              conn.sendValue({ v: peer.version, id: envelope.id, err: { code: 'overload', message } });
              return;
            }
            requestsInflight += 1;
            void this.answer(envelope.req, { role: peer.role, from, signal: connectionAbort.signal }).then((reply) => {
              requestsInflight -= 1;
              this.sendReply(conn, peer.version, envelope.id, envelope.req.type, reply);
            });
            return;
          case 'response':
          case 'error':
            throw new FrameInvalidError('unsolicited reply');
          default: {
            const never: never = envelope;
            throw new FrameInvalidError(`unknown envelope ${String(never)}`);
          }
        }
      },
      close: (reason) => {
        connectionAbort.abort();
        this.requestAborts.delete(connectionAbort);
        this.log.debug({ remote: conn.remote, peer: from, reason }, 'transport: connection closed');
        extra.close(reason);
      },
    };
    if (extra.drain !== undefined) handlers.drain = extra.drain;
    conn.setHandlers(handlers);
  }

  /** An unknown peer's last inbound connection closed: forget what was kept about it. */
  private forgetIfUnknown(name: NodeName | undefined): void {
    if (name === undefined || this.peers.has(name)) return;
    for (const conn of this.inbound) if (!conn.isClosed && this.inboundPeer.get(conn) === name) return;
    this.capabilities.delete(name);
    this.receivedByPeer.delete(name);
  }

  /** A reply that cannot fit one frame is answered with message_too_large instead: that request fails, the connection stays. */
  private sendReply(conn: Connection, version: number, id: number, type: string, reply: { res: WireMessage } | { err: WireErrorBody }): void {
    try {
      conn.sendValue({ v: version, id, ...reply });
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err;
      const message = `the reply to ${type} is ${err.bytes} bytes, over the frame limit ${err.limitBytes}`;
      this.log.warn({ remote: conn.remote, type, bytes: err.bytes }, `transport: ${message}; answering message_too_large`);
      conn.sendValue({ v: version, id, err: { code: err.code, message } });
    }
  }

  /**
   * Hands one message to the receive handler. A RondoError it throws is a
   * peer's bad input that the handler refused: logged, dropped, and the
   * connection (with the rest of a batch) goes on. Anything else is a bug
   * (a failed assertion, a TypeError): rethrown, to crash loudly.
   */
  private deliver(from: NodeName, msg: WireMessage): void {
    this.counters.messagesReceived += 1;
    this.receivedByPeer.set(from, (this.receivedByPeer.get(from) ?? 0) + 1);
    try {
      this.receiveHandler(from, msg);
    } catch (err) {
      if (!(err instanceof RondoError)) throw err;
      this.log.warn({ from, type: msg.type, code: err.code, err: err.message }, `transport: dropped ${msg.type} from ${from}: ${err.message}`);
    }
  }

  /** Never rejects: errors become `err` replies. */
  private async answer(req: WireMessage, ctx: RequestContext): Promise<{ res: WireMessage } | { err: WireErrorBody }> {
    const handler = this.requestHandler;
    if (handler === undefined) return { err: { code: 'internal', message: 'this node serves no requests' } };
    try {
      return { res: await handler(req, ctx) };
    } catch (err) {
      if (err instanceof NotClaimantError) return { err: { code: err.code, message: err.message, claimant: err.claimant } };
      if (err instanceof RondoError) return { err: { code: err.code, message: err.message } };
      this.log.error({ from: ctx.from, type: req.type, err: String(err) }, 'transport: request handler threw');
      return { err: { code: 'internal', message: `internal error: ${String((err as Error)?.message ?? err)}` } };
    }
  }
}

