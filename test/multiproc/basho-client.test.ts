// Compatibility with Basho's own Node.js client (basho-riak-client 2.4.0)
// over the Riak Protocol Buffers API: `rondo dev` starts three real node
// processes, each with a PB port, and the client talks to all three (it
// round-robins requests over them) exactly as it would to a Riak cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Riak from 'basho-riak-client';
import { startDevCluster, type DevCluster } from '../helpers/dev-cluster.js';
import { runCli, waitFor } from '../helpers/processes.js';

const OP_TIMEOUT_MS = 20_000;

type Client = Riak.Client;
const RiakObject = Riak.Commands.KV.RiakObject;

/** One client call as a promise; rejects with `what` and the client's error (a string, or { msg, code } data). */
function call<T>(what: string, fn: (cb: Riak.Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no reply within ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS);
    fn((err, result, data) => {
      clearTimeout(timer);
      if (err !== null && err !== undefined) reject(new Error(`${what}: ${describeError(err)}${data === undefined || data === null ? '' : ` ${JSON.stringify(data)}`}`));
      else resolve(result);
    });
  });
}

/** A streaming call: the callback fires once per PB message; resolves with every message once one says done. */
function collect<T extends { done: boolean | null }>(what: string, fn: (cb: Riak.Callback<T>) => void): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const messages: T[] = [];
    const timer = setTimeout(() => reject(new Error(`${what}: no final (done) message within ${OP_TIMEOUT_MS} ms after ${messages.length} message(s)`)), OP_TIMEOUT_MS);
    fn((err, result) => {
      if (err !== null && err !== undefined) {
        clearTimeout(timer);
        reject(new Error(`${what}: ${describeError(err)}`));
        return;
      }
      messages.push(result);
      if (result.done) {
        clearTimeout(timer);
        resolve(messages);
      }
    });
  });
}

function describeError(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  return JSON.stringify(err);
}

function startClient(addresses: string[]): Promise<Client> {
  return new Promise((resolve, reject) => {
    new Riak.Client(addresses, (err, client) => {
      if (err === null || err === undefined) resolve(client);
      else {
        client.stop(() => undefined);
        reject(new Error(`basho-riak-client could not connect to ${addresses.join(', ')}: ${describeError(err)}`));
      }
    });
  });
}

async function stopClient(client: Client): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    try {
      client.stop(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer); // already stopped
      resolve();
    }
  });
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function textObject(value: string): Riak.Commands.KV.RiakObject {
  return new RiakObject().setContentType('text/plain').setValue(value);
}

