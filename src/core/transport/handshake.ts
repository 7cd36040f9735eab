// Handshake. Both ends send a hello at once, then, after checking the other's
// hello, an auth MAC; a connection is up when the other's MAC verifies.
//
// mac = HMAC-SHA256(secret, "rondo-auth|" side | peerNonce | ownNonce | ownNode
// | cluster | role). It binds the verifier's fresh nonce (no replay) and the
// sender's side of the connection (dial/accept), so an attacker cannot make a
// node compute, on one connection, the MAC it needs on another (reflection).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CAPABILITIES, HANDSHAKE_NONCE_BYTES, PROTOCOL_VERSION, PROTOCOL_VERSION_MIN } from '../constants.js';
import type { Channel } from '../env.js';
import { HandshakeRefusedError, PeerUnreachableError, type RondoError } from '../errors.js';
import type { Connection } from './connection.js';

export type Role = 'peer' | 'admin';
export type Side = 'dial' | 'accept';

export interface Hello {
  readonly kind: 'hello';
  readonly cluster: string;
  readonly node: string;
  readonly role: Role;
  readonly channel: Channel;
  readonly version: number;
  readonly minVersion: number;
  readonly caps: readonly string[];
  readonly nonce: Uint8Array;
}

export interface HandshakeOptions {
  readonly side: Side;
  readonly cluster: string;
  readonly node: string;
  readonly role: Role;
  readonly channel: Channel;
  readonly secret: string;
  readonly timeoutMs: number;
  /** Tests only: advertise another version range. */
  readonly versionRange?: { readonly min: number; readonly max: number };
  /** Tests only: advertise other capabilities (an older peer's). */
  readonly caps?: readonly string[];
}

export interface HandshakeResult {
  readonly node: string;
  readonly cluster: string;
  readonly role: Role;
  readonly channel: Channel;
  /** Negotiated protocol version: the highest both ends speak. */
  readonly version: number;
  readonly caps: readonly string[];
}

const MAC_BYTES = 32;
const NAME_CHARS_MAX = 255;
const CAPS_MAX = 256;

export function computeMac(args: { secret: string; side: Side; peerNonce: Uint8Array; ownNonce: Uint8Array; ownNode: string; cluster: string; role: Role }): Buffer {
  const text = ['rondo-auth', args.side, Buffer.from(args.peerNonce).toString('hex'), Buffer.from(args.ownNonce).toString('hex'), args.ownNode, args.cluster, args.role].join('|');
  return createHmac('sha256', args.secret).update(text).digest();
}

/** Highest version in both ranges, or undefined when the ranges do not overlap. */
export function negotiateVersion(ours: { min: number; max: number }, theirs: { min: number; max: number }): number | undefined {
  const low = Math.max(ours.min, theirs.min);
  const high = Math.min(ours.max, theirs.max);
  return low <= high ? high : undefined;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= NAME_CHARS_MAX;
}

/** Shape check of an untrusted hello; returns a reason when it is not one. */
export function helloShapeProblem(value: Record<string, unknown>): string | undefined {
  if (!isName(value.cluster) || !isName(value.node)) return 'hello without cluster/node names';
  if (value.role !== 'peer' && value.role !== 'admin') return 'hello with unknown role';
  if (value.channel !== 'control' && value.channel !== 'bulk') return 'hello with unknown channel';
  if (!Number.isInteger(value.version) || !Number.isInteger(value.minVersion)) return 'hello without version range';
  const caps = value.caps;
  if (!Array.isArray(caps) || caps.length > CAPS_MAX || !caps.every(isName)) return 'hello with malformed capabilities';
  if (!(value.nonce instanceof Uint8Array) || value.nonce.length !== HANDSHAKE_NONCE_BYTES) return 'hello with malformed nonce';
  return undefined;
}

