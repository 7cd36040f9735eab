import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, PB_CODES, PB_QUORUM, type Decoded, type RpbBucketProps } from '../../../src/api/pb/codec/index.js';
import { contentToPb, indexHitsFromPb, indexRequest, propsFromPb, propsToPb, quorumFromPb, quorumToPb, siblingFromPb } from '../../../src/client/mapping.js';
import { RondoClientError } from '../../../src/client/errors.js';
import type { BucketProps } from '../../../src/client/types.js';

/** Through the real codec, as the server would see it and send it back. */
function roundTripProps(props: RpbBucketProps): Decoded<RpbBucketProps> {
  const frame = encodeMessage('RpbGetBucketResp', { props });
  const decoded = decodeMessage(PB_CODES.RpbGetBucketResp, frame.subarray(5));
  assert.ok(decoded.ok && decoded.supported && decoded.name === 'RpbGetBucketResp');
  return decoded.message.props;
}

test('quorums: numbers pass through, symbols use PB_QUORUM, and decode back', () => {
  assert.equal(quorumToPb(2, 'r'), 2);
  assert.equal(quorumToPb(0, 'pr'), 0);
  for (const word of ['one', 'quorum', 'all', 'default'] as const) {
    assert.equal(quorumToPb(word, 'w'), PB_QUORUM[word]);
    assert.equal(quorumFromPb(PB_QUORUM[word]), word);
  }
  assert.equal(quorumFromPb(3), 3);
  for (const bad of [-1, 1.5, PB_QUORUM.default, Number.NaN]) assert.throws(() => quorumToPb(bad, 'r'), (e: unknown) => e instanceof RondoClientError && e.code === 'invalid_argument' && /\br\b/.test(e.message));
  assert.throws(() => quorumToPb('most' as never, 'w'), /one\|quorum\|all\|default/);
});

test('bucket props: every field survives to RpbBucketProps and back', () => {
  const props: BucketProps = {
    nVal: 5, allowMult: true, lastWriteWins: false, precommit: [{ module: 'm', function: 'f' }, { name: 'js_hook' }], postcommit: [],
    chashKeyfun: { module: 'riak_core_util', function: 'chash_std_keyfun' }, linkfun: { module: 'riak_kv_wm_link_walker', function: 'mapreduce_linkfun' },
    oldVclock: 86400, youngVclock: 20, bigVclock: 50, smallVclock: 50, pr: 0, r: 'quorum', w: 'all', pw: 1, dw: 'one', rw: 'default',
    basicQuorum: true, notfoundOk: false, backend: 'lmdb', search: false, repl: 'fullsync', searchIndex: 'idx', datatype: 'set', consistent: false, writeOnce: true, hllPrecision: 14,
  };
  assert.deepEqual(propsFromPb(roundTripProps(propsToPb(props))), props);
});

test('bucket props: only given fields are sent; an empty hook list says so (has_precommit) to clear the hooks', () => {
  assert.deepEqual(propsToPb({ allowMult: true }), { allow_mult: true });
  const cleared = propsToPb({ precommit: [] });
  assert.deepEqual(cleared.precommit, []);
  assert.equal(cleared.has_precommit, true);
  // A read always has the hook lists, empty when the server sent none.
  assert.deepEqual(propsFromPb(roundTripProps({ n_val: 3 })), { nVal: 3, precommit: [], postcommit: [] });
});

test('bucket props: property test over numbers, booleans and quorums', () => {
  const quorum = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom('one' as const, 'quorum' as const, 'all' as const, 'default' as const));
  fc.assert(
    fc.property(fc.record({ nVal: fc.integer({ min: 1, max: 10 }), allowMult: fc.boolean(), r: quorum, w: quorum, dw: quorum, notfoundOk: fc.boolean() }, { requiredKeys: [] }), (props) => {
      assert.deepEqual(propsFromPb(roundTripProps(propsToPb(props))), { ...props, precommit: [], postcommit: [] });
    }),
  );
});

