// Role attribution of CPU profile samples (src/bench/cpu-roles.ts) on small
// hand-built profiles: leaf-to-root walk, skipped frames, function-name rules
// in the KV service, GC / runtime / HTTP internals, sample durations, per
// function self and inclusive time, and the per-operation budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeProfile, frameLocation, mergeBreakdowns, roleBudget, sampleDurationsUs, stackRole, topFunctions, type CallFrameLike, type CpuProfileLike, type CpuRole } from '../../../src/bench/cpu-roles.js';

const REPO = 'file:///work/rondo';

/** A frame: "fn@src/kv/service.ts:12" (line 1-based), "fn@node:net", "(program)". */
function f(spec: string): CallFrameLike {
  const at = spec.indexOf('@');
  if (at < 0) return { functionName: spec, url: '', lineNumber: -1, columnNumber: -1 };
  const functionName = spec.slice(0, at);
  const where = spec.slice(at + 1);
  const colon = where.lastIndexOf(':');
  const hasLine = colon > 0 && /^\d+$/.test(where.slice(colon + 1));
  const path = hasLine ? where.slice(0, colon) : where;
  const url = path.startsWith('node:') ? path : `${REPO}/${path}`;
  return { functionName, url, lineNumber: hasLine ? Number(where.slice(colon + 1)) - 1 : 0, columnNumber: 0 };
}

/** A profile of samples, each a stack (root first, without "(root)") lasting `us`. */
function profileOf(samples: { stack: string[]; us: number }[]): CpuProfileLike {
  const nodes: CpuProfileLike['nodes'] = [{ id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [] }];
  const childKey = new Map<string, number>();
  const ids: number[] = [];
  for (const sample of samples) {
    let parent = 1;
    for (const spec of sample.stack) {
      const key = `${parent}>${spec}`;
      let id = childKey.get(key);
      if (id === undefined) {
        id = nodes.length + 1;
        nodes.push({ id, callFrame: f(spec), children: [] });
        nodes[parent - 1]!.children!.push(id);
        childKey.set(key, id);
      }
      parent = id;
    }
    ids.push(parent);
  }
  // Sample i lasts until sample i + 1 (timeDeltas[i + 1]); the last until endTime.
  const timeDeltas = samples.map((_, i) => (i === 0 ? 0 : samples[i - 1]!.us));
  const startTime = 1_000_000;
  const endTime = startTime + samples.reduce((sum, s) => sum + s.us, 0);
  return { nodes, startTime, endTime, samples: ids, timeDeltas };
}

const role = (...stackRootFirst: string[]): CpuRole => stackRole(stackRootFirst.map(f).reverse());

