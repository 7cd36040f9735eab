import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { join } from 'node:path';
import {
  FrameDecoder, PB_CODES, PB_QUORUM, decodeMessage, encodeMessage, isBodyless, isRequest, messageName,
  type PbCodecName, type PbMessages, type RpbBucketProps, type RpbContent, type RpbGetResp,
} from '../../../../src/api/pb/codec/index.js';

const b = (text: string): Buffer => Buffer.from(text);

const content: RpbContent = {
  value: b('v'), content_type: b('text/plain'), charset: b('utf-8'), content_encoding: b('gzip'), vtag: b('tag'),
  links: [{ bucket: b('lb'), key: b('lk'), tag: b('lt') }], last_mod: 1_700_000_000, last_mod_usecs: 123_456,
  usermeta: [{ key: b('m'), value: b('mv') }], indexes: [{ key: b('i_bin'), value: b('iv') }], deleted: true,
};
const getResp: RpbGetResp = { content: [content, { ...content, value: b('w') }], vclock: b('vc'), unchanged: true };
const props: RpbBucketProps = {
  n_val: 3, allow_mult: true, last_write_wins: false,
  precommit: [{ modfun: { module: b('m'), function: b('f') }, name: b('js') }], has_precommit: true,
  postcommit: [{ name: b('post') }], has_postcommit: true, chash_keyfun: { module: b('riak_core_util'), function: b('chash_std_keyfun') },
  linkfun: { module: b('riak_kv_wm_link_walker'), function: b('mapreduce_linkfun') },
  old_vclock: 86400, young_vclock: 20, big_vclock: 50, small_vclock: 50,
  pr: 0, r: PB_QUORUM.quorum, w: PB_QUORUM.all, pw: PB_QUORUM.one, dw: PB_QUORUM.default, rw: 2,
  basic_quorum: false, notfound_ok: true, backend: b('leveldb'), search: false, repl: 3, search_index: b('idx'),
  datatype: b('map'), consistent: false, write_once: true, hll_precision: 14,
};

// One message per codec name, every field set (checked against the .proto below).
const fixtures: { [N in PbCodecName]: PbMessages[N] } = {
  RpbErrorResp: { errmsg: b('boom'), errcode: 7 },
  RpbPingReq: {}, RpbPingResp: {}, RpbGetClientIdReq: {}, RpbSetClientIdResp: {}, RpbGetServerInfoReq: {},
  RpbDelResp: {}, RpbSetBucketResp: {}, RpbResetBucketResp: {}, RpbAuthResp: {}, RpbStartTls: {},
  RpbGetClientIdResp: { client_id: b('cid') },
  RpbSetClientIdReq: { client_id: b('cid') },
  RpbGetServerInfoResp: { node: b('rondo@127.0.0.1'), server_version: b('0.1.0') },
  RpbGetReq: {
    bucket: b('b'), key: b('k'), r: 2, pr: 1, basic_quorum: true, notfound_ok: false, if_modified: b('vc'), head: true,
    deletedvclock: true, timeout: 5000, sloppy_quorum: false, n_val: 3, type: b('t'),
  },
  RpbGetResp: getResp,
  RpbPutReq: {
    bucket: b('b'), key: b('k'), vclock: b('vc'), content, w: 2, dw: 1, return_body: true, pw: 1, if_not_modified: true,
    if_none_match: false, return_head: true, timeout: 100, asis: false, sloppy_quorum: true, n_val: 3, type: b('t'),
    node_confirms: 2,
  },
  RpbPutResp: { content: [content], vclock: b('vc'), key: b('generated') },
  RpbDelReq: {
    bucket: b('b'), key: b('k'), rw: 2, vclock: b('vc'), r: 2, w: 2, pr: 1, pw: 1, dw: 1, timeout: 10, sloppy_quorum: true,
    n_val: 3, type: b('t'),
  },
  RpbListBucketsReq: { timeout: 60_000, stream: true, type: b('t') },
  RpbListBucketsResp: { buckets: [b('a'), b(''), b('c')], done: true },
  RpbListKeysReq: { bucket: b('b'), timeout: 60_000, type: b('t') },
  RpbListKeysResp: { keys: [b('k1'), b('k2')], done: false },
  RpbGetBucketReq: { bucket: b('b'), type: b('t') },
  RpbGetBucketResp: { props },
  RpbSetBucketReq: { bucket: b('b'), props, type: b('t') },
  RpbMapRedReq: { request: b('{"inputs":"b"}'), content_type: b('application/json') },
  RpbMapRedResp: { phase: 1, response: b('[1]'), done: true },
  RpbIndexReq: {
    bucket: b('b'), index: b('age_int'), qtype: 1, key: b('42'), range_min: b('1'), range_max: b('99'), return_terms: true,
    stream: true, max_results: 10, continuation: b('cont'), timeout: 1000, type: b('t'), term_regex: b('^a'),
    pagination_sort: true, cover_context: b('cc'), return_body: false,
  },
  RpbIndexResp: { keys: [b('k')], results: [{ key: b('term'), value: b('k') }], continuation: b('c'), done: true },
  RpbResetBucketReq: { bucket: b('b'), type: b('t') },
  RpbGetBucketTypeReq: { type: b('t') },
  RpbSetBucketTypeReq: { type: b('t'), props },
  RpbGetBucketKeyPreflistReq: { bucket: b('b'), key: b('k'), type: b('t') },
  RpbGetBucketKeyPreflistResp: { preflist: [{ partition: 2 ** 40 + 1, node: b('n1'), primary: true }, { partition: 0, node: b('n2'), primary: false }] },
  RpbCSBucketReq: {
    bucket: b('b'), start_key: b('a'), end_key: b('z'), start_incl: false, end_incl: true, continuation: b('c'),
    max_results: 100, timeout: 1000, type: b('t'), cover_context: b('cc'),
  },
  RpbCSBucketResp: { objects: [{ key: b('k'), object: getResp }], continuation: b('c'), done: false },
  RpbIndexBodyResp: { objects: [{ key: b('k'), object: getResp }], continuation: b('c'), done: true },
  RpbCounterUpdateReq: { bucket: b('b'), key: b('k'), amount: -(2 ** 40), w: 2, dw: 1, pw: 1, returnvalue: true, node_confirms: 1 },
  RpbCounterUpdateResp: { value: -3 },
  RpbCounterGetReq: { bucket: b('b'), key: b('k'), r: 2, pr: 1, basic_quorum: true, notfound_ok: true },
  RpbCounterGetResp: { value: 2 ** 50 },
  RpbCoverageReq: { type: b('t'), bucket: b('b'), min_partitions: 64, replace_cover: b('rc'), unavailable_cover: [b('u1'), b('u2')] },
  RpbCoverageResp: { entries: [{ ip: b('127.0.0.1'), port: 8087, keyspace_desc: b('desc'), cover_context: b('cc') }] },
  RpbAuthReq: { user: b('u'), password: b('p') },
};
const names = Object.keys(fixtures) as PbCodecName[];