test('content: strings are UTF-8 text/plain, bytes application/octet-stream; metadata and indexes map to pairs', () => {
  const text = contentToPb('héllo');
  assert.equal(Buffer.from(text.value).toString('utf8'), 'héllo');
  assert.equal(Buffer.from(text.content_type ?? []).toString(), 'text/plain');
  assert.equal(Buffer.from(text.charset ?? []).toString(), 'utf-8');
  const raw = contentToPb(new Uint8Array([1, 2, 3]));
  assert.equal(Buffer.from(raw.content_type ?? []).toString(), 'application/octet-stream');
  assert.equal(raw.charset, undefined);
  const json = contentToPb({ value: '{"a":1}', contentType: 'application/json', userMeta: { who: 'me' }, indexes: [{ name: 'age_int', value: 42 }, { name: 'name_bin', value: 'ann' }] });
  assert.equal(json.charset, undefined, 'an explicit content type gets no default charset');
  assert.deepEqual(json.usermeta?.map((p) => [Buffer.from(p.key).toString(), Buffer.from(p.value ?? []).toString()]), [['who', 'me']]);
  assert.deepEqual(json.indexes?.map((p) => [Buffer.from(p.key).toString(), Buffer.from(p.value ?? []).toString()]), [['age_int', '42'], ['name_bin', 'ann']]);
  assert.throws(() => contentToPb({ value: 'x', indexes: [{ name: 'age_int', value: 'old' }] }), /age_int takes integers/);
  assert.throws(() => contentToPb({ value: 'x', indexes: [{ name: 'age', value: 1 }] }), /must end in _int or _bin/);
});

test('siblings: decoded content becomes a Sibling (ms last-modified, numeric _int indexes, a copied value)', () => {
  const frame = encodeMessage('RpbGetResp', {
    vclock: Buffer.from([1, 2]),
    content: [{
      value: Buffer.from('v'), content_type: Buffer.from('text/plain'), charset: Buffer.from('utf-8'), vtag: Buffer.from('abc'), last_mod: 1_700_000_000, last_mod_usecs: 123_456,
      usermeta: [{ key: Buffer.from('k'), value: Buffer.from('v') }], indexes: [{ key: Buffer.from('n_int'), value: Buffer.from('-7') }, { key: Buffer.from('s_bin'), value: Buffer.from('x') }],
    }],
  });
  const decoded = decodeMessage(PB_CODES.RpbGetResp, frame.subarray(5));
  assert.ok(decoded.ok && decoded.supported && decoded.name === 'RpbGetResp');
  const sibling = siblingFromPb(decoded.message.content?.[0] as never);
  assert.deepEqual(sibling, {
    value: Buffer.from('v'), contentType: 'text/plain', charset: 'utf-8', vtag: 'abc', lastModified: new Date(1_700_000_000_123),
    userMeta: { k: 'v' }, indexes: [{ name: 'n_int', value: -7 }, { name: 's_bin', value: 'x' }],
  });
  frame.fill(0);
  assert.equal(sibling.value.toString(), 'v', 'the value does not share memory with the frame');
});

test('2i: equality vs range requests, paging fields, and hits with and without terms', () => {
  const eq = indexRequest({ bucket: 'b', index: 'name_bin', start: 'ann' }, false);
  assert.equal(eq.qtype, 0);
  assert.equal(Buffer.from(eq.key ?? []).toString(), 'ann');
  assert.equal(eq.stream, undefined);
  const range = indexRequest({ type: 't', bucket: 'b', index: 'age_int', start: 20, end: 30, returnTerms: true, maxResults: 10, continuation: 'c1' }, true);
  assert.equal(range.qtype, 1);
  assert.deepEqual([range.range_min, range.range_max, range.continuation, range.type].map((b) => Buffer.from(b ?? []).toString()), ['20', '30', 'c1', 't']);
  assert.equal(range.max_results, 10);
  assert.equal(range.stream, true);
  assert.equal(range.return_terms, true);
  assert.throws(() => indexRequest({ bucket: 'b', index: 'i_bin', start: 'a', maxResults: 0 }, false), /maxResults/);
  assert.deepEqual(indexHitsFromPb('age_int', { results: [{ key: Buffer.from('25'), value: Buffer.from('k1') }] }), [{ key: 'k1', term: 25 }]);
  assert.deepEqual(indexHitsFromPb('name_bin', { results: [{ key: Buffer.from('ann'), value: Buffer.from('k1') }] }), [{ key: 'k1', term: 'ann' }]);
  assert.deepEqual(indexHitsFromPb('age_int', { keys: [Buffer.from('k1'), Buffer.from('k2')] }), [{ key: 'k1' }, { key: 'k2' }]);
});
