// The table of requests sent to peers' vnodes, and the window of requests
// delivered: ids, deadlines, settlement once, bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverloadError, TimeoutError } from '../../../../src/core/errors.js';
import { Simulation } from '../../../../src/core/sim/index.js';
import { RequestTable, type RequestOutcome } from '../../../../src/kv/service/request-table.js';
import { SeenRequests } from '../../../../src/kv/service/seen-requests.js';

function setup(epoch = 0, max = 4) {
  const sim = new Simulation({ seed: 1 });
  const env = sim.createEnv('n1');
  return { sim, table: new RequestTable({ env, max, epoch }) };
}

test('ids are unique and carry the epoch, so a restarted node never reuses an earlier incarnation\'s', () => {
  const ids = new Set<number>();
  for (const epoch of [0, 1, 2]) {
    const { table } = setup(epoch, 100);
    for (let i = 0; i < 50; i++) ids.add(table.open('n2', 1_000, 'get', () => undefined));
  }
  assert.equal(ids.size, 150);
  assert.ok([...ids].every((id) => Number.isSafeInteger(id) && id >= 0));
});

test('a reply settles once, only from the node asked; a silent peer times out; a full table refuses', () => {
  const { sim, table } = setup(0, 2);
  const outcomes: RequestOutcome[] = [];
  const a = table.open('n2', 100, 'get on vnode 1', (o) => outcomes.push(o));
  const b = table.open('n3', 100, 'get on vnode 2', (o) => outcomes.push(o));
  assert.throws(() => table.open('n4', 100, 'get', () => undefined), OverloadError);
  assert.equal(table.settle(a, 'n3', { kind: 'notfound' }), false, 'from the wrong node');
  assert.equal(table.settle(a, 'n2', { kind: 'notfound' }), true);
  assert.equal(table.settle(a, 'n2', { kind: 'notfound' }), false, 'a duplicate');
  sim.runFor(150);
  assert.equal(outcomes.length, 2);
  assert.deepEqual(outcomes[0], { ok: true, reply: { kind: 'notfound' } });
  assert.ok(!outcomes[1]!.ok && outcomes[1]!.error instanceof TimeoutError);
  assert.equal(table.settle(b, 'n3', { kind: 'notfound' }), false, 'late');
  assert.equal(table.size, 0);
});

test('the seen-request window drops duplicates and stays bounded, oldest out first', () => {
  const seen = new SeenRequests(3);
  assert.equal(seen.firstDelivery('n2', 1), true);
  assert.equal(seen.firstDelivery('n2', 1), false);
  assert.equal(seen.firstDelivery('n3', 1), true, 'ids are per sender');
  assert.equal(seen.firstDelivery('n2', 2), true);
  assert.equal(seen.firstDelivery('n2', 3), true);
  assert.equal(seen.size, 3);
  assert.equal(seen.firstDelivery('n2', 1), true, 'the oldest was forgotten');
  for (let i = 10; i < 2_000; i++) seen.firstDelivery('n4', i);
  assert.equal(seen.size, 3);
  assert.equal(seen.firstDelivery('n4', 1_999), false);
});
