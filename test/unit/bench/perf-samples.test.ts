// Attribution of Linux perf samples (src/bench/perf-samples.ts) on a small
// hand-written `perf script -F tid,ip,sym,dso` text: JS frames named by the
// perf map and matched by the role rules of cpu-roles.ts, a kernel leaf
// under JavaScript, GC and JIT frames on any thread, LMDB's writer on the
// libuv pool (its addon, or only the kernel's fdatasync left of the stack),
// unattributed native code; the user / kernel split; and samples to µs/op.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzePerfSamples, attributeSample, jsFrameOf, parsePerfScript, perfBudget, samplesToUs, topRows, type PerfFrame } from '../../../src/bench/perf-samples.js';

const MAP = '(/tmp/perf-1001.map)';
const NODE = '(/usr/bin/node)';
const LIBC = '(/usr/lib/x86_64-linux-gnu/libc.so.6)';
const LMDB = '(/work/hot/node_modules/@lmdb/lmdb-linux-x64/node.abi115.glibc.node)';
const K = '([kernel.kallsyms])';

// Process 1001 (main thread 1001, libuv pool thread 1003, V8 worker 1004); process 2001 (main thread 2001).
const SCRIPT = `1001 
\t    7f61f0001000 JS:*carryOut file:///work/hot/src/kv/coord/fsm.ts:1:1548 ${MAP}
\t    7f61f0002000 JS:*receive file:///work/hot/src/kv/service.ts:1:11550 ${MAP}
\t         14ce0dc Builtins_JSEntryTrampoline ${NODE}

1001 
\tffffffff81c0a1b2 tcp_sendmsg_locked ${K}
\tffffffff81c0a5c0 tcp_sendmsg ${K}
\tffffffff8223b5d1 do_syscall_64 ${K}
\t          10f4e2 writev ${LIBC}
\t         14b9c22 uv__try_write ${NODE}
\t          8c1a20 node::StreamBase::Writev ${NODE}
\t    7f61f0003000 JS:*writeGeneric node:internal/stream_base_commons:148:22 ${MAP}
\t    7f61f0004000 JS:^flush file:///work/hot/src/core/transport/connection.ts:1:900 ${MAP}
\t    7f61f0005000 JS:*put file:///work/hot/src/kv/service.ts:1:4744 ${MAP}

1001 
\t          c93a10 v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot> ${NODE}
\t          c94000 v8::internal::ScavengerCollector::CollectGarbage ${NODE}
\t          c80000 v8::internal::Heap::CollectGarbage ${NODE}
\t          c81000 v8::internal::Runtime_AllocateInYoungGeneration ${NODE}
\t    7f61f0006000 JS:*apply file:///work/hot/src/kv/vnode/kv-vnode.ts:1:300 ${MAP}

1001 
\t         14b8a10 uv__io_poll ${NODE}
\t         14a2b00 uv_run ${NODE}
\t          7c0000 node::SpinEventLoopInternal ${NODE}

1001 
\t    7f61f0007000 JS:~put file:///work/hot/src/kv/service.ts:1:4744 ${MAP}

1003 
\tffffffff8190a000 jbd2_log_wait_commit ${K}
\tffffffff817d4000 ext4_sync_file ${K}
\tffffffff816f1000 vfs_fsync_range ${K}
\tffffffff816f1100 __x64_sys_fdatasync ${K}
\tffffffff8223b5d1 do_syscall_64 ${K}
\t          11a000 fdatasync ${LIBC}
\t           4c000 mdb_txn_commit ${LMDB}
\t           3a000 WriteWorker::Write ${LMDB}
\t         14b0589 uv__queue_work ${NODE}

1003 
\tffffffff817d4000 ext4_sync_file ${K}
\tffffffff816f1000 vfs_fsync_range ${K}
\tffffffff816f1100 __x64_sys_fdatasync ${K}
\t          11a000 fdatasync ${LIBC}
\t               0 [unknown] ([unknown])

1004 
\t          d10000 v8::internal::ConcurrentMarking::RunMajor ${NODE}
\t          d11000 v8::internal::ConcurrentMarking::JobTaskMajor::Run ${NODE}
\t          9a0000 node::(anonymous namespace)::PlatformWorkerThread ${NODE}

1004 
\t          e20000 v8::internal::compiler::GraphReducer::ReduceTop ${NODE}
\t          e21000 v8::internal::compiler::PipelineImpl::OptimizeGraph ${NODE}
\t          9a0000 node::(anonymous namespace)::PlatformWorkerThread ${NODE}

1003 
\t         14b0589 uv__fs_work ${NODE}
\t         14b1000 worker ${NODE}

2001 
\t    7f61f0008000 JS:*parserOnHeadersComplete node:_http_common:71:35 ${MAP}

`;

