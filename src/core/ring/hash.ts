// Key hashing and the partition arithmetic of the ring. The ring is the
// 160-bit SHA-1 space cut into `ringSize` equal partitions; partition i covers
// [i * inc, (i + 1) * inc) with inc = 2^160 / ringSize.
import { createHash } from 'node:crypto';
import { RING_SIZE_MAX, RING_SIZE_MIN } from '../constants.js';
import { assert, InvalidArgumentError } from '../errors.js';

/** Size of the hash space: hashes are in [0, RING_TOP). */
export const RING_TOP: bigint = 2n ** 160n;

const SHA1_BYTES = 20;
const LENGTH_PREFIX_BYTES = 4;

/** Throws InvalidArgumentError unless `ringSize` is a power of two in [RING_SIZE_MIN, RING_SIZE_MAX]. */
export function validateRingSize(ringSize: number): void {
  const ok =
    Number.isInteger(ringSize) &&
    ringSize >= RING_SIZE_MIN &&
    ringSize <= RING_SIZE_MAX &&
    (ringSize & (ringSize - 1)) === 0;
  if (!ok) {
    throw new InvalidArgumentError(
      `ring size must be a power of two in ${RING_SIZE_MIN}..${RING_SIZE_MAX}, got ${ringSize}`,
    );
  }
}

/**
 * SHA-1 of (bucket type, bucket, key) as an unsigned 160-bit integer. Each part
 * is a 4-byte big-endian length then its bytes (strings as UTF-8), so
 * ("a", "bc") and ("ab", "c") differ. A string and a Uint8Array holding its
 * UTF-8 bytes hash alike on purpose: a key is its bytes.
 */
export function chashKey(bucketType: string, bucket: string | Uint8Array, key: string | Uint8Array): bigint {
  const digest = keyDigest(bucketType, bucket, key);
  const hash = BigInt('0x' + digest.toString('hex'));
  assert(hash >= 0n && hash < RING_TOP, 'hash within the ring');
  return hash;
}

/**
 * partitionOf(chashKey(...), ringSize) without BigInt: ring sizes are powers
 * of two up to 2^10, so the partition is the digest's top log2(ringSize)
 * bits, all within its first two bytes. The per-request path uses this.
 */
export function keyPartition(bucketType: string, bucket: string | Uint8Array, key: string | Uint8Array, ringSize: number): number {
  validateRingSize(ringSize);
  assert(RING_SIZE_MAX <= 1 << 16, 'a partition index fits the digest\'s first two bytes');
  const digest = keyDigest(bucketType, bucket, key);
  const bits = 31 - Math.clz32(ringSize);
  return ((((digest[0] as number) << 8) | (digest[1] as number)) >>> (16 - bits)) & (ringSize - 1);
}

/** SHA-1 over the length-prefixed parts, hashed from one buffer. */
function keyDigest(bucketType: string, bucket: string | Uint8Array, key: string | Uint8Array): Buffer {
  const lengths = [byteLength(bucketType), byteLength(bucket), byteLength(key)] as const;
  const input = Buffer.allocUnsafe(3 * LENGTH_PREFIX_BYTES + lengths[0] + lengths[1] + lengths[2]);
  let at = 0;
  for (const [i, part] of [bucketType, bucket, key].entries()) {
    input.writeUInt32BE(lengths[i] as number, at);
    at += LENGTH_PREFIX_BYTES;
    if (typeof part === 'string') at += input.write(part, at, 'utf8');
    else {
      input.set(part, at);
      at += part.byteLength;
    }
  }
  assert(at === input.length, 'hash input filled exactly');
  const digest = createHash('sha1').update(input).digest();
  assert(digest.length === SHA1_BYTES, 'sha1 digest is 20 bytes');
  return digest;
}

function byteLength(part: string | Uint8Array): number {
  return typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.byteLength;
}

function partitionWidth(ringSize: number): bigint {
  validateRingSize(ringSize);
  return RING_TOP / BigInt(ringSize);
}

/** Index of the partition whose range [start, start + inc) contains `hash`. */
export function partitionOf(hash: bigint, ringSize: number): number {
  const width = partitionWidth(ringSize);
  if (hash < 0n || hash >= RING_TOP) throw new InvalidArgumentError('hash outside [0, 2^160)');
  const index = Number(hash / width);
  assert(index >= 0 && index < ringSize, 'partition index in range');
  return index;
}

/** First hash of partition `index`. */
export function partitionStart(index: number, ringSize: number): bigint {
  const width = partitionWidth(ringSize);
  if (!Number.isInteger(index) || index < 0 || index >= ringSize) {
    throw new InvalidArgumentError(`partition index must be an integer in 0..${ringSize - 1}, got ${index}`);
  }
  return BigInt(index) * width;
}