describe('cpu-roles: a sample goes to the first matching frame from the leaf', () => {
  it('passes over libraries, Node internals, objects, errors and host code to the Rondo caller', () => {
    assert.equal(role('onStreamRead@node:internal/stream_base_commons', 'handle@src/api/http/server.ts:10', 'get@src/kv/service.ts:223', 'step@src/kv/coord/get-fsm.ts:40', 'pack@node_modules/msgpackr/pack.js:100'), 'coordinator');
    assert.equal(role('apply@src/kv/vnode/kv-vnode.ts:50', 'encode@src/kv/object/codec.ts:9', 'encode@node_modules/msgpackr/pack.js:1'), 'replica');
    assert.equal(role('sendValue@src/core/transport/connection.ts:70', 'assert@src/core/errors.ts:120'), 'messaging');
    assert.equal(role('tick@src/core/membership/core.ts:10', 'setTimer@src/core/host/real-env.ts:80', 'setTimeout@node:timers'), 'background');
    assert.equal(role('handle@src/api/pb/server.ts:10', 'decode@node_modules/protobufjs/src/reader.js:5'), 'api');
  });

  it('splits src/kv/service.ts by function: coordinator, messaging, replica', () => {
    for (const fn of ['get', 'put', 'delete', 'runGet', 'run', 'targetsFor', 'preflist', 'coordinatorOf', 'propsOf', 'KvService.put']) assert.equal(role(`${fn}@src/kv/service.ts:1`), 'coordinator', fn);
    for (const fn of ['send', 'dispatch']) assert.equal(role(`${fn}@src/kv/service.ts:1`), 'messaging', fn);
    for (const fn of ['runLocal', 'receive', 'firstDelivery', '']) assert.equal(role(`${fn}@src/kv/service.ts:1`), 'replica', fn || '(anonymous)');
    // The leaf-most match wins: a coordinator calling send is messaging while in send.
    assert.equal(role('put@src/kv/service.ts:1', 'send@src/kv/service.ts:2'), 'messaging');
  });

  it('matches files that may appear: src/kv/service/*, src/kv/coord/*, src/kv/vnode/*', () => {
    assert.equal(role('open@src/kv/service/request-table.ts:1'), 'messaging');
    assert.equal(role('put@src/kv/service/coordinate.ts:1'), 'coordinator');
    assert.equal(role('dispatch@src/kv/service/local.ts:1'), 'messaging');
    assert.equal(role('applyPut@src/kv/service/replica.ts:1'), 'replica');
    assert.equal(role('x@src/kv/coord/new-fsm.ts:1'), 'coordinator');
    assert.equal(role('x@src/kv/vnode/new-vnode.ts:1'), 'replica');
    assert.equal(role('x@src/core/vnode/host.ts:1'), 'replica');
    assert.equal(role('put@src/kv/backend/lmdb.ts:1', 'putSync@node_modules/lmdb/write.js:1'), 'replica');
    assert.equal(role('primaryPartitions@src/core/ring/preflist.ts:1'), 'coordinator');
    assert.equal(role('deliver@src/core/node/cluster-node.ts:1'), 'messaging');
    for (const dir of ['detector', 'handoff', 'metadata']) assert.equal(role(`x@src/core/${dir}/x.ts:1`), 'background', dir);
    assert.equal(role('put@src/kv/service.ts:1', 'info@node_modules/pino/lib/proto.js:1', 'write@node_modules/sonic-boom/index.js:1'), 'logging');
  });

  it('stacks with no matching frame: GC, HTTP server internals (API), else runtime', () => {
    assert.equal(role('(garbage collector)'), 'gc');
    assert.equal(role('(program)'), 'runtime');
    assert.equal(role('parserOnHeadersComplete@node:_http_common', 'parserOnIncoming@node:_http_server', 'emit@node:events'), 'api');
    assert.equal(role('write@node:_http_outgoing'), 'api');
    assert.equal(role('onStreamRead@node:internal/stream_base_commons', 'readableAddChunk@node:internal/streams/readable'), 'runtime');
    assert.equal(role('x@src/kv/object/dvv.ts:1'), 'runtime');
  });
});

