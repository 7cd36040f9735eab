// Rondo's TypeScript client over Riak's Protocol Buffers API. See README.md
// ("TypeScript client") and examples/client-quickstart.mts.
export { RondoClient, type RondoClientOptions } from './client.js';
export { RondoClientError, isRondoClientError, type RondoClientErrorCode } from './errors.js';
export * from './limits.js';
export type * from './types.js';
export { causalContext } from './types.js';
