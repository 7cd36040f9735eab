// Encoded objects round-trip exactly; corrupt bytes and malformed contexts
// produce only the typed errors, never a crash or a half-decoded object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { applyPut, decodeContext, decodeObject, encodeContext, encodeObject, makeContent } from '../../../../src/kv/object/index.js';
import type { Content, RObject, VersionVector } from '../../../../src/kv/object/index.js';
import { CorruptObjectError, InvalidContextError } from '../../../../src/kv/errors.js';
import { encodedParts } from '../../../../src/kv/object/codec-parts.js';
import { MULT } from './helpers.js';

const token = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
const contentArb: fc.Arbitrary<Content> = fc
  .record({
    value: fc.uint8Array({ maxLength: 64 }),
    contentType: fc.constantFrom('text/plain', 'application/json'),
    charset: fc.option(fc.constant('utf-8'), { nil: undefined }),
    contentEncoding: fc.option(fc.constant('gzip'), { nil: undefined }),
    userMeta: fc.uniqueArray(fc.tuple(token, fc.string({ maxLength: 10 }).map((s) => s.replace(/[\r\n\0]/g, ''))), { maxLength: 3, selector: ([k]) => k }),
    indexes: fc.array(fc.oneof(fc.tuple(token.map((t) => `${t}_bin`), fc.string({ maxLength: 10 })), fc.tuple(token.map((t) => `${t}_int`), fc.maxSafeInteger())), { maxLength: 3 }),
    lastModified: fc.record({ wallMs: fc.nat(), logical: fc.nat(100) }),
    vtag: fc.stringMatching(/^[0-9A-Za-z]{1,22}$/),
    deleted: fc.boolean(),
  })
  .map((r) => makeContent(r));

const objectArb: fc.Arbitrary<RObject> = fc
  .tuple(fc.string({ maxLength: 8 }), fc.array(fc.tuple(fc.constantFrom('n1/0', 'n2/3', 'n3/7'), contentArb, fc.boolean()), { maxLength: 8 }))
  .map(([key, writes]) => {
    let o: RObject | undefined;
    let result: RObject = { bucketType: 't', bucket: 'b', key, clock: { entries: [] } };
    for (const [actor, c, withContext] of writes) {
      o = applyPut(o, { bucketType: 't', bucket: 'b', key, context: withContext && o ? o.clock.entries.map((e) => [e.actor, e.counter]) : [], content: c }, actor, MULT).object;
      result = o;
    }
    return result;
  });

