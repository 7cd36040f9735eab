// Bucket types over cluster metadata: the riak-admin create → activate →
// update → status → list flow, per-bucket overrides and their reset, the
// precedence defaults ← type ← bucket, errors for unknown and inactive types,
// and convergence of replicas that change types concurrently.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { emptyMetadata, mergeMetadata, metadataEqual } from '../../../../src/core/metadata/index.js';
import type { MetadataState } from '../../../../src/core/metadata/index.js';
import {
  BadBucketPropsError,
  activateType,
  bucketOverrides,
  createType,
  defaultTypeProps,
  effectiveProps,
  getType,
  listTypes,
  newTypeProps,
  resetBucketProps,
  setBucketProps,
  typeStatus,
  updateType,
} from '../../../../src/kv/buckets/index.js';

const ALL = { allNodesHaveIt: true };

// The data model keeps datatype and consistent as Riak does; which features a
// build serves is checked at creation (see the refusal test below), so the
// model's own tests create such types as a build with every feature would.
const EVERY_FEATURE = { features: { consistent: true, datatype: true } };

function activeType(name: string, props: Record<string, unknown> = {}, state = emptyMetadata()): MetadataState {
  return activateType(createType(state, name, props, 'n1', EVERY_FEATURE), name, ALL, 'n1');
}

test('create → status → activate → update → list', () => {
  let s = emptyMetadata();
  assert.equal(typeStatus(s, 'maps'), 'undefined');
  s = createType(s, 'maps', { datatype: 'map' }, 'n1', EVERY_FEATURE);
  assert.equal(typeStatus(s, 'maps'), 'created');
  assert.equal(typeStatus(s, 'maps', ALL), 'ready');
  assert.throws(() => effectiveProps(s, 'maps', 'b'), { name: 'UnknownBucketTypeError', message: "bucket type 'maps' is not active" });
  assert.throws(() => updateType(s, 'maps', { n_val: 2 }, 'n1'), { code: 'kv_unknown_bucket_type' });
  assert.throws(() => activateType(s, 'maps', { allNodesHaveIt: false }, 'n1'), { code: 'kv_bucket_type_state', message: /cannot be activated yet/ });
  s = activateType(s, 'maps', ALL, 'n1');
  assert.equal(typeStatus(s, 'maps'), 'active');
  assert.equal(activateType(s, 'maps', ALL, 'n1'), s, 'activating twice changes nothing');
  assert.throws(() => createType(s, 'maps', {}, 'n1'), { code: 'kv_bucket_type_state', message: /already active/ });
  s = updateType(s, 'maps', { n_val: 5 }, 'n2');
  assert.equal(getType(s, 'maps')?.props.n_val, 5);
  assert.equal(getType(s, 'maps')?.props.datatype, 'map');
  assert.equal(getType(s, 'maps')?.claimant, 'n2');
  assert.throws(() => updateType(s, 'maps', { datatype: 'set' }, 'n1'), (e: unknown) => e instanceof BadBucketPropsError && /datatype/.test(e.message));
  s = createType(s, 'later', {}, 'n1');
  assert.deepEqual(
    listTypes(s).map((t) => [t.name, t.active]),
    [['default', true], ['later', false], ['maps', true]],
  );
});

test('default type: always active, cannot be created or updated, Riak 1.x defaults', () => {
  const s = emptyMetadata();
  assert.equal(typeStatus(s, 'default'), 'active');
  assert.throws(() => createType(s, 'default', {}, 'n1'), { code: 'kv_bad_bucket_type' });
  assert.throws(() => updateType(s, 'default', { n_val: 1 }, 'n1'), { code: 'kv_bad_bucket_type' });
  assert.equal(activateType(s, 'default', { allNodesHaveIt: false }, 'n1'), s);
  assert.deepEqual(effectiveProps(s, 'default', 'b'), defaultTypeProps());
  assert.deepEqual(effectiveProps(activeType('t'), 't', 'b'), newTypeProps());
});

