// Keys the server makes up when a client stores without one (HTTP POST to
// .../keys, PB RpbPutReq without a key): 22 characters, as Riak generates.
import { randomBytes } from 'node:crypto';

export function generatedKey(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}
