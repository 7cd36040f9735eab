// Cluster metadata is a join-semilattice on realistic histories: replicas put,
// remove and gossip at random, and any of their states then merge
// commutatively, associatively and idempotently; a removed key never comes
// back from stale gossip; diff sends exactly what the peer lacks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import {
  compareEntries,
  diff,
  emptyMetadata,
  get,
  getEntry,
  list,
  mergeMetadata,
  metadataDigest,
  metadataEqual,
  prefixDigests,
  put,
  remove,
  selectPrefixes,
} from '../../../src/core/metadata/index.js';
import type { MetadataState } from '../../../src/core/metadata/index.js';

const PREFIXES = ['bucket_types', 'buckets'];
const KEYS = ['a', 'b', 'c', 'd'];
const VALUES: unknown[] = [1, 'x', { n_val: 3, allow_mult: true }, [1, 2], null, { b: 1, a: [true] }];
type Op = [kind: number, replica: number, p: number, k: number, v: number];

function applyOp(replicas: MetadataState[], [kind, replica, p, k, v]: Op): void {
  const i = replica % replicas.length;
  const self = `n${i + 1}`;
  const prefix = PREFIXES[p % PREFIXES.length] as string;
  const key = KEYS[k % KEYS.length] as string;
  const state = replicas[i] as MetadataState;
  if (kind % 4 === 0 || kind % 4 === 1) replicas[i] = put(state, prefix, key, VALUES[v % VALUES.length], self);
  else if (kind % 4 === 2) replicas[i] = remove(state, prefix, key, self);
  else replicas[i] = mergeMetadata(state, replicas[v % replicas.length] as MetadataState);
}

const historyArb = fc.array(fc.tuple(fc.nat(7), fc.nat(3), fc.nat(1), fc.nat(3), fc.nat(5)), { minLength: 1, maxLength: 80 });

function histories(ops: Op[]): MetadataState[] {
  const replicas = [emptyMetadata(), emptyMetadata(), emptyMetadata(), emptyMetadata()];
  for (const op of ops) applyOp(replicas, op);
  return replicas;
}

test('put, get, list and remove', () => {
  let s = emptyMetadata();
  s = put(s, 'p', 'b', { x: 1 }, 'n1');
  s = put(s, 'p', 'a', 2, 'n1');
  assert.deepEqual(get(s, 'p', 'b'), { x: 1 });
  assert.deepEqual(list(s, 'p'), [['a', 2], ['b', { x: 1 }]]);
  assert.equal(getEntry(s, 'p', 'a')?.version, 2, 'version is the largest seen plus one');
  s = remove(s, 'p', 'b', 'n2');
  assert.equal(get(s, 'p', 'b'), undefined);
  assert.deepEqual(getEntry(s, 'p', 'b'), { version: 3, writer: 'n2', tombstone: true, value: null });
  assert.deepEqual(list(s, 'p'), [['a', 2]]);
  assert.equal(remove(s, 'p', 'b', 'n2'), s, 'removing twice changes nothing');
  assert.deepEqual(list(s, 'other'), []);
  assert.equal(get(s, 'p', 'constructor'), undefined, 'inherited names are not keys');
});

test('values must be plain data; names are bounded', () => {
  const s = emptyMetadata();
  for (const bad of [undefined, Number.NaN, new Date(0), { a: undefined }, [() => 1], new Map()]) {
    assert.throws(() => put(s, 'p', 'k', bad, 'n1'), { name: 'InvalidArgumentError' });
  }
  assert.throws(() => put(s, '', 'k', 1, 'n1'), { name: 'InvalidArgumentError' });
  assert.throws(() => put(s, 'p', '__proto__', 1, 'n1'), { name: 'InvalidArgumentError' });
  assert.throws(() => put(s, 'p', 'k'.repeat(2_000), 1, 'n1'), { name: 'InvalidArgumentError' });
});

test('a later write wins wherever it was made; ties break on writer', () => {
  const base = put(emptyMetadata(), 'p', 'k', 1, 'n1');
  const a = put(base, 'p', 'k', 'from-a', 'n1');
  const b = put(base, 'p', 'k', 'from-b', 'n2');
  assert.equal(get(mergeMetadata(a, b), 'p', 'k'), 'from-b', 'same version: greater writer wins');
  const after = put(mergeMetadata(a, b), 'p', 'k', 'after', 'n1');
  assert.equal(get(mergeMetadata(b, after), 'p', 'k'), 'after', 'a write after seeing both beats both');
});