const PIDS = [1001, 2001];
const frame = (sym: string, dso = '/usr/bin/node', ip = 'c93a10'): PerfFrame => ({ ip, sym, dso });

describe('perf-samples: parsing perf script', () => {
  it('reads one sample per tid line, frames leaf first, with or without comm and pid', () => {
    const samples = parsePerfScript(SCRIPT);
    assert.equal(samples.length, 11);
    assert.deepEqual(
      samples.map((s) => s.tid),
      [1001, 1001, 1001, 1001, 1001, 1003, 1003, 1004, 1004, 1003, 2001],
    );
    assert.equal(samples[0]!.pid, undefined);
    assert.equal(samples[0]!.frames[0]!.ip, '7f61f0001000');
    assert.equal(samples[0]!.frames[0]!.sym, 'JS:*carryOut file:///work/hot/src/kv/coord/fsm.ts:1:1548');
    assert.equal(samples[0]!.frames[0]!.dso, '/tmp/perf-1001.map');
    assert.equal(samples[1]!.frames.length, 9);
    assert.equal(samples[1]!.frames[0]!.dso, '[kernel.kallsyms]');
    const withPid = parsePerfScript('node 1001/1003\n\t 4c000 mdb_txn_commit (/x/lmdb.node)\n\nV8 DefaultWorke 1001/1004\n\t d10000 v8::internal::Sweeper::SweepSpace(v8::internal::AllocationSpace) (/usr/bin/node)\n');
    assert.deepEqual(
      withPid.map((s) => [s.pid, s.tid, s.frames[0]!.sym]),
      [
        [1001, 1003, 'mdb_txn_commit'],
        [1001, 1004, 'v8::internal::Sweeper::SweepSpace(v8::internal::AllocationSpace)'],
      ],
    );
  });

  it('names JS frames of the perf map: tier, function, script, position', () => {
    assert.deepEqual(jsFrameOf(frame('JS:*carryOut file:///work/hot/src/kv/coord/fsm.ts:1:1548', '/tmp/perf-1.map')), { tier: '*', functionName: 'carryOut', url: 'file:///work/hot/src/kv/coord/fsm.ts', line: 1, column: 1548 });
    assert.deepEqual(jsFrameOf(frame('JS:^ file:///tmp/t.mjs:1:1', '/tmp/perf-1.map')), { tier: '^', functionName: '', url: 'file:///tmp/t.mjs', line: 1, column: 1 });
    assert.deepEqual(jsFrameOf(frame('JS:~get size node:internal/streams/readable:100:3', '/tmp/perf-1.map')), { tier: '~', functionName: 'get size', url: 'node:internal/streams/readable', line: 100, column: 3 });
    assert.equal(jsFrameOf(frame('v8::internal::Heap::CollectGarbage')), undefined);
  });
});

