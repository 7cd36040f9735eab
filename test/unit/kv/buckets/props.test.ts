// Bucket properties: Riak's exact defaults, validation that names each bad
// property, immutability of datatype/consistent/write_once, and the HTTP JSON
// shape {"props": {...}} round-tripping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  BadBucketPropsError,
  defaultTypeProps,
  newTypeProps,
  propsFromJson,
  propsToJson,
  validateProps,
} from '../../../../src/kv/buckets/index.js';
import type { Props } from '../../../../src/kv/buckets/index.js';

/** The property names a BadBucketPropsError complains about. */
function badProps(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BadBucketPropsError, `expected BadBucketPropsError, got ${String(err)}`);
    assert.equal(err.code, 'kv_bad_props');
    for (const p of err.problems) assert.ok(err.message.includes(`${p.property}: `), 'message names the property');
    return err.problems.map((p) => p.property).sort();
  }
  assert.fail('expected BadBucketPropsError');
}

const COMMON = {
  n_val: 3,
  last_write_wins: false,
  r: 'quorum',
  w: 'quorum',
  dw: 'quorum',
  rw: 'quorum',
  pr: 0,
  pw: 0,
  notfound_ok: true,
  basic_quorum: false,
  big_vclock: 50,
  small_vclock: 50,
  old_vclock: 86400,
  young_vclock: 20,
  precommit: [],
  postcommit: [],
  chash_keyfun: { mod: 'riak_core_util', fun: 'chash_std_keyfun' },
  linkfun: { mod: 'riak_kv_wm_link_walker', fun: 'mapreduce_linkfun' },
  custom: {},
};

test('defaults: the default type and newly created types (riak_core_bucket_type:defaults/0,1)', () => {
  assert.deepEqual(defaultTypeProps(), { ...COMMON, allow_mult: false, dvv_enabled: false });
  assert.deepEqual(newTypeProps(), { ...COMMON, allow_mult: true, dvv_enabled: true });
  assert.deepEqual(validateProps({}), newTypeProps());
  assert.deepEqual(validateProps({}, { defaultType: true }), defaultTypeProps());
});

test('valid values of every kind are accepted and normalised', () => {
  const p = validateProps({
    n_val: 5,
    r: 'one',
    w: 'all',
    dw: 0,
    rw: 2,
    pr: 'quorum',
    pw: 1,
    allow_mult: 'FALSE',
    basic_quorum: 'true',
    notfound_ok: false,
    old_vclock: 1,
    young_vclock: 0,
    precommit: [{ mod: 'm', fun: 'f' }, { name: 'Riak.validate' }],
    linkfun: { mod: 'a', fun: 'b' },
    search_index: 'famous',
    backend: 'leveldb_mult',
  });
  assert.equal(p.n_val, 5);
  assert.equal(p.r, 'one');
  assert.equal(p.allow_mult, false);
  assert.equal(p.basic_quorum, true);
  assert.deepEqual(p.precommit, [{ mod: 'm', fun: 'f' }, { name: 'Riak.validate' }]);
  assert.deepEqual(p.custom, { search_index: 'famous', backend: 'leveldb_mult' }, 'unknown props are kept, as Riak does');
});

test('"default" for a quorum keeps the inherited value', () => {
  const existing = validateProps({ r: 2 });
  assert.equal(validateProps({ r: 'default' }, { existing }).r, 2);
});

