import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WRK_JSON_MARKER, buildWrkScript, luaString, mergeWrkSummaries, parseChildCpuSec, parseWrkOutput, splitConcurrency, type WrkSummary } from '../../../src/bench/wrk.js';
import type { WorkloadSpec } from '../../../src/bench/types.js';

const spec: WorkloadSpec = { name: 'W50', keys: 1000, keyGen: 'uniform', valueBytes: 8, mix: { get: 3, put: 1 }, concurrency: 5, durationSec: 10, warmupSec: 1, preload: true };

test('wrk script, riak-http: paths with the query, GET/PUT by the mix, no response() when preloaded', () => {
  const script = buildWrkScript(spec, { kind: 'riak-http', bucket: 'b b', params: { r: '2', w: 'all' }, value: 'ABCDEFGH' });
  assert.match(script, /^local keys = 1000$/m);
  assert.match(script, /^local getShare = 0\.75$/m);
  assert.match(script, /^local keyGen = "uniform"$/m);
  assert.match(script, /^local pathPrefix = "\/buckets\/b%20b\/keys\/k"$/m);
  assert.match(script, /^local query = "\?r=2&w=all"$/m);
  assert.match(script, /^local value = "ABCDEFGH"$/m);
  assert.ok(script.includes('return wrk.format("GET", pathPrefix .. n .. query, getHeaders)'));
  assert.ok(script.includes('return wrk.format("PUT", pathPrefix .. n .. query, putHeaders, value)'));
  assert.ok(script.includes('["Content-Type"] = "application/octet-stream"'));
  assert.ok(!script.includes('function response('), 'preloaded: every 404 is an error, no Lua per response');
  assert.ok(script.includes(`'\\n${WRK_JSON_MARKER}{"requests":%.0f`));
  const notPreloaded = buildWrkScript({ ...spec, preload: false }, { kind: 'riak-http', bucket: 'b', params: {}, value: 'x' });
  assert.match(notPreloaded, /^local query = ""$/m);
  assert.ok(notPreloaded.includes('if status == 404 then notfound = notfound + 1 end'));
});

test('wrk script, etcd: base64 keys, range and put bodies, serializable reads', () => {
  const script = buildWrkScript({ ...spec, keyGen: 'pareto', mix: { put: 1 } }, { kind: 'etcd', bucket: 'b', params: {}, value: 'hello' });
  assert.match(script, /^local getShare = 0$/m);
  assert.match(script, /^local keyPrefix = "b\/k"$/m);
  assert.match(script, /^local rangeTail = "\\034}"$/m);
  assert.match(script, /^local putTail = "\\034,\\034value\\034:\\034aGVsbG8=\\034}"$/m);
  assert.match(script, /^local paretoScale = 100$/m);
  assert.ok(script.includes('return wrk.format("POST", "/v3/kv/range", headers, \'{"key":"\' .. k .. rangeTail)'));
  assert.ok(script.includes('return wrk.format("POST", "/v3/kv/put", headers, \'{"key":"\' .. k .. putTail)'));
  assert.ok(script.includes('local function base64(s)'));
  const serializable = buildWrkScript(spec, { kind: 'etcd', bucket: 'b', params: { serializable: 'true' }, value: 'x' });
  assert.match(serializable, /^local rangeTail = "\\034,\\034serializable\\034:true}"$/m);
  assert.throws(() => buildWrkScript(spec, { kind: 'etcd', bucket: 'b', params: { r: '2' }, value: 'x' }), /unknown params r/);
  assert.throws(() => buildWrkScript({ ...spec, mix: {} }, { kind: 'etcd', bucket: 'b', params: {}, value: 'x' }), /empty mix/);
});

test('Lua string literals escape quotes, backslashes, control and non-ASCII bytes', () => {
  assert.equal(luaString('a"b\\c\n'), '"a\\034b\\092c\\010"');
  assert.equal(luaString('é'), '"\\195\\169"');
});

