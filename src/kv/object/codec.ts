// Binary form of an object (storage, replication, handoff) and the client's
// opaque causal context (X-Riak-Vclock). Decoding trusts nothing: bytes from
// disk or a peer either become a fully valid object or a typed error, never a
// crash or an object with a missing field.
import { Packr } from 'msgpackr';
import { CONTEXT_BYTES_MAX, CONTEXT_CHARS_MAX, CONTEXT_FORMAT_VERSION, OBJECT_FORMAT_VERSION } from '../constants.js';
import { CorruptObjectError, InvalidContextError } from '../errors.js';
import { validateContent } from './content.js';
import type { Content, ContentMeta, IndexValue } from './content.js';
import { clockProblem } from './dvv.js';
import type { DvvEntry, VersionVector } from './dvv.js';
import type { RObject } from './object.js';

// Records off: plain arrays only, so the format is self-describing and no
// shared structure table has to survive restarts.
const packr = new Packr({ useRecords: false, moreTypes: false });

type WireContent = [Uint8Array, string, string | null, string | null, [string, string][], [string, IndexValue][], number, number, string, boolean];
type WireEntry = [string, number, [number, WireContent][]];

export function encodeObject(obj: RObject): Uint8Array {
  const entries: WireEntry[] = obj.clock.entries.map((e) => [e.actor, e.counter, e.values.map(([n, c]): [number, WireContent] => [n, toWire(c)])]);
  const body = packr.pack([obj.bucketType, obj.bucket, obj.key, entries]);
  const out = new Uint8Array(body.length + 1);
  out[0] = OBJECT_FORMAT_VERSION;
  out.set(body, 1);
  return out;
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

/** Throws CorruptObjectError (and nothing else) unless `bytes` is a valid encoded object. */
export function decodeObject(bytes: Uint8Array, opts: DecodeOptions = {}): RObject {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw new CorruptObjectError('object bytes: too short');
  if (bytes[0] !== OBJECT_FORMAT_VERSION) throw new CorruptObjectError(`object bytes: unknown format version ${bytes[0]}`);
  const root = unpack(bytes.subarray(1), (m) => new CorruptObjectError(`object bytes: ${m}`));
  if (!Array.isArray(root) || root.length !== 4) throw new CorruptObjectError('object bytes: not a 4-field object');
  const [bucketType, bucket, key, wireEntries] = root as unknown[];
  if (typeof bucketType !== 'string' || typeof bucket !== 'string' || typeof key !== 'string') {
    throw new CorruptObjectError('object bytes: bucket type, bucket and key must be strings');
  }
  if (!Array.isArray(wireEntries)) throw new CorruptObjectError('object bytes: clock is not a list');
  const copy = opts.viewValues !== true;
  const entries = wireEntries.map((e) => fromWireEntry(e, copy));
  const clock = { entries };
  const problem = clockProblem(clock);
  if (problem !== undefined) throw new CorruptObjectError(`object bytes: clock invalid: ${problem}`);
  return { bucketType, bucket, key, clock };
}

function toWire(c: Content): WireContent {
  const m = c.meta;
  return [c.value, m.contentType, m.charset ?? null, m.contentEncoding ?? null, m.userMeta, m.indexes, m.lastModified.wallMs, m.lastModified.logical, m.vtag, m.deleted];
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
  const content: Content = { value: copy ? new Uint8Array(value) : value, meta };
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
