// Binary form of an object (storage, replication, handoff) and the client's
// opaque causal context (X-Riak-Vclock). Decoding trusts nothing: bytes from
// disk or a peer either become a fully valid object or a typed error, never a
// crash or an object with a missing field.
import { Packr } from 'msgpackr';
import { assert } from '../../core/errors.js';
import { CONTENT_TYPE_DEFAULT, CONTEXT_BYTES_MAX, CONTEXT_CHARS_MAX, CONTEXT_FORMAT_VERSION, OBJECT_FORMAT_VERSION } from '../constants.js';
import { CorruptObjectError, InvalidContextError } from '../errors.js';
import { validateContent } from './content.js';
import type { Content, ContentMeta, IndexValue } from './content.js';
import { clockProblem } from './dvv.js';
import type { DvvEntry, VersionVector } from './dvv.js';
import type { RObject } from './object.js';

// Records off: plain arrays only, so the format is self-describing and no
// shared structure table has to survive restarts. (Format 1 objects and the
// causal context are msgpack; format 2 objects are written by hand below.)
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Format 1, the msgpack array form written until OBJECT_FORMAT_VERSION 2; still read. */
export const OBJECT_FORMAT_V1 = 1;

// --- format 2 ---
//
//   object   [u8 2] typeName bucket key count(entries) entry...
//   entry    str(actor) uint(counter) count(values) value...
//   value    uint(dot) uint(flags) [str(contentType)] [str(charset)] [str(contentEncoding)]
//            [count(userMeta) (str str)...] [count(indexes) (str index-value)...]
//            uint(lastModified.wallMs) uint(lastModified.logical) str(vtag) count(bytes) bytes
//
// uint: unsigned LEB128, at most 8 bytes, at most Number.MAX_SAFE_INTEGER.
// str: uint byte length, then UTF-8. typeName: uint 0 for "default", else
// uint (length + 1) then UTF-8. flags: the bits below; an absent content
// type is CONTENT_TYPE_DEFAULT, absent lists are empty. index-value: uint 0
// then str (a _bin term), uint 1 then uint n (an _int n >= 0), uint 2 then
// uint -n (an _int n < 0). Decoding checks every length and count against
// the bytes left before it allocates anything, and refuses unknown flags,
// integers not in their shortest form, a flagged field holding its default,
// strings that are not UTF-8 and trailing bytes; then the clock and each
// content are validated as any input is. So an object has exactly one
// encoding (sameBytes relies on it): these fields in this order, the shortest
// integers, an optional field present exactly when it is not its default.
const FLAG_DELETED = 1;
const FLAG_CONTENT_TYPE = 2;
const FLAG_CHARSET = 4;
const FLAG_CONTENT_ENCODING = 8;
const FLAG_USER_META = 16;
const FLAG_INDEXES = 32;
const FLAGS_ALL = 63;
const DEFAULT_TYPE = 'default';
const INDEX_BIN = 0;
const INDEX_INT = 1;
const INDEX_NEGATIVE_INT = 2;
/** 8 LEB128 bytes carry 56 bits: every safe integer. */
const UINT_BYTES_MAX = 8;

export function encodeObject(obj: RObject): Uint8Array {
  const w = new Writer(objectBytes(obj));
  w.byte(OBJECT_FORMAT_VERSION);
  if (obj.bucketType === DEFAULT_TYPE) w.uint(0);
  else {
    w.uint(utf8Length(obj.bucketType) + 1);
    w.chars(obj.bucketType);
  }
  w.str(obj.bucket);
  w.str(obj.key);
  const entries = obj.clock.entries;
  w.uint(entries.length);
  for (const e of entries) {
    w.str(e.actor);
    w.uint(e.counter);
    w.uint(e.values.length);
    for (const [dot, c] of e.values) {
      const m = c.meta;
      w.uint(dot);
      w.uint(flagsOf(m));
      if (m.contentType !== CONTENT_TYPE_DEFAULT) w.str(m.contentType);
      if (m.charset !== undefined) w.str(m.charset);
      if (m.contentEncoding !== undefined) w.str(m.contentEncoding);
      if (m.userMeta.length > 0) {
        w.uint(m.userMeta.length);
        for (const [k, v] of m.userMeta) {
          w.str(k);
          w.str(v);
        }
      }
      if (m.indexes.length > 0) {
        w.uint(m.indexes.length);
        for (const [name, v] of m.indexes) {
          w.str(name);
          if (typeof v === 'string') {
            w.uint(INDEX_BIN);
            w.str(v);
          } else if (v >= 0) {
            w.uint(INDEX_INT);
            w.uint(v);
          } else {
            w.uint(INDEX_NEGATIVE_INT);
            w.uint(-v);
          }
        }
      }
      w.uint(m.lastModified.wallMs);
      w.uint(m.lastModified.logical);
      w.str(m.vtag);
      w.uint(c.value.byteLength);
      w.bytes(c.value);
    }
  }
  assert(w.at === w.out.length, 'encoded object fills its buffer exactly');
  return w.out;
}

