import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortedError, RondoError, TimeoutError } from '../../../../src/core/errors.js';
import { allSeeAllUp, decode, formKvCluster, type KvSimCluster, REF, text } from './harness.js';

function rejectsWith(code: string, message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof RondoError, `a RondoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

function crashDetected(c: KvSimCluster, name: string): void {
  c.crash(name);
  const others = c.liveNames();
  assert.ok(c.runUntil(() => others.every((n) => !c.node(n).upNodes().has(name)), 10_000), `${name} seen down`);
}

describe('KvService: faults, quorums and timeouts', () => {
  it('with one node crashed (detected): W=2/R=2 succeed, W=3 succeeds on a fallback, PW=3 and PR=3 fail clearly', async () => {
    const c = await formKvCluster(3, { seed: 5 });
    crashDetected(c, 'n3');
    await c.drive(c.kv('n1').put(REF, { content: text('v') }, { w: 2 }));
    const got = await c.drive(c.kv('n2').get(REF, { r: 2 }));
    assert.ok(got.found);
    assert.deepEqual(got.siblings.map((s) => decode(s.value)), ['v']);
    // Sloppy quorum: the down primary's partition is served by a fallback.
    const targets = c.kv('n1').preflist(REF);
    assert.equal(targets.length, 3);
    assert.equal(targets.filter((t) => !t.primary).length, 1);
    await c.drive(c.kv('n1').put(REF, { content: text('v2') }, { w: 3 }));
    await assert.rejects(c.drive(c.kv('n1').put(REF, { content: text('v3') }, { pw: 3 })), rejectsWith('kv_pw_val_unsatisfied', /^PW=3 not met: only 2 primaries up/));
    await assert.rejects(c.drive(c.kv('n2').get(REF, { pr: 3 })), rejectsWith('kv_pr_val_unsatisfied', /^PR=3 not met: only 2 primaries up/));
    // The refused PW=3 put wrote nothing.
    const after = await c.drive(c.kv('n2').get(REF, { r: 2 }));
    assert.ok(after.found);
    assert.deepEqual(after.siblings.map((s) => decode(s.value)), ['v2']);
  });

  it('with one node crashed but not yet detected: W=2 succeeds, W=3 answers a TimeoutError saying "W=3 not met"', async () => {
    const c = await formKvCluster(3, { seed: 6 });
    c.crash('n3');
    assert.ok(c.kv('n1').preflist(REF).every((t) => t.primary), 'n3 not yet seen down');
    const w3 = c.kv('n1').put(REF, { content: text('v2') }, { w: 3, timeoutMs: 300 });
    const w2 = c.kv('n1').put(REF, { content: text('v') }, { w: 2, timeoutMs: 300 });
    const r3 = c.kv('n2').get(REF, { r: 3, timeoutMs: 300 });
    await c.drive(w2);
    await assert.rejects(c.drive(w3), (err: unknown) => {
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /timed out after 300 ms: W=3 not met: 2 of 3 replicas answered; 2 written, 1 no reply before the timeout/);
      return true;
    });
    await assert.rejects(c.drive(r3), (err: unknown) => {
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /R=3 not met: 2 of 3 replicas answered/);
      return true;
    });
  });

  it('read repair restores a replica that missed a write', async () => {
    const c = await formKvCluster(3, { seed: 7 });
    const targets = c.kv('n1').preflist(REF);
    assert.deepEqual(targets.map((t) => t.node).sort(), ['n1', 'n2', 'n3']);
    c.crash('n3');
    await c.drive(c.kv('n1').put(REF, { content: text('missed') }, { w: 2, timeoutMs: 2_000 }));
    await c.advance(2_000);
    c.restart('n3');
    assert.ok(c.runUntil(() => allSeeAllUp(c), 10_000), 'n3 seen up again');
    const n3 = targets.find((t) => t.node === 'n3')!;
    assert.equal(await c.stored('n3', n3.partition, REF), undefined, 'n3 missed the write');
    const got = await c.drive(c.kv('n2').get(REF, { r: 1 }));
    assert.ok(got.found);
    await c.advance(1_000);
    for (const t of targets) {
      const o = await c.stored(t.node, t.partition, REF);
      assert.ok(o, `${t.node} holds the key after read repair`);
    }
    const fromN3 = await c.drive(c.kv('n3').get(REF, { r: 3 }));
    assert.ok(fromN3.found);
    assert.deepEqual(fromN3.siblings.map((s) => decode(s.value)), ['missed']);
  });

  it('R=2 with two of three replicas unreachable times out with a TimeoutError', async () => {
    const c = await formKvCluster(3, { seed: 8 });
    await c.drive(c.kv('n1').put(REF, { content: text('v') }, { w: 3 }));
    c.crash('n2');
    c.crash('n3');
    await assert.rejects(c.drive(c.kv('n1').get(REF, { r: 2, timeoutMs: 1_500 })), (err: unknown) => {
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /get default\/b\/k timed out after 1500 ms: R=2 not met: 1 of 3 replicas answered; 1 ok, 2 no reply before the timeout/);
      return true;
    });
  });

  it('an aborted request answers AbortedError', async () => {
    const c = await formKvCluster(3, { seed: 9 });
    c.crash('n3');
    const controller = new AbortController();
    const p = c.kv('n1').get(REF, { r: 3, signal: controller.signal });
    await c.advance(100);
    controller.abort();
    await assert.rejects(c.drive(p), AbortedError);
  });

  it('a full pending-request table fails requests with overload, named in the quorum error', async () => {
    const c = await formKvCluster(3, { seed: 10, service: { pendingRequestsMax: 1 } });
    await assert.rejects(c.drive(c.kv('n1').put(REF, { content: text('v') }, { w: 3 })), rejectsWith('kv_w_val_unsatisfied', /W=3 not met.*failed \(overload\)/));
    await c.advance(500); // the one request that was sent gets its reply and leaves the table
    await c.drive(c.kv('n1').put(REF, { content: text('v') }, { w: 2 }));
  });

  it('a 5-node cluster serves every node, and W=3/R=3 succeed with a node down', async () => {
    const c = await formKvCluster(5, { seed: 11, ringSize: 32 });
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (const [i, n] of names.entries()) await c.drive(c.kv(n).put({ ...REF, key: `k${i}` }, { content: text(`v${i}`) }));
    for (const n of names) {
      for (let i = 0; i < names.length; i++) {
        const got = await c.drive(c.kv(n).get({ ...REF, key: `k${i}` }));
        assert.ok(got.found);
        assert.equal(decode(got.siblings[0]!.value), `v${i}`);
      }
    }
    crashDetected(c, 'n5');
    for (let i = 0; i < names.length; i++) {
      await c.drive(c.kv('n1').put({ ...REF, key: `k${i}` }, { content: text(`w${i}`) }, { w: 3 }));
      const got = await c.drive(c.kv('n2').get({ ...REF, key: `k${i}` }, { r: 3 }));
      assert.ok(got.found);
      assert.equal(decode(got.siblings[0]!.value), `w${i}`);
    }
  });
});