const summaryLine = `${WRK_JSON_MARKER}{"requests":1000,"durationUs":2000000,"errors":{"connect":0,"read":1,"write":0,"status":30,"timeout":2},"latencyUs":{"mean":500.5,"max":9000,"p50":400,"p95":900,"p99":2000,"p999":5000},"issued":{"get":600,"put":402},"notfound":10}`;

test('wrk output: the summary line among wrk text, and the children CPU from `times` (dash and bash formats)', () => {
  const stdout = `Running 2s test @ http://127.0.0.1:1/\n  1 threads and 2 connections\nRequests/sec: 500.00\n\n${summaryLine}\nRONDO_CHILD_TIMES\n0m0.000000s 0m0.001000s\n0m1.250000s 0m0.500000s\n`;
  const summary = parseWrkOutput(stdout);
  assert.equal(summary.requests, 1000);
  assert.equal(summary.errors.status, 30);
  assert.equal(summary.latencyUs.p999, 5000);
  assert.equal(summary.issued.put, 402);
  assert.equal(parseChildCpuSec(stdout), 1.75);
  assert.equal(parseChildCpuSec('RONDO_CHILD_TIMES\n0m0.001s 0m0.002s\n1m2.500s 0m0.250s\n'), 62.75);
  assert.throws(() => parseWrkOutput('Running 2s test\n'), /no RONDO_WRK_JSON line/);
  assert.throws(() => parseWrkOutput(summaryLine.replace('"requests":1000', '"requests":"x"')), /malformed/);
});

test('concurrency split evenly over targets, the remainder first, empty shares dropped', () => {
  assert.deepEqual(splitConcurrency(10, ['a', 'b', 'c']).map((s) => s.connections), [4, 3, 3]);
  assert.deepEqual(splitConcurrency(2, ['a', 'b', 'c']), [{ target: 'a', connections: 1 }, { target: 'b', connections: 1 }]);
});

test('merging per-target summaries: sums, weighted mean, max percentiles flagged as upper bounds, 404s by preload', () => {
  const a = parseWrkOutput(summaryLine);
  const b: WrkSummary = { ...a, requests: 3000, latencyUs: { mean: 100, max: 20000, p50: 300, p95: 800, p99: 3000, p999: 4000 }, errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 }, notfound: 0 };
  const opts = { label: 'L', kind: 'riak-http' as const, targets: ['a', 'b'], startedAt: '2026-01-01T00:00:00.000Z', cpuSec: 1, notes: [] };
  const merged = mergeWrkSummaries(spec, opts, [a, b]);
  assert.equal(merged.totalOps, 4000);
  assert.equal(merged.opsPerSec, 2000);
  assert.equal(merged.durationSec, 2);
  assert.equal(merged.errors, 33, 'preloaded: read 1 + timeout 2 + all 30 status errors');
  assert.equal(merged.all.meanMs, (500.5 * 1000 + 100 * 3000) / 4000 / 1000);
  assert.deepEqual([merged.all.p50Ms, merged.all.p99Ms, merged.all.p999Ms, merged.all.maxMs], [0.4, 3, 5, 20]);
  assert.equal(merged.generator.tool, 'wrk');
  assert.equal(merged.generator.cpuPctOfOneCore, 50);
  assert.deepEqual(merged.ops, {});
  assert.deepEqual(merged.timeline, []);
  assert.ok(merged.notes.some((n) => n.includes('upper bounds')));
  assert.ok(merged.notes.some((n) => n.includes('get 1200, put 804')));
  assert.ok(merged.notes.some((n) => n.includes('connect 0, read 1, write 0, status 30, timeout 2')));
  const notPreloaded = mergeWrkSummaries({ ...spec, preload: false }, opts, [a]);
  assert.equal(notPreloaded.errors, 23, '10 of the 30 status errors were 404s: notfound');
  assert.ok(!notPreloaded.notes.some((n) => n.includes('upper bounds')));
});
