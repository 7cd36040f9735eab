// The fault suite's checkers are pure functions of a history, so they are
// tested here on small histories recorded with the real History class: each
// case is the smallest run that should (or should not) trip a checker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHandoff, checkLastWriteWins, checkSession, checkSiblingRegister, finalProcess, passes, type CheckResult } from './checkers.js';
import { History, outcome, pairs, type CompletionType, type Op } from './history.js';

/** A client write by `process`; `type` 'open' leaves it never completed. */
function write(h: History, process: string, key: string, value: string, type: CompletionType | 'open' = 'ok', observed?: string[]): void {
  const done = h.invoke(process, 'write', { key, value, ...(observed ? { observed } : {}) });
  if (type !== 'open') done(type, type === 'ok' ? {} : { error: `${type}: boom` });
}

/** A read by `process` returning `values` (the sibling values), or failing when undefined. */
function read(h: History, process: string, key: string, values: string[] | undefined): void {
  h.invoke(process, 'read', { key })(values === undefined ? 'fail' : 'ok', values === undefined ? { error: 'timeout' } : { value: values });
}

/** The read after healing, as workloads.ts records it. */
function finalRead(h: History, workload: string, key: string, values: string[] | undefined): void {
  read(h, finalProcess(workload, 0), key, values);
}

/** Records a history with `build` and checks it. */
function checked(check: (ops: readonly Op[], workload: string) => CheckResult, workload: string, build: (h: History) => void): CheckResult {
  const h = new History();
  build(h);
  return check(h.ops, workload);
}

/** The verdict in one comparable object. */
function verdict(r: CheckResult): { lost: number; duplicated: number; violations: number; passes: boolean } {
  return { lost: r.lost, duplicated: r.duplicated, violations: r.violations, passes: passes(r) };
}

const clean = { lost: 0, duplicated: 0, violations: 0, passes: true };

describe('history pairs and outcome', () => {
  it('pairs each invocation with its completion and counts an open one as info', () => {
    const h = new History();
    const a = h.invoke('w/0', 'write', { key: 'k', value: 'v1' });
    h.invoke('w/1', 'read', { key: 'k' })('fail', { error: 'timeout' });
    a('ok');
    h.invoke('w/1', 'write', { key: 'k', value: 'v2' }); // never completed
    const ps = pairs(h.ops);
    assert.deepEqual(ps.map((p) => [p.invoke.index, p.complete?.index]), [[0, 3], [1, 2], [4, undefined]]);
    assert.deepEqual(ps.map(outcome), ['ok', 'fail', 'info']);
    assert.equal(ps[0]?.complete?.value, 'v1', 'a completion keeps the invocation value');
    assert.equal(pairs(h.ops, (op) => op.process === 'w/1').length, 2);
  });

  it('throws on a completion with no open invocation, and on completing twice', () => {
    const ops: Op[] = [0, 1, 2].map((index) => ({ index, process: 'w/0', type: index === 0 ? 'invoke' : 'ok', f: 'write', timeMs: index }));
    assert.equal(pairs(ops.slice(0, 2)).length, 1);
    assert.throws(() => pairs(ops), /completion 2 of w\/0 has no open invocation/);
    const done = new History().invoke('w/0', 'read');
    done('ok');
    assert.throws(() => done('ok'), /completed twice/);
  });
});

