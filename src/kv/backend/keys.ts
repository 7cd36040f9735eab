// Row key layout shared by every engine (the memory engine sorts the same
// bytes), so ordering is identical by construction:
//
//   object   [partition u16 BE][0][len u8][bucketType][len u8][bucket][key]
//   index    [partition u16 BE][1][len u8][bucketType][len u8][bucket][len u8][index][term][key]
//   reverse  [partition u16 BE][2][len u8][bucketType][len u8][bucket][key]
//
// Length prefixes make the layout unambiguous: bucket "a" never prefixes
// bucket "ab", type "x" never prefixes "x\0". The key is last, so it needs no
// prefix. Index terms are followed by the key, so they must be self-delimiting
// and order-preserving: `_int` is the 64-bit big-endian two's complement with
// the sign bit flipped; `_bin` escapes 0x00 as 0x00 0xFF and ends with 0x00
// 0x00, so "a" < "a\0" < "ab" byte-wise, whatever key follows.
import { assert } from '../../core/errors.js';
import { IndexInvalidError, KeyInvalidError } from './errors.js';
import { BUCKET_BYTES_MAX, BUCKET_TYPE_BYTES_MAX, INDEX_NAME_BYTES_MAX, INDEX_TERM_BYTES_MAX, KEY_BYTES_MAX, PARTITION_MAX } from './limits.js';
import type { IndexEntry, StoreKey, StoredKey } from './types.js';

export const KIND_OBJECT = 0;
export const KIND_INDEX = 1;
export const KIND_REVERSE = 2;
type Kind = typeof KIND_OBJECT | typeof KIND_INDEX | typeof KIND_REVERSE;

