// The Env is everything a protocol core may not do for itself: read time, set
// timers, draw random numbers, talk to the network, log. Production hands in
// real ones (src/core/host, src/core/transport); the simulator hands in
// virtual ones (src/core/sim). Same protocol code in both.

/** A node's name, unique in the cluster, e.g. "n1". */
export type NodeName = string;

/** "host:port" where a node's transport listens. */
export type NodeAddress = string;

export type TimerId = number;

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Seeded, deterministic in simulation. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). */
  int(bound: number): number;
}

/**
 * Every message between nodes is a plain object with a string `type`
 * ("swim.ping", "ring.gossip", ...). Subsystems define discriminated unions
 * of these; the transport wraps them in a versioned envelope.
 */
export interface WireMessage {
  readonly type: string;
}

/** Control messages are small and latency-sensitive; bulk carries transfers. */
export type Channel = 'control' | 'bulk';

export interface NetworkPort {
  /**
   * Queue `msg` for `to`. Never blocks. Throws `OverloadError` when the
   * outbound queue for that peer is full, `UnknownPeerError` when no address
   * is known for `to`. Delivery is not guaranteed (the peer may be down).
   */
  send(to: NodeName, msg: WireMessage, channel?: Channel): void;
  /** Tell the network where a peer listens (learned from the ring). */
  setPeerAddress(name: NodeName, address: NodeAddress): void;
  /** Forget a peer: close its connections and drop its queue. */
  removePeer(name: NodeName): void;
  /** Register the one handler for inbound messages from authenticated peers. */
  onReceive(handler: (from: NodeName, msg: WireMessage) => void): void;
}

/**
 * Small synchronous metadata store (the ring, node identity). Writes are
 * durable when `save` returns. In simulation a node's store survives a crash
 * unless the scenario wipes it.
 */
export interface MetaStore {
  load(key: string): Uint8Array | undefined;
  save(key: string, value: Uint8Array): void;
}

export interface Env {
  readonly nodeName: NodeName;
  /** Monotonic milliseconds since an arbitrary origin. Never goes backwards. */
  nowMs(): number;
  /** Wall-clock milliseconds since the Unix epoch (may be skewed in simulation). */
  wallClockMs(): number;
  setTimer(delayMs: number, fire: () => void): TimerId;
  clearTimer(id: TimerId): void;
  readonly random: Random;
  readonly net: NetworkPort;
  readonly log: Logger;
  readonly meta: MetaStore;
}
