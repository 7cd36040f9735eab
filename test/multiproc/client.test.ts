// Rondo's own TypeScript client (src/client) against a real 3-node `rondo
// dev` cluster over the PB API: key/value, siblings, conditional writes,
// listings, 2i paging, props, deadlines and aborts, the README example, and
// last a node killed with SIGKILL (reads go on through the others).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RondoClient, RondoClientError, type BucketProps, type Sibling } from '../../src/client/index.js';
import { startDevCluster, type DevCluster } from '../helpers/dev-cluster.js';
import { REPO, runCli, waitFor } from '../helpers/processes.js';

const text = (s: Sibling): string => s.value.toString('utf8');

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function isClientError(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof RondoClientError, `a RondoClientError, not ${String(err)}`);
    assert.equal(err.code, code, `code ${code}; got ${err.code}: ${err.message}`);
    return true;
  };
}

describe('RondoClient against a 3-node rondo dev cluster over PB', { timeout: 240_000 }, () => {
  let cluster: DevCluster | undefined;
  let client: RondoClient | undefined;
  const perNode: RondoClient[] = [];

  const c = (): RondoClient => {
    assert.ok(client, 'no client: the cluster did not come up (see the before hook)');
    return client;
  };

  /** Poll every node until `check` holds on all of them (cluster metadata spreads by gossip). */
  async function onEveryNode<T>(what: string, read: (node: RondoClient) => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<void> {
    let last: unknown[] = [];
    const ms = await waitFor(async () => {
      last = await Promise.all(perNode.map(read));
      return last.length === 3 && (last as T[]).every(check);
    }, timeoutMs, 100);
    assert.ok(ms >= 0, `${what}: not seen on every node within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
  }

  before(async () => {
    cluster = await startDevCluster({ nodes: 3 });
    client = new RondoClient({ nodes: cluster.pb });
    for (const address of cluster.pb) perNode.push(new RondoClient({ nodes: [address], retries: 0 }));
  });

  after(async () => {
    await Promise.all([client, ...perNode].map((x) => x?.close()));
    if (process.exitCode && process.exitCode !== 0 && cluster) console.log(cluster.logs());
    await cluster?.stop();
  });

  it('pings every node', async () => {
    await c().ping();
    for (const node of perNode) await node.ping();
  });

  it('puts, gets and deletes; a missing key is not found', async () => {
    assert.deepEqual(await c().get({ bucket: 'rt', key: 'never-written' }), { found: false });
    const put = await c().put({ bucket: 'rt', key: 'k1' }, { value: 'hello', userMeta: { owner: 'me' }, indexes: [{ name: 'n_int', value: 7 }, { name: 'tag_bin', value: 'x' }] });
    assert.equal(put.key, 'k1');
    assert.ok(put.context.length > 0, 'a put returns the new causal context');
    const got = await c().get({ bucket: 'rt', key: 'k1' }, { r: 'all' });
    assert.ok(got.found);
    assert.equal(got.siblings.length, 1);
    assert.equal(got.conflict, false);
    assert.equal(text(got.value), 'hello');
    assert.equal(got.value.contentType, 'text/plain');
    assert.equal(got.value.charset, 'utf-8');
    assert.deepEqual(got.value.userMeta, { owner: 'me' });
    assert.deepEqual(got.value.indexes, [{ name: 'n_int', value: 7 }, { name: 'tag_bin', value: 'x' }]);
    assert.ok(got.value.vtag.length > 0 && got.value.lastModified.getTime() > Date.now() - 60_000, 'vtag and last-modified are set');

    const again = await c().put({ bucket: 'rt', key: 'k1' }, Buffer.from([0, 1, 2]), { context: got.context, returnBody: true, w: 'quorum', dw: 1 });
    assert.deepEqual(again.siblings?.map((s) => [...s.value]), [[0, 1, 2]], 'return_body gives the one resulting value');
    assert.equal(again.siblings?.[0]?.contentType, 'application/octet-stream');

    await c().delete({ bucket: 'rt', key: 'k1' }, { context: again.context, rw: 'quorum' });
    assert.deepEqual(await c().get({ bucket: 'rt', key: 'k1' }), { found: false });
  });

  it('stores under a generated key', async () => {
    const put = await c().put({ bucket: 'rt' }, 'no key given');
    assert.ok(put.key.length > 0, 'the server generated a key');
    const got = await c().get({ bucket: 'rt', key: put.key });
    assert.ok(got.found && text(got.value) === 'no key given');
  });

  it('makes siblings in an allow_mult bucket, resolves them with a hook, and writing back with the context resolves them', async () => {
    await c().setBucketProps({ bucket: 'sibs' }, { allowMult: true });
    await onEveryNode('allow_mult on sibs', (n) => n.getBucketProps({ bucket: 'sibs' }), (p) => p.allowMult === true);
    await c().put({ bucket: 'sibs', key: 's' }, 'v1');
    await c().put({ bucket: 'sibs', key: 's' }, 'v2');

    const plain = await c().get({ bucket: 'sibs', key: 's' });
    assert.ok(plain.found);
    assert.deepEqual(plain.siblings.map(text).sort(), ['v1', 'v2'], 'two blind writes make two siblings');
    assert.equal(plain.conflict, true, 'several siblings and no resolver: a conflict');
    assert.equal(plain.value, plain.siblings[0], 'without a resolver, value is the first sibling');

    let seen = 0;
    const picked = await c().get({ bucket: 'sibs', key: 's' }, { resolve: (s) => ((seen = s.length), s.reduce((a, b) => (text(a) > text(b) ? a : b))) });
    assert.ok(picked.found);
    assert.equal(seen, 2, 'the resolver gets every sibling');
    assert.equal(text(picked.value), 'v2');
    assert.equal(picked.conflict, false);

    const hooked = new RondoClient({ nodes: cluster?.pb ?? [], resolveSiblings: (s) => s.reduce((a, b) => (text(a) < text(b) ? a : b)) });
    try {
      const viaOption = await hooked.get({ bucket: 'sibs', key: 's' });
      assert.ok(viaOption.found && text(viaOption.value) === 'v1', 'the client-wide resolver applies when a call has none');
    } finally {
      await hooked.close();
    }

    await c().put({ bucket: 'sibs', key: 's' }, picked.value, { context: picked.context });
    const resolved = await c().get({ bucket: 'sibs', key: 's' });
    assert.ok(resolved.found);
    assert.deepEqual(resolved.siblings.map(text), ['v2'], 'a write with the context replaces both siblings');
    assert.equal(resolved.conflict, false);
  });

  it('refuses ifNoneMatch on an existing key with kv_precondition_failed, and honours ifNotModified', async () => {
    const first = await c().put({ bucket: 'cond', key: 'once' }, 'first', { ifNoneMatch: true });
    await assert.rejects(c().put({ bucket: 'cond', key: 'once' }, 'second', { ifNoneMatch: true }), (err: unknown) => {
      isClientError('kv_precondition_failed')(err);
      assert.equal((err as RondoClientError).retryable, false);
      return true;
    });
    const second = await c().put({ bucket: 'cond', key: 'once' }, 'second', { context: first.context, ifNotModified: true });
    await assert.rejects(c().put({ bucket: 'cond', key: 'once' }, 'stale', { context: first.context, ifNotModified: true }), isClientError('kv_precondition_failed'));
    const got = await c().get({ bucket: 'cond', key: 'once' });
    assert.ok(got.found && text(got.value) === 'second' && got.context.equals(second.context));
  });

  const LISTED = Array.from({ length: 2500 }, (_, i) => `key-${String(i).padStart(4, '0')}`);

  it('lists 2,500 keys, each exactly once', async () => {
    await inBatches(LISTED, 100, (key) => c().put({ bucket: 'listing', key }, key, { w: 'all' }));
    const keys = await collect(c().listKeys({ bucket: 'listing' }));
    assert.equal(keys.length, LISTED.length, 'no key listed twice, none missing');
    assert.deepEqual(keys.sort(), LISTED);
    assert.deepEqual(await collect(c().listKeys({ bucket: 'never-written-bucket' })), []);
  });

  it('lists buckets, each once', async () => {
    const buckets = await collect(c().listBuckets());
    for (const b of ['rt', 'listing', 'cond']) assert.ok(buckets.includes(b), `${b} in ${JSON.stringify(buckets)}`);
    assert.equal(new Set(buckets).size, buckets.length);
  });

  describe('secondary indexes', () => {
    // 60 people: ages 20..49 (two each), names name-00..name-29 (two each).
    const people = Array.from({ length: 60 }, (_, i) => ({ key: `p${String(i).padStart(2, '0')}`, age: 20 + ((i * 7) % 30), name: `name-${String(i % 30).padStart(2, '0')}` }));
    const inRange = people.filter((p) => p.age >= 25 && p.age <= 40).map((p) => ({ key: p.key, term: p.age })).sort((a, b) => a.term - b.term || (a.key < b.key ? -1 : 1));

    before(async () => {
      if (!client) return;
      await inBatches(people, 20, (p) => c().put({ bucket: 'people', key: p.key }, { value: JSON.stringify(p), contentType: 'application/json', indexes: [{ name: 'age_int', value: p.age }, { name: 'name_bin', value: p.name }] }, { w: 'all' }));
    });

    it('answers equality and range queries', async () => {
      const eq = await c().index({ bucket: 'people', index: 'name_bin', start: 'name-03' });
      assert.deepEqual(eq.hits.map((h) => h.key).sort(), people.filter((p) => p.name === 'name-03').map((p) => p.key).sort());
      assert.equal(eq.continuation, undefined);
      const range = await c().index({ bucket: 'people', index: 'age_int', start: 25, end: 40, returnTerms: true });
      assert.deepEqual(range.hits, inRange, 'every (key, term) in 25..40, terms as numbers, in term order');
    });

    it('pages with maxResults and continuations', async () => {
      const hits: unknown[] = [];
      let continuation: string | undefined;
      for (let page = 0; page < 20; page++) {
        const result = await c().index({ bucket: 'people', index: 'age_int', start: 25, end: 40, returnTerms: true, maxResults: 10, ...(continuation !== undefined ? { continuation } : {}) });
        hits.push(...result.hits);
        continuation = result.continuation;
        if (continuation === undefined) break;
        assert.equal(result.hits.length, 10, 'a page followed by a continuation is full');
      }
      assert.equal(continuation, undefined, 'paging ended');
      assert.deepEqual(hits, inRange);
    });

    it('streams every hit, following continuations internally', async () => {
      assert.deepEqual(await collect(c().indexStream({ bucket: 'people', index: 'age_int', start: 25, end: 40, returnTerms: true, maxResults: 7 })), inRange);
      assert.deepEqual(await collect(c().indexStream({ bucket: 'people', index: 'age_int', start: 25, end: 40 })), inRange.map((h) => ({ key: h.key })));
    });
  });

  describe('bucket and bucket type properties', () => {
    it('gets defaults, sets some, and resets them', async () => {
      const defaults = await c().getBucketProps({ bucket: 'props' });
      assert.equal(defaults.nVal, 3);
      assert.equal(defaults.allowMult, false);
      assert.deepEqual(defaults.precommit, []);
      assert.deepEqual(defaults.chashKeyfun, { module: 'riak_core_util', function: 'chash_std_keyfun' });
      await c().setBucketProps({ bucket: 'props' }, { nVal: 2, allowMult: true, r: 'one', notfoundOk: false });
      await onEveryNode('props set', (n) => n.getBucketProps({ bucket: 'props' }), (p: BucketProps) => p.nVal === 2 && p.allowMult === true && p.r === 'one' && p.notfoundOk === false);
      await c().resetBucketProps({ bucket: 'props' });
      await onEveryNode('props reset', (n) => n.getBucketProps({ bucket: 'props' }), (p: BucketProps) => p.nVal === 3 && p.allowMult === false && p.r === defaults.r);
    });

    it('refuses invalid props with a non-retryable error naming them', async () => {
      await assert.rejects(c().setBucketProps({ bucket: 'props-bad' }, { nVal: 2, r: 5 }), (err: unknown) => err instanceof RondoClientError && !err.retryable && /\br\b|n_val/.test(err.message));
      await assert.rejects(c().getBucketTypeProps('no-such-type'), isClientError('kv_unknown_bucket_type'));
    });

    it('gets and sets bucket type props', async () => {
      assert.equal((await c().getBucketTypeProps('default')).nVal, 3);
      const admin = (...args: string[]) => runCli(['admin', '--config', (cluster as DevCluster).configPath(1), ...args]);
      assert.equal(admin('bucket-type', 'create', 'ctyped', '{"props":{"n_val":3}}').code, 0);
      assert.ok((await waitFor(async () => admin('bucket-type', 'activate', 'ctyped').code === 0, 20_000, 200)) >= 0, 'the type became active');
      await onEveryNode('type ctyped', (n) => n.getBucketTypeProps('ctyped').catch(() => undefined), (p) => p?.allowMult === true, 20_000);
      await c().setBucketTypeProps('ctyped', { notfoundOk: false, basicQuorum: true });
      await onEveryNode('ctyped props', (n) => n.getBucketTypeProps('ctyped'), (p) => p.notfoundOk === false && p.basicQuorum === true);
      assert.equal((await c().getBucketProps({ type: 'ctyped', bucket: 'tb' })).basicQuorum, true, 'a bucket of the type inherits them');
      await c().put({ type: 'ctyped', bucket: 'tb', key: 'k' }, 'typed');
      const got = await c().get({ type: 'ctyped', bucket: 'tb', key: 'k' });
      assert.ok(got.found && text(got.value) === 'typed');
      assert.deepEqual(await collect(c().listBuckets({ type: 'ctyped' })), ['tb']);
    });
  });

  describe('deadlines and aborts', () => {
    it('rejects at once, with aborted, a call whose signal already fired', async () => {
      const controller = new AbortController();
      controller.abort();
      const start = performance.now();
      await assert.rejects(c().get({ bucket: 'rt', key: 'x' }, { signal: controller.signal }), isClientError('aborted'));
      await assert.rejects(collect(c().listKeys({ bucket: 'listing' }, { signal: controller.signal })), isClientError('aborted'));
      assert.ok(performance.now() - start < 50, 'without touching the network');
    });

    it('aborts a listKeys mid-stream, and the client goes on working', async () => {
      const controller = new AbortController();
      let seen = 0;
      await assert.rejects(
        (async () => {
          for await (const _key of c().listKeys({ bucket: 'listing' }, { signal: controller.signal })) {
            seen++;
            if (seen === 10) controller.abort();
          }
        })(),
        isClientError('aborted'),
      );
      assert.equal(seen, 10, 'no key after the abort');
      assert.equal((await collect(c().listKeys({ bucket: 'listing' }))).length, LISTED.length);
    });

    it('breaking out of a stream early leaves the client usable', async () => {
      for await (const key of c().listKeys({ bucket: 'listing' })) if (key.length > 0) break;
      await c().ping();
    });

    it('times out with code timeout against a node that never answers, and drops that connection', async () => {
      // A listener that accepts and reads but never answers: only the client's deadline can end a call.
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => {
        sockets.add(socket);
        socket.resume(); // read (and drop) requests, so the client's FIN is seen
        socket.on('error', () => undefined);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const stuck = new RondoClient({ nodes: [address] });
      try {
        const start = performance.now();
        await assert.rejects(stuck.get({ bucket: 'rt', key: 'x' }, { timeoutMs: 300 }), isClientError('timeout'));
        const took = performance.now() - start;
        assert.ok(took >= 250 && took < 2_000, `the deadline covers the whole call, retries included (${Math.round(took)} ms)`);
        await assert.rejects(collect(stuck.listKeys({ bucket: 'listing' }, { timeoutMs: 200 })), isClientError('timeout'));
        assert.ok((await waitFor(async () => sockets.size === 0, 2_000, 20)) >= 0, 'a request given up on closes its connection (its reply would be misattributed)');
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        await assert.rejects(stuck.ping({ signal: controller.signal }), isClientError('aborted'));
      } finally {
        await stuck.close();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((r) => silent.close(() => r()));
      }
      await c().ping();
      assert.deepEqual(await c().get({ bucket: 'rt', key: 'x' }), { found: false });
    });
  });

  it('runs the README example (examples/client-quickstart.mts), and the README prints it as is', () => {
    const example = readFileSync(join(REPO, 'examples', 'client-quickstart.mts'), 'utf8');
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const block = /<!-- client-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- client-example:end -->/.exec(readme)?.[1];
    assert.equal(block, example, 'README.md shows examples/client-quickstart.mts exactly');
    const printed = /<!-- client-example:end -->\s*It prints:\s*```\n([\s\S]*?)```/.exec(readme)?.[1];
    for (let run = 0; run < 2; run++) {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'examples/client-quickstart.mts'], { cwd: REPO, encoding: 'utf8', timeout: 60_000, env: { ...process.env, RONDO_PB_NODES: cluster?.pb.join(',') } });
      assert.equal(result.status, 0, `the example failed (run ${run + 1}), or did not exit by itself (open handles after close()):\n${result.stdout}\n${result.stderr}`);
      assert.equal(result.stdout, 'greeting: hello (text/plain)\ncar resolves to: blue\nages 30-50, first page: ann=31 dee=38 (more)\npeople: ann bob cid dee\n');
      assert.equal(result.stdout, printed, 'and prints what README.md says it prints');
    }
  });

  // Last: it kills a node.
  it('survives a node killed with SIGKILL: reads retry on the others, writes never hang', async () => {
    const dead = cluster?.pb[2] as string;
    for (const key of LISTED.slice(0, 30)) await c().get({ bucket: 'listing', key }); // warm connections to every node
    process.kill(cluster?.nodePids[2] as number, 'SIGKILL');
    assert.ok((await waitFor(async () => !(await perNode[2]?.ping({ timeoutMs: 500 }).then(() => true, () => false)), 5_000, 50)) >= 0, 'n3 stopped answering');

    for (const key of LISTED.slice(0, 60)) {
      const got = await c().get({ bucket: 'listing', key });
      assert.ok(got.found && text(got.value) === key, `${key} read through the surviving nodes`);
    }
    const deadFirst = new RondoClient({ nodes: [dead, cluster?.pb[0] as string], random: () => 0 });
    try {
      for (let i = 0; i < 5; i++) assert.ok((await deadFirst.get({ bucket: 'listing', key: 'key-0001' })).found, 'a client whose first choice is the dead node reads through the other');
      await deadFirst.ping();
    } finally {
      await deadFirst.close();
    }

    const start = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c().put({ bucket: 'after-kill', key: `w${i}` }, 'x', { timeoutMs: 5_000 })));
    assert.ok(performance.now() - start < 15_000, 'the writes settled well within their deadlines');
    for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof RondoClientError, `a failed write fails with a RondoClientError: ${String(o.reason)}`);
    assert.ok(outcomes.some((o) => o.status === 'fulfilled'), 'most writes succeed with two of three nodes up');

    await Promise.all([client, ...perNode].map((x) => x?.close()));
    await assert.rejects(c().ping(), isClientError('connection'));
    const sockets = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap');
    assert.deepEqual(sockets, [], 'close() leaves no socket open');
  });
});