test('merge is commutative, associative and idempotent on random histories', () => {
  fc.assert(
    fc.property(historyArb, fc.nat(3), fc.nat(3), fc.nat(3), (ops, i, j, k) => {
      const replicas = histories(ops);
      const [a, b, c] = [replicas[i], replicas[j], replicas[k]] as [MetadataState, MetadataState, MetadataState];
      assert.ok(metadataEqual(mergeMetadata(a, b), mergeMetadata(b, a)), 'commutative');
      assert.ok(metadataEqual(mergeMetadata(mergeMetadata(a, b), c), mergeMetadata(a, mergeMetadata(b, c))), 'associative');
      assert.ok(metadataEqual(mergeMetadata(a, a), a), 'idempotent');
      const merged = mergeMetadata(a, b);
      for (const prefix of PREFIXES) {
        for (const key of KEYS) {
          const before = getEntry(a, prefix, key);
          const after = getEntry(merged, prefix, key);
          if (before !== undefined) assert.ok(after !== undefined && compareEntries(after, before) >= 0, 'merge only moves entries forward');
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('stale gossip never resurrects a removed key', () => {
  fc.assert(
    fc.property(historyArb, historyArb, fc.nat(3), fc.nat(3), fc.nat(3), (before, after, i, j, k) => {
      const replicas = histories(before);
      const key = KEYS[k] as string;
      // Replica i has seen replica j's state, then removes the key.
      const stale = replicas[j] as MetadataState;
      const removed = remove(mergeMetadata(replicas[i] as MetadataState, stale), 'buckets', key, `n${i + 1}`);
      // Others go on without touching that key: their gossip is stale for it.
      const others = replicas.map((r) => r);
      for (const op of after.filter((o) => KEYS[o[3] % KEYS.length] !== key || PREFIXES[o[2] % 2] !== 'buckets')) applyOp(others, op);
      for (const other of [stale, ...others]) {
        if (getEntry(other, 'buckets', key) === undefined || compareEntries(getEntry(other, 'buckets', key)!, getEntry(removed, 'buckets', key)!) < 0) {
          assert.equal(get(mergeMetadata(removed, other), 'buckets', key), undefined);
          assert.equal(get(mergeMetadata(other, removed), 'buckets', key), undefined);
        }
      }
      assert.equal(get(mergeMetadata(stale, removed), 'buckets', key), undefined);
    }),
    { numRuns: 200 },
  );
});

test('diff sends exactly what the peer lacks', () => {
  fc.assert(
    fc.property(historyArb, fc.nat(3), fc.nat(3), (ops, i, j) => {
      const replicas = histories(ops);
      const [a, b] = [replicas[i], replicas[j]] as [MetadataState, MetadataState];
      assert.ok(metadataEqual(mergeMetadata(b, diff(a, b)), mergeMetadata(a, b)));
      assert.deepEqual(diff(a, a).prefixes, {});
      const differing = Object.keys(prefixDigests(a)).filter((p) => prefixDigests(a)[p] !== prefixDigests(b)[p]);
      assert.ok(metadataEqual(mergeMetadata(b, selectPrefixes(a, differing)), mergeMetadata(a, b)), 'sending only differing prefixes suffices');
    }),
    { numRuns: 200 },
  );
});

test('digests are stable under key order and survive msgpack', () => {
  const a = put(put(emptyMetadata(), 'p', 'k', { x: 1, y: 2 }, 'n1'), 'q', 'k', [1], 'n1');
  const b = mergeMetadata(emptyMetadata(), a);
  assert.equal(metadataDigest(a), metadataDigest(b));
  const decoded = unpack(pack(a)) as MetadataState;
  assert.equal(metadataDigest(decoded), metadataDigest(a));
  assert.ok(metadataEqual(mergeMetadata(decoded, a), a));
  const c = put(a, 'q', 'k', [2], 'n1');
  assert.equal(prefixDigests(c).p, prefixDigests(a).p);
  assert.notEqual(prefixDigests(c).q, prefixDigests(a).q);
});
