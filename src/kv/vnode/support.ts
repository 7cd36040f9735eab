// Small pure helpers of the KV vnode.
import type { IndexEntry, StoredKey } from '../backend/index.js';
import { someValue, values } from '../object/index.js';
import type { RObject } from '../object/index.js';

/** Union of the index entries of every live (not deleted) sibling. */
export function liveIndexes(obj: RObject): readonly IndexEntry[] {
  if (!someValue(obj.clock, (c) => !c.meta.deleted && c.meta.indexes.length > 0)) return NO_INDEXES; // the common case: nothing to collect
  const unique = new Map<string, IndexEntry>();
  for (const c of values(obj.clock)) {
    if (c.meta.deleted) continue;
    for (const [index, value] of c.meta.indexes) unique.set(`${index}\u0000${typeof value}\u0000${value}`, { index, value });
  }
  return [...unique.values()];
}

const NO_INDEXES: readonly IndexEntry[] = Object.freeze([]);

export function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function sameKey(k: StoredKey, o: RObject): boolean {
  return k.bucketType === o.bucketType && utf8(k.bucket) === o.bucket && utf8(k.key) === o.key;
}
