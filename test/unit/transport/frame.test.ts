import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameInvalidError } from '../../../src/core/errors.js';
import { BATCH_ENVELOPE_HEAD_BYTES_MAX, FrameDecoder, decodePayload, encodeBatchFrame, encodeFrame, encodePayload, envelopeFramePrefix, frameHeader, parseEnvelope } from '../../../src/core/transport/frame.js';
import { negotiateVersion } from '../../../src/core/transport/handshake.js';
import { backoffDelayMs, resolveLimits } from '../../../src/core/transport/limits.js';
import { parseAddress } from '../../../src/core/transport/address.js';

const values = [{ type: 'a', n: 1 }, { type: 'b', data: Buffer.from([1, 2, 3]) }, { type: 'c', s: 'x'.repeat(300) }];
const stream = Buffer.concat(values.map((value) => encodeFrame(value)));

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): unknown[] {
  return chunks.flatMap((chunk) => decoder.push(chunk)).map((payload) => decodePayload(payload));
}

test('one chunk holding several frames', () => {
  assert.deepEqual(decodeAll(new FrameDecoder(1024), [stream]), values);
});

test('split at every byte position', () => {
  for (let cut = 0; cut <= stream.length; cut += 1) {
    const decoded = decodeAll(new FrameDecoder(1024), [stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(decoded, values, `cut at ${cut}`);
  }
});

test('one byte at a time', () => {
  const chunks = [...stream].map((byte) => Buffer.from([byte]));
  assert.deepEqual(decodeAll(new FrameDecoder(1024), chunks), values);
});

test('random chunking decodes the same frames (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (payloads, sizes) => {
      const bytes = Buffer.concat(payloads.map((payload) => Buffer.concat([frameHeader(payload.length), payload])));
      const decoder = new FrameDecoder(1024);
      const out: Buffer[] = [];
      for (let offset = 0, index = 0; offset < bytes.length; index += 1) {
        const size = sizes[index % sizes.length] ?? 1;
        out.push(...decoder.push(bytes.subarray(offset, offset + size)));
        offset += size;
      }
      assert.deepEqual(out.map((buffer) => [...buffer]), payloads.map((payload) => [...payload]));
      assert.equal(decoder.bufferedByteCount, 0);
    }),
  );
});

test('oversized length is rejected from the header alone', () => {
  const decoder = new FrameDecoder(100);
  assert.throws(() => decoder.push(frameHeader(101)), FrameInvalidError);
  assert.deepEqual(new FrameDecoder(100).push(Buffer.concat([frameHeader(100), Buffer.alloc(100)])).length, 1);
});

test('undecodable payload is a FrameInvalidError', () => {
  assert.throws(() => decodePayload(Buffer.from([0x92, 0x01])), FrameInvalidError);
  assert.throws(() => decodePayload(Buffer.from([0x01, 0x02])), FrameInvalidError);
  assert.throws(() => decodePayload(Buffer.alloc(0)), FrameInvalidError);
});

test('envelope prefix plus a pre-encoded body is a valid { v, m } envelope', () => {
  const msg = { type: 'swim.ping', seq: 7 };
  const body = encodePayload(msg);
  const frame = Buffer.concat([envelopeFramePrefix(1, body.length), body]);
  const [payload] = new FrameDecoder(1024).push(frame);
  assert.ok(payload);
  assert.deepEqual(parseEnvelope(decodePayload(payload), 1), { kind: 'message', msg });
});

test('a batch frame of pre-encoded bodies is one valid { v, ms } envelope, for 1, 15, 16 and 1,000 messages', () => {
  for (const count of [1, 15, 16, 1_000]) {
    const msgs = Array.from({ length: count }, (_, i) => ({ type: 'kv.x', i, data: Buffer.alloc(i % 7, i) }));
    const frame = encodeBatchFrame(1, msgs.map((m) => encodePayload(m)));
    const payloads = new FrameDecoder(1 << 20).push(frame);
    assert.equal(payloads.length, 1, 'one frame');
    const envelope = parseEnvelope(decodePayload(payloads[0]!), 1);
    assert.equal(envelope.kind, 'messages');
    assert.deepEqual(envelope.kind === 'messages' ? envelope.msgs : [], msgs);
    assert.ok(frame.length - 4 - msgs.reduce((n, m) => n + encodePayload(m).length, 0) <= BATCH_ENVELOPE_HEAD_BYTES_MAX, 'head within its bound');
  }
  assert.throws(() => parseEnvelope({ v: 1, ms: [] }, 1), /batch envelope/);
  assert.throws(() => parseEnvelope({ v: 1, ms: [{ type: 'a' }, { kind: 'b' }] }, 1), /batch envelope/);
  assert.throws(() => parseEnvelope({ v: 1, ms: 'x' }, 1), /batch envelope/);
});

test('parseEnvelope rejects malformed envelopes and unknown versions', () => {
  assert.throws(() => parseEnvelope({ v: 2, m: { type: 'x' } }, 1), /unknown envelope version 2/);
  assert.throws(() => parseEnvelope({ v: 1, m: { kind: 'x' } }, 1), FrameInvalidError);
  assert.throws(() => parseEnvelope({ v: 1, m: 'x' }, 1), FrameInvalidError);
  assert.throws(() => parseEnvelope([1, 2], 1), FrameInvalidError);
  assert.throws(() => parseEnvelope({ v: 1 }, 1), FrameInvalidError);
  assert.deepEqual(parseEnvelope({ v: 1, id: 3, req: { type: 'q' } }, 1), { kind: 'request', id: 3, req: { type: 'q' } });
  assert.deepEqual(parseEnvelope({ v: 1, id: 3, err: { code: 'overload', message: 'm' } }, 1), { kind: 'error', id: 3, err: { code: 'overload', message: 'm' } });
});

test('version negotiation picks the highest common version or none', () => {
  assert.equal(negotiateVersion({ min: 1, max: 3 }, { min: 2, max: 5 }), 3);
  assert.equal(negotiateVersion({ min: 1, max: 1 }, { min: 1, max: 4 }), 1);
  assert.equal(negotiateVersion({ min: 1, max: 1 }, { min: 2, max: 3 }), undefined);
});

test('backoff grows, is capped, and keeps half its delay fixed', () => {
  const limits = resolveLimits({ reconnectBackoffMinMs: 100, reconnectBackoffMaxMs: 1_000 });
  assert.equal(backoffDelayMs(limits, 1, 0), 50);
  assert.equal(backoffDelayMs(limits, 2, 0.999), 200);
  assert.equal(backoffDelayMs(limits, 50, 0), 500);
  assert.ok(backoffDelayMs(limits, 50, 0.999) <= 1_000);
});

test('addresses parse and bad ones are refused', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8087'), { host: '127.0.0.1', port: 8087 });
  assert.deepEqual(parseAddress('[::1]:9'), { host: '::1', port: 9 });
  assert.throws(() => parseAddress('nohost'), /invalid address/);
  assert.throws(() => parseAddress('h:70000'), /invalid address/);
});