export function bytesOf(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function checkedBytes(what: string, value: Uint8Array | string, max: number): Buffer {
  const bytes = bytesOf(value);
  if (bytes.length === 0) throw new KeyInvalidError(`${what} must not be empty`);
  if (bytes.length > max) throw new KeyInvalidError(`${what} is ${bytes.length} bytes; the limit is ${max}`);
  return bytes;
}

export interface EncodedKey {
  type: Buffer;
  bucket: Buffer;
  key: Buffer;
}
export function validateKey(k: StoreKey): EncodedKey {
  return {
    type: checkedBytes('bucket type', k.bucketType, BUCKET_TYPE_BYTES_MAX),
    bucket: checkedBytes('bucket', k.bucket, BUCKET_BYTES_MAX),
    key: checkedBytes('key', k.key, KEY_BYTES_MAX),
  };
}
export function validateBucket(bucketType: string, bucket?: Uint8Array | string): { type: Buffer; bucket?: Buffer } {
  const type = checkedBytes('bucket type', bucketType, BUCKET_TYPE_BYTES_MAX);
  return bucket === undefined ? { type } : { type, bucket: checkedBytes('bucket', bucket, BUCKET_BYTES_MAX) };
}

function header(partition: number, kind: Kind): Buffer {
  assert(Number.isInteger(partition) && partition >= 0 && partition <= PARTITION_MAX, 'partition fits u16');
  const out = Buffer.allocUnsafe(3);
  out.writeUInt16BE(partition, 0);
  out[2] = kind;
  return out;
}
function prefixed(bytes: Buffer): Buffer[] {
  assert(bytes.length <= 255, 'length fits u8');
  return [Buffer.from([bytes.length]), bytes];
}

/** Prefix of all rows of a kind in a partition, optionally narrowed to a type and bucket. */
export function rowPrefix(partition: number, kind: Kind, type?: Buffer, bucket?: Buffer): Buffer {
  assert(bucket === undefined || type !== undefined, 'a bucket needs its type');
  const parts = [header(partition, kind)];
  if (type) parts.push(...prefixed(type));
  if (bucket) parts.push(...prefixed(bucket));
  return Buffer.concat(parts);
}
export function partitionPrefix(partition: number): Buffer {
  assert(Number.isInteger(partition) && partition >= 0 && partition <= PARTITION_MAX, 'partition fits u16');
  const out = Buffer.allocUnsafe(2);
  out.writeUInt16BE(partition, 0);
  return out;
}
/**
 * The object row of a key, validated and encoded in one allocation: the get
 * and put hot path (objectRow(validateKey(k)) builds eight buffers).
 * Throws KeyInvalidError like validateKey.
 */
export function objectRowOf(k: StoreKey, partition: number): Buffer {
  assert(Number.isInteger(partition) && partition >= 0 && partition <= PARTITION_MAX, 'partition fits u16');
  const typeBytes = partLength('bucket type', k.bucketType, BUCKET_TYPE_BYTES_MAX);
  const bucketBytes = partLength('bucket', k.bucket, BUCKET_BYTES_MAX);
  const keyBytes = partLength('key', k.key, KEY_BYTES_MAX);
  const out = Buffer.allocUnsafe(3 + 1 + typeBytes + 1 + bucketBytes + keyBytes);
  out.writeUInt16BE(partition, 0);
  out[2] = KIND_OBJECT;
  let at = 3;
  out[at++] = typeBytes;
  at += writePart(out, at, k.bucketType);
  out[at++] = bucketBytes;
  at += writePart(out, at, k.bucket);
  at += writePart(out, at, k.key);
  assert(at === out.length, 'object row filled exactly');
  return out;
}

function partLength(what: string, value: Uint8Array | string, max: number): number {
  const bytes = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength;
  if (bytes === 0) throw new KeyInvalidError(`${what} must not be empty`);
  if (bytes > max) throw new KeyInvalidError(`${what} is ${bytes} bytes; the limit is ${max}`);
  return bytes;
}

function writePart(out: Buffer, at: number, value: Uint8Array | string): number {
  if (typeof value === 'string') return out.write(value, at, 'utf8');
  out.set(value, at);
  return value.byteLength;
}

export function objectRow(k: EncodedKey, partition: number): Buffer {
  return Buffer.concat([rowPrefix(partition, KIND_OBJECT, k.type, k.bucket), k.key]);
}
export function reverseRow(k: EncodedKey, partition: number): Buffer {
  return Buffer.concat([rowPrefix(partition, KIND_REVERSE, k.type, k.bucket), k.key]);
}

/** Smallest byte string greater than every string starting with `prefix` (exclusive scan end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i -= 1) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      return out.subarray(0, i + 1);
    }
  }
  assert(false, 'prefix of all 0xff bytes never occurs: the partition header bounds it');
}
/** Smallest byte string strictly greater than `row` (exclusive resume point). */
export function successor(row: Buffer): Buffer {
  return Buffer.concat([row, Buffer.from([0])]);
}

/**
 * Decodes an object or reverse row back to its key; the layout is ours, so
 * malformed rows are bugs. The bucket and key are copies, or with
 * `views` (for a row buffer the caller owns) views into the row.
 */
export function decodeRow(row: Buffer, views = false): StoredKey {
  let at = 3;
  const typeLength = row[at]!;
  const type = row.subarray(at + 1, at + 1 + typeLength);
  at += 1 + typeLength;
  const bucketLength = row[at]!;
  const bucket = row.subarray(at + 1, at + 1 + bucketLength);
  at += 1 + bucketLength;
  assert(at < row.length, 'row holds a non-empty key');
  const key = row.subarray(at);
  return views ? { bucketType: type.toString('utf8'), bucket, key } : { bucketType: type.toString('utf8'), bucket: new Uint8Array(bucket), key: new Uint8Array(key) };
}

// ---- secondary indexes ----

export type IndexKind = 'bin' | 'int';
export function indexKind(index: string): IndexKind {
  const bytes = Buffer.byteLength(index, 'utf8');
  if (bytes > INDEX_NAME_BYTES_MAX) throw new IndexInvalidError(`index name is ${bytes} bytes; the limit is ${INDEX_NAME_BYTES_MAX}`);
  if (index.endsWith('_bin') && index.length > 4) return 'bin';
  if (index.endsWith('_int') && index.length > 4) return 'int';
  throw new IndexInvalidError(`index name ${JSON.stringify(index)} must end in _bin or _int`);
}

export function encodeTerm(kind: IndexKind, index: string, term: string | number): Buffer {
  if (kind === 'int') {
    if (typeof term !== 'number' || !Number.isSafeInteger(term)) throw new IndexInvalidError(`${index}: term ${String(term)} is not a safe integer`);
    const out = Buffer.allocUnsafe(8);
    out.writeBigInt64BE(BigInt(term), 0);
    out[0] = out[0]! ^ 0x80; // flipping the sign bit makes negatives sort first
    return out;
  }
  if (typeof term !== 'string') throw new IndexInvalidError(`${index}: term must be a string`);
  const raw = Buffer.from(term, 'utf8');
  if (raw.length > INDEX_TERM_BYTES_MAX) throw new IndexInvalidError(`${index}: term is ${raw.length} bytes; the limit is ${INDEX_TERM_BYTES_MAX}`);
  const out: number[] = [];
  for (const byte of raw) {
    out.push(byte);
    if (byte === 0) out.push(0xff);
  }
  out.push(0, 0);
  return Buffer.from(out);
}

/** Reads a term at `at`; returns it and where the key starts. */
function decodeTerm(kind: IndexKind, row: Buffer, at: number): { term: string | number; keyAt: number } {
  if (kind === 'int') {
    const copy = Buffer.from(row.subarray(at, at + 8));
    copy[0] = copy[0]! ^ 0x80;
    return { term: Number(copy.readBigInt64BE(0)), keyAt: at + 8 };
  }
  const out: number[] = [];
  for (let i = at; i < row.length; i += 1) {
    if (row[i] !== 0) out.push(row[i]!);
    else if (row[i + 1] === 0xff) {
      out.push(0);
      i += 1;
    } else return { term: Buffer.from(out).toString('utf8'), keyAt: i + 2 };
  }
  assert(false, 'bin term is terminated');
}

export function indexPrefix(partition: number, type: Buffer, bucket: Buffer, index: string): Buffer {
  return Buffer.concat([rowPrefix(partition, KIND_INDEX, type, bucket), ...prefixed(Buffer.from(index, 'utf8'))]);
}
export function decodeIndexRow(kind: IndexKind, row: Buffer, prefixLength: number): { term: string | number; key: Uint8Array } {
  const { term, keyAt } = decodeTerm(kind, row, prefixLength);
  return { term, key: new Uint8Array(row.subarray(keyAt)) };
}

/** Validates and encodes all index rows of one object, deduplicated and sorted. */
export function indexRows(partition: number, k: EncodedKey, indexes: readonly IndexEntry[]): Buffer[] {
  const rows = new Map<string, Buffer>();
  for (const entry of indexes) {
    const kind = indexKind(entry.index);
    const row = Buffer.concat([indexPrefix(partition, k.type, k.bucket, entry.index), encodeTerm(kind, entry.index, entry.value), k.key]);
    rows.set(row.toString('hex'), row);
  }
  return [...rows.values()].sort(Buffer.compare);
}

// The reverse row's value lists the object's index rows ([u16 length][row]...),
// so a put or delete can remove exactly the old entries without a scan.
export function encodeRowList(rows: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const row of rows) {
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(row.length, 0);
    parts.push(length, row);
  }
  return Buffer.concat(parts);
}
export function decodeRowList(bytes: Buffer): Buffer[] {
  const rows: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt16BE(at);
    rows.push(Buffer.from(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return rows;
}
