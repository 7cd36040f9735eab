// Encoded objects round-trip exactly; corrupt bytes and malformed contexts
// produce only the typed errors, never a crash or a half-decoded object.
// Objects written in format 1 (msgpack, by nodes before format 2) still
// decode: fixtures of the real old encoder's bytes, and a test-side format-1
// encoder for arbitrary objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { OBJECT_FORMAT_VERSION } from '../../../../src/kv/constants.js';
import { applyPut, decodeContext, decodeObject, encodeContext, encodeObject, makeContent, makeTombstone } from '../../../../src/kv/object/index.js';
import type { Content, RObject, VersionVector } from '../../../../src/kv/object/index.js';
import { CorruptObjectError, InvalidContextError } from '../../../../src/kv/errors.js';
import { encodedParts } from '../../../../src/kv/object/codec-parts.js';
import { MULT } from './helpers.js';
import { OBJECTS_V1 } from './fixtures/objects-v1.js';

const token = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
/** Strings of any code points, long ones included (past the codec's short-string paths). */
const anyText = (maxLength: number): fc.Arbitrary<string> => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'grapheme', maxLength }), fc.string({ minLength: 60, maxLength: 80 }));
const headerText = (maxLength: number): fc.Arbitrary<string> => anyText(maxLength).map((s) => s.replace(/[\r\n\0]/g, ''));
const contentArb: fc.Arbitrary<Content> = fc
  .record({
    value: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 300 })),
    contentType: fc.option(fc.constantFrom('text/plain', 'application/json', 'application/octet-stream', 'text/plain; charset=ü'), { nil: undefined }),
    charset: fc.option(fc.constantFrom('utf-8', 'ISO-8859-1'), { nil: undefined }),
    contentEncoding: fc.option(fc.constant('gzip'), { nil: undefined }),
    userMeta: fc.uniqueArray(fc.tuple(token, headerText(10)), { maxLength: 3, selector: ([k]) => k }),
    indexes: fc.array(
      fc.oneof(fc.tuple(token.map((t) => `${t}_bin`), anyText(10)), fc.tuple(token.map((t) => `${t}_int`), fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -200, max: 200 })))),
      { maxLength: 3 },
    ),
    lastModified: fc.record({ wallMs: fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), logical: fc.oneof(fc.nat(100), fc.nat()) }),
    vtag: fc.stringMatching(/^[0-9A-Za-z]{1,64}$/),
    deleted: fc.boolean(),
  })
  .map((r) => makeContent({ ...r, indexes: r.indexes.map(([name, v]): [string, string | number] => [name, Object.is(v, -0) ? 0 : v]) }));

const actorArb = fc.oneof(fc.constantFrom('n1/0/0', 'n2/3/0', 'n3/7/1.2'), fc.string({ minLength: 1, maxLength: 70 }));
const objectArb: fc.Arbitrary<RObject> = fc
  .tuple(
    fc.oneof(fc.constant('default'), fc.constant('t'), anyText(8)),
    anyText(8),
    anyText(8),
    fc.array(fc.tuple(actorArb, contentArb, fc.boolean()), { maxLength: 8 }),
  )
  .map(([bucketType, bucket, key, writes]) => {
    let o: RObject | undefined;
    let result: RObject = { bucketType, bucket, key, clock: { entries: [] } };
    for (const [actor, c, withContext] of writes) {
      o = applyPut(o, { bucketType, bucket, key, context: withContext && o ? o.clock.entries.map((e) => [e.actor, e.counter]) : [], content: c }, actor, MULT).object;
      result = o;
    }
    return result;
  });

/** Format 1 exactly as the encoder of commit bdcc21d wrote it (fixtures below pin the real bytes). */
const packrV1 = new Packr({ useRecords: false, moreTypes: false });
function encodeV1(obj: RObject): Uint8Array {
  const entries = obj.clock.entries.map((e) => [
    e.actor,
    e.counter,
    e.values.map(([n, c]) => {
      const m = c.meta;
      return [n, [c.value, m.contentType, m.charset ?? null, m.contentEncoding ?? null, m.userMeta, m.indexes, m.lastModified.wallMs, m.lastModified.logical, m.vtag, m.deleted]];
    }),
  ]);
  return Uint8Array.from([1, ...packrV1.pack([obj.bucketType, obj.bucket, obj.key, entries])]);
}

/** A fixture's object: JSON with Uint8Array values as { hex }. */
function fixtureObject(json: string): RObject {
  return JSON.parse(json, (_k, v: unknown) => (v !== null && typeof v === 'object' && 'hex' in v ? new Uint8Array(Buffer.from((v as { hex: string }).hex, 'hex')) : v)) as RObject;
}