test('each wrong type or value is refused, naming the property', () => {
  assert.deepEqual(badProps(() => validateProps({ n_val: 0 })), ['n_val']);
  assert.deepEqual(badProps(() => validateProps({ n_val: '3' })), ['n_val']);
  assert.deepEqual(badProps(() => validateProps({ n_val: 2.5 })), ['n_val']);
  assert.deepEqual(badProps(() => validateProps({ n_val: 17 })), ['n_val'], 'above the configured maximum');
  assert.deepEqual(validateProps({ n_val: 17 }, { nValMax: 32 }).n_val, 17);
  assert.deepEqual(badProps(() => validateProps({ allow_mult: 'yes' })), ['allow_mult']);
  assert.deepEqual(badProps(() => validateProps({ r: 0 })), ['r'], 'r must be positive');
  assert.deepEqual(badProps(() => validateProps({ w: 'most' })), ['w']);
  assert.deepEqual(badProps(() => validateProps({ pw: -1 })), ['pw']);
  assert.deepEqual(badProps(() => validateProps({ r: 4 })), ['r'], 'numeric quorum above n_val');
  assert.deepEqual(badProps(() => validateProps({ n_val: 2, dw: 3, pr: 3 })), ['dw', 'pr']);
  assert.deepEqual(badProps(() => validateProps({ big_vclock: -5, young_vclock: 'x' })), ['big_vclock', 'young_vclock']);
  assert.deepEqual(badProps(() => validateProps({ chash_keyfun: 'riak_core_util:chash_std_keyfun' })), ['chash_keyfun']);
  assert.deepEqual(badProps(() => validateProps({ postcommit: [{ mod: 'm' }] })), ['postcommit']);
  assert.deepEqual(badProps(() => validateProps({ datatype: 'register' }, { creatingType: true })), ['datatype']);
  assert.deepEqual(badProps(() => validateProps({ custom_thing: new Date(0) })), ['custom_thing']);
  assert.throws(() => validateProps({ n_val: 'three' }), { message: 'invalid bucket properties: n_val: must be an integer >= 1, got "three"' });
});

test('cross-property rules from riak_kv_bucket', () => {
  assert.deepEqual(badProps(() => validateProps({ datatype: 'map', allow_mult: false }, { creatingType: true })), ['allow_mult']);
  assert.deepEqual(badProps(() => validateProps({ last_write_wins: true })), ['dvv_enabled'], 'lww needs dvv off');
  assert.equal(validateProps({ last_write_wins: true, dvv_enabled: false }).last_write_wins, true);
  assert.deepEqual(badProps(() => validateProps({ write_once: true, consistent: true }, { creatingType: true })), ['consistent']);
  assert.deepEqual(badProps(() => validateProps({ write_once: true, datatype: 'set' }, { creatingType: true })), ['datatype']);
  assert.equal(validateProps({ datatype: 'hll' }, { creatingType: true }).hll_precision, 14);
  assert.deepEqual(badProps(() => validateProps({ datatype: 'hll', hll_precision: 17 }, { creatingType: true })), ['hll_precision']);
  assert.deepEqual(badProps(() => validateProps({ datatype: 'set', hll_precision: 10 }, { creatingType: true })), ['hll_precision']);
  const hll = validateProps({ datatype: 'hll', hll_precision: 12 }, { creatingType: true });
  assert.equal(validateProps({ hll_precision: 10 }, { existing: hll, activated: true }).hll_precision, 10);
  assert.deepEqual(badProps(() => validateProps({ hll_precision: 13 }, { existing: hll, activated: true })), ['hll_precision']);
});

