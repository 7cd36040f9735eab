// Where an encoded object's bytes go, part by part (bench/key-overhead.ts).
// Walks the bytes of a valid encoding without decoding it into an object;
// throws on anything else. Diagnostics only: never on a request path.
import { CorruptObjectError } from '../errors.js';

/** Bytes per part; the parts sum to the encoding's length. */
export type EncodedParts = Record<string, number>;

export function encodedParts(bytes: Uint8Array): EncodedParts {
  if (bytes[0] === 1) return partsV1(bytes);
  if (bytes[0] === 2) return partsV2(bytes);
  throw new CorruptObjectError(`object bytes: unknown format version ${bytes[0]}`);
}

// --- format 2 (codec.ts describes it) ---

function partsV2(b: Uint8Array): EncodedParts {
  const parts: EncodedParts = { 'format version': 1, framing: 0 };
  const add = (part: string, n: number): void => void (parts[part] = (parts[part] ?? 0) + n);
  let at = 1;
  /** Reads an unsigned LEB128 integer, its bytes counted as `part`. */
  const uint = (part: string): number => {
    let n = 0;
    let scale = 1;
    const start = at;
    for (;;) {
      const byte = b[at++];
      if (byte === undefined) throw new CorruptObjectError('object bytes: truncated');
      n += (byte & 127) * scale;
      scale *= 128;
      if (byte < 128) break;
    }
    add(part, at - start);
    return n;
  };
  /** A length (framing) and that many bytes of `part`. */
  const str = (part: string, extra = 0): void => {
    const length = uint('framing') - extra;
    if (length < 0 || at + length > b.length) throw new CorruptObjectError('object bytes: truncated');
    add(part, length);
    at += length;
  };
  const names = 'bucket type, bucket, key';
  if (b[at] === 0) uint(names);
  else str(names, 1);
  str(names);
  str(names);
  for (let e = uint('framing'); e > 0; e -= 1) {
    str('clock: actor ids');
    uint('clock: counters and dots');
    for (let v = uint('framing'); v > 0; v -= 1) {
      uint('clock: counters and dots');
      const flags = uint('meta: flags (deleted, which fields follow)');
      if (flags & 2) str('meta: content type');
      const optional = 'meta: charset, encoding, user meta, indexes';
      if (flags & 4) str(optional);
      if (flags & 8) str(optional);
      if (flags & 16) for (let n = uint(optional); n > 0; n -= 1) {
        str(optional);
        str(optional);
      }
      if (flags & 32) for (let n = uint(optional); n > 0; n -= 1) {
        str(optional);
        if (uint(optional) === 0) str(optional);
        else uint(optional);
      }
      uint('meta: last modified (HLC)');
      uint('meta: last modified (HLC)');
      str('meta: vtag');
      str('value');
    }
  }
  if (at !== b.length) throw new CorruptObjectError('object bytes: trailing bytes');
  return parts;
}

// --- format 1: a msgpack array [bucketType, bucket, key, [[actor, counter, [[dot, content]...]]...]] ---

interface Item {
  /** Type byte and length field. */
  header: number;
  /** Bytes of a string or binary payload; 0 for other items. */
  payload: number;
  /** Elements of an array (their items follow). */
  elements: number;
  /** A string or binary: the header is framing. */
  bytes: boolean;
  end: number;
}

function item(b: Uint8Array, at: number): Item {
  const t = b[at];
  if (t === undefined) throw new CorruptObjectError('object bytes: truncated');
  const u8 = (i: number): number => b[at + i] as number;
  const u16 = (i: number): number => (u8(i) << 8) | u8(i + 1);
  const u32 = (i: number): number => u16(i) * 65536 + u16(i + 2);
  const str = (header: number, payload: number): Item => ({ header, payload, elements: 0, bytes: true, end: at + header + payload });
  const arr = (header: number, elements: number): Item => ({ header, payload: 0, elements, bytes: false, end: at + header });
  const fixed = (size: number): Item => ({ header: size, payload: 0, elements: 0, bytes: false, end: at + size });
  if (t <= 0x7f || t >= 0xe0) return fixed(1);
  if (t >= 0xa0 && t <= 0xbf) return str(1, t & 0x1f);
  if (t >= 0x90 && t <= 0x9f) return arr(1, t & 0x0f);
  switch (t) {
    case 0xc0: case 0xc2: case 0xc3: return fixed(1);
    case 0xcc: case 0xd0: return fixed(2);
    case 0xcd: case 0xd1: return fixed(3);
    case 0xce: case 0xd2: case 0xca: return fixed(5);
    case 0xcf: case 0xd3: case 0xcb: return fixed(9);
    case 0xd9: case 0xc4: return str(2, u8(1));
    case 0xda: case 0xc5: return str(3, u16(1));
    case 0xdb: case 0xc6: return str(5, u32(1));
    case 0xdc: return arr(3, u16(1));
    case 0xdd: return arr(5, u32(1));
    default: throw new CorruptObjectError(`object bytes: unexpected msgpack type 0x${t.toString(16)}`);
  }
}

function partsV1(b: Uint8Array): EncodedParts {
  const parts: EncodedParts = { 'format version': 1, framing: 0 };
  const add = (part: string, n: number): void => void (parts[part] = (parts[part] ?? 0) + n);
  let at = 1;
  const next = (): Item => {
    const it = item(b, at);
    at = it.end;
    return it;
  };
  /** A scalar or string: its header is framing (strings, binaries) or part of the part (numbers, nil, booleans). */
  const leaf = (part: string): void => {
    const it = next();
    if (it.elements > 0) throw new CorruptObjectError(`object bytes: ${part} is an array`);
    if (it.bytes) {
      add('framing', it.header);
      add(part, it.payload);
    } else add(part, it.header);
  };
  /** A whole item, nested arrays included, counted as one part. */
  const whole = (part: string): void => {
    const start = at;
    let pending = 1;
    while (pending > 0) {
      pending -= 1;
      pending += next().elements;
    }
    add(part, at - start);
  };
  const array = (): number => {
    const it = next();
    add('framing', it.header);
    return it.elements;
  };
  array();
  leaf('bucket type, bucket, key');
  leaf('bucket type, bucket, key');
  leaf('bucket type, bucket, key');
  for (let e = array(); e > 0; e -= 1) {
    array();
    leaf('clock: actor ids');
    leaf('clock: counters and dots');
    for (let v = array(); v > 0; v -= 1) {
      array();
      leaf('clock: counters and dots');
      array();
      leaf('value');
      leaf('meta: content type');
      whole('meta: charset, encoding, user meta, indexes');
      whole('meta: charset, encoding, user meta, indexes');
      whole('meta: charset, encoding, user meta, indexes');
      whole('meta: charset, encoding, user meta, indexes');
      leaf('meta: last modified (HLC)');
      leaf('meta: last modified (HLC)');
      leaf('meta: vtag');
      leaf('meta: deleted flag');
    }
  }
  if (at !== b.length) throw new CorruptObjectError('object bytes: trailing bytes');
  return parts;
}
