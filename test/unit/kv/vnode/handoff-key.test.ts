// The handoff key's hand-written msgpack codec: the same format as msgpackr's
// encoding of [bucketType, bucket bytes, key bytes] behind a version byte, in
// both directions, and every malformed key refused with kv_corrupt_object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { decodeHandoffKey, encodeHandoffKey, HANDOFF_KEY_FORMAT_VERSION } from '../../../../src/kv/vnode/index.js';
import { handoffKeyNames } from '../../../../src/kv/vnode/handoff-key.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** What earlier builds sent: msgpackr's encoding. */
function msgpackrKey(bucketType: string, bucket: Uint8Array, key: Uint8Array): Uint8Array {
  const body = packr.pack([bucketType, bucket, key]);
  const out = new Uint8Array(body.length + 1);
  out[0] = HANDOFF_KEY_FORMAT_VERSION;
  out.set(body, 1);
  return out;
}

const corrupt = (e: { code?: string }) => e.code === 'kv_corrupt_object';
const text = (s: string) => new TextEncoder().encode(s);

test('handoff keys: ours and msgpackr decode each other, for every length form', () => {
  const lengths = [0, 1, 31, 32, 255, 256, 600, 70_000];
  for (const typeLength of [1, 31, 32, 100, 255, 256]) {
    for (const length of lengths) {
      const bucketType = 'é'.repeat(Math.ceil(typeLength / 2)).slice(0, typeLength);
      const bucket = new Uint8Array(length).map((_, i) => i % 251);
      const key = new Uint8Array(Math.max(1, length >> 1)).map((_, i) => 255 - (i % 256));
      const ours = encodeHandoffKey({ bucketType, bucket, key });
      assert.deepEqual(packr.unpack(Buffer.from(ours).subarray(1)), [bucketType, Buffer.from(bucket), Buffer.from(key)]);
      assert.deepEqual(decodeHandoffKey(ours), { bucketType, bucket, key });
      assert.deepEqual(decodeHandoffKey(msgpackrKey(bucketType, bucket, key)), { bucketType, bucket, key });
    }
  }
});

test('handoff keys: round trip and name check (property)', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 80 }), fc.string({ maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 600 }), (bucketType, bucket, key) => {
      const k = { bucketType, bucket: text(bucket), key };
      const bytes = encodeHandoffKey(k);
      assert.deepEqual(decodeHandoffKey(bytes), k);
      assert.deepEqual(decodeHandoffKey(msgpackrKey(bucketType, k.bucket, key)), k);
      const names = { bucketType, bucket, key: Buffer.from(key).toString('utf8') };
      assert.equal(handoffKeyNames(bytes, names), true);
      assert.equal(handoffKeyNames(bytes, { ...names, bucketType: `${bucketType}x` }), false);
      assert.equal(handoffKeyNames(bytes, { ...names, bucket: `${bucket}x` }), false);
      assert.equal(handoffKeyNames(bytes, { ...names, key: `${names.key}x` }), false);
    }),
    { numRuns: 300 },
  );
});

test('handoff keys: malformed bytes are refused with kv_corrupt_object', () => {
  const good = encodeHandoffKey({ bucketType: 't', bucket: text('b'), key: text('k') });
  const bad: Uint8Array[] = [
    new Uint8Array([]),
    new Uint8Array([HANDOFF_KEY_FORMAT_VERSION]),
    new Uint8Array([7, 1]),
    Buffer.concat([Buffer.from([2]), Buffer.from(good).subarray(1)]), // unknown version
    Buffer.concat([good, Buffer.from([0])]), // trailing byte
    good.subarray(0, good.length - 1), // truncated
    msgpackrKey('t', text('b'), text('k')).map((b, i) => (i === 1 ? 0x92 : b)), // an array of 2
    Buffer.concat([Buffer.from([HANDOFF_KEY_FORMAT_VERSION]), packr.pack(['t', 'b', 'k'])]), // strings, not bytes
    Buffer.concat([Buffer.from([HANDOFF_KEY_FORMAT_VERSION]), packr.pack([1, text('b'), text('k')])]), // a number type
    Buffer.concat([Buffer.from([HANDOFF_KEY_FORMAT_VERSION]), packr.pack({ t: 1 })]),
    Buffer.concat([Buffer.from([HANDOFF_KEY_FORMAT_VERSION]), Buffer.from([0x93, 0xdb, 0xff, 0xff, 0xff, 0xff])]), // a length past the end
  ];
  for (const bytes of bad) {
    assert.throws(() => decodeHandoffKey(bytes), corrupt, Buffer.from(bytes).toString('hex'));
    assert.throws(() => handoffKeyNames(bytes, { bucketType: 't', bucket: 'b', key: 'k' }), corrupt);
  }
  // array16 and array32 headers of length 3 are msgpack too
  const body = Buffer.from(good).subarray(2);
  assert.deepEqual(decodeHandoffKey(Buffer.concat([Buffer.from([HANDOFF_KEY_FORMAT_VERSION, 0xdc, 0, 3]), body])).bucketType, 't');
  assert.deepEqual(decodeHandoffKey(Buffer.concat([Buffer.from([HANDOFF_KEY_FORMAT_VERSION, 0xdd, 0, 0, 0, 3]), body])).bucketType, 't');
});