test('type names are checked; unknown types are refused', () => {
  const s = emptyMetadata();
  for (const bad of ['', 'a/b', 'x'.repeat(256), 'tab\there']) {
    assert.throws(() => createType(s, bad, {}, 'n1'), { code: 'kv_bad_bucket_type' });
  }
  assert.throws(() => activateType(s, 'nope', ALL, 'n1'), { name: 'UnknownBucketTypeError', message: "bucket type 'nope' does not exist" });
  assert.throws(() => effectiveProps(s, 'nope', 'b'), { code: 'kv_unknown_bucket_type' });
  assert.throws(() => setBucketProps(s, 'nope', 'b', { n_val: 1 }, 'n1'), { code: 'kv_unknown_bucket_type' });
  assert.throws(() => setBucketProps(s, 'default', '', { n_val: 1 }, 'n1'), { code: 'kv_bad_bucket_name' });
  assert.equal(getType(s, 'nope'), undefined);
});

test('a type asking for a feature this build does not serve is refused at creation, and nothing is stored', () => {
  const s = emptyMetadata();
  assert.throws(() => createType(s, 'strong', { consistent: true }, 'n1'), { code: 'kv_bad_props', message: /consistent: strongly consistent bucket types are not available/ });
  assert.throws(() => createType(s, 'maps', { datatype: 'map', allow_mult: true }, 'n1'), { code: 'kv_bad_props', message: /datatype: data types \(datatype map\) are not available/ });
  assert.throws(() => createType(s, 'both', { datatype: 'set', consistent: true }, 'n1'), (e: unknown) => e instanceof BadBucketPropsError && e.problems.length === 2);
  for (const name of ['strong', 'maps', 'both']) assert.equal(getType(s, name), undefined, `${name} was not stored`);
  assert.equal(getType(createType(s, 'plain', { consistent: false, n_val: 2 }, 'n1'), 'plain')?.props.n_val, 2, 'consistent=false is plain KV and accepted');
  assert.equal(getType(createType(s, 'maps', { datatype: 'map' }, 'n1', { features: { consistent: false, datatype: true } }), 'maps')?.props.datatype, 'map', 'each feature lifts its own refusal');
  assert.throws(() => createType(s, 'strong', { consistent: true }, 'n1', { features: { consistent: false, datatype: true } }), { code: 'kv_bad_props', message: /consistent/ });
});

test('a re-create before activation replaces the earlier one', () => {
  let s = createType(emptyMetadata(), 't', { datatype: 'set', n_val: 5 }, 'n1', EVERY_FEATURE);
  s = createType(s, 't', { datatype: 'counter' }, 'n1', EVERY_FEATURE);
  assert.equal(getType(s, 't')?.props.datatype, 'counter');
  assert.equal(getType(s, 't')?.props.n_val, 3, 'starts again from the defaults');
});

test('bucket overrides: precedence defaults ← type ← bucket, and reset', () => {
  let s = activeType('t', { n_val: 5, r: 2 });
  s = setBucketProps(s, 't', 'b', { n_val: 4, search_index: 'idx' }, 'n1');
  let p = effectiveProps(s, 't', 'b');
  assert.equal(p.n_val, 4, 'bucket wins');
  assert.equal(p.r, 2, 'type next');
  assert.equal(p.allow_mult, true, 'then the defaults of new types');
  assert.deepEqual(p.custom, { search_index: 'idx' });
  assert.equal(effectiveProps(s, 't', 'other').n_val, 5, 'other buckets keep the type');
  s = updateType(s, 't', { w: 1, n_val: 3 }, 'n1');
  p = effectiveProps(s, 't', 'b');
  assert.equal(p.w, 1, 'a type update reaches buckets that did not set that property');
  assert.equal(p.n_val, 4);
  s = setBucketProps(s, 't', 'b', { r: 1 }, 'n1');
  assert.deepEqual(bucketOverrides(s, 't', 'b'), { n_val: 4, search_index: 'idx', r: 1 });
  s = setBucketProps(s, 't', 'b', { r: 'default' }, 'n1');
  assert.deepEqual(bucketOverrides(s, 't', 'b'), { n_val: 4, search_index: 'idx' }, '"default" drops the override');
  s = resetBucketProps(s, 't', 'b', 'n1');
  assert.deepEqual(bucketOverrides(s, 't', 'b'), {});
  assert.deepEqual(effectiveProps(s, 't', 'b'), getType(s, 't')?.props);
  assert.equal(resetBucketProps(s, 't', 'b', 'n1'), s);
});