const onlyTyped = (f: () => unknown, type: new (...args: never[]) => Error) => {
  try {
    f();
  } catch (err) {
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${String(err)}`, { cause: err });
  }
};

test('objects round-trip through encode/decode', () => {
  fc.assert(
    fc.property(objectArb, (o) => {
      const decoded = decodeObject(encodeObject(o));
      assert.deepEqual(decoded, o);
      assert.deepEqual(encodeObject(decoded), encodeObject(o));
    }),
    { numRuns: 300 },
  );
});

test('decoded values do not alias the input buffer (storage engines reuse theirs)', () => {
  const o = applyPut(undefined, { bucketType: 't', bucket: 'b', key: 'k', context: [], content: makeContent({ value: new Uint8Array([1, 2, 3]), lastModified: { wallMs: 1, logical: 0 }, vtag: 'x' }) }, 'n1/0', MULT).object;
  const bytes = encodeObject(o);
  const decoded = decodeObject(bytes);
  bytes.fill(0);
  assert.deepEqual([...(decoded.clock.entries[0]?.values[0]?.[1].value ?? [])], [1, 2, 3]);
});

test('random, truncated and bit-flipped bytes fail only with CorruptObjectError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, versioned) => {
      const input = versioned ? Uint8Array.from([1, ...bytes]) : bytes;
      onlyTyped(() => decodeObject(input), CorruptObjectError);
    }),
    { numRuns: 2_000 },
  );
  fc.assert(
    fc.property(objectArb, fc.nat(), fc.nat(7), (o, at, bit) => {
      const bytes = encodeObject(o);
      onlyTyped(() => decodeObject(bytes.subarray(0, at % bytes.length)), CorruptObjectError);
      const flipped = Uint8Array.from(bytes);
      flipped[at % bytes.length] = (flipped[at % bytes.length] as number) ^ (1 << bit);
      onlyTyped(() => decodeObject(flipped), CorruptObjectError);
    }),
    { numRuns: 500 },
  );
});

test('well-formed msgpack that is not a valid object is refused with the reason', () => {
  const packr = new Packr({ useRecords: false });
  const withVersion = (x: unknown) => Uint8Array.from([1, ...packr.pack(x)]);
  const cases: [unknown, RegExp][] = [
    [['t', 'b', 'k'], /4-field/],
    [['t', 'b', 3, []], /must be strings/],
    [['t', 'b', 'k', [['b', 1, []], ['a', 1, []]]], /not strictly sorted/],
    [['t', 'b', 'k', [['a', 1, [[2, null]]]]], /content is not/],
    [['t', 'b', 'k', [['a', 0, []]]], /bad counter/],
  ];
  for (const [value, reason] of cases) assert.throws(() => decodeObject(withVersion(value)), (e: unknown) => e instanceof CorruptObjectError && e.code === 'kv_corrupt_object' && reason.test(e.message));
  assert.throws(() => decodeObject(Uint8Array.from([9, 0x90])), /unknown format version 9/);
});

test('contexts round-trip; empty or absent means []', () => {
  const vvArb = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })), { selector: ([a]) => a, maxLength: 20 }).map((vv) => vv.sort(([a], [b]) => (a < b ? -1 : 1)) as VersionVector);
  fc.assert(fc.property(vvArb, (vv) => assert.deepEqual(decodeContext(encodeContext(vv)), vv)));
  assert.deepEqual(decodeContext(undefined), []);
  assert.deepEqual(decodeContext(''), []);
  assert.deepEqual(decodeContext(encodeContext([])), []);
});

test('malformed contexts are refused with InvalidContextError saying what is wrong', () => {
  const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');
  const packr = new Packr({ useRecords: false });
  const ctx = (x: unknown) => Buffer.from([1, ...packr.pack(x)]).toString('base64');
  const cases: [string, RegExp][] = [
    ['not base64!', /not valid base64/],
    ['abc', /not valid base64/],
    [b64([2, 0x90]), /unknown format version 2/],
    [ctx([['a', 0]]), /positive integer/],
    [ctx([['b', 1], ['a', 1]]), /sorted and unique/],
    [ctx([['', 1]]), /non-empty/],
    [ctx({ a: 1 }), /not a list/],
    [b64([1, 0x92, 0xa1]), /does not decode/],
    [b64([1, 0xc1]), /not a list/],
    ['A'.repeat(70_000), /max/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(() => decodeContext(text), (e: unknown) => e instanceof InvalidContextError && e.code === 'kv_bad_vclock' && reason.test(e.message), text.slice(0, 20));
  }
  fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => onlyTyped(() => decodeContext(s), InvalidContextError)), { numRuns: 1_000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => onlyTyped(() => decodeContext(b64([1, ...bytes])), InvalidContextError)), { numRuns: 1_000 });
});

test('encodedParts attributes every byte of an encoding to one part', () => {
  fc.assert(
    fc.property(objectArb, (o) => {
      const bytes = encodeObject(o);
      const parts = encodedParts(bytes);
      assert.equal(Object.values(parts).reduce((a, b) => a + b, 0), bytes.length);
      const values = o.clock.entries.flatMap((e) => e.values.map(([, c]) => c.value.length)).reduce((a, b) => a + b, 0);
      assert.equal(parts.value ?? 0, values);
    }),
    { numRuns: 300 },
  );
});
