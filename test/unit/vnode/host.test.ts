// VnodeHost: one command at a time per vnode, bounded mailbox answered with
// "overload", timeouts, caller aborts, errors, directives, stop, stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortedError, InvalidArgumentError, OverloadError, RondoError, TimeoutError } from '../../../src/core/errors.js';
import type { VnodeContext, VnodeDirective } from '../../../src/core/vnode/types.js';
import { Counter, Gate, flush, reply, setup, track, type Cmd } from './helpers.js';

test('commands of one vnode are serialized; different partitions interleave', async () => {
  const { host, log, vnode, liveTimers } = setup();
  const [ga, gb, gc] = [new Gate(), new Gate(), new Gate()];
  const a = track(host.command(0, { op: 'inc', tag: 'a', gate: ga }));
  const b = track(host.command(0, { op: 'inc', tag: 'b', gate: gb }));
  const c = track(host.command(1, { op: 'inc', tag: 'c', gate: gc }));
  await flush();
  assert.deepEqual(log, ['0:start:a', '1:start:c']);
  assert.deepEqual(host.partitions(), [0, 1]);
  gc.open();
  await flush();
  assert.deepEqual(c.value, reply(1));
  assert.equal(b.done, false, 'b waits for a');
  gb.open(); // b's gate is open, but b must not start before a settles
  await flush();
  assert.equal(b.done, false);
  ga.open();
  await flush();
  assert.deepEqual([a.value, b.value], [reply(1), reply(2)]);
  assert.deepEqual(log, ['0:start:a', '1:start:c', '1:end:c', '0:end:a', '0:start:b', '0:end:b']);
  assert.equal(vnode(0).maxActive, 1);
  assert.equal(liveTimers.size, 0, 'timers cleared when commands settle');
});

test('a full mailbox answers OverloadError at once and never grows past its limit', async () => {
  const { host, vnode } = setup({ mailboxMax: 2 });
  const gate = new Gate();
  const accepted = [0, 1, 2].map((i) => track(host.command(0, { op: 'inc', tag: `t${i}`, gate })));
  await flush();
  assert.equal(host.stats()[0]!.queued, 2);
  for (let i = 0; i < 5; i++) {
    const rejected = track(host.command(0, { op: 'inc', tag: `x${i}` }));
    await Promise.resolve(); // one microtask: no time passes, nothing runs
    await Promise.resolve();
    assert.ok(rejected.error instanceof OverloadError, 'rejected at once');
    assert.ok(host.stats()[0]!.queued <= 2);
  }
  gate.open();
  await flush();
  assert.deepEqual(accepted.map((t) => t.value), [reply(1), reply(2), reply(3)]);
  assert.deepEqual(vnode(0).started, ['t0', 't1', 't2']);
  assert.deepEqual(host.stats(), [{ partition: 0, queued: 0, awaiting: 0, running: false, processed: 3, overloads: 5, timeouts: 0, errors: 0 }]);
});

test('a timeout rejects with TimeoutError, aborts ctx.signal, and the next command proceeds', async () => {
  const { sim, host, vnode, liveTimers } = setup({ commandTimeoutMs: 100 });
  const gate = new Gate();
  const slow = track(host.command(0, { op: 'inc', tag: 'slow', gate }));
  const queued = track(host.command(0, { op: 'inc', tag: 'queued' }, { timeoutMs: 50 }));
  await flush();
  const next = track(host.command(0, { op: 'inc', tag: 'next' }, { timeoutMs: 1_000 }));
  sim.runFor(50);
  await flush();
  assert.ok(queued.error instanceof TimeoutError, 'a queued command times out too');
  assert.equal(host.stats()[0]!.queued, 1, 'and leaves the mailbox');
  sim.runFor(50);
  await flush();
  assert.ok(slow.error instanceof TimeoutError);
  const signal = vnode(0).signals.get('slow')!;
  assert.equal(signal.aborted, true);
  assert.ok(signal.reason instanceof TimeoutError);
  assert.equal(next.done, false, 'the vnode is still busy with the timed-out command');
  gate.open(); // the vnode gives up (as it should on an aborted signal)
  await flush();
  assert.deepEqual(next.value, reply(2));
  assert.deepEqual(vnode(0).started, ['slow', 'next']);
  assert.equal(host.stats()[0]!.timeouts, 2);
  assert.equal(liveTimers.size, 0);
});

