// Public surface of the transport.
export { TcpTransport, type TcpTransportOptions, type RequestHandler, type RequestContext, type PeerStats, type TransportStats } from './tcp-transport.js';
export { rpcRequest, errorFromWire, RemoteInternalError, type RpcRequestOptions } from './rpc.js';
export { FrameDecoder, encodeFrame, decodePayload, parseEnvelope, type Envelope } from './frame.js';
export { negotiateVersion, type Role, type HandshakeResult } from './handshake.js';
export { resolveLimits, TRANSPORT_LIMITS_DEFAULT, type TransportLimits } from './limits.js';
export type { LinkStats } from './link.js';
export { parseAddress, formatAddress } from './address.js';
