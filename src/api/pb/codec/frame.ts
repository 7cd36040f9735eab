// Riak PB framing: a 4-byte big-endian length, then that many bytes: one
// message-code byte and the protobuf body. Pure: bytes in, frames out.
import { assert } from '../../../core/errors.js';

export const PB_LENGTH_BYTES = 4;

/** One whole frame (length, code, body) in a single allocation. */
export function encodeFrame(code: number, body?: Uint8Array): Buffer {
  assert(Number.isInteger(code) && code >= 0 && code <= 255, 'message code is one byte');
  const bodyBytes = body?.length ?? 0;
  assert(1 + bodyBytes <= 0xffff_ffff, 'frame length fits the uint32 length field');
  const frame = Buffer.allocUnsafe(PB_LENGTH_BYTES + 1 + bodyBytes);
  frame.writeUInt32BE(1 + bodyBytes, 0);
  frame[PB_LENGTH_BYTES] = code;
  if (body !== undefined) frame.set(body, PB_LENGTH_BYTES + 1);
  return frame;
}

export type FrameEvent =
  | { kind: 'frame'; code: number; body: Buffer }
  | { kind: 'error'; reason: 'oversized' | 'empty'; message: string };

/**
 * Splits a byte stream into frames. A frame lying wholly inside one chunk is
 * returned as a view of that chunk (no copy); a frame that spans chunks is
 * assembled once, into memory of its own, when its last byte arrives. Pieces
 * are held by reference until then, so a length field announcing 64 MiB costs
 * only the bytes actually received. Chunks must not be modified after push
 * (true of net.Socket 'data' buffers). After an error the decoder is poisoned:
 * the stream has lost sync and the connection must be closed.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Bytes of the length field received so far (it too may be split). */
  private readonly lengthField = Buffer.alloc(PB_LENGTH_BYTES);
  private lengthFieldBytes = 0;
  /** Length of the frame being read (code + body), or -1 while reading its length field. */
  private frameBytes = -1;
  private readonly pieces: Buffer[] = [];
  private piecesBytes = 0;
  private poisoned = false;

  constructor(options: { maxFrameBytes: number }) {
    assert(Number.isInteger(options.maxFrameBytes), 'maxFrameBytes is an integer');
    assert(options.maxFrameBytes >= 1 && options.maxFrameBytes <= 0xffff_ffff, 'maxFrameBytes in 1..2^32-1');
    this.maxFrameBytes = options.maxFrameBytes;
  }

  /** Bytes held for the frame in progress (never more than maxFrameBytes + 4). */
  get bufferedBytes(): number {
    return this.lengthFieldBytes + this.piecesBytes;
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let offset = 0;
    while (!this.poisoned && offset < chunk.length) {
      if (this.frameBytes < 0) {
        offset = this.readLength(chunk, offset, events);
      } else {
        offset = this.readFrame(chunk, offset, events);
      }
    }
    assert(this.poisoned || offset === chunk.length, 'every byte of the chunk consumed');
    assert(this.bufferedBytes <= this.maxFrameBytes + PB_LENGTH_BYTES, 'one frame buffered at most');
    return events;
  }

  private readLength(chunk: Buffer, offset: number, events: FrameEvent[]): number {
    let length: number;
    if (this.lengthFieldBytes === 0 && chunk.length - offset >= PB_LENGTH_BYTES) {
      length = chunk.readUInt32BE(offset);
      offset += PB_LENGTH_BYTES;
    } else {
      const taken = Math.min(PB_LENGTH_BYTES - this.lengthFieldBytes, chunk.length - offset);
      chunk.copy(this.lengthField, this.lengthFieldBytes, offset, offset + taken);
      this.lengthFieldBytes += taken;
      offset += taken;
      if (this.lengthFieldBytes < PB_LENGTH_BYTES) return offset;
      length = this.lengthField.readUInt32BE(0);
      this.lengthFieldBytes = 0;
    }
    if (length === 0) {
      this.poison(events, 'empty', 'frame length 0: a frame needs at least its message code');
    } else if (length > this.maxFrameBytes) {
      this.poison(events, 'oversized', `frame length ${length} exceeds the limit of ${this.maxFrameBytes} bytes`);
    } else {
      this.frameBytes = length;
    }
    return offset;
  }

  private readFrame(chunk: Buffer, offset: number, events: FrameEvent[]): number {
    const missing = this.frameBytes - this.piecesBytes;
    const available = chunk.length - offset;
    if (available < missing) {
      this.pieces.push(chunk.subarray(offset));
      this.piecesBytes += available;
      return chunk.length;
    }
    const end = offset + missing;
    let frame: Buffer;
    if (this.pieces.length === 0) {
      frame = chunk.subarray(offset, end);
    } else {
      this.pieces.push(chunk.subarray(offset, end));
      // Buffer.concat copies into fresh memory: the frame does not pin, or share, the pieces' chunks.
      frame = Buffer.concat(this.pieces, this.frameBytes);
      this.pieces.length = 0;
      this.piecesBytes = 0;
    }
    assert(frame.length === this.frameBytes, 'frame assembled to its announced length');
    this.frameBytes = -1;
    events.push({ kind: 'frame', code: frame[0]!, body: frame.subarray(1) });
    return end;
  }

  private poison(events: FrameEvent[], reason: 'oversized' | 'empty', message: string): void {
    this.poisoned = true;
    this.pieces.length = 0;
    this.piecesBytes = 0;
    events.push({ kind: 'error', reason, message });
  }
}