describe('checkSiblingRegister', () => {
  const W = 'register-mult';
  const [c0, c1] = [`${W}/0`, `${W}/1`];
  const check = (build: (h: History) => void): CheckResult => checked(checkSiblingRegister, W, build);

  it('an acknowledged write present in the final read is not lost', () => {
    const r = check((h) => {
      read(h, c0, 'r0', []);
      write(h, c0, 'r0', 'a', 'ok', []);
      finalRead(h, W, 'r0', ['a']);
    });
    assert.deepEqual(verdict(r), clean);
    assert.deepEqual([r.figures.acked, r.figures.present], [1, 1]);
  });

  it('an acknowledged write replaced by a later acknowledged write is superseded, not lost', () => {
    const r = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      write(h, c1, 'r0', 'b', 'ok', ['a']);
      finalRead(h, W, 'r0', ['b']);
    });
    assert.deepEqual(verdict(r), clean);
    assert.deepEqual([r.figures.superseded, r.figures.present], [1, 1]);
  });

  it('an acknowledged write absent and replaced by nobody is lost', () => {
    const r = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      write(h, c1, 'r0', 'b', 'ok', []);
      finalRead(h, W, 'r0', ['b']);
    });
    assert.deepEqual(verdict(r), { ...clean, lost: 1, passes: false });
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0] as string, /^lost: r0=a .*\[b\]/);
  });

  it('an unknown write that took effect (present, or replaced in turn) explains an absence', () => {
    const r = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      write(h, c1, 'r0', 'b', 'info', ['a']);
      finalRead(h, W, 'r0', ['b']);
    });
    assert.deepEqual(verdict(r), clean);
    assert.deepEqual([r.figures.supersededOnlyByUnknown, r.figures.unknownPresent], [1, 1]);
    const chained = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      write(h, c1, 'r0', 'b', 'info', ['a']);
      write(h, c0, 'r0', 'c', 'ok', ['b']);
      finalRead(h, W, 'r0', ['c']);
    });
    assert.deepEqual(verdict(chained), clean);
    assert.deepEqual([chained.figures.supersededOnlyByUnknown, chained.figures.superseded], [1, 0]);
  });

  it('an unknown write absent and replaced by nobody explains nothing; nor does a refused write', () => {
    for (const replacer of ['info', 'fail'] as const) {
      const r = check((h) => {
        write(h, c0, 'r0', 'a', 'ok', []);
        write(h, c1, 'r0', 'b', replacer, ['a']);
        write(h, c0, 'r0', 'c', 'ok', []);
        finalRead(h, W, 'r0', ['c']);
      });
      assert.deepEqual(verdict(r), { ...clean, lost: 1, passes: false }, replacer);
      assert.match(r.problems[0] as string, /^lost: r0=a /);
    }
  });

  it('a refused write that took effect is a violation', () => {
    const r = check((h) => {
      write(h, c0, 'r0', 'a', 'fail', []);
      finalRead(h, W, 'r0', ['a']);
    });
    assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false });
    assert.deepEqual(r.problems, ['a write refused with "fail: boom" took effect: r0=a']);
  });

  it('a final value nobody wrote is a phantom; a value twice in one final read is duplicated', () => {
    const phantom = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      finalRead(h, W, 'r0', ['a', 'zzz']);
    });
    assert.deepEqual(verdict(phantom), { ...clean, violations: 1, passes: false });
    assert.deepEqual(phantom.problems, ['phantom: r0 holds zzz, which no client wrote']);
    assert.equal(phantom.figures.siblingsMax, 2);
    const twice = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      finalRead(h, W, 'r0', ['a', 'a']);
    });
    assert.deepEqual(verdict(twice), { ...clean, duplicated: 1, passes: false });
  });

  it('a key written but never read successfully after healing is a violation', () => {
    const r = check((h) => {
      write(h, c0, 'r0', 'a', 'ok', []);
      write(h, c0, 'r1', 'b', 'info', []);
      finalRead(h, W, 'r0', ['a']);
      finalRead(h, W, 'r1', undefined);
    });
    assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false });
    assert.deepEqual(r.problems, ['no successful final read of r1']);
  });

  it('counts client operations by outcome, ignoring final reads and other workloads', () => {
    const r = check((h) => {
      read(h, c0, 'r0', []);
      write(h, c0, 'r0', 'a', 'ok', []);
      read(h, c1, 'r0', undefined);
      write(h, c1, 'r0', 'b', 'fail', []);
      write(h, c1, 'r0', 'c', 'info', []);
      write(h, c0, 'r0', 'd', 'open', ['a']);
      write(h, 'set-lww/0', 'r0', 'x', 'ok');
      finalRead(h, W, 'r0', ['a', 'c']);
    });
    assert.deepEqual([r.ok, r.failed, r.unknown], [2, 2, 2]);
    assert.deepEqual([r.figures.unknownPresent, r.figures.unknownAbsent], [1, 1]);
    assert.deepEqual(verdict(r), clean);
    assert.equal(r.lossFails, true);
  });
});

