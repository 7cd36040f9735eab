// Framing and envelopes. A frame is a 4-byte big-endian payload length and a
// msgpack payload. After the handshake every payload is an envelope carrying
// the negotiated protocol version: a one-way message `{ v, m }`, a request
// `{ v, id, req }`, or a reply `{ v, id, res }` / `{ v, id, err }`.
import { Packr } from 'msgpackr';
import type { WireMessage } from '../env.js';
import { FrameInvalidError, assert } from '../errors.js';

export const FRAME_HEADER_BYTES = 4;

// Plain maps only: records/structures would make the stream stateful.
const codec = new Packr({ useRecords: false, moreTypes: false });

export function encodePayload(value: unknown): Buffer {
  return codec.pack(value);
}

/** Throws FrameInvalidError: the bytes are not one complete msgpack value. */
export function decodePayload(payload: Buffer): unknown {
  try {
    return codec.unpack(payload);
  } catch (err) {
    throw new FrameInvalidError(`undecodable payload (${payload.length} bytes): ${(err as Error).message}`);
  }
}

export function frameHeader(payloadBytes: number): Buffer {
  assert(Number.isInteger(payloadBytes) && payloadBytes >= 0 && payloadBytes <= 0xffff_ffff, 'payload length fits the prefix');
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payloadBytes, 0);
  return header;
}

export function encodeFrame(value: unknown): Buffer {
  const payload = encodePayload(value);
  return Buffer.concat([frameHeader(payload.length), payload]);
}

/**
 * The frame header plus the msgpack bytes of `{ v: version, m: ` so that a
 * message encoded once at send time (`body`) can be wrapped in the envelope of
 * whatever version the connection negotiated, without copying the body.
 */
/** Bytes of `{ v, m: ` that precede an encoded message in its envelope. */
export const ENVELOPE_MESSAGE_HEAD_BYTES = 6;

export function envelopeFramePrefix(version: number, bodyBytes: number): Buffer {
  assert(Number.isInteger(version) && version >= 0 && version < 128, 'version is a positive fixint');
  // fixmap(2), fixstr "v", positive fixint version, fixstr "m"
  const envelopeHead = Buffer.from([0x82, 0xa1, 0x76, version, 0xa1, 0x6d]);
  assert(envelopeHead.length === ENVELOPE_MESSAGE_HEAD_BYTES, 'envelope head size');
  return Buffer.concat([frameHeader(envelopeHead.length + bodyBytes), envelopeHead]);
}

/** Bytes of `{ v, ms: [` (with the longest array header) that precede the messages of a batch envelope. */
export const BATCH_ENVELOPE_HEAD_BYTES_MAX = 10;

/**
 * One frame carrying `bodies` (each an encoded message) as a batch envelope
 * `{ v: version, ms: [body, ...] }`, built by concatenation: the bodies are
 * already msgpack values, so nothing is encoded again. One buffer, for one
 * socket write.
 */
export function encodeBatchFrame(version: number, bodies: readonly Buffer[]): Buffer {
  assert(Number.isInteger(version) && version >= 0 && version < 128, 'version is a positive fixint');
  assert(bodies.length > 0 && bodies.length <= 0xffff, 'a batch holds 1..65535 messages');
  let bodyBytes = 0;
  for (const body of bodies) bodyBytes += body.length;
  // fixmap(2), fixstr "v", fixint version, fixstr "ms", then a fixarray or array16 header
  const arrayHead = bodies.length < 16 ? 1 : 3;
  const headBytes = 7 + arrayHead;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + headBytes + bodyBytes);
  out.writeUInt32BE(headBytes + bodyBytes, 0);
  let at = FRAME_HEADER_BYTES;
  out[at++] = 0x82;
  out[at++] = 0xa1;
  out[at++] = 0x76; // "v"
  out[at++] = version;
  out[at++] = 0xa2;
  out[at++] = 0x6d; // "m"
  out[at++] = 0x73; // "s"
  if (arrayHead === 1) out[at++] = 0x90 | bodies.length;
  else {
    out[at++] = 0xdc;
    out.writeUInt16BE(bodies.length, at);
    at += 2;
  }
  for (const body of bodies) {
    body.copy(out, at);
    at += body.length;
  }
  assert(at === out.length, 'batch frame filled exactly');
  return out;
}

