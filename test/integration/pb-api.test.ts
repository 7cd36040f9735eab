// The Riak Protocol Buffers API of one real node (TCP, LMDB) in this process,
// spoken to over real sockets by a raw client (test/helpers/pb-raw.ts): exact
// message names and fields as riak_pb documents them, every refused option
// answered with an RpbErrorResp naming it and writing nothing; then the
// connection rules of PbApi (pipelining, framing errors, limits, idle
// timeout, back-pressure, aborts) with handlers the tests control.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { REQUEST_TIMEOUT_MS_MAX } from '../../src/kv/coord/limits.js';
import { PB_CODES, PB_QUORUM, decodeMessage, encodeFrame, encodeMessage, type RpbBucketProps, type RpbContent } from '../../src/api/pb/codec/index.js';
import { createPbHandler, type PbHandler } from '../../src/api/pb/handlers.js';
import { PbApi, type PbApiOptions } from '../../src/api/pb/server.js';
import { resolveConfig } from '../../src/cli/config.js';
import { BucketTypeAdmin } from '../../src/kv/admin/index.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { RawPbConnection, errmsgOf, type RawReply } from '../helpers/pb-raw.js';
import { tempDir } from '../helpers/processes.js';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const str = (value: unknown): string => (value as Buffer).toString('utf8');
type Content = Record<string, unknown>;
const contentsOf = (reply: RawReply): Content[] => (reply.message?.content as Content[] | undefined) ?? [];
const pairsOf = (pairs: unknown): [string, string][] => ((pairs as { key: Buffer; value?: Buffer }[] | undefined) ?? []).map((p) => [str(p.key), p.value ? str(p.value) : '']);

function expectName(reply: RawReply, name: string): void {
  assert.equal(reply.name, name, `expected ${name}, got ${reply.name}${reply.name === 'RpbErrorResp' ? `: ${errmsgOf(reply)}` : ''}`);
}