describe('cpu-roles: analyzeProfile', () => {
  it('times samples until the next one (the last until the end), idle apart, negative deltas as zero', () => {
    const p = profileOf([
      { stack: ['(idle)'], us: 400 },
      { stack: ['(program)'], us: 100 },
      { stack: ['(garbage collector)'], us: 50 },
    ]);
    assert.deepEqual(sampleDurationsUs(p), [400, 100, 50]);
    assert.deepEqual(sampleDurationsUs({ ...p, timeDeltas: [0, 400, -30] }), [400, 0, 180]);
    const b = analyzeProfile(p);
    assert.equal(b.samples, 3);
    assert.equal(b.sampledUs, 550);
    assert.equal(b.idleUs, 400);
    assert.equal(b.busyUs, 150);
    assert.equal(b.roles.runtime, 100);
    assert.equal(b.roles.gc, 50);
  });

  it('sums roles over samples and functions by self and inclusive time (once per sample, src/ only)', () => {
    const http = ['parserOnIncoming@node:_http_server', 'handle@src/api/http/server.ts:10'];
    const p = profileOf([
      { stack: [...http, 'get@src/kv/service.ts:223', 'step@src/kv/coord/get-fsm.ts:40'], us: 300 },
      { stack: [...http, 'get@src/kv/service.ts:223', 'send@src/kv/service.ts:343', 'pack@node_modules/msgpackr/pack.js:100'], us: 200 },
      // The same function reached by another path, and recursion: counted once per sample.
      { stack: ['onMessage@src/core/transport/connection.ts:5', 'step@src/kv/coord/get-fsm.ts:40', 'step@src/kv/coord/get-fsm.ts:40'], us: 100 },
      { stack: [...http], us: 50 },
      { stack: ['(idle)'], us: 1000 },
    ]);
    const b = analyzeProfile(p);
    assert.equal(b.busyUs, 650);
    assert.equal(b.roles.coordinator, 400);
    assert.equal(b.roles.messaging, 200);
    assert.equal(b.roles.api, 50);
    assert.equal(b.roles.api + b.roles.coordinator + b.roles.messaging + b.roles.replica + b.roles.gc + b.roles.runtime, b.busyUs);

    const self = topFunctions(b, 'self', 20);
    assert.deepEqual(self.map((x) => [x.name, x.location, x.selfUs]), [
      ['step', 'src/kv/coord/get-fsm.ts:40', 400],
      ['pack', 'node_modules/msgpackr/pack.js:100', 200],
      ['handle', 'src/api/http/server.ts:10', 50],
    ]);
    const inclusive = topFunctions(b, 'inclusive', 15);
    assert.deepEqual(inclusive.map((x) => [x.name, x.inclusiveUs]), [
      ['handle', 550],
      ['get', 500],
      ['step', 400],
      ['send', 200],
      ['onMessage', 100],
    ]);
    assert.ok(!inclusive.some((x) => x.location.startsWith('node')), 'no Node internals or libraries in the inclusive list');
    assert.equal(topFunctions(b, 'self', 2).length, 2);
  });

  it('names a native function by its nearest scripted caller', () => {
    const b = analyzeProfile(profileOf([
      { stack: ['put@src/kv/backend/lmdb.ts:10', 'putSync@node_modules/lmdb/write.js:874', '(anonymous)'], us: 70 },
      { stack: ['get@src/kv/backend/lmdb.ts:20', 'getBinaryFast@node_modules/lmdb/read.js:81', '(anonymous)'], us: 30 },
      { stack: ['writevGeneric@node:internal/stream_base_commons:120', 'writev'], us: 20 },
      { stack: ['(program)'], us: 5 },
    ]));
    assert.deepEqual(topFunctions(b, 'self', 5).map((x) => [x.name, x.location, x.selfUs]), [
      ['(anonymous)', '(native) ← node_modules/lmdb/write.js:874', 70],
      ['(anonymous)', '(native) ← node_modules/lmdb/read.js:81', 30],
      ['writev', '(native) ← node:internal/stream_base_commons:120', 20],
      ['(program)', '(native)', 5],
    ]);
    assert.equal(b.roles.replica, 100);
  });

  it('merges nodes and turns shares into µs per operation', () => {
    const a = analyzeProfile(profileOf([{ stack: ['handle@src/api/pb/server.ts:1'], us: 300 }, { stack: ['apply@src/kv/vnode/kv-vnode.ts:1'], us: 100 }]));
    const b = analyzeProfile(profileOf([{ stack: ['apply@src/kv/vnode/kv-vnode.ts:1'], us: 500 }, { stack: ['(garbage collector)'], us: 100 }, { stack: ['(idle)'], us: 700 }]));
    const m = mergeBreakdowns([a, b]);
    assert.equal(m.busyUs, 1000);
    assert.equal(m.idleUs, 700);
    assert.equal(m.roles.replica, 600);
    assert.equal(m.functions.get('apply src/kv/vnode/kv-vnode.ts:1')?.selfUs, 600);
    assert.equal(a.functions.get('apply src/kv/vnode/kv-vnode.ts:1')?.selfUs, 100, 'merging leaves the parts alone');

    // 10 ops, 250 µs of process CPU per op: replica had 60 % of the samples.
    const budget = roleBudget(m, 250, 10);
    const of = (r: CpuRole) => budget.find((x) => x.role === r)!;
    assert.equal(of('replica').usPerOp, 150);
    assert.equal(of('replica').sampledUsPerOp, 60);
    assert.equal(of('api').usPerOp, 75);
    assert.equal(of('gc').usPerOp, 25);
    assert.equal(of('replica').share, 0.6);
    assert.ok(Math.abs(budget.reduce((s, x) => s + x.usPerOp, 0) - 250) < 1e-9);
    assert.ok(roleBudget(mergeBreakdowns([]), 250, 0).every((x) => x.usPerOp === 0 && x.sampledUsPerOp === 0));
  });

  it('names places readably', () => {
    assert.equal(frameLocation(f('x@src/kv/service.ts:12')), 'src/kv/service.ts:12');
    assert.equal(frameLocation(f('x@node_modules/lmdb/write.js:3')), 'node_modules/lmdb/write.js:3');
    assert.equal(frameLocation({ functionName: 'x', url: 'node:net', lineNumber: 9, columnNumber: 0 }), 'node:net:10');
    assert.equal(frameLocation(f('(program)')), '(native)');
  });
});