/**
 * Splits a byte stream into frame payloads. Chunks are kept as a list and a
 * payload is copied at most once (zero-copy when it lies in one chunk), so a
 * large frame arriving in many small chunks costs linear, not quadratic, work.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Payload length of the frame being read, or -1 while reading a header. */
  private payloadBytes = -1;

  constructor(private readonly frameBytesMax: number) {
    assert(frameBytesMax > 0, 'frame limit positive');
  }

  /** Returns the payloads completed by `chunk`. Throws FrameInvalidError on an oversized length. */
  push(chunk: Buffer): Buffer[] {
    const payloads: Buffer[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    while (true) {
      if (this.payloadBytes < 0) {
        if (this.bufferedBytes < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        // Refuse before buffering the body: the length is attacker-controlled.
        if (length > this.frameBytesMax) {
          throw new FrameInvalidError(`frame length ${length} exceeds limit ${this.frameBytesMax}`);
        }
        this.payloadBytes = length;
      }
      if (this.bufferedBytes < this.payloadBytes) break;
      payloads.push(this.take(this.payloadBytes));
      this.payloadBytes = -1;
    }
    return payloads;
  }

  get bufferedByteCount(): number {
    return this.bufferedBytes;
  }

  private take(byteCount: number): Buffer {
    assert(byteCount <= this.bufferedBytes, 'take within buffered bytes');
    this.bufferedBytes -= byteCount;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= byteCount) {
      if (first.length === byteCount) this.chunks.shift();
      else this.chunks[0] = first.subarray(byteCount);
      return first.subarray(0, byteCount);
    }
    const out = Buffer.allocUnsafe(byteCount);
    let filled = 0;
    while (filled < byteCount) {
      const chunk = this.chunks[0];
      assert(chunk !== undefined, 'enough chunks buffered');
      const used = Math.min(chunk.length, byteCount - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

export interface WireErrorBody {
  readonly code: string;
  readonly message: string;
  readonly claimant?: string;
}

export type Envelope =
  | { readonly kind: 'message'; readonly msg: WireMessage }
  /** A batch envelope (capability transport.batch.v1): messages in the order sent. */
  | { readonly kind: 'messages'; readonly msgs: readonly WireMessage[] }
  | { readonly kind: 'request'; readonly id: number; readonly req: WireMessage }
  | { readonly kind: 'response'; readonly id: number; readonly res: WireMessage }
  | { readonly kind: 'error'; readonly id: number; readonly err: WireErrorBody };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function isWireMessage(value: unknown): value is WireMessage {
  return isRecord(value) && typeof value.type === 'string';
}

/** Validates a decoded envelope. Throws FrameInvalidError on anything else. */
export function parseEnvelope(value: unknown, version: number): Envelope {
  if (!isRecord(value)) throw new FrameInvalidError('envelope is not a map');
  if (value.v !== version) {
    throw new FrameInvalidError(`unknown envelope version ${String(value.v)} (connection speaks ${version})`);
  }
  if ('m' in value) {
    if (!isWireMessage(value.m)) throw new FrameInvalidError('envelope message has no string type');
    return { kind: 'message', msg: value.m };
  }
  if ('ms' in value) {
    const msgs = value.ms;
    if (!Array.isArray(msgs) || msgs.length === 0 || !msgs.every(isWireMessage)) throw new FrameInvalidError('batch envelope is not a list of messages with string types');
    return { kind: 'messages', msgs };
  }
  const id = value.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new FrameInvalidError('envelope has neither m nor an integer id');
  if ('req' in value) {
    if (!isWireMessage(value.req)) throw new FrameInvalidError('request has no string type');
    return { kind: 'request', id, req: value.req };
  }
  if ('res' in value) {
    if (!isWireMessage(value.res)) throw new FrameInvalidError('response has no string type');
    return { kind: 'response', id, res: value.res };
  }
  const err = value.err;
  if (isRecord(err) && typeof err.code === 'string' && typeof err.message === 'string') {
    const claimant = typeof err.claimant === 'string' ? err.claimant : undefined;
    return { kind: 'error', id, err: { code: err.code, message: err.message, ...(claimant === undefined ? {} : { claimant }) } };
  }
  throw new FrameInvalidError('envelope has no m, req, res or err');
}