describe('Riak PB API on one node', { timeout: 90_000 }, () => {
  const dir = tempDir('rondo-pb-');
  let node: RunningNode;
  let pb: RawPbConnection;

  before(async () => {
    node = await startNode(resolveConfig({ name: 'p1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', pbListen: '127.0.0.1:0', dataDir: join(dir.path, 'p1'), clusterSecret: 'pb-test-secret', logLevel: 'warn' }));
    pb = await RawPbConnection.open(node.pbAddress as string);
  });
  after(async () => {
    pb?.close();
    await node?.stop();
    dir.remove();
  });

  const get = async (bucket: string, key: string, extra: Record<string, unknown> = {}): Promise<RawReply> => pb.request('RpbGetReq', { bucket: b(bucket), key: b(key), ...extra });
  const put = async (bucket: string, key: string, value: string, extra: Record<string, unknown> = {}, content: Partial<RpbContent> = {}): Promise<RawReply> =>
    pb.request('RpbPutReq', { bucket: b(bucket), key: b(key), content: { value: b(value), content_type: b('text/plain'), ...content }, ...extra });

  /** The key holds no live value. */
  async function assertAbsent(bucket: string, key: string, why: string): Promise<void> {
    const reply = await get(bucket, key);
    expectName(reply, 'RpbGetResp');
    assert.equal(contentsOf(reply).length, 0, `${why}: something was written`);
  }

  it('Ping, GetServerInfo, Get/SetClientId', async () => {
    const ping = await pb.request('RpbPingReq', {});
    expectName(ping, 'RpbPingResp');
    assert.equal(ping.body.length, 0, 'RpbPingResp has no body');
    const info = await pb.request('RpbGetServerInfoReq', {});
    expectName(info, 'RpbGetServerInfoResp');
    assert.equal(str(info.message?.node), 'p1');
    assert.match(str(info.message?.server_version), /^rondo-\d+\.\d+\.\d+/);
    const before = await pb.request('RpbGetClientIdReq', {});
    expectName(before, 'RpbGetClientIdResp');
    assert.ok((before.message?.client_id as Buffer).length > 0);
    expectName(await pb.request('RpbSetClientIdReq', { client_id: b('my-client') }), 'RpbSetClientIdResp');
    const afterSet = await pb.request('RpbGetClientIdReq', {});
    assert.equal(str(afterSet.message?.client_id), 'my-client');
  });

  it('put then get: value, content_type, charset, usermeta, indexes, vtag, last_mod and vclock', async () => {
    const startSec = Math.floor(Date.now() / 1000);
    const stored = await put('kv', 'k1', 'hello', {}, {
      content_type: b('text/plain'), charset: b('utf-8'),
      usermeta: [{ key: b('color'), value: b('red') }], indexes: [{ key: b('age_int'), value: b('42') }, { key: b('name_bin'), value: b('ann') }],
    });
    expectName(stored, 'RpbPutResp');
    assert.ok((stored.message?.vclock as Buffer).length > 0, 'a put answers with the vclock');
    assert.equal(stored.message?.content, undefined, 'no body without return_body');
    assert.equal(stored.message?.key, undefined, 'no key when the client named one');
    const got = await get('kv', 'k1');
    expectName(got, 'RpbGetResp');
    assert.deepEqual(got.message?.vclock, stored.message?.vclock);
    const [c, ...more] = contentsOf(got);
    assert.equal(more.length, 0);
    assert.ok(c);
    assert.equal(str(c.value), 'hello');
    assert.equal(str(c.content_type), 'text/plain');
    assert.equal(str(c.charset), 'utf-8');
    assert.deepEqual(pairsOf(c.usermeta), [['color', 'red']]);
    assert.deepEqual(pairsOf(c.indexes).sort(), [['age_int', '42'], ['name_bin', 'ann']]);
    assert.match(str(c.vtag), /^[A-Za-z0-9]+$/);
    assert.ok(typeof c.last_mod === 'number' && c.last_mod >= startSec - 1 && c.last_mod <= Date.now() / 1000 + 1, `last_mod ${String(c.last_mod)}`);
    assert.equal(c.deleted, undefined);
  });

  it('a missing key is an RpbGetResp with no content and no vclock', async () => {
    const reply = await get('kv', 'absent');
    expectName(reply, 'RpbGetResp');
    assert.deepEqual(reply.message, {});
  });

  it('a put without a key gets a generated key back', async () => {
    const reply = await pb.request('RpbPutReq', { bucket: b('kv'), content: { value: b('anon'), content_type: b('text/plain') } });
    expectName(reply, 'RpbPutResp');
    const key = str(reply.message?.key);
    assert.match(key, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(str(contentsOf(await get('kv', key))[0]?.value), 'anon');
  });

  it('return_body gives the stored content; return_head gives it without the value', async () => {
    const body = await put('kv', 'rb', 'full', { return_body: true });
    expectName(body, 'RpbPutResp');
    assert.equal(contentsOf(body).length, 1);
    assert.equal(str(contentsOf(body)[0]?.value), 'full');
    assert.equal(str(contentsOf(body)[0]?.content_type), 'text/plain');
    const head = await put('kv', 'rh', 'not shown', { return_head: true });
    expectName(head, 'RpbPutResp');
    assert.equal(contentsOf(head).length, 1);
    assert.equal((contentsOf(head)[0]?.value as Buffer).length, 0);
    assert.ok((contentsOf(head)[0]?.vtag as Buffer).length > 0);
  });

  it('if_none_match on an existing key is kv_precondition_failed and writes nothing', async () => {
    expectName(await put('kv', 'inm', 'first'), 'RpbPutResp');
    const refused = await put('kv', 'inm', 'second', { if_none_match: true });
    assert.match(errmsgOf(refused), /^kv_precondition_failed/);
    assert.equal(refused.message?.errcode, 1);
    assert.equal(str(contentsOf(await get('kv', 'inm'))[0]?.value), 'first');
  });

  it('if_modified with the current vclock is unchanged=true; head=true leaves the value out', async () => {
    const stored = await put('kv', 'im', 'value');
    const vclock = stored.message?.vclock as Buffer;
    const unchanged = await get('kv', 'im', { if_modified: vclock });
    expectName(unchanged, 'RpbGetResp');
    assert.equal(unchanged.message?.unchanged, true);
    assert.equal(unchanged.message?.content, undefined);
    const head = await get('kv', 'im', { head: true });
    assert.equal(contentsOf(head).length, 1);
    assert.equal((contentsOf(head)[0]?.value as Buffer).length, 0);
    assert.equal(str(contentsOf(head)[0]?.content_type), 'text/plain');
  });

  it('delete with the vclock, then get: not found; with deletedvclock the tombstone vclock', async () => {
    const stored = await put('kv', 'del', 'doomed');
    expectName(await pb.request('RpbDelReq', { bucket: b('kv'), key: b('del'), vclock: stored.message?.vclock as Buffer }), 'RpbDelResp');
    const gone = await get('kv', 'del');
    expectName(gone, 'RpbGetResp');
    assert.deepEqual(gone.message, {});
    // delete_mode is 3s by default: the tombstone is still there to report.
    const tomb = await get('kv', 'del', { deletedvclock: true });
    expectName(tomb, 'RpbGetResp');
    assert.equal(tomb.message?.content, undefined);
    assert.ok((tomb.message?.vclock as Buffer).length > 0, 'deletedvclock gives the tombstone vclock');
  });

  it('a vclock read over PB is the X-Riak-Vclock of HTTP (base64 of the same bytes)', async () => {
    await put('kv', 'vc', 'shared');
    const pbVclock = (await get('kv', 'vc')).message?.vclock as Buffer;
    const res = await fetch(`http://${node.httpAddress}/buckets/kv/keys/vc`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-riak-vclock'), pbVclock.toString('base64'));
  });

  // Regression: a uint32 timeout above 2^31-1 ms reached setTimeout, which Node turns into 1 ms, so the
  // request timed out at once (TimeoutOverflowWarning). Now refused above an hour, as HTTP's ?timeout= is.
  it('timeout: above REQUEST_TIMEOUT_MS_MAX is refused, naming timeout; an hour works', async () => {
    for (const timeout of [0xffff_ffff, 2 ** 31, REQUEST_TIMEOUT_MS_MAX + 1]) {
      assert.match(errmsgOf(await put('kv', 'to', 'v', { timeout })), /^invalid_argument: timeout/, `put timeout ${timeout}`);
      assert.match(errmsgOf(await get('kv', 'to', { timeout })), /^invalid_argument: timeout/, `get timeout ${timeout}`);
      assert.match(errmsgOf(await pb.request('RpbDelReq', { bucket: b('kv'), key: b('to'), timeout })), /^invalid_argument: timeout/, `delete timeout ${timeout}`);
      assert.match(errmsgOf(await pb.request('RpbListKeysReq', { bucket: b('kv'), timeout })), /^invalid_argument: timeout/, `list keys timeout ${timeout}`);
      assert.match(errmsgOf(await pb.request('RpbIndexReq', { bucket: b('kv'), index: b('$bucket'), qtype: 0, key: b('kv'), timeout })), /^invalid_argument: timeout/, `index timeout ${timeout}`);
    }
    await assertAbsent('kv', 'to', 'a refused timeout');
    expectName(await put('kv', 'to', 'v', { timeout: REQUEST_TIMEOUT_MS_MAX }), 'RpbPutResp');
    assert.equal(str(contentsOf(await get('kv', 'to', { timeout: REQUEST_TIMEOUT_MS_MAX }))[0]?.value), 'v');
  });

  it('quorum values: symbolic quorum works; above n_val is refused naming n_val', async () => {
    await put('kv', 'q', 'v', { w: PB_QUORUM.quorum, dw: PB_QUORUM.one });
    const ok = await get('kv', 'q', { r: 4294967295 - 2 });
    assert.equal(str(contentsOf(ok)[0]?.value), 'v');
    assert.match(errmsgOf(await get('kv', 'q', { r: 4 })), /n_val/);
    assert.match(errmsgOf(await put('kv', 'q4', 'v', { w: 4 })), /n_val/);
    await assertAbsent('kv', 'q4', 'w=4');
  });

  it('refused options: each an RpbErrorResp naming the option, and nothing written', async () => {
    const cases: [string, () => Promise<RawReply>, RegExp, string | undefined][] = [
      ['get sloppy_quorum=false', () => get('kv', 'x1', { sloppy_quorum: false }), /sloppy_quorum/, undefined],
      ['put sloppy_quorum=false', () => put('kv', 'x2', 'v', { sloppy_quorum: false }), /sloppy_quorum/, 'x2'],
      ['put asis', () => put('kv', 'x3', 'v', { asis: true }), /asis/, 'x3'],
      ['put node_confirms', () => put('kv', 'x4', 'v', { node_confirms: 1 }), /node_confirms/, 'x4'],
      ['put links', () => put('kv', 'x5', 'v', {}, { links: [{ bucket: b('kv'), key: b('x1'), tag: b('t') }] }), /links/, 'x5'],
      ['delete sloppy_quorum=false', () => pb.request('RpbDelReq', { bucket: b('kv'), key: b('x6'), sloppy_quorum: false }), /sloppy_quorum/, undefined],
      ['index term_regex', () => pb.request('RpbIndexReq', { bucket: b('kv'), index: b('name_bin'), qtype: 1, range_min: b('a'), range_max: b('z'), term_regex: b('.*') }), /term_regex/, undefined],
      ['index cover_context', () => pb.request('RpbIndexReq', { bucket: b('kv'), index: b('name_bin'), qtype: 0, key: b('a'), cover_context: b('ctx') }), /cover_context/, undefined],
      ['index return_body', () => pb.request('RpbIndexReq', { bucket: b('kv'), index: b('name_bin'), qtype: 0, key: b('a'), return_body: true }), /return_body/, undefined],
    ];
    for (const [what, reply, message, key] of cases) {
      const r = await reply();
      assert.match(errmsgOf(r), message, what);
      assert.match(errmsgOf(r), /^invalid_argument: /, what);
      if (key !== undefined) await assertAbsent('kv', key, what);
    }
  });

  it('an unknown bucket type and a key that is not UTF-8 are refused', async () => {
    assert.match(errmsgOf(await get('kv', 'k', { type: b('ghost') })), /ghost/);
    assert.match(errmsgOf(await put('kv', 'k', 'v', { type: b('ghost') })), /ghost/);
    const badKey = Buffer.from([0x6b, 0xff, 0xfe]);
    assert.match(errmsgOf(await pb.request('RpbPutReq', { bucket: b('kv'), key: badKey, content: { value: b('v') } })), /key must be UTF-8/);
    assert.match(errmsgOf(await pb.request('RpbGetReq', { bucket: b('kv'), key: badKey })), /key must be UTF-8/);
  });

  it('bucket props: Riak defaults, set, get, reset; invalid values refused', async () => {
    const props = async (bucket: string): Promise<RpbBucketProps> => {
      const reply = await pb.request('RpbGetBucketReq', { bucket: b(bucket) });
      expectName(reply, 'RpbGetBucketResp');
      return reply.message?.props as RpbBucketProps;
    };
    const defaults = await props('pp');
    assert.equal(defaults.n_val, 3);
    assert.equal(defaults.allow_mult, false);
    assert.equal(defaults.last_write_wins, false);
    assert.equal(defaults.r, 4294967293);
    assert.equal(defaults.w, PB_QUORUM.quorum);
    assert.equal(defaults.pr, 0);
    expectName(await pb.request('RpbSetBucketReq', { bucket: b('pp'), props: { n_val: 2, allow_mult: true } }), 'RpbSetBucketResp');
    const changed = await props('pp');
    assert.equal(changed.n_val, 2);
    assert.equal(changed.allow_mult, true);
    assert.equal(changed.r, PB_QUORUM.quorum);
    expectName(await pb.request('RpbResetBucketReq', { bucket: b('pp') }), 'RpbResetBucketResp');
    assert.deepEqual(await props('pp'), defaults);
    for (const bad of [{ n_val: 0 }, { n_val: 1000 }, { r: 12345 }, { datatype: b('bogus') }, { precommit: [{}] }] as RpbBucketProps[]) {
      assert.match(errmsgOf(await pb.request('RpbSetBucketReq', { bucket: b('pp'), props: bad })), new RegExp(Object.keys(bad)[0] as string), JSON.stringify(bad));
    }
    assert.deepEqual(await props('pp'), defaults, 'a refused set changed the props');
  });

  it('bucket types: get `default`; set on `default` is refused; set on a created type works', async () => {
    const got = await pb.request('RpbGetBucketTypeReq', { type: b('default') });
    expectName(got, 'RpbGetBucketResp');
    assert.equal((got.message?.props as RpbBucketProps).n_val, 3);
    assert.match(errmsgOf(await pb.request('RpbSetBucketTypeReq', { type: b('default'), props: { n_val: 2 } })), /default/);
    assert.match(errmsgOf(await pb.request('RpbGetBucketTypeReq', { type: b('ghost') })), /^kv_unknown_bucket_type: .*ghost/);
    const admin = new BucketTypeAdmin(node.metadata);
    admin.handle({ type: 'bucket-type.create', name: 'tt', props: '{"props":{"allow_mult":true}}' });
    admin.handle({ type: 'bucket-type.activate', name: 'tt' });
    expectName(await pb.request('RpbSetBucketTypeReq', { type: b('tt'), props: { notfound_ok: false } }), 'RpbSetBucketResp');
    const tt = (await pb.request('RpbGetBucketTypeReq', { type: b('tt') })).message?.props as RpbBucketProps;
    assert.equal(tt.allow_mult, true);
    assert.equal(tt.notfound_ok, false);
  });

  describe('listing and secondary indexes', () => {
    const KEYS = 40;
    before(async () => {
      for (let i = 0; i < KEYS; i++) {
        const key = `k${String(i).padStart(2, '0')}`;
        const reply = await put('list', key, `v${i}`, {}, { indexes: [{ key: b('n_int'), value: b(String(i)) }, { key: b('parity_bin'), value: b(i % 2 === 0 ? 'even' : 'odd') }] });
        expectName(reply, 'RpbPutResp');
      }
    });

    /** Riak's shape of a streamed reply: data only in messages without done, then one message with done and no data. */
    const assertDoneAlone = (replies: RawReply[], field: 'keys' | 'buckets' | 'results'): void => {
      assert.equal(replies.at(-1)?.message?.done, true, 'the stream ends with done');
      assert.deepEqual((replies.at(-1)?.message?.[field] as unknown[] | undefined) ?? [], [], `the done message carries no ${field}`);
      for (const reply of replies.slice(0, -1)) {
        assert.equal(reply.message?.done, undefined, 'only the last message says done');
        assert.ok(((reply.message?.[field] as unknown[] | undefined) ?? []).length > 0, 'an empty non-final message');
      }
    };

    it('list keys streams several messages with the keys, then one with only done', async () => {
      // Chunks hold up to COVERAGE_CHUNK_ITEMS (1000) keys: 1050 make two messages. Pipelined puts, 50 per write.
      const MANY = 1_050;
      expectName(await pb.request('RpbSetBucketReq', { bucket: b('many'), props: { n_val: 1 } }), 'RpbSetBucketResp'); // one replica: a third of the writes
      for (let start = 0; start < MANY; start += 50) {
        pb.sendRaw(Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeMessage('RpbPutReq', { bucket: b('many'), key: b(`m${start + i}`), content: { value: b('x') } }))));
        for (let i = 0; i < 50; i++) expectName(await pb.next(), 'RpbPutResp');
      }
      const many = await pb.stream('RpbListKeysReq', { bucket: b('many') });
      assert.ok(many.length >= 3, `expected several messages with keys and the done one, got ${many.length}`);
      assertDoneAlone(many, 'keys');
      assert.equal(new Set(many.flatMap((r) => ((r.message?.keys as Buffer[] | undefined) ?? []).map(str))).size, MANY);
      const replies = await pb.stream('RpbListKeysReq', { bucket: b('list') });
      for (const reply of replies) expectName(reply, 'RpbListKeysResp');
      assert.ok(replies.length >= 2, 'a bucket of 40 keys: at least one message with keys, then done');
      assertDoneAlone(replies, 'keys');
      const keys = replies.flatMap((r) => ((r.message?.keys as Buffer[] | undefined) ?? []).map(str)).sort();
      assert.deepEqual(keys, Array.from({ length: KEYS }, (_, i) => `k${String(i).padStart(2, '0')}`));
    });

    it('list buckets: one message without stream, streamed with it', async () => {
      const one = await pb.request('RpbListBucketsReq', {});
      expectName(one, 'RpbListBucketsResp');
      assert.equal(one.message?.done, true);
      const buckets = ((one.message?.buckets as Buffer[]) ?? []).map(str);
      for (const bucket of ['kv', 'list']) assert.ok(buckets.includes(bucket), `${bucket} in ${buckets.join(',')}`);
      const streamed = await pb.stream('RpbListBucketsReq', { stream: true });
      for (const reply of streamed) expectName(reply, 'RpbListBucketsResp');
      assertDoneAlone(streamed, 'buckets');
      const all = streamed.flatMap((r) => ((r.message?.buckets as Buffer[] | undefined) ?? []).map(str)).sort();
      assert.deepEqual(all, [...buckets].sort());
      assert.match(errmsgOf(await pb.request('RpbListBucketsReq', { type: b('ghost') })), /ghost/);
    });

    const index = async (req: Record<string, unknown>): Promise<RawReply> => pb.request('RpbIndexReq', { bucket: b('list'), qtype: 0, index: b('n_int'), ...req } as never);
    const keysOf = (reply: RawReply): string[] => ((reply.message?.keys as Buffer[] | undefined) ?? []).map(str);

    it('2i: eq, range, $bucket, $key; return_terms gives term -> key pairs', async () => {
      const eq = await index({ key: b('7') });
      expectName(eq, 'RpbIndexResp');
      assert.deepEqual(keysOf(eq), ['k07']);
      assert.deepEqual(keysOf(await index({ index: b('parity_bin'), key: b('odd') })).length, KEYS / 2);
      const range = await index({ qtype: 1, range_min: b('10'), range_max: b('13') });
      assert.deepEqual(keysOf(range), ['k10', 'k11', 'k12', 'k13']);
      const bucket = await index({ index: b('$bucket'), key: b('list') });
      assert.equal(keysOf(bucket).length, KEYS);
      const keyRange = await index({ index: b('$key'), qtype: 1, range_min: b('k05'), range_max: b('k08') });
      assert.deepEqual(keysOf(keyRange), ['k05', 'k06', 'k07', 'k08']);
      const terms = await index({ qtype: 1, range_min: b('20'), range_max: b('22'), return_terms: true });
      assert.equal(terms.message?.keys, undefined);
      assert.deepEqual(pairsOf(terms.message?.results), [['20', 'k20'], ['21', 'k21'], ['22', 'k22']]);
    });

    it('2i paging: max_results and continuation, streamed with the continuation on the done message', async () => {
      const seen: string[] = [];
      let continuation: Buffer | undefined;
      for (let page = 0; page < 10; page++) {
        const reply = await index({ qtype: 1, range_min: b('0'), range_max: b('24'), max_results: 10, ...(continuation ? { continuation } : {}) });
        expectName(reply, 'RpbIndexResp');
        assert.ok(keysOf(reply).length <= 10);
        seen.push(...keysOf(reply));
        continuation = reply.message?.continuation as Buffer | undefined;
        if (continuation === undefined) break;
      }
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`));
      const streamed = await pb.stream('RpbIndexReq', { bucket: b('list'), qtype: 1, index: b('n_int'), range_min: b('0'), range_max: b('39'), max_results: 15, stream: true });
      for (const reply of streamed) expectName(reply, 'RpbIndexResp');
      const done = streamed.at(-1);
      assert.equal(done?.message?.done, true);
      assert.ok((done?.message?.continuation as Buffer | undefined)?.length, 'the done message carries the continuation');
      assert.equal(streamed.flatMap(keysOf).length, 15);
      assertDoneAlone(streamed, 'keys');
      const withTerms = await pb.stream('RpbIndexReq', { bucket: b('list'), qtype: 1, index: b('n_int'), range_min: b('0'), range_max: b('39'), return_terms: true, stream: true });
      assertDoneAlone(withTerms, 'results');
      assert.equal(withTerms.at(-1)?.message?.continuation, undefined, 'no continuation without max_results');
      assert.equal(withTerms.flatMap((r) => (r.message?.results as unknown[] | undefined) ?? []).length, 40, 'every term 0..39 once');
    });

    it('2i: an _int index with a non-integer term is refused', async () => {
      assert.match(errmsgOf(await index({ key: b('seven') })), /n_int.*integer|integer.*n_int/);
      assert.match(errmsgOf(await index({ qtype: 1, range_min: b('1'), range_max: b('x') })), /range_max/);
    });
  });

  it('unsupported messages get "not supported: ..." and the connection keeps working', async () => {
    const cases: [string, Buffer][] = [
      ['RpbMapRedReq', encodeMessage('RpbMapRedReq', { request: b('{}'), content_type: b('application/json') })],
      ['DtFetchReq', encodeFrame(PB_CODES.DtFetchReq, b('\x0a\x01b\x12\x01k\x1a\x04maps'))],
      ['RpbSearchQueryReq', encodeFrame(27, b('\x0a\x01q\x12\x05index'))],
      ['RpbCSBucketReq', encodeMessage('RpbCSBucketReq', { bucket: b('kv'), start_key: b('a') })],
      ['RpbAuthReq', encodeMessage('RpbAuthReq', { user: b('u'), password: b('p') })],
    ];
    for (const [name, frame] of cases) {
      pb.sendRaw(frame);
      const reply = await pb.next();
      assert.equal(errmsgOf(reply), `not supported: ${name}`);
      expectName(await pb.request('RpbPingReq', {}), 'RpbPingResp');
    }
    // A code riak_pb never assigned, and a body that does not decode: that request fails, the connection stays.
    pb.sendRaw(encodeFrame(199, b('whatever')));
    assert.equal(errmsgOf(await pb.next()), 'unknown message code 199');
    pb.sendRaw(encodeFrame(PB_CODES.RpbGetReq, Buffer.from([0x0a, 0xff])));
    assert.match(errmsgOf(await pb.next()), /^invalid RpbGetReq/);
    pb.sendRaw(encodeFrame(PB_CODES.RpbGetResp));
    assert.equal(errmsgOf(await pb.next()), 'not a request: RpbGetResp');
    expectName(await pb.request('RpbPingReq', {}), 'RpbPingResp');
    assert.equal(pb.isClosed, false);
  });
});

// ---- connection rules, with handlers the tests control ----

const silent = pino({ level: 'silent' });
const ping = encodeMessage('RpbPingReq', {});
const pong = encodeMessage('RpbPingResp', {});

/** Answers RpbSetClientIdReq with RpbGetClientIdResp echoing the id, after `delayMs(id)`; pings with pongs. */
function echoHandler(delayMs: (id: string) => number = () => 0): PbHandler {
  return async (code, body) => {
    if (code === PB_CODES.RpbPingReq) return pong;
    const decoded = decodeMessage(code, body);
    if (!decoded.ok || !decoded.supported || decoded.name !== 'RpbSetClientIdReq') return encodeMessage('RpbErrorResp', { errmsg: b(`unexpected ${code}`), errcode: 1 });
    const id = Buffer.from(decoded.message.client_id);
    const ms = delayMs(id.toString('utf8'));
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    return encodeMessage('RpbGetClientIdResp', { client_id: id });
  };
}

async function withServer(opts: Partial<PbApiOptions> & { handler: PbHandler }, run: (address: string, api: PbApi) => Promise<void>): Promise<void> {
  const api = new PbApi({ host: '127.0.0.1', port: 0, log: silent, ...opts });
  const bound = await api.start();
  try {
    await run(`${bound.host}:${bound.port}`, api);
  } finally {
    await api.stop();
  }
}

async function closedWithin(conn: RawPbConnection, ms: number): Promise<boolean> {
  return Promise.race([conn.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe('PB connections: framing, limits and order', { timeout: 60_000 }, () => {
  it('50 pipelined requests in one write are answered in order, handler latency notwithstanding', async () => {
    await withServer({ handler: echoHandler((id) => Number(id) % 7) }, async (address) => {
      const conn = await RawPbConnection.open(address);
      conn.sendRaw(Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeMessage('RpbSetClientIdReq', { client_id: b(String(i)) }))));
      for (let i = 0; i < 50; i++) {
        const reply = await conn.next();
        expectName(reply, 'RpbGetClientIdResp');
        assert.equal(str(reply.message?.client_id), String(i));
      }
      conn.close();
    });
  });

  for (const [what, length] of [['an oversized length', 2_000], ['length 0', 0], ['length 2^32-1', 0xffff_ffff]] as const) {
    it(`${what}: RpbErrorResp after the requests before it, then that connection only is closed`, async () => {
      await withServer({ handler: echoHandler(), frameBytesMax: 1_024 }, async (address, api) => {
        const bystander = await RawPbConnection.open(address);
        const conn = await RawPbConnection.open(address);
        const header = Buffer.alloc(5);
        header.writeUInt32BE(length, 0);
        header[4] = PB_CODES.RpbPingReq;
        conn.sendRaw(Buffer.concat([ping, ping, header, ping]));
        expectName(await conn.next(), 'RpbPingResp');
        expectName(await conn.next(), 'RpbPingResp');
        const error = errmsgOf(await conn.next());
        assert.match(error, length === 0 ? /frame length 0/ : new RegExp(`frame length ${length} exceeds the limit of 1024 bytes`));
        assert.ok(await closedWithin(conn, 2_000), 'the connection was not closed');
        assert.equal(conn.pending, 0, 'the ping after the bad frame was answered');
        expectName(await bystander.request('RpbPingReq', {}), 'RpbPingResp');
        assert.equal(api.stats.framingErrors, 1);
        bystander.close();
      });
    });
  }

  it('an unknown code gets an RpbErrorResp; the connection stays usable', async () => {
    await withServer({ handler: createPbHandler({ kv: undefined as never, metadata: undefined as never, node: 'n', serverVersion: 'rondo-test' }) }, async (address) => {
      const conn = await RawPbConnection.open(address);
      for (const code of [199, 255, 0, 2, 104]) {
        conn.sendRaw(encodeFrame(code, b('junk')));
        const reply = await conn.next();
        expectName(reply, 'RpbErrorResp');
        expectName(await conn.request('RpbPingReq', {}), 'RpbPingResp');
      }
      assert.equal(conn.isClosed, false);
      conn.close();
    });
  });

  it('connectionsMax=2: a third connection gets "overload" and is closed; the first two work', async () => {
    await withServer({ handler: echoHandler(), connectionsMax: 2 }, async (address, api) => {
      const one = await RawPbConnection.open(address);
      const two = await RawPbConnection.open(address);
      expectName(await one.request('RpbPingReq', {}), 'RpbPingResp');
      expectName(await two.request('RpbPingReq', {}), 'RpbPingResp');
      const three = await RawPbConnection.open(address);
      assert.match(errmsgOf(await three.next()), /^overload/);
      assert.ok(await closedWithin(three, 2_000));
      assert.equal(api.stats.connectionsRefused, 1);
      expectName(await one.request('RpbPingReq', {}), 'RpbPingResp');
      // A slot freed is a slot to take.
      one.close();
      await waitUntil(() => api.stats.connections === 1);
      const four = await RawPbConnection.open(address);
      expectName(await four.request('RpbPingReq', {}), 'RpbPingResp');
      two.close();
      four.close();
    });
  });

  // Regression: the idle timer was setTimeout's callback, a `once` listener; when it fired during a slow
  // request (and was rightly ignored) the connection was never closed for idleness afterwards.
  it('idleTimeoutMs=200: an idle connection is closed; one busy past the timeout is not, but is once idle', async () => {
    await withServer({ handler: echoHandler(() => 600), idleTimeoutMs: 200 }, async (address) => {
      const idle = await RawPbConnection.open(address);
      const busy = await RawPbConnection.open(address);
      const reply = busy.request('RpbSetClientIdReq', { client_id: b('slow') });
      assert.ok(await closedWithin(idle, 2_000), 'the idle connection was not closed');
      expectName(await reply, 'RpbGetClientIdResp');
      assert.ok(await closedWithin(busy, 2_000), 'the connection was not closed once idle');
    });
  });

  it('queuedRequestsMax: with a stuck handler the socket stops reading, the client backs up; all answered in order', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let runningMax = 0;
    const handler: PbHandler = async (code, body, session, signal) => {
      running++;
      runningMax = Math.max(runningMax, running);
      await gate;
      running--;
      return echoHandler()(code, body, session, signal);
    };
    await withServer({ handler, queuedRequestsMax: 4 }, async (address) => {
      const conn = await RawPbConnection.open(address);
      const COUNT = 64;
      const padding = Buffer.alloc(512 * 1024, 0x61);
      // Field 1 (client_id) holds "<i>:" then 512 KiB, so 32 MiB in all: more than loopback socket buffers hold.
      const frames = Array.from({ length: COUNT }, (_, i) => encodeMessage('RpbSetClientIdReq', { client_id: Buffer.concat([b(`${i}:`), padding]) }));
      for (const frame of frames) conn.sendRaw(frame);
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(conn.socket.writableLength > 0, 'the client wrote everything: the server kept reading past its queue limit');
      assert.equal(conn.pending, 0);
      release();
      for (let i = 0; i < COUNT; i++) {
        const reply = await conn.next(20_000);
        expectName(reply, 'RpbGetClientIdResp');
        assert.ok(str(reply.message?.client_id).startsWith(`${i}:`), `reply ${i} out of order`);
      }
      assert.equal(runningMax, 1, 'requests of one connection ran concurrently');
      conn.close();
    });
  });

  it('a client that closes mid-request aborts the handler\'s AbortSignal', async () => {
    let aborted: (reason: unknown) => void = () => undefined;
    const abortedSeen = new Promise<unknown>((r) => (aborted = r));
    let started: () => void = () => undefined;
    const startedSeen = new Promise<void>((r) => (started = r));
    const handler: PbHandler = async (_code, _body, _session, signal) => {
      started();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted(signal.aborted);
      return pong;
    };
    await withServer({ handler }, async (address) => {
      const conn = await RawPbConnection.open(address);
      conn.sendRaw(ping);
      await startedSeen;
      conn.close();
      const result = await Promise.race([abortedSeen, new Promise((r) => setTimeout(() => r('timeout'), 2_000))]);
      assert.equal(result, true, 'the handler\'s signal was not aborted');
    });
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
