// The pure parts of `rondo admin status|stat show|ringready|cluster status|
// transfer-limit`: stat name patterns, the ringready verdict, and the tables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterStatusTable, ringReadyLine, ringReadyVerdict, statLine, statLines, statPattern, transferLimitTable, type RingReadyMember } from '../../../src/core/node/admin-status.js';
import { InvalidArgumentError } from '../../../src/core/errors.js';
import { parseTransferLimit, serviceName } from '../../../src/cli/admin-status.js';

describe('stat show patterns (Riak-style * wildcards)', () => {
  const names = ['node_get_fsm_time_mean', 'node_get_fsm_siblings_100', 'node_gets', 'pbc_active', 'handoff_outbound_active', 'vnode.put.time', 'ring_members'];
  const show = (p: string): string[] => names.filter(statPattern(p));

  it('matches a prefix, a suffix, an infix and an exact name', () => {
    assert.deepEqual(show('node_get_fsm_*'), ['node_get_fsm_time_mean', 'node_get_fsm_siblings_100']);
    assert.deepEqual(show('*_active'), ['pbc_active', 'handoff_outbound_active']);
    assert.deepEqual(show('*.time'), ['vnode.put.time']);
    assert.deepEqual(show('*fsm*mean'), ['node_get_fsm_time_mean']);
    assert.deepEqual(show('node_gets'), ['node_gets']);
    assert.deepEqual(show('*'), names);
  });

  it('treats . literally, not as a regex wildcard', () => {
    assert.deepEqual(show('vnode.put.time'), ['vnode.put.time']);
    assert.deepEqual(names.filter(statPattern('node.gets')), []);
  });

  it('refuses other syntax with an InvalidArgumentError', () => {
    for (const bad of ['', 'node_[a-z]', 'a b', 'x?', '(.*)', '^node', 'node$', '{a,b}', 'a'.repeat(201)]) {
      assert.throws(() => statPattern(bad), InvalidArgumentError, bad);
    }
  });

  it('prints name : value lines, arrays and objects as JSON, and keeps the data', () => {
    assert.equal(statLine('node_gets', 3), 'node_gets : 3');
    assert.equal(statLine('nodename', 'n1'), 'nodename : n1');
    assert.equal(statLine('ring_members', ['n1', 'n2']), 'ring_members : ["n1","n2"]');
    const out = statLines({ a_x: 1, b: 'two', a_y: [3] }, statPattern('a_*'));
    assert.deepEqual(out.lines, ['a_x : 1', 'a_y : [3]']);
    assert.deepEqual(out.data, { a_x: 1, a_y: [3] });
  });
});

describe('ringready verdict (riak_core_status:ringready)', () => {
  const m = (name: string, o: Partial<RingReadyMember> = {}): RingReadyMember => ({ name, status: 'valid', up: true, agrees: true, ...o });

  it('TRUE when every member is up and agrees, nodes sorted', () => {
    const v = ringReadyVerdict([m('n2'), m('n1'), m('n3')]);
    assert.deepEqual(v, { ready: true, nodes: ['n1', 'n2', 'n3'] });
    assert.equal(ringReadyLine(v), "TRUE All nodes agree on the ring ['n1','n2','n3']");
  });

  it('FALSE with the down nodes first, whatever the others show', () => {
    const v = ringReadyVerdict([m('n1'), m('n2', { up: false, agrees: false }), m('n3', { agrees: false }), m('n4', { status: 'down' })]);
    assert.deepEqual(v, { ready: false, reason: 'nodes_down', down: ['n2', 'n4'] });
    assert.equal(ringReadyLine(v), "FALSE ['n2','n4'] down.  All nodes need to be up to check.");
  });

  it('FALSE with the disagreeing nodes when all are up', () => {
    const v = ringReadyVerdict([m('n1'), m('n2', { agrees: false }), m('n3')]);
    assert.deepEqual(v, { ready: false, reason: 'different_rings', disagreeing: ['n2'], nodes: ['n1', 'n2', 'n3'] });
    assert.match(ringReadyLine(v), /^FALSE Nodes \['n2'\] do not agree on the ring with \['n1','n3'\]$/);
  });

  it('does not ask exiting members; a lone node is ready', () => {
    assert.deepEqual(ringReadyVerdict([m('n1'), m('n2', { status: 'exiting', up: false })]), { ready: true, nodes: ['n1'] });
    assert.deepEqual(ringReadyVerdict([m('n1')]), { ready: true, nodes: ['n1'] });
  });
});

describe('admin tables', () => {
  it('cluster status: a boxed row per member, the claimant marked, unexpected availability flagged', () => {
    const lines = clusterStatusTable({
      claimant: 'n1',
      ringReady: false,
      rows: [
        { name: 'n1', status: 'valid', up: true, ringPct: 34.4, pendingPct: 34.4 },
        { name: 'n2', status: 'valid', up: false, ringPct: 32.8, pendingPct: 32.8 },
        { name: 'n3', status: 'joining', up: true, ringPct: 0, pendingPct: 32.8 },
      ],
    });
    assert.equal(lines[0], '---- Cluster Status ----');
    assert.equal(lines[1], 'Ring ready: false');
    const widths = new Set(lines.filter((l) => l.startsWith('|') || l.startsWith('+')).map((l) => l.length));
    assert.equal(widths.size, 1, 'every row of the box is as wide');
    const row = (name: string): string[] => (lines.find((l) => l.includes(` ${name} `)) ?? '').split('|').map((c) => c.trim()).filter((c) => c !== '');
    assert.deepEqual(row('(C) n1'), ['(C) n1', 'valid', 'up', '34.4', '--']);
    assert.deepEqual(row('n2'), ['n2', 'valid', 'down!', '32.8', '--']);
    assert.deepEqual(row('n3'), ['n3', 'joining', 'up', '0.0', '32.8']);
    assert.match(lines.at(-1) ?? '', /\(C\) = Claimant/);
  });

  it('transfer limit: one row per node, unknown limits with the reason', () => {
    const lines = transferLimitTable([{ node: 'n1', limit: 2 }, { node: 'n2', error: 'down' }]);
    assert.match(lines[0] ?? '', /=+ Transfer Limit =+/);
    assert.ok(lines.includes('    2    n1'), lines.join('\n'));
    assert.ok(lines.includes('    ?    n2  (down)'), lines.join('\n'));
  });

  it('transfer limits and service names are checked', () => {
    assert.equal(parseTransferLimit('4'), 4);
    for (const bad of ['0', '-1', '1.5', 'x', '', '65']) assert.throws(() => parseTransferLimit(bad), InvalidArgumentError, bad);
    assert.equal(serviceName('riak_kv'), 'kv');
    assert.equal(serviceName('kv'), 'kv');
    assert.throws(() => serviceName('riak_KV!'), InvalidArgumentError);
  });
});
