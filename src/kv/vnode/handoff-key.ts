// Binary form of a stored key in a handoff item: a format byte, then msgpack
// [bucketType, bucket bytes, key bytes] (plain arrays, no record tables).
import { Packr } from 'msgpackr';
import type { StoredKey } from '../backend/index.js';
import { CorruptObjectError } from '../errors.js';

/** Leading byte of an encoded handoff key; bump it when the layout changes. */
export const HANDOFF_KEY_FORMAT_VERSION = 1;

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeHandoffKey(k: StoredKey): Uint8Array {
  const body = packr.pack([k.bucketType, k.bucket, k.key]);
  const out = new Uint8Array(body.length + 1);
  out[0] = HANDOFF_KEY_FORMAT_VERSION;
  out.set(body, 1);
  return out;
}

/** Throws CorruptObjectError (and nothing else) unless `bytes` is an encoded key. */
export function decodeHandoffKey(bytes: Uint8Array): StoredKey {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw new CorruptObjectError('handoff key bytes: too short');
  if (bytes[0] !== HANDOFF_KEY_FORMAT_VERSION) throw new CorruptObjectError(`handoff key bytes: unknown format version ${bytes[0]}`);
  let root: unknown;
  try {
    root = packr.unpack(bytes.subarray(1));
  } catch (err) {
    throw new CorruptObjectError(`handoff key bytes: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(root) || root.length !== 3) throw new CorruptObjectError('handoff key bytes: not [type, bucket, key]');
  const [bucketType, bucket, key] = root as unknown[];
  if (typeof bucketType !== 'string' || !(bucket instanceof Uint8Array) || !(key instanceof Uint8Array)) {
    throw new CorruptObjectError('handoff key bytes: wrong field types');
  }
  return { bucketType, bucket: new Uint8Array(bucket), key: new Uint8Array(key) };
}