function roundTrip<N extends PbCodecName>(name: N): void {
  const frame = encodeMessage(name, fixtures[name]);
  const [event] = new FrameDecoder({ maxFrameBytes: 1 << 20 }).push(frame);
  assert.ok(event?.kind === 'frame');
  assert.equal(event.code, PB_CODES[name]);
  const result = decodeMessage(event.code, event.body);
  assert.ok(result.ok && result.supported, `${name} decodes`);
  assert.equal(result.name, name);
  assert.deepEqual(result.message, fixtures[name], name);
}

test('every message round-trips with all its fields set', () => {
  for (const name of names) roundTrip(name);
});

test('the fixtures set every field of every message, nested ones included', () => {
  const dir = join(import.meta.dirname, '../../../../src/api/pb/codec/proto');
  const root = new protobuf.Root().loadSync([join(dir, 'riak.proto'), join(dir, 'riak_kv.proto')], { keepCase: true });
  const check = (typeName: string, value: Record<string, unknown>): void => {
    const type = root.lookupType(typeName);
    assert.deepEqual(Object.keys(value).sort(), type.fieldsArray.map((f) => f.name).sort(), typeName);
  };
  for (const name of names) if (!isBodyless(name)) check(name, fixtures[name] as unknown as Record<string, unknown>);
  check('RpbContent', content as unknown as Record<string, unknown>);
  check('RpbBucketProps', props as unknown as Record<string, unknown>);
});

// Golden bytes, worked out by hand from the protobuf wire format: a field's
// key is (number << 3) | wire type (0 varint, 2 length-delimited).
test('golden: RpbGetReq{bucket:"b", key:"k", r:2}', () => {
  const expected = [0, 0, 0, 9, 9, /* 1:bytes */ 0x0a, 1, 0x62, /* 2:bytes */ 0x12, 1, 0x6b, /* 3:varint */ 0x18, 2];
  assert.deepEqual([...encodeMessage('RpbGetReq', { bucket: b('b'), key: b('k'), r: 2 })], expected);
});