describe('checkLastWriteWins', () => {
  const W = 'set-lww';
  const check = (build: (h: History) => void): CheckResult => checked(checkLastWriteWins, W, build);

  /** A read-modify-write by client `client`: reads `current` at readMs, writes it plus `element`, completed at doneMs. */
  function rmw(h: History, client: number, key: string, element: string, current: string[], [readMs, doneMs]: [number, number], type: CompletionType = 'ok'): void {
    const first = h.ops.length;
    read(h, `${W}/${client}`, key, [JSON.stringify(current)]);
    write(h, `${W}/${client}`, key, element, type);
    const times = [readMs, readMs + 1, readMs + 2, doneMs];
    h.ops.slice(first).forEach((op, i) => (op.timeMs = times[i] as number));
  }
  const finalList = (h: History, key: string, ...lists: string[][]): void => finalRead(h, W, key, lists.map((l) => JSON.stringify(l)));

  it('loses nothing when every acknowledged element is in the final list', () => {
    const r = check((h) => {
      rmw(h, 0, 'l0', 'a', [], [0, 10]);
      rmw(h, 1, 'l0', 'b', ['a'], [20, 30]);
      finalList(h, 'l0', ['a', 'b']);
    });
    assert.deepEqual(verdict(r), clean);
    assert.equal(r.figures.acked, 2);
    assert.deepEqual([r.ok, r.failed, r.unknown], [4, 0, 0]);
  });

  it('classifies a loss to an overlapping read-modify-write as concurrent', () => {
    const r = check((h) => {
      rmw(h, 0, 'l0', 'a', [], [0, 10]);
      rmw(h, 1, 'l0', 'b', [], [5, 15]);
      finalList(h, 'l0', ['b']);
    });
    assert.deepEqual(verdict(r), { ...clean, lost: 1 });
    assert.deepEqual([r.figures.lostConcurrent, r.figures.lostSequential, r.figures.lostPermille], [1, 0, 500]);
    assert.deepEqual(r.problems, []);
  });

  it('classifies a loss with no overlapping write (a refused one does not count) as sequential, without failing', () => {
    const r = check((h) => {
      rmw(h, 0, 'l0', 'a', [], [0, 10]);
      rmw(h, 2, 'l0', 'x', [], [5, 15], 'fail');
      rmw(h, 1, 'l0', 'b', [], [20, 30]); // read stale: did not see a
      rmw(h, 0, 'l0', 'c', ['b'], [40, 50]); // stamped older than b
      finalList(h, 'l0', ['b']);
    });
    assert.equal(r.lossFails, false);
    assert.deepEqual(verdict(r), { ...clean, lost: 2 });
    assert.deepEqual([r.figures.lostConcurrent, r.figures.lostSequential, r.figures.lostPermille], [0, 2, 667]);
    assert.deepEqual(r.problems, ['lost without a concurrent write: l0 element a acknowledged at 10 ms', 'lost without a concurrent write: l0 element c acknowledged at 50 ms']);
  });

  it('two siblings in the final read are a violation', () => {
    const r = check((h) => {
      rmw(h, 0, 'l0', 'a', [], [0, 10]);
      rmw(h, 1, 'l0', 'b', [], [5, 15]);
      finalList(h, 'l0', ['a'], ['b']);
    });
    assert.deepEqual([r.violations, passes(r)], [1, false]);
    assert.deepEqual(r.problems, ['l0: last_write_wins returned 2 siblings']);
  });

  it('an element nobody wrote is a phantom', () => {
    const r = check((h) => {
      rmw(h, 0, 'l0', 'a', [], [0, 10]);
      finalList(h, 'l0', ['a', 'ghost']);
    });
    assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false });
    assert.deepEqual(r.problems, ['phantom: l0 holds ghost, which no client wrote']);
  });

  it('a final value that is not a JSON list of strings is a violation (and only that)', () => {
    for (const bad of ['not json', '{"a":1}', '[1,2]']) {
      const r = check((h) => {
        rmw(h, 0, 'l0', 'a', [], [0, 10]);
        finalRead(h, W, 'l0', [bad]);
      });
      assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false }, bad);
      assert.deepEqual(r.problems, [`l0: final value is not a list: ${bad}`]);
    }
  });
});