test('bucket overrides obey the type: immutable props, quorum ≤ n_val', () => {
  let s = activeType('sets', { datatype: 'set' });
  assert.throws(() => setBucketProps(s, 'sets', 'b', { datatype: 'map' }, 'n1'), { code: 'kv_bad_props', message: /datatype/ });
  assert.throws(() => setBucketProps(s, 'sets', 'b', { allow_mult: false }, 'n1'), { code: 'kv_bad_props', message: /allow_mult/ });
  assert.throws(() => setBucketProps(s, 'default', 'b', { datatype: 'map' }, 'n1'), { code: 'kv_bad_props', message: /datatype/ });
  assert.throws(() => setBucketProps(s, 'default', 'b', { consistent: true }, 'n1'), { code: 'kv_bad_props', message: /consistent/ });
  assert.throws(() => setBucketProps(s, 'sets', 'b', { n_val: 1, w: 2 }, 'n1'), { code: 'kv_bad_props', message: /w: must not exceed n_val/ });
  s = setBucketProps(s, 'default', 'b', { allow_mult: true, last_write_wins: 'false' }, 'n1');
  assert.equal(effectiveProps(s, 'default', 'b').allow_mult, true);
  assert.deepEqual(bucketOverrides(s, 'default', 'b'), { allow_mult: true, last_write_wins: false });
});

// --- convergence: replicas run type operations concurrently, then gossip ---
type Op = [kind: number, replica: number, type: number, value: number];
const TYPES = ['t1', 't2', 't3'];

function apply(states: MetadataState[], [kind, replica, t, v]: Op): void {
  const i = replica % states.length;
  const self = `n${i + 1}`;
  const type = TYPES[t % TYPES.length] as string;
  const s = states[i] as MetadataState;
  const ops: (() => MetadataState)[] = [
    () => createType(s, type, { n_val: 1 + (v % 5), datatype: v % 2 === 0 ? 'set' : 'counter' }, self, EVERY_FEATURE),
    () => activateType(s, type, { allNodesHaveIt: v % 3 !== 0 }, self),
    () => updateType(s, type, { n_val: 1 + (v % 5), r: 1 }, self),
    () => setBucketProps(s, type, `b${v % 2}`, { r: 1 + (v % 2), search_index: `i${v}` }, self),
    () => resetBucketProps(s, type, `b${v % 2}`, self),
    () => mergeMetadata(s, states[v % states.length] as MetadataState),
  ];
  try {
    states[i] = (ops[kind % ops.length] as () => MetadataState)();
  } catch (err) {
    if (!(err instanceof Error) || !('code' in err)) throw err; // refused operations are part of the history
  }
}

test('replicas changing types concurrently converge after merge', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(5), fc.nat(2), fc.nat(2), fc.nat(9)), { maxLength: 60 }), (ops) => {
      const states = [emptyMetadata(), emptyMetadata(), emptyMetadata()];
      for (const op of ops) apply(states, op);
      const [a, b, c] = states as [MetadataState, MetadataState, MetadataState];
      const all = [mergeMetadata(mergeMetadata(a, b), c), mergeMetadata(c, mergeMetadata(b, a)), mergeMetadata(b, mergeMetadata(c, a))];
      assert.ok(metadataEqual(all[0] as MetadataState, all[1] as MetadataState));
      assert.ok(metadataEqual(all[0] as MetadataState, all[2] as MetadataState));
      const merged = all[0] as MetadataState;
      for (const type of TYPES) {
        const statuses = all.map((m) => typeStatus(m, type));
        assert.ok(statuses.every((st) => st === statuses[0]));
        if (statuses[0] === 'active') assert.deepEqual(effectiveProps(all[1] as MetadataState, type, 'b0'), effectiveProps(merged, type, 'b0'));
      }
    }),
    { numRuns: 200 },
  );
});

test('two replicas create the same type concurrently: both end with the same one', () => {
  const a = createType(emptyMetadata(), 't', { datatype: 'set' }, 'n1', EVERY_FEATURE);
  const b = createType(emptyMetadata(), 't', { datatype: 'map' }, 'n2', EVERY_FEATURE);
  const ab = mergeMetadata(a, b);
  assert.ok(metadataEqual(ab, mergeMetadata(b, a)));
  assert.equal(getType(ab, 't')?.props.datatype, 'map', 'same version: the greater writer wins');
  const active = activateType(ab, 't', ALL, 'n1');
  assert.equal(typeStatus(mergeMetadata(b, active), 't'), 'active', 'stale gossip does not deactivate');
  assert.equal(typeStatus(mergeMetadata(a, active), 't'), 'active');
});