test('datatype, consistent and write_once are fixed once the type exists', () => {
  const counter = validateProps({ datatype: 'counter' }, { creatingType: true });
  assert.equal(counter.datatype, 'counter');
  const update = { existing: counter, activated: true };
  assert.deepEqual(badProps(() => validateProps({ datatype: 'set' }, update)), ['datatype']);
  assert.equal(validateProps({ datatype: 'counter', n_val: 5 }, update).n_val, 5, 'restating the same datatype is fine');
  assert.deepEqual(badProps(() => validateProps({ allow_mult: false }, update)), ['allow_mult']);
  const plain = validateProps({}, { creatingType: true });
  assert.deepEqual(badProps(() => validateProps({ datatype: 'map' }, { existing: plain, activated: true })), ['datatype']);
  assert.deepEqual(badProps(() => validateProps({ datatype: 'map' }, { defaultType: true })), ['datatype'], 'never on the default type');
  assert.deepEqual(badProps(() => validateProps({ consistent: true }, { existing: plain, activated: true })), ['consistent']);
  assert.deepEqual(badProps(() => validateProps({ write_once: true }, { existing: plain })), ['write_once']);
  assert.equal(validateProps({ consistent: false }, { existing: plain }).consistent, false, 'false on a non-consistent type is no change');
  const sc = validateProps({ consistent: true }, { creatingType: true });
  assert.deepEqual(badProps(() => validateProps({ consistent: false }, { existing: sc, activated: true })), ['consistent']);
  assert.deepEqual(badProps(() => validateProps({ n_val: 5 }, { existing: sc, activated: true })), ['n_val'], 'consistent types keep n_val');
  assert.equal(validateProps({ n_val: 5 }, { existing: plain, activated: true }).n_val, 5, 'eventually consistent types may change n_val');
  assert.equal(validateProps({ datatype: 'map' }, { existing: plain, creatingType: true }).datatype, 'map', 're-create before activation');
  assert.deepEqual(badProps(() => validateProps({ datatype: 'map' }, { existing: plain, creatingType: true, activated: true })), ['datatype']);
});

test("JSON in Riak's HTTP shape", () => {
  const json = propsToJson(defaultTypeProps(), { name: 'test' });
  assert.equal(
    JSON.stringify(json),
    '{"props":{"allow_mult":false,"basic_quorum":false,"big_vclock":50,"chash_keyfun":{"mod":"riak_core_util","fun":"chash_std_keyfun"},' +
      '"dvv_enabled":false,"dw":"quorum","last_write_wins":false,"linkfun":{"mod":"riak_kv_wm_link_walker","fun":"mapreduce_linkfun"},' +
      '"n_val":3,"name":"test","notfound_ok":true,"old_vclock":86400,"postcommit":[],"pr":0,"precommit":[],"pw":0,"r":"quorum","rw":"quorum",' +
      '"small_vclock":50,"w":"quorum","young_vclock":20}}',
  );
  assert.deepEqual(propsFromJson('{"props":{"n_val":1}}'), { n_val: 1 });
  assert.deepEqual(badProps(() => propsFromJson('{"n_val":1}')), ['props']);
  assert.deepEqual(badProps(() => propsFromJson('not json')), ['props']);
  assert.deepEqual(badProps(() => propsFromJson({ props: [] })), ['props']);
});

const propsArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    n_val: fc.integer({ min: 3, max: 16 }),
    allow_mult: fc.boolean(),
    r: fc.oneof(fc.constantFrom('one', 'quorum', 'all'), fc.integer({ min: 1, max: 3 })),
    pw: fc.integer({ min: 0, max: 3 }),
    datatype: fc.constantFrom('counter', 'set', 'map', 'hll', 'gset'),
    consistent: fc.constant(false),
    precommit: fc.array(fc.record({ mod: fc.string({ minLength: 1 }), fun: fc.string({ minLength: 1 }) }), { maxLength: 2 }),
    search_index: fc.string(),
  },
  { requiredKeys: [] },
);

test('JSON round-trip: validate(fromJson(toJson(p))) == p', () => {
  fc.assert(
    fc.property(propsArb, (input) => {
      let props: Props;
      try {
        props = validateProps(input, { creatingType: true });
      } catch (err) {
        if (err instanceof BadBucketPropsError) return; // e.g. datatype with allow_mult=false
        throw err;
      }
      const text = JSON.stringify(propsToJson(props, { name: 'b', active: true, claimant: 'n1' }));
      assert.deepEqual(validateProps(propsFromJson(text), { creatingType: true }), props);
      assert.deepEqual(validateProps(propsFromJson(text), { existing: props, activated: true }), props);
    }),
    { numRuns: 300 },
  );
});
