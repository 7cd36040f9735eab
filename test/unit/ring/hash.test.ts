import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { chashKey, keyPartition, partitionOf, partitionStart, RING_TOP, validateRingSize } from '../../../src/core/ring/hash.js';
import { InvalidArgumentError } from '../../../src/core/errors.js';

const RING_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024];

/** The encoding written out by hand: 4-byte big-endian length, then the bytes. */
function referenceHash(parts: readonly string[]): bigint {
  const chunks = parts.flatMap((part) => {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  });
  return BigInt('0x' + createHash('sha1').update(Buffer.concat(chunks)).digest('hex'));
}

describe('chashKey', () => {
  it('matches known vectors (also checked with sha1sum)', () => {
    assert.equal(chashKey('default', 'b', 'k'), 0x567389c3e2ac9916b5d85e4302c7b6a2424f1bc5n);
    assert.equal(chashKey('', '', ''), 0x2c513f149e737ec4063fc1d37aee9beabc4b4bbfn);
  });

  it('equals an independent SHA-1 of the length-prefixed encoding', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (type, bucket, key) => {
        assert.equal(chashKey(type, bucket, key), referenceHash([type, bucket, key]));
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic, treats strings as their UTF-8 bytes, and stays in range', () => {
    const hash = chashKey('t', 'bücket', 'kéy');
    assert.equal(chashKey('t', 'bücket', 'kéy'), hash);
    assert.equal(chashKey('t', new TextEncoder().encode('bücket'), new TextEncoder().encode('kéy')), hash);
    assert.ok(hash >= 0n && hash < RING_TOP);
  });

  it('is unambiguous across part boundaries', () => {
    assert.notEqual(chashKey('x', 'a', 'bc'), chashKey('x', 'ab', 'c'));
    assert.notEqual(chashKey('xa', '', 'b'), chashKey('x', 'a', 'b'));
    assert.notEqual(chashKey('', '', 'a'), chashKey('', 'a', ''));
  });

  it('spreads keys evenly over partitions', () => {
    const ringSize = 64;
    const keys = 12_800; // 200 per partition expected, sd about 14
    const counts = new Array<number>(ringSize).fill(0);
    for (let i = 0; i < keys; i++) counts[partitionOf(chashKey('default', 'b', `key-${i}`), ringSize)]! += 1;
    assert.ok(Math.min(...counts) > 130, `min ${Math.min(...counts)}`);
    assert.ok(Math.max(...counts) < 270, `max ${Math.max(...counts)}`);
  });
});

describe('partition arithmetic', () => {
  it('partitionOf maps each partition range onto its index', () => {
    for (const ringSize of RING_SIZES) {
      assert.equal(partitionOf(0n, ringSize), 0);
      assert.equal(partitionOf(RING_TOP - 1n, ringSize), ringSize - 1);
      for (const index of [0, 1, ringSize / 2, ringSize - 1]) {
        const start = partitionStart(index, ringSize);
        assert.equal(partitionOf(start, ringSize), index);
        if (index > 0) assert.equal(partitionOf(start - 1n, ringSize), index - 1);
      }
    }
  });

  it('partitionOf stays within bounds for any hash', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: RING_TOP - 1n }), fc.constantFrom(...RING_SIZES), (hash, ringSize) => {
        const index = partitionOf(hash, ringSize);
        assert.ok(Number.isInteger(index) && index >= 0 && index < ringSize);
        assert.ok(partitionStart(index, ringSize) <= hash);
        assert.ok(index === ringSize - 1 || partitionStart(index + 1, ringSize) > hash);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects bad arguments', () => {
    for (const bad of [0, 4, 12, 2048, 64.5, -64, Number.NaN]) {
      assert.throws(() => validateRingSize(bad), InvalidArgumentError);
      assert.throws(() => partitionOf(0n, bad), InvalidArgumentError);
    }
    for (const size of RING_SIZES) validateRingSize(size);
    assert.throws(() => partitionOf(-1n, 64), InvalidArgumentError);
    assert.throws(() => partitionOf(RING_TOP, 64), InvalidArgumentError);
    assert.throws(() => partitionStart(64, 64), InvalidArgumentError);
    assert.throws(() => partitionStart(-1, 64), InvalidArgumentError);
    assert.throws(() => partitionStart(1.5, 64), InvalidArgumentError);
  });
});

test('keyPartition equals partitionOf(chashKey) for every ring size (property)', () => {
  fc.assert(
    fc.property(fc.string(), fc.oneof(fc.string(), fc.uint8Array()), fc.oneof(fc.string(), fc.uint8Array()), fc.integer({ min: 3, max: 10 }), (type, bucket, key, bits) => {
      const ringSize = 2 ** bits;
      assert.equal(keyPartition(type, bucket, key, ringSize), partitionOf(chashKey(type, bucket, key), ringSize));
    }),
    { numRuns: 2_000 },
  );
});