test('golden: RpbErrorResp{errmsg:"x", errcode:1}', () => {
  const expected = [0, 0, 0, 6, 0, /* 1:bytes */ 0x0a, 1, 0x78, /* 2:varint */ 0x10, 1];
  assert.deepEqual([...encodeMessage('RpbErrorResp', { errmsg: b('x'), errcode: 1 })], expected);
});

test('golden: RpbPingReq is a frame of length 1', () => {
  assert.deepEqual([...encodeMessage('RpbPingReq', {})], [0, 0, 0, 1, 1]);
});

test('codes: the riak_pb table, both ways', () => {
  assert.equal(PB_CODES.RpbGetReq, 9);
  assert.equal(PB_CODES.DtUpdateReq, 82);
  assert.equal(PB_CODES.RpbStartTls, 255);
  for (const [name, code] of Object.entries(PB_CODES)) assert.equal(messageName(code), name);
  assert.equal(messageName(35), undefined);
  assert.equal(new Set(Object.values(PB_CODES)).size, Object.keys(PB_CODES).length);
});

test('a missing required field is a decode failure naming the message', () => {
  const getReq = Buffer.from([0x0a, 1, 0x62]); // bucket only, no key
  const result = decodeMessage(PB_CODES.RpbGetReq, getReq);
  assert.ok(!result.ok);
  assert.match(result.error, /RpbGetReq.*key/);
  assert.ok(!decodeMessage(PB_CODES.RpbPutReq, getReq).ok); // bucket but no content
  assert.ok(!decodeMessage(PB_CODES.RpbErrorResp, Buffer.alloc(0)).ok);
  assert.throws(() => encodeMessage('RpbGetReq', { bucket: b('b') } as unknown as PbMessages['RpbGetReq']), /RpbGetReq/);
});

test('absent optional fields stay absent: no proto2 defaults, no empty arrays', () => {
  const result = decodeMessage(PB_CODES.RpbCSBucketReq, encodeMessage('RpbCSBucketReq', { bucket: b('b'), start_key: b('a') }).subarray(5));
  assert.ok(result.ok && result.supported);
  assert.deepEqual(result.message, { bucket: b('b'), start_key: b('a') });
  const empty = decodeMessage(PB_CODES.RpbPutResp, Buffer.alloc(0));
  assert.ok(empty.ok && empty.supported);
  assert.deepEqual(empty.message, {});
});

test('unknown, unsupported and bodyless codes', () => {
  assert.deepEqual(decodeMessage(77, Buffer.alloc(0)), { ok: false, code: 77, error: 'unknown message code 77' });
  const dt = decodeMessage(PB_CODES.DtFetchReq, Buffer.from([1, 2, 3]));
  assert.deepEqual(dt, { ok: true, supported: false, code: 80, name: 'DtFetchReq', message: undefined });
  assert.equal(isRequest(dt), false);
  const ping = decodeMessage(PB_CODES.RpbPingReq, Buffer.from([0xff])); // a stray body is ignored
  assert.ok(ping.ok && ping.supported && ping.name === 'RpbPingReq');
  assert.deepEqual(ping.message, {});
  assert.equal(isRequest(ping), true);
  assert.equal(isRequest(decodeMessage(PB_CODES.RpbGetResp, Buffer.alloc(0))), false);
});

test('bytes fields decode to Buffers even from a plain Uint8Array', () => {
  const body = new Uint8Array(encodeMessage('RpbGetReq', { bucket: b('b'), key: b('k') }).subarray(5));
  const result = decodeMessage(PB_CODES.RpbGetReq, body);
  assert.ok(result.ok && result.supported && result.name === 'RpbGetReq');
  assert.ok(Buffer.isBuffer(result.message.bucket));
  assert.equal(result.message.key.toString(), 'k');
});

test('property: decodeMessage never throws on garbage bodies', () => {
  const codes = Object.values(PB_CODES);
  fc.assert(
    fc.property(fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 255 })), fc.uint8Array({ maxLength: 64 }), (code, body) => {
      const result = decodeMessage(code, body);
      assert.ok(result.ok || result.error.length > 0);
    }),
    { numRuns: 4000 },
  );
});

test('deeply nested groups fail cleanly instead of overflowing the stack', () => {
  // Unknown field 100, wire type 3 (start group), over and over: protobufjs skips groups by recursion.
  const body = Buffer.alloc(1 << 20);
  for (let i = 0; i < body.length; i += 2) body.set([0xa3, 0x06], i);
  const result = decodeMessage(PB_CODES.RpbGetReq, body);
  assert.equal(result.ok, false);
});