test('caller abort: a queued command leaves the mailbox, a running one gets ctx.signal aborted', async () => {
  const { host, vnode, liveTimers } = setup();
  const gate = new Gate();
  const runningCtl = new AbortController();
  const queuedCtl = new AbortController();
  const running = track(host.command(0, { op: 'inc', tag: 'running', gate }, { signal: runningCtl.signal }));
  const queued = track(host.command(0, { op: 'inc', tag: 'queued' }, { signal: queuedCtl.signal }));
  const after = track(host.command(0, { op: 'inc', tag: 'after' }));
  await flush();
  queuedCtl.abort();
  await flush();
  assert.ok(queued.error instanceof AbortedError);
  assert.equal(host.stats()[0]!.queued, 1);
  runningCtl.abort();
  await flush();
  assert.ok(running.error instanceof AbortedError, 'the caller is answered at once');
  assert.equal(vnode(0).signals.get('running')!.aborted, true);
  assert.equal(after.done, false, 'the next waits until the running command settles');
  gate.open();
  await flush();
  assert.deepEqual(after.value, reply(2));
  assert.deepEqual(vnode(0).started, ['running', 'after'], 'the aborted queued command never ran');
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(host.command(0, { op: 'inc', tag: 'never' }, { signal: aborted.signal }), AbortedError);
  assert.equal(liveTimers.size, 0);
});

test('thrown errors reach the caller; the vnode keeps serving', async () => {
  const { host, errorLogs } = setup();
  const typed = new InvalidArgumentError('bad key');
  await assert.rejects(host.command(0, { op: 'throw', error: typed }), (err) => err === typed);
  assert.equal(errorLogs.length, 0, 'RondoErrors pass through unlogged');
  await assert.rejects(host.command(0, { op: 'throw', error: new Error('boom') }), (err: unknown) => {
    assert.ok(err instanceof RondoError);
    assert.equal(err.code, 'internal');
    assert.match(err.message, /boom/);
    return true;
  });
  assert.deepEqual(errorLogs, ['vnode command failed']);
  assert.deepEqual(await host.command(0, { op: 'inc', tag: 'ok' }), reply(1));
  const s = host.stats()[0]!;
  assert.deepEqual([s.processed, s.errors], [3, 2]);
});

test("'forward' resolves as forwarded; 'noreply' is answered by the timeout", async () => {
  const { sim, host, liveTimers } = setup({ commandTimeoutMs: 100 });
  assert.deepEqual(await host.command(3, { op: 'forward' }), { kind: 'forwarded', node: 'n2', partition: 7 });
  const silent = track(host.command(3, { op: 'noreply' }));
  await flush();
  assert.equal(host.stats()[0]!.awaiting, 1);
  assert.deepEqual(await host.command(3, { op: 'inc', tag: 'x' }), reply(1), 'the vnode is free after noreply');
  assert.equal(silent.done, false);
  sim.runFor(100);
  await flush();
  assert.ok(silent.error instanceof TimeoutError);
  assert.equal(host.stats()[0]!.awaiting, 0);
  assert.equal(liveTimers.size, 0);
});

test('coverage goes to handleCoverage, and fails typed when the vnode has none', async () => {
  const plain = setup();
  await assert.rejects(plain.host.coverage(2, { op: 'noreply' }), InvalidArgumentError);
  const covering = setup({ coverage: true });
  assert.deepEqual(await covering.host.coverage(2, { op: 'noreply' }), reply(1002));
});

test('stop rejects queued commands, waits for the running one, then terminates', async () => {
  const { host, vnodes, liveTimers } = setup();
  const gate = new Gate();
  const running = track(host.command(0, { op: 'inc', tag: 'a', gate }));
  const queued = [track(host.command(0, { op: 'inc', tag: 'b' })), track(host.command(0, { op: 'inc', tag: 'c' }))];
  await flush();
  const stopped = track(host.stop(0));
  await flush();
  for (const q of queued) {
    assert.ok(q.error instanceof AbortedError);
    assert.match((q.error as Error).message, /vnode stopping/);
  }
  await assert.rejects(host.command(0, { op: 'inc', tag: 'late' }), /vnode stopping/);
  assert.equal(stopped.done, false, 'waits for the running command');
  assert.equal(vnodes[0]!.terminated, false);
  gate.open();
  await flush();
  assert.deepEqual(running.value, reply(1), 'the running command still gets its reply');
  assert.equal(stopped.done, true);
  assert.equal(vnodes[0]!.terminated, true);
  assert.deepEqual(host.partitions(), []);
  assert.equal(host.vnode(0), undefined);
  assert.equal(liveTimers.size, 0);
  assert.deepEqual(await host.command(0, { op: 'inc', tag: 'fresh' }), reply(1), 'a later command starts a fresh vnode');
  assert.equal(vnodes.length, 2);
  await host.command(5, { op: 'inc', tag: 'other' });
  await host.stopAll();
  assert.deepEqual(host.partitions(), []);
  assert.ok(vnodes.every((v) => v.terminated));
});

