import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, encodeFrame, type FrameEvent } from '../../../../src/api/pb/codec/frame.js';
import { PB_FRAME_BYTES_MAX } from '../../../../src/api/pb/codec/limits.js';

type Frame = { code: number; body: Buffer };

function framesOf(events: FrameEvent[]): Frame[] {
  return events.map((event) => {
    assert.equal(event.kind, 'frame');
    return event.kind === 'frame' ? { code: event.code, body: Buffer.from(event.body) } : { code: -1, body: Buffer.alloc(0) };
  });
}

function cut(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  return chunks;
}

test('encodeFrame: a ping is 00 00 00 01 01 (length 1 counts only the code byte)', () => {
  assert.deepEqual([...encodeFrame(1)], [0, 0, 0, 1, 1]);
  assert.deepEqual([...encodeFrame(9, Buffer.from([0xaa, 0xbb]))], [0, 0, 0, 3, 9, 0xaa, 0xbb]);
});

test('many frames in one chunk; frames inside one chunk are views, not copies', () => {
  const stream = Buffer.concat([encodeFrame(1), encodeFrame(9, Buffer.from('abc')), encodeFrame(2)]);
  const events = new FrameDecoder({ maxFrameBytes: 16 }).push(stream);
  assert.deepEqual(framesOf(events), [
    { code: 1, body: Buffer.alloc(0) },
    { code: 9, body: Buffer.from('abc') },
    { code: 2, body: Buffer.alloc(0) },
  ]);
  const second = events[1];
  assert.ok(second?.kind === 'frame' && second.body.buffer === stream.buffer);
});

test('split at every byte position, including inside the length field', () => {
  const stream = Buffer.concat([encodeFrame(10, Buffer.from('hello')), encodeFrame(1), encodeFrame(12, Buffer.from('x'))]);
  for (let at = 0; at <= stream.length; at += 1) {
    const decoder = new FrameDecoder({ maxFrameBytes: 64 });
    const events = [...decoder.push(stream.subarray(0, at)), ...decoder.push(stream.subarray(at))];
    assert.equal(events.length, 3, `cut at ${at}`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test('a frame assembled from pieces owns its memory', () => {
  const frame = encodeFrame(9, Buffer.from('abcdef'));
  const first = Buffer.from(frame.subarray(0, 7));
  const second = Buffer.from(frame.subarray(7));
  const decoder = new FrameDecoder({ maxFrameBytes: 64 });
  assert.deepEqual(decoder.push(first), []);
  const [event] = decoder.push(second);
  first.fill(0);
  second.fill(0);
  assert.ok(event?.kind === 'frame');
  assert.equal(event.body.toString(), 'abcdef');
});

test('property: random frames cut at random points come back unchanged', () => {
  const frameArb = fc.record({ code: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 300 }) });
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.code, f.body)));
      const decoder = new FrameDecoder({ maxFrameBytes: 301 });
      const events: FrameEvent[] = [];
      for (const chunk of cut(stream, cuts)) {
        events.push(...decoder.push(chunk));
        assert.ok(decoder.bufferedBytes <= 301 + 4);
      }
      assert.deepEqual(framesOf(events), frames.map((f) => ({ code: f.code, body: Buffer.from(f.body) })));
      assert.equal(decoder.bufferedBytes, 0);
    }),
    { numRuns: 500 },
  );
});

test('an oversized length is an error, found from the length field alone; the decoder is then poisoned', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 8 });
  const ok = encodeFrame(1);
  const header = Buffer.from([0, 0, 0, 9]);
  const events = decoder.push(Buffer.concat([ok, header]));
  assert.equal(events.length, 2);
  assert.equal(events[0]?.kind, 'frame');
  assert.ok(events[1]?.kind === 'error' && events[1].reason === 'oversized');
  assert.deepEqual(decoder.push(ok), []);
  assert.equal(decoder.bufferedBytes, 0);
});

test('the default limit refuses a frame over 64 MiB without buffering it', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX });
  const header = Buffer.alloc(4);
  header.writeUInt32BE(PB_FRAME_BYTES_MAX + 1, 0);
  const [event] = decoder.push(header);
  assert.ok(event?.kind === 'error' && event.reason === 'oversized');
  const exact = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX });
  header.writeUInt32BE(PB_FRAME_BYTES_MAX, 0);
  assert.deepEqual(exact.push(header), []);
});

test('a length of 0 is an error (a frame needs its code byte); the decoder is then poisoned', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 8 });
  assert.deepEqual(decoder.push(Buffer.from([0, 0])), []);
  const events = decoder.push(Buffer.from([0, 0, 0, 0, 0, 1, 1]));
  assert.equal(events.length, 1);
  assert.ok(events[0]?.kind === 'error' && events[0].reason === 'empty');
  assert.deepEqual(decoder.push(encodeFrame(1)), []);
});