describe('perf-samples: attribution', () => {
  const samples = parsePerfScript(SCRIPT);
  const attr = (i: number): ReturnType<typeof attributeSample> => attributeSample(samples[i]!.frames, PIDS.includes(samples[i]!.tid));

  it('main thread: the first frame from the leaf that a role rule matches (the rules of cpu-roles.ts)', () => {
    assert.deepEqual(attr(0), { role: 'coordinator', thread: 'main', kernel: false });
    // A kernel leaf (tcp_sendmsg) under libc, Node and node: frames goes to the Rondo frame that wrote: messaging, in the kernel.
    assert.deepEqual(attr(1), { role: 'messaging', thread: 'main', kernel: true });
    assert.deepEqual(attr(4), { role: 'coordinator', thread: 'main', kernel: false });
    // Node's HTTP server internals with no Rondo frame: the API.
    assert.deepEqual(attr(10), { role: 'api', thread: 'main', kernel: false });
  });

  it('GC and JIT frames are roles of their own, on the main thread (nearer the leaf than the JS caller) and on others', () => {
    assert.deepEqual(attr(2), { role: 'gc', thread: 'main', kernel: false });
    assert.deepEqual(attr(7), { role: 'gc', thread: 'gc', kernel: false });
    assert.deepEqual(attr(8), { role: 'jit', thread: 'jit', kernel: false });
    assert.equal(attributeSample([frame('v8::internal::maglev::MaglevGraphBuilder::BuildBody()'), frame('JS:*get file:///r/src/kv/service.ts:1:2', '/tmp/perf-1.map')], true).role, 'jit');
    assert.equal(attributeSample([frame('v8::internal::BaselineBatchCompiler::CompileBatch(v8::internal::Handle<v8::internal::JSFunction>)')], true).role, 'jit');
    assert.equal(attributeSample([frame('v8::internal::IncrementalMarking::Step(...)')], false).role, 'gc');
    // Allocation fast paths are not GC.
    assert.equal(attributeSample([frame('v8::internal::Heap::AllocateRaw(int)'), frame('JS:*get file:///r/src/kv/service.ts:1:2', '/tmp/perf-1.map')], true).role, 'coordinator');
  });

  it("other threads: LMDB's writer by its addon, mdb_* or a kernel fsync path (even with the user stack lost); else other threads", () => {
    assert.deepEqual(attr(5), { role: 'lmdb', thread: 'lmdb', kernel: true });
    assert.deepEqual(attr(6), { role: 'lmdb', thread: 'lmdb', kernel: true });
    assert.equal(attributeSample([frame('mdb_page_flush', '[unknown]', '7f0000001')], false).role, 'lmdb');
    assert.deepEqual(attr(9), { role: 'threads', thread: 'other', kernel: false });
  });

  it('unattributed native code on the main thread is runtime; an LMDB addon frame on the main thread is replica', () => {
    assert.deepEqual(attr(3), { role: 'runtime', thread: 'main', kernel: false });
    assert.equal(attributeSample([frame('mdb_get', '/work/hot/node_modules/@lmdb/lmdb-linux-x64/node.abi115.glibc.node'), frame('uv_run')], true).role, 'replica');
  });
});

