// "host:port" parsing, shared by the transport and the RPC client.
import type { NodeAddress } from '../env.js';
import { InvalidArgumentError } from '../errors.js';

const PORT_MAX = 65_535;

export function parseAddress(address: NodeAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const rawHost = colon > 0 ? address.slice(0, colon) : '';
  const port = Number(address.slice(colon + 1));
  // "[::1]:8087" → "::1"
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  if (host === '' || !Number.isInteger(port) || port < 1 || port > PORT_MAX) {
    throw new InvalidArgumentError(`invalid address "${address}" (expected host:port)`);
  }
  return { host, port };
}

export function formatAddress(host: string, port: number): NodeAddress {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
