// The put/merge/resolve rules of each mode, tombstones, limits and stamping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  HybridClock,
  applyPut,
  compareHlc,
  contextOf,
  isTombstone,
  makeTombstone,
  mergeReplicas,
  nextTimestamp,
  observeObject,
  resolve,
  siblings,
  size,
} from '../../../../src/kv/object/index.js';
import type { Content, ObjectProps, RObject } from '../../../../src/kv/object/index.js';
import { ClockDriftError, ObjectTooLargeError, TooManySiblingsError } from '../../../../src/kv/errors.js';
import { LWW, MULT, SINGLE, content, text } from './helpers.js';

const KEY = { bucketType: 'default', bucket: 'b', key: 'k' };
const put = (stored: RObject | undefined, c: Content, actor: string, props: ObjectProps, context = stored ? contextOf(stored) : []) =>
  applyPut(stored, { ...KEY, context, content: c }, actor, props).object;
const texts = (cs: Content[]) => cs.map(text);

test('allow_mult=true: concurrent writes are siblings, oldest first; a covering write replaces them', () => {
  let o = put(undefined, content('a', 20), 'n1/0', MULT, []);
  o = put(o, content('b', 10), 'n1/0', MULT, []);
  assert.deepEqual(texts(resolve(o, MULT)), ['b', 'a']);
  o = put(o, content('c', 5), 'n1/0', MULT);
  assert.deepEqual(texts(resolve(o, MULT)), ['c']);
});

test('allow_mult=false: newest HLC wins among concurrent siblings, then vtag, in every merge order', () => {
  const a = put(undefined, content('old', 100), 'n1/0', SINGLE, []);
  const b = put(undefined, content('new', 200), 'n2/0', SINGLE, []);
  const c = put(undefined, content('tie', 200, { vtag: 'zzz' }), 'n3/0', SINGLE, []);
  for (const [x, y, z] of [[a, b, c], [c, b, a], [b, a, c]] as RObject[][]) {
    const m = mergeReplicas(mergeReplicas(x as RObject, y as RObject, SINGLE), z as RObject, SINGLE);
    assert.equal(size(m.clock), 3, 'merges keep siblings; resolve picks');
    assert.deepEqual(texts(resolve(m, SINGLE)), ['tie']);
  }
});

test('allow_mult=false: blind writes through one coordinator do not pile up siblings', () => {
  let o: RObject | undefined;
  for (let i = 0; i < 50; i++) o = put(o, content(`v${i}`, 1000 + i), 'n1/0', SINGLE, []);
  assert.equal(size((o as RObject).clock), 1);
  assert.deepEqual(texts(resolve(o as RObject, SINGLE)), ['v49']);
});

test('tombstones: a covering delete reads as not found; a concurrent live write survives it', () => {
  const o = put(undefined, content('a', 10), 'n1/0', MULT, []);
  const deleted = put(o, makeTombstone({ wallMs: 20, logical: 0 }, 'tomb'), 'n1/0', MULT);
  assert.deepEqual(resolve(deleted, MULT), []);
  assert.equal(isTombstone(deleted), true);
  assert.equal(siblings(deleted).length, 1);
  const concurrent = put(o, content('b', 15), 'n2/0', MULT); // same context as the delete, elsewhere
  const merged = mergeReplicas(deleted, concurrent, MULT);
  assert.deepEqual(texts(resolve(merged, MULT)), ['b']);
  assert.equal(isTombstone(merged), false);
  assert.deepEqual(resolve(merged, SINGLE), [], 'allow_mult=false: the newer tombstone wins');
  assert.equal(isTombstone(put(undefined, content('x', 1), 'n1/0', MULT)), false);
});

test('LWW: a put replaces iff its timestamp is >= the stored one; ties broken by vtag', () => {
  const o = put(undefined, content('a', 100, { vtag: 'm' }), 'n1/0', LWW);
  const older = applyPut(o, { ...KEY, context: [], content: content('b', 99) }, 'n1/0', LWW);
  assert.equal(older.replaced, false);
  assert.equal(older.object, o);
  const tieLow = applyPut(o, { ...KEY, context: [], content: content('c', 100, { vtag: 'a' }) }, 'n1/0', LWW);
  assert.equal(tieLow.replaced, false);
  const tieHigh = applyPut(o, { ...KEY, context: [], content: content('d', 100, { vtag: 'z' }) }, 'n1/0', LWW);
  assert.deepEqual(texts(resolve(tieHigh.object, LWW)), ['d']);
  assert.equal(size(tieHigh.object.clock), 1, 'the client context is ignored; the stored value is replaced');
});