/** Policy: who may talk to whom. Returns a refusal reason, or undefined to go on. */
function policyProblem(options: HandshakeOptions, hello: Hello): string | undefined {
  if (hello.role === 'admin' && options.side === 'dial') return 'remote end of a dialed connection claims role admin';
  // An admin CLI may not know the cluster name; it still has to prove the secret.
  const clusterUnknown = (hello.role === 'admin' && hello.cluster === '') || (options.role === 'admin' && options.cluster === '');
  if (!clusterUnknown && hello.cluster !== options.cluster) {
    return `wrong cluster name: "${hello.cluster}" (this node is in "${options.cluster}")`;
  }
  if (hello.role === 'peer' && options.role === 'peer' && hello.node === '') return 'peer without a node name';
  if (hello.role === 'peer' && options.role === 'peer' && hello.node === options.node) return `peer claims this node's own name "${hello.node}"`;
  return undefined;
}

/**
 * Runs the handshake on `conn`. `done` is called exactly once, synchronously
 * from the frame that completes it, so the caller can install its handlers
 * before the next frame in the same chunk is decoded. On a refusal the
 * connection is already closing when `done` sees the error.
 */
export function startHandshake(conn: Connection, options: HandshakeOptions, done: (result: HandshakeResult | RondoError) => void): void {
  const range = options.versionRange ?? { min: PROTOCOL_VERSION_MIN, max: PROTOCOL_VERSION };
  const ownNonce = randomBytes(HANDSHAKE_NONCE_BYTES);
  let remoteHello: Hello | undefined;
  let version = 0;
  let finished = false;

  const finish = (result: HandshakeResult | RondoError): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(result);
  };
  const refuse = (reason: string): void => {
    conn.refuse(reason);
    finish(new HandshakeRefusedError(`refused connection with ${conn.remote}: ${reason}`));
  };
  const timer = setTimeout(() => refuse(`handshake timed out after ${options.timeoutMs} ms`), options.timeoutMs);

  const onHello = (value: Record<string, unknown>): void => {
    const problem = helloShapeProblem(value);
    if (problem !== undefined) return refuse(problem);
    const hello = value as unknown as Hello;
    const negotiated = negotiateVersion(range, { min: hello.minVersion, max: hello.version });
    if (negotiated === undefined) {
      return refuse(`incompatible protocol versions: ours ${range.min}..${range.max}, theirs ${hello.minVersion}..${hello.version}`);
    }
    const policy = policyProblem(options, hello);
    if (policy !== undefined) return refuse(policy);
    remoteHello = hello;
    version = negotiated;
    const mac = computeMac({ secret: options.secret, side: options.side, peerNonce: hello.nonce, ownNonce, ownNode: options.node, cluster: options.cluster, role: options.role });
    conn.sendValue({ kind: 'auth', mac });
  };

  const onAuth = (value: Record<string, unknown>, hello: Hello): void => {
    const mac = value.mac;
    const expected = computeMac({
      secret: options.secret,
      side: options.side === 'dial' ? 'accept' : 'dial',
      peerNonce: ownNonce,
      ownNonce: hello.nonce,
      ownNode: hello.node,
      cluster: hello.cluster,
      role: hello.role,
    });
    if (!(mac instanceof Uint8Array) || mac.length !== MAC_BYTES || !timingSafeEqual(mac, expected)) {
      return refuse('bad authentication MAC (wrong cluster secret)');
    }
    finish({ node: hello.node, cluster: hello.cluster, role: hello.role, channel: hello.channel, version, caps: [...hello.caps] });
  };

  conn.setHandlers({
    frame: (value) => {
      if (finished) return;
      const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
      if (record.kind === 'refused') {
        const reason = typeof record.reason === 'string' ? record.reason : 'no reason given';
        conn.refusedByRemote(reason);
        return finish(new HandshakeRefusedError(`${conn.remote} refused the connection: ${reason}`));
      }
      if (record.kind === 'hello' && remoteHello === undefined) return onHello(record);
      if (record.kind === 'auth' && remoteHello !== undefined) return onAuth(record, remoteHello);
      refuse('unexpected frame before handshake completed');
    },
    close: (reason) => finish(new PeerUnreachableError(`connection to ${conn.remote} closed during handshake: ${reason}`)),
  });

  const hello: Hello = {
    kind: 'hello',
    cluster: options.cluster,
    node: options.node,
    role: options.role,
    channel: options.channel,
    version: range.max,
    minVersion: range.min,
    caps: options.caps ?? CAPABILITIES,
    nonce: ownNonce,
  };
  conn.sendValue(hello);
}
