// /stats (Riak's names, one-minute windows) and /metrics (Prometheus text) of
// one real node: the counters count exactly the requests made, the times and
// sizes are there, siblings and read repairs are seen, and /metrics parses.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/cli/config.js';
import { BucketTypeAdmin } from '../../src/kv/admin/index.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { RawPbConnection } from '../helpers/pb-raw.js';
import { tempDir } from '../helpers/processes.js';

type Stats = Record<string, number | string | string[]>;

/** One sample line of the Prometheus text format: name, labels, value. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)$/; // NaN as Go parses it (any case: prom-client writes "Nan")

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format strictly: every line is a # HELP / # TYPE comment or a sample. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/, `comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[4]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value;
}

describe('/stats and /metrics on one node', { timeout: 60_000 }, () => {
  const dir = tempDir('rondo-stats-');
  let node: RunningNode;
  let base = '';

  before(async () => {
    node = await startNode(resolveConfig({ name: 's1', listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', pbListen: '127.0.0.1:0', dataDir: join(dir.path, 's1'), clusterSecret: 'stats-test-secret', logLevel: 'warn' }));
    base = `http://${node.httpAddress}`;
  });
  after(async () => {
    await node.stop();
    dir.remove();
  });

  const stats = async (): Promise<Stats> => (await (await fetch(`${base}/stats`)).json()) as Stats;
  const num = (s: Stats, name: string): number => {
    const v = s[name];
    assert.equal(typeof v, 'number', `${name} is a number in /stats`);
    return v as number;
  };
  const put = (path: string, body: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', ...headers }, body });
  const metrics = async (): Promise<Sample[]> => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    if (process.env.RONDO_METRICS_SAMPLE !== undefined) writeFileSync(process.env.RONDO_METRICS_SAMPLE, text);
    return parsePrometheus(text);
  };

  it('counts exactly the gets and puts made, at the node and at the vnodes, with times', async () => {
    const before = await stats();
    const m0 = await metrics();
    const puts = 10;
    const gets = 7;
    for (let i = 0; i < puts; i++) assert.equal((await put(`/buckets/count/keys/k${i}`, `value ${i}`)).status, 204);
    for (let i = 0; i < gets; i++) assert.equal((await fetch(`${base}/buckets/count/keys/k${i}`)).status, 200);
    const after = await stats();
    for (const [name, n] of [['node_puts', puts], ['node_puts_total', puts], ['node_gets', gets], ['node_gets_total', gets]] as const) {
      assert.equal(num(after, name) - num(before, name), n, name);
    }
    // n_val 3 on one node: every put writes 3 vnodes, every get reads 3.
    assert.equal(num(after, 'vnode_puts_total') - num(before, 'vnode_puts_total'), 3 * puts);
    assert.equal(num(after, 'vnode_gets_total') - num(before, 'vnode_gets_total'), 3 * gets);
    for (const op of ['get', 'put']) {
      const mean = num(after, `node_${op}_fsm_time_mean`);
      assert.ok(mean > 0, `node_${op}_fsm_time_mean > 0`);
      for (const q of ['median', '95', '99', '100']) assert.ok(num(after, `node_${op}_fsm_time_${q}`) > 0, `node_${op}_fsm_time_${q}`);
      assert.ok(num(after, `node_${op}_fsm_time_100`) >= num(after, `node_${op}_fsm_time_95`));
      assert.equal(num(after, `node_${op}_fsm_active`), 0);
      assert.equal(num(after, `node_${op}_fsm_errors_total`), 0);
    }
    assert.equal(num(after, 'node_get_fsm_siblings_100'), 1);
    assert.equal(num(after, 'node_get_fsm_objsize_median') > 'value 0'.length, true);
    assert.equal(num(after, 'coord_redirs_total'), 0);
    assert.equal(num(after, 'ring_creation_size'), 64);
    assert.ok(num(after, 'cpu_nprocs') >= 1);
    assert.ok(num(after, 'mem_total') >= num(after, 'mem_allocated'));
    assert.match(String(after.rondo_version), /^rondo-\d+\.\d+\.\d+/);
    for (const kept of ['nodename', 'ring_members', 'storage_backend', 'handoff_completed', 'transport_messages_sent', 'process_cpu_user_us', 'process_cpu_system_us', 'pid']) assert.ok(kept in after, kept);

    const m1 = await metrics();
    const delta = (name: string, labels: Record<string, string>): number => (value(m1, name, labels) ?? 0) - (value(m0, name, labels) ?? 0);
    assert.equal(delta('rondo_requests_total', { op: 'put', api: 'http' }), puts);
    assert.equal(delta('rondo_requests_total', { op: 'get', api: 'http' }), gets);
    assert.equal(delta('rondo_request_duration_seconds_count', { op: 'get', api: 'http' }), gets);
    assert.equal(delta('rondo_request_duration_seconds_bucket', { op: 'get', api: 'http', le: '+Inf' }), gets);
    const buckets = m1.filter((s) => s.name === 'rondo_request_duration_seconds_bucket' && s.labels.op === 'put' && s.labels.api === 'http');
    assert.ok(buckets.length >= 10, 'histogram buckets');
    for (let i = 1; i < buckets.length; i++) assert.ok((buckets[i] as Sample).value >= (buckets[i - 1] as Sample).value, 'buckets are cumulative');
    for (const name of ['rondo_vnode_mailbox_messages', 'rondo_vnodes', 'rondo_transport_queued_bytes', 'rondo_transport_reconnects_total', 'rondo_handoff_transfers_active', 'rondo_handoff_items_total', 'rondo_lmdb_file_bytes', 'rondo_event_loop_lag_seconds', 'rondo_process_cpu_user_seconds_total', 'rondo_nodejs_gc_duration_seconds_count']) {
      assert.ok(m1.some((s) => s.name === name), `/metrics has ${name}`);
    }
    assert.ok((value(m1, 'rondo_lmdb_file_bytes') ?? 0) > 0);
    assert.ok((value(m1, 'rondo_vnodes') ?? 0) > 0);
  });

  it('counts errors by code, and PB requests and connections', async () => {
    const m0 = await metrics();
    const before = await stats();
    assert.equal((await fetch(`${base}/buckets/count/keys/k1?r=9`)).status, 400); // r above n_val
    const pb = await RawPbConnection.open(node.pbAddress as string);
    try {
      const reply = await pb.request('RpbGetReq', { bucket: Buffer.from('count'), key: Buffer.from('k2') });
      assert.equal(reply.name, 'RpbGetResp');
    } finally {
      pb.socket.destroy();
    }
    const after = await stats();
    assert.equal(num(after, 'node_get_fsm_errors_total') - num(before, 'node_get_fsm_errors_total'), 1);
    assert.equal(num(after, 'node_gets_total') - num(before, 'node_gets_total'), 2);
    assert.equal(num(after, 'pbc_connects_total') - num(before, 'pbc_connects_total'), 1);
    assert.ok(num(after, 'pbc_connects') >= 1);
    const m1 = await metrics();
    const errors = m1.filter((s) => s.name === 'rondo_errors_total' && s.labels.api === 'http').reduce((acc, s) => acc + s.value, 0)
      - m0.filter((s) => s.name === 'rondo_errors_total' && s.labels.api === 'http').reduce((acc, s) => acc + s.value, 0);
    assert.equal(errors, 1);
    assert.equal((value(m1, 'rondo_requests_total', { op: 'get', api: 'pb' }) ?? 0) - (value(m0, 'rondo_requests_total', { op: 'get', api: 'pb' }) ?? 0), 1);
  });

  it('counts index entries written, removed and read, and listings and index queries', async () => {
    const before = await stats();
    assert.equal((await put('/buckets/ix/keys/k', 'v', { 'X-Riak-Index-Age_int': '42', 'X-Riak-Index-Name_bin': 'ann' })).status, 204);
    assert.equal((await put('/buckets/ix/keys/k', 'v', { 'X-Riak-Index-Age_int': '43', 'X-Riak-Index-Name_bin': 'ann' })).status, 204);
    const afterWrites = await stats();
    // Three replicas: the first put writes 2 entries on each, the second 2 more and drops age 42 on each.
    assert.equal(num(afterWrites, 'vnode_index_writes_total') - num(before, 'vnode_index_writes_total'), 12);
    assert.equal(num(afterWrites, 'vnode_index_deletes_total') - num(before, 'vnode_index_deletes_total'), 3);
    assert.equal((await fetch(`${base}/buckets/ix/index/age_int/43`)).status, 200);
    assert.equal((await fetch(`${base}/buckets/ix/keys?keys=true`)).status, 200);
    const after = await stats();
    assert.equal(num(after, 'index_fsm_create_total') - num(before, 'index_fsm_create_total'), 1);
    assert.equal(num(after, 'list_fsm_create_total') - num(before, 'list_fsm_create_total'), 1);
    assert.ok(num(after, 'vnode_index_reads_total') > num(before, 'vnode_index_reads_total'));
    assert.equal(num(after, 'index_fsm_active'), 0);
    assert.equal(num(after, 'list_fsm_active'), 0);
  });

  it('reports siblings, and counts read repairs of a replica that missed a write or holds an older one', async () => {
    const admin = new BucketTypeAdmin(node.metadata);
    admin.handle({ type: 'bucket-type.create', name: 'sibs', props: '{"props":{"allow_mult":true}}' });
    admin.handle({ type: 'bucket-type.activate', name: 'sibs' });
    for (const v of ['one', 'two', 'three']) assert.equal((await put('/types/sibs/buckets/b/keys/k', v)).status, 204);
    assert.equal((await fetch(`${base}/types/sibs/buckets/b/keys/k`)).status, 300);
    const withSiblings = await stats();
    assert.equal(num(withSiblings, 'node_get_fsm_siblings_100'), 3);

    // A write with n_val 2 reaches the first two replicas of the key's preference list only; a read with n_val 3 finds the third without it.
    const setNVal = async (n: number): Promise<void> => {
      const res = await fetch(`${base}/buckets/rr/props`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ props: { n_val: n } }) });
      assert.equal(res.status, 204);
    };
    const repairs = async (): Promise<Stats> => {
      // Read repair goes out once every replica answered, just after the answer.
      for (let i = 0; i < 50; i++) {
        const s = await stats();
        if (num(s, 'read_repairs_total') > num(withSiblings, 'read_repairs_total')) return s;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return stats();
    };
    await setNVal(2);
    assert.equal((await put('/buckets/rr/keys/missed', 'v1')).status, 204);
    await setNVal(3);
    assert.equal((await fetch(`${base}/buckets/rr/keys/missed`)).status, 200);
    const afterNotfound = await repairs();
    assert.equal(num(afterNotfound, 'read_repairs_total') - num(withSiblings, 'read_repairs_total'), 1);
    assert.equal(num(afterNotfound, 'read_repairs_primary_notfound_count') - num(withSiblings, 'read_repairs_primary_notfound_count'), 1);
    assert.ok(num(afterNotfound, 'read_repairs') >= 1);

    // Now all three hold v1; v2 (descending from it) reaches two of them: the third is out of date.
    const read = await fetch(`${base}/buckets/rr/keys/missed`);
    const vclock = read.headers.get('x-riak-vclock') ?? '';
    await setNVal(2);
    assert.equal((await put('/buckets/rr/keys/missed', 'v2', { 'X-Riak-Vclock': vclock })).status, 204);
    await setNVal(3);
    assert.equal(await (await fetch(`${base}/buckets/rr/keys/missed`)).text(), 'v2');
    let afterOutOfDate = await stats();
    for (let i = 0; i < 50 && num(afterOutOfDate, 'read_repairs_primary_outofdate_count') === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      afterOutOfDate = await stats();
    }
    assert.equal(num(afterOutOfDate, 'read_repairs_primary_outofdate_count'), 1);
    assert.equal(num(afterOutOfDate, 'read_repairs_total') - num(afterNotfound, 'read_repairs_total'), 1);
    assert.equal(num(afterOutOfDate, 'read_repairs_fallback_notfound_count') + num(afterOutOfDate, 'read_repairs_fallback_outofdate_count'), 0);
  });
});
