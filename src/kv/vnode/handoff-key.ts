// Binary form of a stored key in a handoff item: a format byte, then msgpack
// [bucketType, bucket bytes, key bytes] (plain arrays, no record tables).
//
// Written and read by hand, not through msgpackr: this runs once per item on
// both ends of every transfer, and the layout is three fields. The encoder
// writes the shortest msgpack headers; the decoder accepts every msgpack
// length form of those three fields (so keys from any msgpack encoder,
// including earlier builds that used msgpackr, decode the same) and refuses
// anything else, trailing bytes included.
import type { StoredKey } from '../backend/index.js';
import { CorruptObjectError } from '../errors.js';

/** Leading byte of an encoded handoff key; bump it when the layout changes. */
export const HANDOFF_KEY_FORMAT_VERSION = 1;

const FIXARRAY_3 = 0x93;

function strHeaderBytes(length: number): number {
  return length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}
function binHeaderBytes(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

function writeStrHeader(out: Buffer, at: number, length: number): number {
  if (length < 32) {
    out[at] = 0xa0 | length;
    return at + 1;
  }
  if (length < 0x100) {
    out[at] = 0xd9;
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    out[at] = 0xda;
    out.writeUInt16BE(length, at + 1);
    return at + 3;
  }
  out[at] = 0xdb;
  out.writeUInt32BE(length, at + 1);
  return at + 5;
}

function writeBin(out: Buffer, at: number, bytes: Uint8Array): number {
  const length = bytes.byteLength;
  if (length < 0x100) {
    out[at] = 0xc4;
    out[at + 1] = length;
    at += 2;
  } else if (length < 0x10000) {
    out[at] = 0xc5;
    out.writeUInt16BE(length, at + 1);
    at += 3;
  } else {
    out[at] = 0xc6;
    out.writeUInt32BE(length, at + 1);
    at += 5;
  }
  out.set(bytes, at);
  return at + length;
}

export function encodeHandoffKey(k: StoredKey): Uint8Array {
  const typeBytes = Buffer.byteLength(k.bucketType, 'utf8');
  const size = 2 + strHeaderBytes(typeBytes) + typeBytes + binHeaderBytes(k.bucket.byteLength) + k.bucket.byteLength + binHeaderBytes(k.key.byteLength) + k.key.byteLength;
  const out = Buffer.allocUnsafe(size);
  out[0] = HANDOFF_KEY_FORMAT_VERSION;
  out[1] = FIXARRAY_3;
  let at = writeStrHeader(out, 2, typeBytes);
  at += out.write(k.bucketType, at, 'utf8');
  at = writeBin(out, at, k.bucket);
  at = writeBin(out, at, k.key);
  if (at !== size) throw new Error(`handoff key encoding wrote ${at} of ${size} bytes`); // a bug, never bad input
  return out;
}

/** Where the three fields of an encoded key lie in its bytes (end exclusive). */
interface KeySpans {
  typeStart: number;
  typeEnd: number;
  bucketStart: number;
  bucketEnd: number;
  keyStart: number;
  keyEnd: number;
}

/** Reads one msgpack header of the expected family at `at`: [bodyStart, bodyEnd], or a string saying what is wrong. */
function field(bytes: Buffer, at: number, family: 'str' | 'bin'): [number, number] | string {
  if (at >= bytes.length) return 'truncated';
  const tag = bytes[at]!;
  let length: number;
  let start: number;
  if (family === 'str' && (tag & 0xe0) === 0xa0) {
    length = tag & 0x1f;
    start = at + 1;
  } else if (tag === (family === 'str' ? 0xd9 : 0xc4)) {
    if (at + 2 > bytes.length) return 'truncated';
    length = bytes[at + 1]!;
    start = at + 2;
  } else if (tag === (family === 'str' ? 0xda : 0xc5)) {
    if (at + 3 > bytes.length) return 'truncated';
    length = bytes.readUInt16BE(at + 1);
    start = at + 3;
  } else if (tag === (family === 'str' ? 0xdb : 0xc6)) {
    if (at + 5 > bytes.length) return 'truncated';
    length = bytes.readUInt32BE(at + 1);
    start = at + 5;
  } else {
    return 'wrong field types';
  }
  if (start + length > bytes.length) return 'truncated';
  return [start, start + length];
}

/** Field spans of an encoded key; throws CorruptObjectError (and nothing else) unless `bytes` is one. */
function spans(bytes: Uint8Array): { buffer: Buffer; spans: KeySpans } {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw new CorruptObjectError('handoff key bytes: too short');
  if (bytes[0] !== HANDOFF_KEY_FORMAT_VERSION) throw new CorruptObjectError(`handoff key bytes: unknown format version ${bytes[0]}`);
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 1;
  const head = buffer[at]!;
  if (head === FIXARRAY_3) at += 1;
  else if (head === 0xdc && buffer.length >= at + 3 && buffer.readUInt16BE(at + 1) === 3) at += 3;
  else if (head === 0xdd && buffer.length >= at + 5 && buffer.readUInt32BE(at + 1) === 3) at += 5;
  else throw new CorruptObjectError('handoff key bytes: not [type, bucket, key]');
  const type = field(buffer, at, 'str');
  if (typeof type === 'string') throw new CorruptObjectError(`handoff key bytes: ${type}`);
  const bucket = field(buffer, type[1], 'bin');
  if (typeof bucket === 'string') throw new CorruptObjectError(`handoff key bytes: ${bucket}`);
  const key = field(buffer, bucket[1], 'bin');
  if (typeof key === 'string') throw new CorruptObjectError(`handoff key bytes: ${key}`);
  if (key[1] !== buffer.length) throw new CorruptObjectError(`handoff key bytes: ${buffer.length - key[1]} bytes after the key`);
  return { buffer, spans: { typeStart: type[0], typeEnd: type[1], bucketStart: bucket[0], bucketEnd: bucket[1], keyStart: key[0], keyEnd: key[1] } };
}

/** Throws CorruptObjectError (and nothing else) unless `bytes` is an encoded key. */
export function decodeHandoffKey(bytes: Uint8Array): StoredKey {
  const { buffer, spans: s } = spans(bytes);
  return {
    bucketType: buffer.toString('utf8', s.typeStart, s.typeEnd),
    bucket: new Uint8Array(buffer.subarray(s.bucketStart, s.bucketEnd)),
    key: new Uint8Array(buffer.subarray(s.keyStart, s.keyEnd)),
  };
}

/**
 * Whether the encoded key names `names` (an object's bucket type, bucket and
 * key), compared as UTF-8 text like the vnode's other key checks, without
 * copying the fields out. Throws CorruptObjectError unless `bytes` is an
 * encoded key.
 */
export function handoffKeyNames(bytes: Uint8Array, names: { bucketType: string; bucket: string; key: string }): boolean {
  const { buffer, spans: s } = spans(bytes);
  return (
    buffer.toString('utf8', s.typeStart, s.typeEnd) === names.bucketType &&
    buffer.toString('utf8', s.bucketStart, s.bucketEnd) === names.bucket &&
    buffer.toString('utf8', s.keyStart, s.keyEnd) === names.key
  );
}
