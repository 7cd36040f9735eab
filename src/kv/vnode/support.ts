// Small pure helpers of the KV vnode.
import type { IndexEntry, StoredKey } from '../backend/index.js';
import { CorruptObjectError } from '../errors.js';
import { decodeObject, encodeObject, values } from '../object/index.js';
import type { RObject } from '../object/index.js';

/** Union of the index entries of every live (not deleted) sibling. */
export function liveIndexes(obj: RObject): IndexEntry[] {
  const unique = new Map<string, IndexEntry>();
  for (const c of values(obj.clock)) {
    if (c.meta.deleted) continue;
    for (const [index, value] of c.meta.indexes) unique.set(`${index}\u0000${typeof value}\u0000${value}`, { index, value });
  }
  return [...unique.values()];
}

export function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function sameKey(k: StoredKey, o: RObject): boolean {
  return k.bucketType === o.bucketType && utf8(k.bucket) === o.bucket && utf8(k.key) === o.key;
}

/** A peer's object, checked as strictly as stored bytes (a round trip through the codec). */
export function checkedObject(obj: RObject): RObject {
  let bytes: Uint8Array;
  try {
    bytes = encodeObject(obj);
  } catch (err) {
    throw new CorruptObjectError(`replicated object does not encode: ${err instanceof Error ? err.message : String(err)}`);
  }
  return decodeObject(bytes);
}