describe('checkSession', () => {
  const W = 'session';
  const c0 = `${W}/0`;
  const check = (build: (h: History) => void): CheckResult => checked(checkSession, W, build);

  it('accepts reads that see the latest acknowledged write', () => {
    const r = check((h) => {
      read(h, c0, 'k0', []);
      write(h, c0, 'k0', '1', 'ok', []);
      read(h, c0, 'k0', ['1']);
      write(h, c0, 'k1', '2', 'ok', []);
      read(h, c0, 'k1', ['2']);
      read(h, c0, 'k0', ['1']);
    });
    assert.deepEqual(verdict(r), clean);
    assert.deepEqual([r.figures.reads, r.figures.writesAcked], [4, 2]);
  });

  it('a read older than the last acknowledged write breaks read-your-writes', () => {
    const r = check((h) => {
      write(h, c0, 'k0', '1', 'ok', []);
      write(h, c0, 'k0', '2', 'ok', ['1']);
      read(h, c0, 'k0', ['1']);
    });
    assert.deepEqual([r.figures.readYourWritesViolations, r.figures.monotonicViolations], [1, 0]);
    assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false });
    assert.match(r.problems[0] as string, /read-your-writes: read 1 .* after 2 was acknowledged/);
  });

  it('a read older than an earlier read of an acknowledged value breaks monotonic reads', () => {
    const r = check((h) => {
      write(h, c0, 'k0', '1', 'ok', []);
      read(h, c0, 'k0', ['1']);
      write(h, c0, 'k0', '2', 'ok', ['1']);
      read(h, c0, 'k0', ['2']);
      read(h, c0, 'k0', ['1']);
    });
    // Here the read is also older than the last acknowledged write.
    assert.deepEqual([r.figures.readYourWritesViolations, r.figures.monotonicViolations], [1, 1]);
    assert.equal(r.violations, 2);
    assert.ok(r.problems.some((p) => /monotonic reads: read 1 .* an earlier read returned 2/.test(p)), r.problems.join('; '));
  });

  it('a value whose write had an unknown outcome may vanish from later reads', () => {
    const r = check((h) => {
      write(h, c0, 'k0', '1', 'ok', []);
      read(h, c0, 'k0', ['1']);
      write(h, c0, 'k0', '2', 'info', ['1']);
      read(h, c0, 'k0', ['2']);
      read(h, c0, 'k0', ['1']);
      write(h, c0, 'k0', '3', 'ok', ['1']);
      read(h, c0, 'k0', ['3']);
    });
    assert.deepEqual(verdict(r), clean, r.problems.join('; '));
    assert.deepEqual([r.ok, r.failed, r.unknown], [6, 0, 1]);
  });

  it('reading a number the client never wrote to that key is a violation', () => {
    const r = check((h) => {
      write(h, c0, 'k0', '1', 'ok', []);
      write(h, c0, 'k1', '2', 'ok', []);
      read(h, c0, 'k0', ['1', '2']);
      write(h, `${W}/1`, 'k9', '3', 'ok', []);
      read(h, c0, 'k9', ['3']);
    });
    assert.deepEqual(verdict(r), { ...clean, violations: 2, passes: false });
    assert.equal(r.figures.siblingReads, 1);
    assert.deepEqual(r.problems, [`${c0} k0: read 2, which it never wrote or whose write was refused`, `${c0} k9: read 3, which it never wrote or whose write was refused`]);
  });

  it('reading back a write the server refused is a violation', () => {
    const r = check((h) => {
      write(h, c0, 'k0', '1', 'ok', []);
      write(h, c0, 'k0', '2', 'fail', ['1']);
      read(h, c0, 'k0', ['2']);
    });
    assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false });
    assert.deepEqual(r.problems, [`${c0} k0: read 2, which it never wrote or whose write was refused`]);
  });
});

describe('checkHandoff', () => {
  const W = 'handoff';
  const check = (build: (h: History) => void): CheckResult => checked(checkHandoff, W, build);

  /** The settle check after healing, as run.ts records it, from 100 to 350 ms. */
  function settle(h: History, type: CompletionType): void {
    h.invoke('final/handoff/settle', 'settle')(type, type === 'fail' ? { error: 'ring not settled on n1, n2' } : {});
    const [invoke, complete] = h.ops.slice(-2) as [Op, Op];
    [invoke.timeMs, complete.timeMs] = [100, 350];
  }

  it('passes when every acknowledged key is present and the ring settled', () => {
    const r = check((h) => {
      write(h, `${W}/0`, 'handoff/0:1', 'handoff/0:1');
      write(h, `${W}/1`, 'handoff/1:1', 'handoff/1:1', 'info');
      settle(h, 'ok');
      finalRead(h, W, 'handoff/0:1', ['handoff/0:1']);
      finalRead(h, W, 'handoff/1:1', ['handoff/1:1']);
    });
    assert.deepEqual(verdict(r), clean);
    assert.deepEqual([r.figures.acked, r.figures.unknownPresent, r.figures.settleMs], [1, 1, 250]);
  });

  it('an acknowledged key whose final read lacks its value is lost; an unread one is a violation', () => {
    const r = check((h) => {
      write(h, `${W}/0`, 'k1', 'v1');
      write(h, `${W}/0`, 'k2', 'v2');
      settle(h, 'ok');
      finalRead(h, W, 'k1', []);
      finalRead(h, W, 'k2', undefined);
    });
    assert.deepEqual(verdict(r), { ...clean, lost: 1, violations: 1, passes: false });
    assert.match(r.problems[0] as string, /^lost: k1=v1 /);
    assert.equal(r.problems[1], 'no successful final read of k2');
    assert.ok((r.figures.settleMs ?? -1) >= 0);
  });

  it('a missing or failed settle check means stuck transfers', () => {
    for (const how of ['missing', 'fail'] as const) {
      const r = check((h) => {
        write(h, `${W}/0`, 'k1', 'v1');
        if (how === 'fail') settle(h, 'fail');
        finalRead(h, W, 'k1', ['v1']);
      });
      assert.deepEqual(verdict(r), { ...clean, violations: 1, passes: false }, how);
      assert.match(r.problems[0] as string, /^transfers stuck/);
      assert.match(r.problems[0] as string, how === 'fail' ? /ring not settled on n1, n2/ : /no settle check recorded/);
      assert.equal(r.figures.settleMs, -1);
    }
  });
});