test('LWW: merges keep only the newest write, and are a semilattice', () => {
  // Random puts with random timestamps through random replicas, random syncs.
  const opArb = fc.tuple(fc.nat(2), fc.nat(2), fc.integer({ min: 0, max: 50 }), fc.boolean());
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      let replicas: (RObject | undefined)[] = [undefined, undefined, undefined];
      const accepted: Content[] = [];
      ops.forEach(([r, other, wall, isSync], i) => {
        replicas = replicas.slice();
        const here = replicas[r];
        const there = replicas[other];
        if (isSync) {
          if (here !== undefined) replicas[other] = there === undefined ? here : mergeReplicas(here, there, LWW);
          return;
        }
        const result = applyPut(here, { ...KEY, context: [], content: content(`w${i}`, wall, { vtag: `t${i}` }) }, `n${r}/0`, LWW);
        if (result.replaced) accepted.push(result.object.clock.entries.flatMap((e) => e.values.map(([, c]) => c))[0] as Content);
        replicas[r] = result.object;
      });
      const states = replicas.filter((x): x is RObject => x !== undefined);
      for (const a of states) {
        assert.ok(size(a.clock) <= 1);
        assert.deepEqual(mergeReplicas(a, a, LWW), a);
        for (const b of states) {
          assert.deepEqual(mergeReplicas(a, b, LWW), mergeReplicas(b, a, LWW));
          for (const c of states) assert.deepEqual(mergeReplicas(mergeReplicas(a, b, LWW), c, LWW), mergeReplicas(a, mergeReplicas(b, c, LWW), LWW));
        }
      }
      if (states.length === 0) return;
      const all = states.reduce((x, y) => mergeReplicas(x, y, LWW));
      const newest = accepted.reduce((x, y) => (compareHlc(y.meta.lastModified, x.meta.lastModified) > 0 || (compareHlc(y.meta.lastModified, x.meta.lastModified) === 0 && y.meta.vtag > x.meta.vtag) ? y : x));
      assert.deepEqual(resolve(all, LWW), [newest], 'the newest accepted write wins everywhere after sync');
    }),
    { numRuns: 300 },
  );
});

test('limits: sibling warning, then refusal naming the key and the numbers', () => {
  const limits = { siblingsWarn: 2, siblingsMax: 3 };
  let o: RObject | undefined;
  const warnings: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = applyPut(o, { ...KEY, context: [], content: content(`s${i}`, i) }, 'n1/0', MULT, { limits });
    warnings.push(r.warnings.length);
    o = r.object;
  }
  assert.deepEqual(warnings, [0, 0, 1]);
  assert.throws(
    () => applyPut(o, { ...KEY, context: [], content: content('s3', 3) }, 'n1/0', MULT, { limits }),
    (e: unknown) => e instanceof TooManySiblingsError && e.code === 'kv_too_many_siblings' && /default\/b\/k: .*4 siblings \(max 3\)/.test(e.message),
  );
  // A write with the context resolves them instead of being refused.
  const ok = applyPut(o, { ...KEY, context: contextOf(o as RObject), content: content('r', 9) }, 'n1/0', MULT, { limits });
  assert.equal(size(ok.object.clock), 1);
});

test('limits: object size warning, then refusal with a 413-mapped code', () => {
  const limits = { objectBytesWarn: 1_000, objectBytesMax: 4_000 };
  const big = (n: number, wall: number) => ({ ...KEY, context: [], content: content('x'.repeat(n), wall) });
  assert.deepEqual(applyPut(undefined, big(500, 1), 'n1/0', MULT, { limits }).warnings, []);
  const warned = applyPut(undefined, big(2_000, 1), 'n1/0', MULT, { limits });
  assert.equal(warned.warnings[0]?.kind, 'object_bytes');
  assert.throws(
    () => applyPut(warned.object, big(3_000, 2), 'n1/0', MULT, { limits }),
    (e: unknown) => e instanceof ObjectTooLargeError && e.code === 'kv_object_too_large' && e.limitBytes === 4_000 && /default\/b\/k/.test(e.message),
  );
});

test('nextTimestamp stamps after stored siblings even when the local wall clock is behind', () => {
  const stored = put(undefined, content('a', 50_000, { lastModified: { wallMs: 50_000, logical: 4 } }), 'n1/0', SINGLE, []);
  const slow = new HybridClock();
  const t = nextTimestamp(slow, stored, 10_000);
  assert.deepEqual(t, { wallMs: 50_000, logical: 5 });
  const o = put(stored, content('b', t.wallMs, { lastModified: t }), 'n2/0', SINGLE, []);
  assert.deepEqual(texts(resolve(o, SINGLE)), ['b']);
  assert.deepEqual(nextTimestamp(new HybridClock(), undefined, 7), { wallMs: 7, logical: 0 });
});

test('observeObject refuses an object stamped too far in the future', () => {
  const future = put(undefined, content('f', 200_000), 'n1/0', MULT, []);
  const clock = new HybridClock({ maxDriftMs: 60_000 });
  assert.throws(() => observeObject(clock, future, 100_000), ClockDriftError);
  assert.deepEqual(clock.last, { wallMs: 0, logical: 0 });
  observeObject(clock, future, 150_000);
  assert.ok(compareHlc(clock.last, { wallMs: 200_000, logical: 0 }) > 0);
});
