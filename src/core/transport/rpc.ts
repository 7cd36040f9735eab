// One-shot request/response client, used by the admin CLI (role "admin") and
// by peers that need an answer rather than a one-way message (role "peer").
import { connect } from 'node:net';
import { ADMIN_REQUEST_TIMEOUT_MS, CONNECT_TIMEOUT_MS, FRAME_BYTES_MAX, HANDSHAKE_TIMEOUT_MS } from '../constants.js';
import type { Logger, NodeAddress, WireMessage } from '../env.js';
import * as errors from '../errors.js';
import { AbortedError, FrameInvalidError, MessageTooLargeError, PeerUnreachableError, RondoError, TimeoutError, type ErrorCode } from '../errors.js';
import { parseAddress } from './address.js';
import { Connection } from './connection.js';
import { parseEnvelope, type WireErrorBody } from './frame.js';
import { startHandshake, type Role } from './handshake.js';

export interface RpcRequestOptions {
  readonly address: NodeAddress;
  readonly clusterSecret: string;
  /** Omit (admin) when the cluster name is not known. */
  readonly clusterName?: string;
  readonly fromName?: string;
  readonly role?: Role;
  readonly msg: WireMessage;
  /** Whole exchange, connect included. Default ADMIN_REQUEST_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Protocol problems are logged here; silent by default (the caller gets the error). */
  readonly log?: Logger;
}

/** A remote failure that is not (or not known as) a RondoError of this build. */
export class RemoteInternalError extends RondoError {
  constructor(message: string) {
    super('internal', message);
  }
}

const silentLog: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

type Constructor = new (message: string) => RondoError;
const errorClasses: Partial<Record<ErrorCode, Constructor>> = {
  overload: errors.OverloadError,
  unknown_peer: errors.UnknownPeerError,
  peer_unreachable: errors.PeerUnreachableError,
  handshake_refused: errors.HandshakeRefusedError,
  frame_invalid: errors.FrameInvalidError,
  message_too_large: errors.MessageTooLargeError,
  timeout: errors.TimeoutError,
  aborted: errors.AbortedError,
  invalid_argument: errors.InvalidArgumentError,
  not_member: errors.NotMemberError,
  plan_empty: errors.PlanEmptyError,
  plan_invalid: errors.PlanInvalidError,
  insufficient_vnodes: errors.InsufficientVnodesForCoverageError,
  internal: RemoteInternalError,
};

/** Rebuild the typed error a remote handler threw; unknown codes become 'internal'. */
export function errorFromWire(body: WireErrorBody): RondoError {
  if (body.code === 'not_claimant') return new errors.NotClaimantError(body.claimant ?? '', body.message);
  const ErrorClass = Object.hasOwn(errorClasses, body.code) ? errorClasses[body.code as ErrorCode] : undefined;
  if (ErrorClass === undefined) return new RemoteInternalError(`${body.code}: ${body.message}`);
  return new ErrorClass(body.message);
}

const REQUEST_ID = 1;

export function rpcRequest(options: RpcRequestOptions): Promise<WireMessage> {
  const { address, signal } = options;
  const timeoutMs = options.timeoutMs ?? ADMIN_REQUEST_TIMEOUT_MS;
  const { host, port } = parseAddress(address);
  if (signal?.aborted) return Promise.reject(new AbortedError(`request to ${address} aborted`));

  return new Promise<WireMessage>((resolve, reject) => {
    const socket = connect({ host, port });
    const conn = new Connection({ socket, log: options.log ?? silentLog, remote: address, frameBytesMax: FRAME_BYTES_MAX });
    let settled = false;
    const finish = (outcome: WireMessage | RondoError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
      conn.close('request finished');
      if (outcome instanceof RondoError) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => finish(new AbortedError(`request to ${address} aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(new TimeoutError(`request to ${address} timed out after ${timeoutMs} ms`)), timeoutMs);
    const connectTimeoutMs = Math.min(CONNECT_TIMEOUT_MS, timeoutMs);
    const connectTimer = setTimeout(() => finish(new PeerUnreachableError(`cannot reach ${address}: connect timed out after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) finish(new PeerUnreachableError(`cannot reach ${address}: ${err.code ?? err.message}`));
    });

    const handshake = {
      side: 'dial' as const,
      cluster: options.clusterName ?? '',
      node: options.fromName ?? 'admin',
      role: options.role ?? 'admin',
      channel: 'control' as const,
      secret: options.clusterSecret,
      timeoutMs: Math.min(HANDSHAKE_TIMEOUT_MS, timeoutMs),
    };
    startHandshake(conn, handshake, (result) => {
      if (result instanceof Error) return finish(result);
      conn.setHandlers({
        frame: (value) => {
          const envelope = parseEnvelope(value, result.version);
          if (envelope.kind === 'response' && envelope.id === REQUEST_ID) return finish(envelope.res);
          if (envelope.kind === 'error' && envelope.id === REQUEST_ID) return finish(errorFromWire(envelope.err));
          finish(new FrameInvalidError(`unexpected ${envelope.kind} from ${address}`));
        },
        close: (reason) => finish(new PeerUnreachableError(`connection to ${address} closed before the reply: ${reason}`)),
      });
      try {
        conn.sendValue({ v: result.version, id: REQUEST_ID, req: options.msg });
      } catch (err) {
        if (!(err instanceof MessageTooLargeError)) throw err;
        finish(err);
      }
    });
  });
}