const onlyTyped = (f: () => unknown, type: new (...args: never[]) => Error) => {
  try {
    f();
  } catch (err) {
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${String(err)}`, { cause: err });
  }
};

test('objects round-trip through encode/decode (format 2)', () => {
  assert.equal(OBJECT_FORMAT_VERSION, 2);
  fc.assert(
    fc.property(objectArb, (o) => {
      const bytes = encodeObject(o);
      assert.equal(bytes[0], 2);
      assert.ok(Object.getPrototypeOf(bytes) === Uint8Array.prototype, 'a plain Uint8Array');
      const decoded = decodeObject(bytes);
      assert.deepEqual(decoded, o);
      assert.deepEqual(encodeObject(decoded), bytes);
    }),
    { numRuns: 1_000 },
  );
});

test('format-1 bytes written by the previous encoder still decode, and re-encode as format 2', () => {
  assert.ok(OBJECTS_V1.length >= 4);
  for (const fixture of OBJECTS_V1) {
    const bytes = new Uint8Array(Buffer.from(fixture.hex, 'hex'));
    assert.equal(bytes[0], 1, fixture.name);
    const expected = fixtureObject(fixture.json);
    const decoded = decodeObject(bytes);
    assert.deepEqual(decoded, expected, fixture.name);
    assert.deepEqual(encodeV1(decoded), bytes, `${fixture.name}: the test-side format-1 encoder is the old one`);
    assert.deepEqual(decodeObject(encodeObject(decoded)), expected, fixture.name);
    // From a Buffer too (LMDB hands out Buffers).
    assert.deepEqual(decodeObject(Buffer.from(bytes)), expected, fixture.name);
  }
});

test('arbitrary objects in format 1 decode to themselves', () => {
  fc.assert(
    fc.property(objectArb, (o) => {
      const decoded = decodeObject(encodeV1(o));
      assert.deepEqual(decoded, o);
      assert.deepEqual(encodeObject(decoded), encodeObject(o));
    }),
    { numRuns: 500 },
  );
});

test('format 2 is smaller than format 1', () => {
  const c = makeContent({ value: new Uint8Array(1024), contentType: 'application/octet-stream', lastModified: { wallMs: 1_760_000_000_123, logical: 0 }, vtag: '5Hq3ZpW8kLmN2xR7tYvB0c' });
  const o = applyPut(undefined, { bucketType: 'default', bucket: 'mem', key: 'k123456', context: [], content: c }, 'n1/37/0', MULT).object;
  assert.equal(encodeV1(o).length, 1127);
  assert.equal(encodeObject(o).length, 1083);
  const tombstone = applyPut(undefined, { bucketType: 'default', bucket: 'mem', key: 'k123456', context: [], content: makeTombstone({ wallMs: 1_760_000_000_123, logical: 0 }, '5Hq3ZpW8kLmN2xR7tYvB0c') }, 'n1/37/0', MULT).object;
  assert.ok(encodeObject(tombstone).length < encodeV1(tombstone).length - 40);
});

test('decoded values do not alias the input buffer (storage engines reuse theirs)', () => {
  const o = applyPut(undefined, { bucketType: 't', bucket: 'b', key: 'k', context: [], content: makeContent({ value: new Uint8Array([1, 2, 3]), lastModified: { wallMs: 1, logical: 0 }, vtag: 'x' }) }, 'n1/0', MULT).object;
  const bytes = encodeObject(o);
  const decoded = decodeObject(bytes);
  bytes.fill(0);
  assert.deepEqual([...(decoded.clock.entries[0]?.values[0]?.[1].value ?? [])], [1, 2, 3]);
});

test('with viewValues, decoded values are views into the input (for bytes nobody changes); the default copies', () => {
  const obj = applyPut(undefined, { bucketType: 't', bucket: 'b', key: 'k', context: [], content: makeContent({ value: new Uint8Array([4, 5, 6]), lastModified: { wallMs: 1, logical: 0 }, vtag: 'x' }) }, 'n1/0', MULT).object;
  const bytes = encodeObject(obj);
  const viewed = decodeObject(bytes, { viewValues: true });
  const copied = decodeObject(bytes);
  assert.deepEqual(viewed, copied, 'same object either way');
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(Buffer.from([4, 5, 6]));
  bytes[at] = 9;
  assert.equal(viewed.clock.entries[0]!.values[0]![1].value[0], 9, 'a view sees the input change');
  assert.equal(copied.clock.entries[0]!.values[0]![1].value[0], 4, 'a copy does not');
});

test('random, truncated and bit-flipped bytes fail only with CorruptObjectError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(undefined, 1, 2), (bytes, version) => {
      const input = version === undefined ? bytes : Uint8Array.from([version, ...bytes]);
      onlyTyped(() => decodeObject(input), CorruptObjectError);
    }),
    { numRuns: 3_000 },
  );
  fc.assert(
    fc.property(objectArb, fc.nat(), fc.nat(7), fc.boolean(), (o, at, bit, v1) => {
      const bytes = v1 ? encodeV1(o) : encodeObject(o);
      onlyTyped(() => decodeObject(bytes.subarray(0, at % bytes.length)), CorruptObjectError);
      const flipped = Uint8Array.from(bytes);
      flipped[at % bytes.length] = (flipped[at % bytes.length] as number) ^ (1 << bit);
      onlyTyped(() => decodeObject(flipped), CorruptObjectError);
    }),
    { numRuns: 1_000 },
  );
});

test('format 2 accepts only the one encoding of an object: whatever decodes re-encodes to the same bytes', () => {
  const mutated = fc.tuple(objectArb, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 })).map(([o, edits]) => {
    const bytes = encodeObject(o);
    for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
    bytes[0] = 2;
    return bytes;
  });
  let decoded = 0;
  fc.assert(
    fc.property(mutated, (bytes) => {
      let o: RObject;
      try {
        o = decodeObject(bytes);
      } catch (err) {
        if (err instanceof CorruptObjectError) return;
        throw err;
      }
      decoded += 1;
      assert.deepEqual(encodeObject(o), bytes);
    }),
    { numRuns: 3_000 },
  );
  assert.ok(decoded > 100, `some mutations are still valid objects (${decoded})`);
});

test('format-2 bytes that are not a valid object are refused with the reason', () => {
  const c = makeContent({ value: Uint8Array.from([7, 7]), lastModified: { wallMs: 300, logical: 0 }, vtag: 'ab' });
  const good = encodeObject(applyPut(undefined, { bucketType: 'default', bucket: 'b', key: 'k', context: [], content: c }, 'a', MULT).object);
  // 2 | 0 (default) | 1 'b' | 1 'k' | 1 entry | 1 'a' | counter 1 | 1 value | dot 1 | flags 0 | wall 300 = ac 02 | 0 | 2 'ab' | 2 | 7 7
  assert.deepEqual([...good], [2, 0, 1, 98, 1, 107, 1, 1, 97, 1, 1, 1, 0, 0xac, 0x02, 0, 2, 97, 98, 2, 7, 7]);
  const edit = (at: number, ...bytes: number[]): Uint8Array => Uint8Array.from([...good.subarray(0, at), ...bytes, ...good.subarray(at + 1)]);
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.from([...good, 0]), /trailing bytes/],
    [good.subarray(0, good.length - 1), /exceeds the bytes left/],
    [edit(12, 64), /unknown content flags/],
    [edit(10, 0x81, 0x00), /not minimally encoded/],
    [edit(1, 8, ...Buffer.from('default')), /"default" written out/],
    [edit(12, 2, 24, ...Buffer.from('application/octet-stream')), /default content type written out/],
    [edit(12, 16, 0), /flagged but empty/],
    [edit(12, 32, 1, 5, ...Buffer.from('i_int'), 2, 0), /-0/],
    [edit(12, 32, 1, 5, ...Buffer.from('i_int'), 3, 0), /unknown index value kind/],
    [edit(12, 32, 1, 5, ...Buffer.from('i_int'), 0, 1, 65), /needs an integer/],
    [edit(3, 0xff), /not UTF-8/],
    [edit(6, 200), /exceeds the bytes left/],
    [edit(13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), /longer than 8 bytes/],
    [edit(13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), /beyond the safe integers/],
    [edit(9, 0), /bad counter/],
    [edit(17, 45), /vtag must be/],
  ];
  for (const [bytes, reason] of cases) {
    assert.throws(() => decodeObject(bytes), (e: unknown) => e instanceof CorruptObjectError && e.code === 'kv_corrupt_object' && reason.test(e.message), `${reason}: ${Buffer.from(bytes).toString('hex')}`);
  }
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
    fc.property(objectArb, fc.boolean(), (o, v1) => {
      const bytes = v1 ? encodeV1(o) : encodeObject(o);
      const parts = encodedParts(bytes);
      assert.equal(Object.values(parts).reduce((a, b) => a + b, 0), bytes.length);
      const values = o.clock.entries.flatMap((e) => e.values.map(([, c]) => c.value.length)).reduce((a, b) => a + b, 0);
      assert.equal(parts.value ?? 0, values);
    }),
    { numRuns: 300 },
  );
});