test('a command aborted right after delivery never reaches the vnode', async () => {
  const { host, vnode } = setup();
  await host.command(0, { op: 'inc', tag: 'first' });
  const ctl = new AbortController();
  const p = host.command(0, { op: 'inc', tag: 'gone' }, { signal: ctl.signal });
  ctl.abort(); // the vnode is idle: the command left the mailbox but has not started
  await assert.rejects(p, AbortedError);
  await flush();
  assert.deepEqual(vnode(0).started, ['first']);
});

test('a handler that throws synchronously does not break serialization', async () => {
  const { host, log } = setup({
    create: () =>
      new (class extends Counter {
        override handleCommand(cmd: Cmd, ctx: VnodeContext): VnodeDirective<number> | Promise<VnodeDirective<number>> {
          if (cmd.op === 'throw') throw cmd.error as Error;
          return super.handleCommand(cmd, ctx);
        }
      })(log),
  });
  const gate = new Gate();
  const failed = track(host.command(0, { op: 'throw', error: new InvalidArgumentError('sync') }));
  const a = track(host.command(0, { op: 'inc', tag: 'a', gate }));
  const b = track(host.command(0, { op: 'inc', tag: 'b' }));
  await flush();
  assert.ok(failed.error instanceof InvalidArgumentError);
  assert.deepEqual(log, ['0:start:a'], 'b waits for a');
  assert.equal(host.stats()[0]!.running, true);
  gate.open();
  await flush();
  assert.deepEqual([a.value, b.value], [reply(1), reply(2)]);
});

test('exclusive work runs in mailbox order, alone on its vnode, and returns its value', async () => {
  const { host, log, vnode } = setup();
  const gate = new Gate();
  const a = track(host.command(0, { op: 'inc', tag: 'a', gate }));
  const ex = track(
    host.exclusive(0, async (v) => {
      log.push('0:exclusive');
      return (v as Counter).count * 10;
    }),
  );
  const b = track(host.command(0, { op: 'inc', tag: 'b' }));
  await flush();
  assert.equal(ex.done, false, 'waits for the running command');
  gate.open();
  await flush();
  assert.equal(ex.value, 10, 'saw a, not b');
  assert.deepEqual(a.value, reply(1));
  assert.deepEqual(b.value, reply(2));
  assert.deepEqual(log, ['0:start:a', '0:end:a', '0:exclusive', '0:start:b', '0:end:b']);
  assert.equal(vnode(0).maxActive, 1);
  const failing = track(host.exclusive(0, () => Promise.reject(new InvalidArgumentError('no'))));
  await flush();
  assert.ok(failing.error instanceof InvalidArgumentError, 'a typed error passes through');
});

test('a vnode that answers synchronously is not awaited: queued commands run back to back in one turn, and submit never answers before it returns', async () => {
  let calls = 0;
  const { host } = setup({
    create: () =>
      new (class extends Counter {
        override handleCommand(): VnodeDirective<number> {
          calls++;
          return { kind: 'reply', reply: calls };
        }
      })([]),
  });
  const answered: number[] = [];
  let returned = false;
  for (let i = 0; i < 5; i++) {
    host.submit(0, { op: 'inc', tag: `s${i}` }, {}, (outcome) => {
      assert.ok(returned, 'never inside submit');
      assert.ok(!(outcome instanceof RondoError) && outcome.kind === 'reply');
      answered.push(outcome.reply);
    });
  }
  returned = true;
  assert.deepEqual(answered, []);
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(answered, [1, 2, 3, 4, 5], 'all five in the same microtask turn, in order');
  assert.equal(host.stats()[0]!.processed, 5);
});