describe('perf-samples: totals and µs per operation', () => {
  const b = analyzePerfSamples(parsePerfScript(SCRIPT), { mainPids: PIDS });

  it('counts roles, threads (user / kernel), processes, leaves and first JS frames', () => {
    assert.equal(b.samples, 11);
    assert.deepEqual(b.roles.coordinator, { user: 2, kernel: 0 });
    assert.deepEqual(b.roles.messaging, { user: 0, kernel: 1 });
    assert.deepEqual(b.roles.gc, { user: 2, kernel: 0 });
    assert.deepEqual(b.roles.jit, { user: 1, kernel: 0 });
    assert.deepEqual(b.roles.lmdb, { user: 0, kernel: 2 });
    assert.deepEqual(b.roles.threads, { user: 1, kernel: 0 });
    assert.deepEqual(b.roles.runtime, { user: 1, kernel: 0 });
    assert.deepEqual(b.roles.api, { user: 1, kernel: 0 });
    assert.deepEqual(b.roles.replica, { user: 0, kernel: 0 });
    assert.deepEqual(b.threads.main, { user: 5, kernel: 1, tids: 2 });
    assert.deepEqual(b.threads.lmdb, { user: 0, kernel: 2, tids: 1 });
    assert.deepEqual(b.threads.other, { user: 1, kernel: 0, tids: 1 });
    // Without pids in the script, only main threads are known to belong to a process.
    assert.deepEqual(b.processes.get(1001), { samples: 5, mainSamples: 5, kernelSamples: 1, roles: { ...b.processes.get(1001)!.roles } });
    assert.equal(b.processes.get(1001)!.roles.coordinator, 2);
    assert.equal(b.processes.get(2001)!.samples, 1);
    // The two tiers of put (* optimized, ~ interpreted) are one function; kernel and native leaves by symbol and dso.
    assert.equal(b.leaves.get('put\tsrc/kv/service.ts:1:4744'), 1);
    assert.equal(b.leaves.get('tcp_sendmsg_locked\t[kernel.kallsyms]'), 1);
    assert.equal(b.firstJs.get('put\tsrc/kv/service.ts:1:4744'), 1);
    assert.equal(b.firstJs.get('writeGeneric\tnode:internal/stream_base_commons:148:22'), 1);
    assert.equal(b.firstJs.get('apply\tsrc/kv/vnode/kv-vnode.ts:1:300'), 1);
    assert.equal(b.noJs, 6);
    assert.equal(b.inclusiveSrc.get('put\tsrc/kv/service.ts:1:4744'), 2);
  });

  it('with pids in the script, other threads count in their process too', () => {
    const withPid = analyzePerfSamples(parsePerfScript('1001/1003\n\t 4c000 mdb_txn_commit (/x/lmdb.node)\n\n1001/1001\n\t 14b8a10 uv__io_poll (/usr/bin/node)\n'));
    assert.deepEqual(withPid.processes.get(1001)!.samples, 2);
    assert.deepEqual(withPid.processes.get(1001)!.mainSamples, 1);
    assert.equal(withPid.roles.lmdb.user, 1);
  });

  it('samples / 199 Hz / operations', () => {
    assert.equal(samplesToUs(199, 199), 1e6);
    const ops = 4;
    const budget = perfBudget(b, 199, ops);
    const us = (n: number): number => (n * 1e6) / 199 / ops;
    assert.ok(Math.abs(budget.usPerOp - us(11)) < 1e-9);
    assert.ok(Math.abs(budget.kernelUsPerOp - us(3)) < 1e-9);
    const coord = budget.roles.find((r) => r.role === 'coordinator')!;
    assert.ok(Math.abs(coord.usPerOp - us(2)) < 1e-9 && coord.kernelUsPerOp === 0);
    assert.ok(Math.abs(coord.share - 2 / 11) < 1e-12);
    const lmdb = budget.threads.find((t) => t.thread === 'lmdb')!;
    assert.ok(Math.abs(lmdb.kernelUsPerOp - us(2)) < 1e-9 && lmdb.threads === 1);
    // Roles add up to the total, and so do the thread kinds.
    assert.ok(Math.abs(budget.roles.reduce((s, r) => s + r.usPerOp, 0) - budget.usPerOp) < 1e-9);
    assert.ok(Math.abs(budget.threads.reduce((s, t) => s + t.usPerOp, 0) - budget.usPerOp) < 1e-9);
    const top = topRows(b.firstJs, b.samples, 199, ops, 2);
    assert.equal(top.length, 2);
    assert.ok(Math.abs(top[0]!.usPerOp - us(1)) < 1e-9);
    assert.equal(top[0]!.name, 'apply');
    assert.equal(top[0]!.location, 'src/kv/vnode/kv-vnode.ts:1:300');
  });
});
