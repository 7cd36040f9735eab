// The KV simulation harness lives in src/kv/scenarios (the KV scenario uses
// it too); this module re-exports it with the tests' small helpers.
import type { KeyRef, PutContent } from '../../../../src/kv/vnode/index.js';

export { allSeeAllUp, formKvCluster, KvSimCluster, microtasks } from '../../../../src/kv/scenarios/kv-sim-cluster.js';

export function text(value: string): PutContent {
  return { value: new TextEncoder().encode(value), contentType: 'text/plain' };
}

export function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

export const REF: KeyRef = { bucketType: 'default', bucket: 'b', key: 'k' };