function flagsOf(m: ContentMeta): number {
  return (
    (m.deleted ? FLAG_DELETED : 0) |
    (m.contentType !== CONTENT_TYPE_DEFAULT ? FLAG_CONTENT_TYPE : 0) |
    (m.charset !== undefined ? FLAG_CHARSET : 0) |
    (m.contentEncoding !== undefined ? FLAG_CONTENT_ENCODING : 0) |
    (m.userMeta.length > 0 ? FLAG_USER_META : 0) |
    (m.indexes.length > 0 ? FLAG_INDEXES : 0)
  );
}

/** The exact length of encodeObject(obj). */
function objectBytes(obj: RObject): number {
  let n = 1 + (obj.bucketType === DEFAULT_TYPE ? 1 : strBytes(obj.bucketType, 1)) + strBytes(obj.bucket) + strBytes(obj.key) + uintBytes(obj.clock.entries.length);
  for (const e of obj.clock.entries) {
    n += strBytes(e.actor) + uintBytes(e.counter) + uintBytes(e.values.length);
    for (const [dot, c] of e.values) {
      const m = c.meta;
      n += uintBytes(dot) + 1;
      if (m.contentType !== CONTENT_TYPE_DEFAULT) n += strBytes(m.contentType);
      if (m.charset !== undefined) n += strBytes(m.charset);
      if (m.contentEncoding !== undefined) n += strBytes(m.contentEncoding);
      if (m.userMeta.length > 0) {
        n += uintBytes(m.userMeta.length);
        for (const [k, v] of m.userMeta) n += strBytes(k) + strBytes(v);
      }
      if (m.indexes.length > 0) {
        n += uintBytes(m.indexes.length);
        for (const [name, v] of m.indexes) n += strBytes(name) + 1 + (typeof v === 'string' ? strBytes(v) : uintBytes(Math.abs(v)));
      }
      n += uintBytes(m.lastModified.wallMs) + uintBytes(m.lastModified.logical) + strBytes(m.vtag) + uintBytes(c.value.byteLength) + c.value.byteLength;
    }
  }
  return n;
}

function uintBytes(n: number): number {
  assert(Number.isSafeInteger(n) && n >= 0, 'encoded integers are safe and non-negative');
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes += 1;
  }
  return bytes;
}