function byTermThenKey(a: { term: number; key: string }, b: { term: number; key: string }): number {
  return a.term - b.term || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** The client's operations as promises, each error naming the operation. */
class Pb {
  readonly client: Client;
  readonly name: string;

  constructor(client: Client, name: string) {
    this.client = client;
    this.name = name;
  }

  private what(op: string, o?: { bucketType?: string; bucket?: string; key?: unknown }): string {
    const where = o === undefined ? '' : ` ${o.bucketType ?? 'default'}/${o.bucket ?? ''}${o.key === undefined ? '' : `/${String(o.key)}`}`;
    return `${op}${where} via ${this.name}`;
  }

  ping(): Promise<boolean> {
    return call<boolean>(this.what('ping'), (cb) => this.client.ping(cb));
  }
  fetch(o: Riak.FetchValueOptions): Promise<Riak.FetchValueResult> {
    return call<Riak.FetchValueResult>(this.what('fetch', o), (cb) => this.client.fetchValue(o, cb));
  }
  store(o: Riak.StoreValueOptions): Promise<Riak.StoreValueResult> {
    return call<Riak.StoreValueResult>(this.what('store', o), (cb) => this.client.storeValue(o, cb));
  }
  del(o: Riak.DeleteValueOptions): Promise<boolean> {
    return call<boolean>(this.what('delete', o), (cb) => this.client.deleteValue(o, cb));
  }
  listKeys(o: Riak.ListKeysOptions): Promise<Riak.ListKeysResult> {
    return call<Riak.ListKeysResult>(this.what('list keys', o), (cb) => this.client.listKeys({ ...o, stream: false }, cb));
  }
  listKeysStream(o: Riak.ListKeysOptions): Promise<Riak.ListKeysResult[]> {
    return collect<Riak.ListKeysResult>(this.what('list keys (streaming)', o), (cb) => this.client.listKeys({ ...o, stream: true }, cb));
  }
  listBuckets(o: Riak.ListBucketsOptions = {}): Promise<Riak.ListBucketsResult> {
    return call<Riak.ListBucketsResult>(this.what('list buckets', o), (cb) => this.client.listBuckets({ ...o, stream: false }, cb));
  }
  listBucketsStream(o: Riak.ListBucketsOptions = {}): Promise<Riak.ListBucketsResult[]> {
    return collect<Riak.ListBucketsResult>(this.what('list buckets (streaming)', o), (cb) => this.client.listBuckets({ ...o, stream: true }, cb));
  }
  query(o: Riak.SecondaryIndexQueryOptions): Promise<Riak.IndexQueryResult> {
    return call<Riak.IndexQueryResult>(this.what(`2i ${o.indexName}`, o), (cb) => this.client.secondaryIndexQuery({ ...o, stream: false }, cb));
  }
  queryStream(o: Riak.SecondaryIndexQueryOptions): Promise<Riak.IndexQueryResult[]> {
    return collect<Riak.IndexQueryResult>(this.what(`2i ${o.indexName} (streaming)`, o), (cb) => this.client.secondaryIndexQuery({ ...o, stream: true }, cb));
  }
  bucketProps(o: { bucket: string; bucketType?: string }): Promise<Riak.BucketProps> {
    return call<Riak.BucketProps>(this.what('fetch bucket props', o), (cb) => this.client.fetchBucketProps(o, cb));
  }
  storeBucketProps(o: Riak.StorePropsOptions & { bucket: string; bucketType?: string }): Promise<boolean> {
    return call<boolean>(this.what('store bucket props', o), (cb) => this.client.storeBucketProps(o, cb));
  }
  resetBucketProps(o: { bucket: string; bucketType?: string }): Promise<boolean> {
    return call<boolean>(this.what('reset bucket props', o), (cb) => this.client.resetBucketProps(o, cb));
  }
  typeProps(bucketType: string): Promise<Riak.BucketProps> {
    return call<Riak.BucketProps>(this.what(`fetch type props ${bucketType}`), (cb) => this.client.fetchBucketTypeProps({ bucketType }, cb));
  }
  storeTypeProps(o: Riak.StorePropsOptions & { bucketType: string }): Promise<boolean> {
    return call<boolean>(this.what(`store type props ${o.bucketType}`), (cb) => this.client.storeBucketTypeProps(o, cb));
  }
  preflist(o: { bucket: string; bucketType?: string; key: string }): Promise<Riak.PreflistResult> {
    return call<Riak.PreflistResult>(this.what('fetch preflist', o), (cb) => this.client.fetchPreflist(o, cb));
  }
}

describe('basho-riak-client against a 3-node rondo dev cluster over PB', { timeout: 120_000 }, () => {
  let cluster: DevCluster | undefined;
  let all: Pb | undefined; // one client over all three nodes (round robin)
  const perNode: Pb[] = []; // one client per node

  const pb = (): Pb => {
    assert.ok(all, 'no PB client: the cluster or its PB ports did not come up (see the before hook)');
    return all;
  };
  const admin = (...args: string[]) => runCli(['admin', '--config', (cluster as DevCluster).configPath(1), ...args]);

  /** Poll every node until `check` holds for all of them (cluster metadata spreads eventually). */
  async function onEveryNode<T>(what: string, read: (node: Pb) => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<void> {
    let last: T[] = [];
    const ms = await waitFor(async () => {
      last = await Promise.all(perNode.map(read));
      return last.length === 3 && last.every(check);
    }, timeoutMs, 100);
    assert.ok(ms >= 0, `${what}: not seen on every node within ${timeoutMs} ms; last replies: ${JSON.stringify(last)}`);
  }

  before(async () => {
    cluster = await startDevCluster({ nodes: 3 });
    const pbAddrs = cluster.pb;
    all = new Pb(await startClient(pbAddrs), pbAddrs.join(','));
    for (const address of pbAddrs) perNode.push(new Pb(await startClient([address]), address));
  });

  after(async () => {
    await Promise.all([...(all ? [all] : []), ...perNode].map((p) => stopClient(p.client)));
    if (process.exitCode && process.exitCode !== 0 && cluster) console.log(cluster.logs());
    await cluster?.stop();
    // Last resort, unref'd: if the client's health-check backoff (riaknode.js)
    // still holds a timer after stop(), do not let it hang the test run.
    setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
  });

  it('answers RpbPingReq on every node', async () => {
    assert.equal(perNode.length, 3, 'expected one PB client per node');
    for (const node of perNode) assert.equal(await node.ping(), true, `ping of ${node.name} did not succeed`);
    assert.equal(await pb().ping(), true, 'ping through the 3-node client did not succeed');
  });

  it('stores, fetches and deletes a value; a missing key is notfound', async () => {
    const missing = await pb().fetch({ bucket: 'rt', key: 'never-written' });
    assert.equal(missing.isNotFound, true, 'a key never written must be notfound (RpbGetResp with no body)');
    assert.equal(missing.values.length, 0, 'notfound carries no values');

    const stored = await pb().store({ bucket: 'rt', key: 'k1', value: textObject('hello') });
    assert.equal(stored.values.length, 0, 'a put without return_body returns no content');

    const fetched = await pb().fetch({ bucket: 'rt', key: 'k1' });
    assert.equal(fetched.isNotFound, false, 'rt/k1 must be found after the put');
    assert.equal(fetched.values.length, 1, 'rt/k1 has exactly one value');
    assert.equal(text(fetched.values[0]?.value), 'hello', 'rt/k1 reads back what was stored');
    assert.equal(fetched.values[0]?.contentType, 'text/plain', 'the content type is kept');
    assert.ok(Buffer.isBuffer(fetched.vclock) && fetched.vclock.length > 0, 'a found object comes with a vclock');

    const body = await pb().store({ bucket: 'rt', key: 'k1', value: textObject('hello again'), vclock: fetched.vclock as Buffer, returnBody: true });
    assert.deepEqual(body.values.map((v) => text(v.value)), ['hello again'], 'return_body returns the one resulting value');
    assert.ok(Buffer.isBuffer(body.vclock) && body.vclock.length > 0, 'return_body returns a vclock');

    const generated = await pb().store({ bucket: 'rt', value: textObject('no key given') });
    assert.ok(typeof generated.generatedKey === 'string' && generated.generatedKey.length > 0, 'a put without a key returns the generated key in RpbPutResp.key');
    const byGenerated = await pb().fetch({ bucket: 'rt', key: generated.generatedKey as string });
    assert.deepEqual(byGenerated.values.map((v) => text(v.value)), ['no key given'], 'the generated key reads back the value');

    assert.equal(await pb().del({ bucket: 'rt', key: 'k1' }), true, 'delete without a vclock succeeds');
    assert.equal((await pb().fetch({ bucket: 'rt', key: 'k1' })).isNotFound, true, 'a deleted key is notfound');
  });

  it('makes siblings in an allow_mult bucket, resolves them with the vclock, and deletes with the vclock', async () => {
    assert.equal(await pb().storeBucketProps({ bucket: 'sibs', allowMult: true }), true, 'RpbSetBucketReq allow_mult=true succeeds');
    // Every node must know allow_mult=true before the blind writes (they go round robin).
    await onEveryNode('allow_mult=true on sibs', (n) => n.bucketProps({ bucket: 'sibs' }), (p) => p.allowMult === true);

    await pb().store({ bucket: 'sibs', key: 's', value: textObject('v1') });
    await pb().store({ bucket: 'sibs', key: 's', value: textObject('v2') });
    const conflicted = await pb().fetch({ bucket: 'sibs', key: 's' });
    assert.deepEqual(conflicted.values.map((v) => text(v.value)).sort(), ['v1', 'v2'], 'two blind writes to an allow_mult bucket make two siblings');
    assert.ok(Buffer.isBuffer(conflicted.vclock) && conflicted.vclock.length > 0, 'siblings come with a vclock');

    const picked = await pb().fetch({ bucket: 'sibs', key: 's', conflictResolver: (values) => values.reduce((a, b) => (text(a.value) > text(b.value) ? a : b)) });
    assert.deepEqual(picked.values.map((v) => text(v.value)), ['v2'], 'a conflict resolver gets both siblings and its choice is returned');

    await pb().store({ bucket: 'sibs', key: 's', value: textObject('v3'), vclock: conflicted.vclock as Buffer });
    const resolved = await pb().fetch({ bucket: 'sibs', key: 's' });
    assert.deepEqual(resolved.values.map((v) => text(v.value)), ['v3'], 'a write with the siblings vclock replaces both');

    assert.equal(await pb().del({ bucket: 'sibs', key: 's', vclock: resolved.vclock as Buffer }), true, 'delete with the vclock succeeds');
    const deleted = await pb().fetch({ bucket: 'sibs', key: 's' });
    assert.equal(deleted.isNotFound, true, 'after a delete with the current vclock the key is notfound (no tombstone sibling)');
  });

  const LISTED = Array.from({ length: 200 }, (_, i) => `key-${String(i).padStart(3, '0')}`);

  it('lists exactly the keys of a bucket, streaming and not', async () => {
    await inBatches(LISTED, 20, (key) => pb().store({ bucket: 'listing', key, value: textObject(key) }));

    const whole = await pb().listKeys({ bucket: 'listing' });
    assert.equal(whole.done, true, 'the non-streaming result is the final (done) message');
    assert.deepEqual([...whole.keys].sort(), LISTED, 'non-streaming list keys returns exactly the 200 keys, each once');

    const messages = await pb().listKeysStream({ bucket: 'listing' });
    assert.deepEqual(messages.flatMap((m) => m.keys).sort(), LISTED, 'streaming list keys returns exactly the 200 keys, each once');

    assert.deepEqual((await pb().listKeys({ bucket: 'never-written-bucket' })).keys, [], 'an empty bucket lists no keys');
  });

  it('lists the 50 keys of a fresh bucket in the default type, each once', async () => {
    // The case the compatibility issue reported: few keys, so one chunk, which must not ride on the done message.
    const fifty = Array.from({ length: 50 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    await inBatches(fifty, 25, (key) => pb().store({ bucketType: 'default', bucket: 'fifty', key, value: textObject(key) }));
    assert.deepEqual([...(await pb().listKeys({ bucketType: 'default', bucket: 'fifty' })).keys].sort(), fifty);
    const messages = await pb().listKeysStream({ bucketType: 'default', bucket: 'fifty' });
    assert.deepEqual(messages.at(-1), { bucketType: 'default', bucket: 'fifty', keys: [], done: true }, 'the stream ends with a done message that carries no keys');
    assert.deepEqual(messages.flatMap((m) => m.keys).sort(), fifty);
  });

  it('lists the buckets written', async () => {
    // Not sibs: its only key was deleted, and a bucket whose tombstones are reaped is not listed.
    const whole = await pb().listBuckets();
    for (const bucket of ['rt', 'listing']) assert.ok(whole.buckets.includes(bucket), `list buckets includes ${bucket}; got ${JSON.stringify(whole.buckets)}`);
    assert.equal(new Set(whole.buckets).size, whole.buckets.length, 'list buckets names each bucket once');

    const bucketMessages = await pb().listBucketsStream();
    assert.deepEqual(bucketMessages.at(-1), { buckets: [], done: true }, 'the stream ends with a done message that carries no buckets');
    const streamed = bucketMessages.flatMap((m) => m.buckets);
    for (const bucket of ['rt', 'listing']) assert.ok(streamed.includes(bucket), `streaming list buckets includes ${bucket}; got ${JSON.stringify(streamed)}`);
  });

  describe('secondary indexes', () => {
    // 60 people: ages 20..49 (two each), names name-00..name-29 (two each).
    const people = Array.from({ length: 60 }, (_, i) => ({ key: `p${String(i).padStart(2, '0')}`, age: 20 + ((i * 7) % 30), name: `name-${String(i % 30).padStart(2, '0')}` }));
    const inRange = people.filter((p) => p.age >= 25 && p.age <= 40).map((p) => ({ term: p.age, key: p.key })).sort(byTermThenKey);

    before(async () => {
      if (!all) return; // the tests fail with the reason
      await inBatches(people, 20, (p) =>
        pb().store({ bucket: 'people', key: p.key, value: new RiakObject().setContentType('application/json').setValue({ age: p.age, name: p.name }).addToIndex('age_int', p.age).addToIndex('name_bin', p.name) }),
      );
    });

    it('reads the indexes back with the object', async () => {
      const p = people[7]!;
      const fetched = await pb().fetch({ bucket: 'people', key: p.key });
      assert.deepEqual(fetched.values[0]?.indexes, { age_int: [p.age], name_bin: [p.name] }, 'RpbContent.indexes round-trips (each pair with its value)');
    });

    it('answers an equality query on name_bin', async () => {
      const result = await pb().query({ bucket: 'people', indexName: 'name_bin', indexKey: 'name-03' });
      const expected = people.filter((p) => p.name === 'name-03').map((p) => p.key).sort();
      assert.deepEqual(result.values.map((v) => v.objectKey).sort(), expected, 'name_bin = name-03 finds exactly its two objects');
      assert.deepEqual((await pb().query({ bucket: 'people', indexName: 'name_bin', indexKey: 'nobody' })).values, [], 'an equality query with no match returns nothing');
      const indexMessages = await pb().queryStream({ bucket: 'people', indexName: 'name_bin', indexKey: 'name-03' });
      assert.equal(indexMessages.at(-1)?.done, true, 'the stream ends with done');
      assert.deepEqual(indexMessages.at(-1)?.values, [], 'the done message carries no results');
      const streamed = indexMessages.flatMap((m) => m.values);
      assert.deepEqual(streamed.map((v) => v.objectKey).sort(), expected, 'the streaming equality query finds the same two objects');
    });

    it('answers a range query on age_int with return_terms', async () => {
      const result = await pb().query({ bucket: 'people', indexName: 'age_int', rangeStart: 25, rangeEnd: 40, returnKeyAndIndex: true });
      const got = result.values.map((v) => ({ term: v.indexKey as number, key: v.objectKey })).sort(byTermThenKey);
      assert.deepEqual(got, inRange, 'range 25..40 with return_terms gives every (age, key) pair in range, both ends inclusive (RpbIndexResp.results)');
      assert.equal(result.continuation, null, 'a query without max_results has no continuation');
    });

    /** Pages of age_int 25..40 with max_results 10, following continuations until there is none. */
    async function pages(returnTerms: boolean, stream: boolean): Promise<{ items: { term: number | null; key: string }[]; sizes: number[] }> {
      const items: { term: number | null; key: string }[] = [];
      const sizes: number[] = [];
      let continuation: unknown = null;
      for (let page = 0; page < 20; page++) {
        const o: Riak.SecondaryIndexQueryOptions = { bucket: 'people', indexName: 'age_int', rangeStart: 25, rangeEnd: 40, maxResults: 10, returnKeyAndIndex: returnTerms };
        if (continuation !== null) o.continuation = continuation;
        let values: Riak.IndexQueryValue[];
        if (stream) {
          const messages = await pb().queryStream(o);
          values = messages.flatMap((m) => m.values);
          continuation = messages.map((m) => m.continuation).filter((x) => x !== null && x !== undefined).at(-1) ?? null;
        } else {
          const result = await pb().query(o);
          values = result.values;
          continuation = result.continuation ?? null;
        }
        sizes.push(values.length);
        items.push(...values.map((v) => ({ term: returnTerms ? (v.indexKey as number) : null, key: v.objectKey })));
        if (continuation === null) return { items, sizes };
        assert.equal(values.length, 10, `page ${page} (return_terms ${returnTerms}, stream ${stream}) is followed by a continuation, so it must be full`);
      }
      assert.fail(`pagination (return_terms ${returnTerms}, stream ${stream}) did not end within 20 pages`);
    }

    for (const stream of [false, true]) {
      it(`pages through age_int 25..40 with max_results 10 and continuations (${stream ? 'streaming' : 'not streaming'})`, async () => {
        const withTerms = await pages(true, stream);
        assert.deepEqual(withTerms.items, inRange, `return_terms pages give every (age, key) exactly once, in (term, key) order; page sizes ${withTerms.sizes.join(',')}`);
        const keysOnly = await pages(false, stream);
        assert.deepEqual(keysOnly.items.map((x) => x.key), inRange.map((x) => x.key), `key-only pages give every key exactly once, in (term, key) order; page sizes ${keysOnly.sizes.join(',')}`);
      });
    }
  });

  describe('bucket properties', () => {
    it('fetches defaults, stores changes, and resets them', async () => {
      const defaults = await pb().bucketProps({ bucket: 'props' });
      assert.equal(defaults.nVal, 3, 'default n_val is 3');
      assert.equal(defaults.allowMult, false, 'default-type buckets have allow_mult false');
      assert.equal(defaults.lastWriteWins, false, 'default last_write_wins is false');
      assert.deepEqual(defaults.precommit, [], 'no precommit hooks');
      assert.deepEqual(defaults.chashKeyfun, { mod: 'riak_core_util', fun: 'chash_std_keyfun' }, 'chash_keyfun is reported as Riak reports it');

      assert.equal(await pb().storeBucketProps({ bucket: 'props', nVal: 2, allowMult: true }), true, 'RpbSetBucketReq succeeds');
      await onEveryNode('n_val 2 / allow_mult true on props', (n) => n.bucketProps({ bucket: 'props' }), (p) => p.nVal === 2 && p.allowMult === true);

      assert.equal(await pb().resetBucketProps({ bucket: 'props' }), true, 'RpbResetBucketReq succeeds');
      await onEveryNode('props reset to n_val 3 / allow_mult false', (n) => n.bucketProps({ bucket: 'props' }), (p) => p.nVal === 3 && p.allowMult === false);
    });

    it('refuses an invalid property with an RpbErrorResp', async () => {
      await assert.rejects(pb().storeBucketProps({ bucket: 'props-bad', nVal: 2, r: 5 }), /\br\b|n_val/, 'r above n_val is refused with an error naming the property');
    });
  });

  describe('bucket types', () => {
    it('fetches the props of the default type', async () => {
      const props = await pb().typeProps('default');
      assert.equal(props.nVal, 3, 'the default type has n_val 3');
      assert.equal(props.allowMult, false, 'the default type has allow_mult false');
    });

    it('stores and fetches under a created and activated type; stores and fetches its props', async () => {
      const created = admin('bucket-type', 'create', 'typed', '{"props":{"n_val":3}}');
      assert.equal(created.code, 0, `bucket-type create failed: ${created.stderr}`);
      const activated = await waitFor(async () => admin('bucket-type', 'activate', 'typed').code === 0, 20_000, 200);
      assert.ok(activated >= 0, 'the type never became activatable');
      // A new type starts from Riak's new-type defaults: allow_mult true.
      await onEveryNode('type typed', (n) => n.typeProps('typed').catch(() => undefined), (p) => p?.allowMult === true, 20_000);

      await pb().store({ bucketType: 'typed', bucket: 'tb', key: 'k', value: textObject('typed value') });
      const typed = await pb().fetch({ bucketType: 'typed', bucket: 'tb', key: 'k' });
      assert.deepEqual(typed.values.map((v) => text(v.value)), ['typed value'], 'a value stored under the type reads back under the type');
      assert.equal((await pb().fetch({ bucket: 'tb', key: 'k' })).isNotFound, true, 'the same bucket/key under the default type is a different object');
      assert.deepEqual((await pb().listKeys({ bucketType: 'typed', bucket: 'tb' })).keys, ['k'], 'list keys honours the type');
      assert.deepEqual((await pb().listBuckets({ bucketType: 'typed' })).buckets, ['tb'], 'list buckets honours the type');

      assert.equal(await pb().storeTypeProps({ bucketType: 'typed', notFoundOk: false, basicQuorum: true }), true, 'RpbSetBucketTypeReq succeeds');
      await onEveryNode('notfound_ok false / basic_quorum true on type typed', (n) => n.typeProps('typed'), (p) => p.notFoundOk === false && p.basicQuorum === true);
      const inType = await pb().bucketProps({ bucketType: 'typed', bucket: 'tb' });
      assert.equal(inType.notFoundOk, false, 'a bucket of the type inherits the stored type props');
      assert.equal(inType.allowMult, true, 'a bucket of the type inherits allow_mult true');
    });

    it('refuses a value under a type that does not exist, with an RpbErrorResp', async () => {
      await assert.rejects(pb().store({ bucketType: 'no-such-type', bucket: 'b', key: 'k', value: textObject('x') }), /no-such-type/, 'storing under an unknown type fails with an error naming the type');
    });
  });

  it('gives the preflist of a key (RpbGetBucketKeyPreflistReq)', async () => {
    const { preflist } = await pb().preflist({ bucket: 'rt', key: 'k1' });
    assert.equal(preflist.length, 3, 'n_val 3 gives 3 preflist entries');
    assert.ok(preflist.every((e) => e.primary === true), 'with every node up, every entry is a primary');
    assert.ok(preflist.every((e) => Number.isInteger(e.partition) && e.partition >= 0 && e.partition < 64), `partitions are partition numbers of the 64-partition ring: ${JSON.stringify(preflist)}`);
    assert.equal(new Set(preflist.map((e) => e.partition)).size, 3, 'three distinct partitions');
    assert.ok(preflist.every((e) => e.node.length > 0), 'every entry names its node');
  });
});