/** A string's UTF-8 length without encoding it (short ASCII strings, the common case, in a loop). */
function utf8Length(s: string): number {
  if (s.length > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i += 1) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function strBytes(s: string, extra = 0): number {
  const length = utf8Length(s);
  return uintBytes(length + extra) + length;
}

const utf8Encoder = new TextEncoder();

// Encodings and decoded values up to SLAB_SHARE_BYTES_MAX are views into a
// shared slab, as Node's Buffer pool does: one ArrayBuffer allocation for
// many objects instead of one each (it was most of an encode's time for a
// 1 KiB object). A live view keeps its slab alive; storage engines copy what
// they keep, and requests hold objects briefly.
const SLAB_BYTES = 64 * 1024;
const SLAB_SHARE_BYTES_MAX = 4 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function allocate(length: number): Uint8Array {
  if (length > SLAB_SHARE_BYTES_MAX) return new Uint8Array(length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, length);
  // Keep views 8-byte aligned, as the pool does.
  slabUsed += (length + 7) & ~7;
  return out;
}

class Writer {
  readonly out: Uint8Array;
  at = 0;
  constructor(length: number) {
    this.out = allocate(length);
  }
  byte(b: number): void {
    this.out[this.at++] = b;
  }
  uint(n: number): void {
    const out = this.out;
    while (n >= 128) {
      out[this.at++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    out[this.at++] = n;
  }
  /** Length and UTF-8 of `s`: written as ASCII first, and again if it is not. */
  str(s: string): void {
    const start = this.at;
    this.uint(s.length);
    if (this.ascii(s)) return;
    this.at = start;
    this.uint(Buffer.byteLength(s, 'utf8'));
    this.at += utf8Encoder.encodeInto(s, this.out.subarray(this.at)).written;
  }
  /** The UTF-8 of `s`; its length was written before. */
  chars(s: string): void {
    if (!this.ascii(s)) this.at += utf8Encoder.encodeInto(s, this.out.subarray(this.at)).written;
  }
  /** Writes `s` if it is ASCII and says so; else writes nothing and returns false. */
  private ascii(s: string): boolean {
    const out = this.out;
    const at = this.at;
    for (let i = 0; i < s.length; i += 1) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      out[at + i] = c;
    }
    this.at = at + s.length;
    return true;
  }
  bytes(b: Uint8Array): void {
    this.out.set(b, this.at);
    this.at += b.byteLength;
  }
}

/** Byte-wise equality of two encodings, without copying either. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export interface DecodeOptions {
  /**
   * The object's values are views into `bytes` instead of copies. Only for
   * bytes nobody will change while the object lives (a fresh engine read, a
   * received message); the default copies, since LMDB's shared read buffer
   * and the memory engine's rows are reused.
   */
  viewValues?: boolean;
}

/** Throws CorruptObjectError (and nothing else) unless `bytes` is a valid encoded object (format 2, or format 1 written by older nodes). */
export function decodeObject(bytes: Uint8Array, opts: DecodeOptions = {}): RObject {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw new CorruptObjectError('object bytes: too short');
  let obj: RObject;
  const copy = opts.viewValues !== true;
  if (bytes[0] === OBJECT_FORMAT_VERSION) obj = decodeV2(bytes, copy);
  else if (bytes[0] === OBJECT_FORMAT_V1) obj = decodeV1(bytes, copy);
  else throw new CorruptObjectError(`object bytes: unknown format version ${bytes[0]}`);
  const problem = clockProblem(obj.clock);
  if (problem !== undefined) throw new CorruptObjectError(`object bytes: clock invalid: ${problem}`);
  return obj;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over format-2 bytes; every read checks what is left and throws CorruptObjectError. */
class Reader {
  readonly b: Uint8Array;
  at = 1;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  fail(what: string): never {
    throw new CorruptObjectError(`object bytes: ${what}`);
  }
  uint(what: string): number {
    const b = this.b;
    let n = 0;
    let scale = 1;
    for (let i = 0; i < UINT_BYTES_MAX; i += 1) {
      const byte = b[this.at++];
      if (byte === undefined) this.fail(`truncated in ${what}`);
      n += (byte & 127) * scale;
      if (byte < 128) {
        if (byte === 0 && i > 0) this.fail(`${what} is not minimally encoded`);
        if (!Number.isSafeInteger(n)) this.fail(`${what} is beyond the safe integers`);
        return n;
      }
      scale *= 128;
    }
    return this.fail(`${what} is longer than ${UINT_BYTES_MAX} bytes`);
  }
  /** A count of items of at least one byte each: never more than the bytes left. */
  count(what: string): number {
    const n = this.uint(what);
    if (n > this.b.length - this.at) this.fail(`${what} (${n}) exceeds the bytes left`);
    return n;
  }
  str(what: string): string {
    return this.chars(this.count(`${what} length`), what);
  }
  chars(length: number, what: string): string {
    const b = this.b;
    const start = this.at;
    const end = start + length;
    if (end > b.length) this.fail(`${what} exceeds the bytes left`);
    this.at = end;
    if (length <= 64) {
      // Short ASCII (names, actors, vtags, content types): built four characters at a time.
      let out = '';
      let i = start;
      for (; i + 4 <= end; i += 4) {
        const c0 = b[i] as number;
        const c1 = b[i + 1] as number;
        const c2 = b[i + 2] as number;
        const c3 = b[i + 3] as number;
        if ((c0 | c1 | c2 | c3) & 0x80) break;
        out += String.fromCharCode(c0, c1, c2, c3);
      }
      for (; i < end; i += 1) {
        const c = b[i] as number;
        if (c & 0x80) break;
        out += String.fromCharCode(c);
      }
      if (i === end) return out;
    }
    try {
      return fatalUtf8.decode(b.subarray(start, end));
    } catch {
      return this.fail(`${what} is not UTF-8`);
    }
  }
}

function decodeV2(bytes: Uint8Array, copy: boolean): RObject {
  const r = new Reader(bytes);
  const typeLength = r.uint('bucket type length');
  const bucketType = typeLength === 0 ? DEFAULT_TYPE : r.chars(typeLength - 1, 'bucket type');
  if (typeLength !== 0 && bucketType === DEFAULT_TYPE) r.fail('bucket type "default" written out');
  const bucket = r.str('bucket');
  const key = r.str('key');
  const entryCount = r.count('clock entries');
  const entries: DvvEntry<Content>[] = [];
  for (let e = 0; e < entryCount; e += 1) {
    const actor = r.str('actor');
    const counter = r.uint('counter');
    const valueCount = r.count('values');
    const values: [number, Content][] = [];
    for (let v = 0; v < valueCount; v += 1) values.push([r.uint('dot'), readContent(r, copy)]);
    entries.push({ actor, counter, values });
  }
  if (r.at !== bytes.length) r.fail('trailing bytes');
  return { bucketType, bucket, key, clock: { entries } };
}

function readContent(r: Reader, copy: boolean): Content {
  const flags = r.uint('flags');
  if ((flags & ~FLAGS_ALL) !== 0) r.fail(`unknown content flags ${flags}`);
  const contentType = (flags & FLAG_CONTENT_TYPE) !== 0 ? r.str('content type') : CONTENT_TYPE_DEFAULT;
  if ((flags & FLAG_CONTENT_TYPE) !== 0 && contentType === CONTENT_TYPE_DEFAULT) r.fail('default content type written out');
  const charset = (flags & FLAG_CHARSET) !== 0 ? r.str('charset') : undefined;
  const contentEncoding = (flags & FLAG_CONTENT_ENCODING) !== 0 ? r.str('content encoding') : undefined;
  const userMeta: [string, string][] = [];
  if ((flags & FLAG_USER_META) !== 0) {
    const n = r.count('user metadata entries');
    if (n === 0) r.fail('user metadata flagged but empty');
    for (let i = 0; i < n; i += 1) userMeta.push([r.str('user metadata key'), r.str('user metadata value')]);
  }
  const indexes: [string, IndexValue][] = [];
  if ((flags & FLAG_INDEXES) !== 0) {
    const n = r.count('index entries');
    if (n === 0) r.fail('indexes flagged but empty');
    for (let i = 0; i < n; i += 1) {
      const name = r.str('index name');
      const kind = r.uint('index value kind');
      if (kind === INDEX_BIN) indexes.push([name, r.str('index term')]);
      else if (kind === INDEX_INT) indexes.push([name, r.uint('index integer')]);
      else if (kind === INDEX_NEGATIVE_INT) {
        const n = r.uint('index integer');
        if (n === 0) r.fail('index integer -0');
        indexes.push([name, -n]);
      } else r.fail(`unknown index value kind ${kind}`);
    }
  }
  const wallMs = r.uint('last modified');
  const logical = r.uint('last modified (logical)');
  const vtag = r.str('vtag');
  const length = r.uint('value length');
  if (length > r.b.length - r.at) r.fail('value exceeds the bytes left');
  // A copy unless the caller owns immutable bytes (DecodeOptions): storage engines (LMDB) reuse their read buffers.
  let value = r.b.subarray(r.at, r.at + length);
  if (copy) {
    const copied = allocate(length);
    copied.set(value);
    value = copied;
  }
  r.at += length;
  const meta: ContentMeta = { contentType, userMeta, indexes, lastModified: { wallMs, logical }, vtag, deleted: (flags & FLAG_DELETED) !== 0 };
  if (charset !== undefined) meta.charset = charset;
  if (contentEncoding !== undefined) meta.contentEncoding = contentEncoding;
  const content: Content = { value, meta };
  try {
    validateContent(content);
  } catch (err) {
    throw new CorruptObjectError(`object bytes: ${err instanceof Error ? err.message : String(err)}`);
  }
  return content;
}

// --- format 1 (read only) ---

function decodeV1(bytes: Uint8Array, copy: boolean): RObject {
  const root = unpack(bytes.subarray(1), (m) => new CorruptObjectError(`object bytes: ${m}`));
  if (!Array.isArray(root) || root.length !== 4) throw new CorruptObjectError('object bytes: not a 4-field object');
  const [bucketType, bucket, key, wireEntries] = root as unknown[];
  if (typeof bucketType !== 'string' || typeof bucket !== 'string' || typeof key !== 'string') {
    throw new CorruptObjectError('object bytes: bucket type, bucket and key must be strings');
  }
  if (!Array.isArray(wireEntries)) throw new CorruptObjectError('object bytes: clock is not a list');
  const entries = wireEntries.map((e) => fromWireEntry(e, copy));
  return { bucketType, bucket, key, clock: { entries } };
}

function fromWireEntry(e: unknown, copy: boolean): DvvEntry<Content> {
  if (!Array.isArray(e) || e.length !== 3) throw new CorruptObjectError('object bytes: clock entry is not [actor, counter, values]');
  const [actor, counter, vals] = e as unknown[];
  if (typeof actor !== 'string' || typeof counter !== 'number' || !Array.isArray(vals)) {
    throw new CorruptObjectError('object bytes: clock entry has wrong field types');
  }
  const values = vals.map((v): [number, Content] => {
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number') throw new CorruptObjectError('object bytes: value is not [dot, content]');
    return [v[0], fromWireContent(v[1], copy)];
  });
  return { actor, counter, values };
}

function fromWireContent(w: unknown, copy: boolean): Content {
  if (!Array.isArray(w) || w.length !== 10) throw new CorruptObjectError('object bytes: content is not a 10-field list');
  const [value, contentType, charset, contentEncoding, userMeta, indexes, wallMs, logical, vtag, deleted] = w as unknown[];
  if (!(value instanceof Uint8Array)) throw new CorruptObjectError('object bytes: content value is not bytes');
  if (charset !== null && typeof charset !== 'string') throw new CorruptObjectError('object bytes: charset is not a string');
  if (contentEncoding !== null && typeof contentEncoding !== 'string') throw new CorruptObjectError('object bytes: content encoding is not a string');
  const meta = { contentType, userMeta, indexes, lastModified: { wallMs, logical }, vtag, deleted } as ContentMeta;
  if (charset !== null) meta.charset = charset;
  if (contentEncoding !== null) meta.contentEncoding = contentEncoding;
  // msgpackr returns views into its input: copied unless the caller owns immutable bytes (DecodeOptions).
  let own = value;
  if (copy) {
    own = allocate(value.byteLength);
    own.set(value);
  }
  const content: Content = { value: own, meta };
  try {
    validateContent(content);
  } catch (err) {
    throw new CorruptObjectError(`object bytes: ${err instanceof Error ? err.message : String(err)}`);
  }
  return content;
}

// --- causal context (X-Riak-Vclock) ---

/** The context's bytes: what PB carries as `vclock`, and HTTP as their base64. */
export function encodeContextBytes(vv: VersionVector): Buffer {
  const body = packr.pack(vv);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = CONTEXT_FORMAT_VERSION;
  out.set(body, 1);
  return out;
}

/** Opaque base64 for clients; they echo it back on the next write. */
export function encodeContext(vv: VersionVector): string {
  return encodeContextBytes(vv).toString('base64');
}

const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/** Empty or absent = [] (a blind write). Throws InvalidContextError saying what is wrong. */
export function decodeContext(text: string | undefined | null): VersionVector {
  if (text === undefined || text === null) return [];
  if (typeof text !== 'string') throw new InvalidContextError('vclock must be a string');
  const trimmed = text.trim();
  if (trimmed.length === 0) return [];
  if (trimmed.length > CONTEXT_CHARS_MAX) throw new InvalidContextError(`vclock is ${trimmed.length} chars (max ${CONTEXT_CHARS_MAX})`);
  if (trimmed.length % 4 !== 0 || !BASE64_PATTERN.test(trimmed)) throw new InvalidContextError('vclock is not valid base64');
  return decodeContextBytes(Buffer.from(trimmed, 'base64'));
}

/** Empty = [] (a blind write). Throws InvalidContextError saying what is wrong. */
export function decodeContextBytes(bytes: Uint8Array): VersionVector {
  if (bytes.length === 0) return [];
  if (bytes.length > CONTEXT_BYTES_MAX) throw new InvalidContextError(`vclock is ${bytes.length} bytes (max ${CONTEXT_BYTES_MAX})`);
  if (bytes.length < 2) throw new InvalidContextError('vclock is too short');
  if (bytes[0] !== CONTEXT_FORMAT_VERSION) throw new InvalidContextError(`vclock has unknown format version ${bytes[0]} (not issued by Rondo?)`);
  const vv = unpack(bytes.subarray(1), (m) => new InvalidContextError(`vclock does not decode: ${m}`));
  if (!Array.isArray(vv)) throw new InvalidContextError('vclock is not a list of [actor, counter]');
  let previous: string | undefined;
  for (const pair of vv as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidContextError('vclock entries must be [actor, counter]');
    const [actor, counter] = pair as unknown[];
    if (typeof actor !== 'string' || actor.length === 0) throw new InvalidContextError('vclock actor must be a non-empty string');
    if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) {
      throw new InvalidContextError(`vclock counter for ${JSON.stringify(actor)} must be a positive integer`);
    }
    if (previous !== undefined && !(previous < actor)) throw new InvalidContextError('vclock actors must be sorted and unique');
    previous = actor;
  }
  return vv as VersionVector;
}

function unpack(bytes: Uint8Array, fail: (message: string) => Error): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
}
