// Dotted version vector sets against a model, on realistic histories: clients
// read (getting a context) and write through random coordinators, replicas
// sync at random. The model knows every acknowledged write, its dot and its
// context; a value must be live exactly when its replica has seen it and no
// write that replica has seen carried a context covering it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { absorbs, emptyClock, join, size, sync, updateWithDot, values, vvCovers, vvMerge } from '../../../../src/kv/object/index.js';
import type { Dot, DvvSet, VersionVector } from '../../../../src/kv/object/index.js';

const ACTORS = ['n1/0', 'n2/0', 'n3/0', 'n4/0'];
const CLIENTS = 4;

type Op =
  | { kind: 'read'; client: number; replica: number }
  | { kind: 'write'; client: number; replica: number; blind: boolean }
  | { kind: 'sync'; from: number; to: number };

const opArb = (replicas: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ kind: fc.constant('read' as const), client: fc.nat(CLIENTS - 1), replica: fc.nat(replicas - 1) }),
    fc.record({ kind: fc.constant('write' as const), client: fc.nat(CLIENTS - 1), replica: fc.nat(replicas - 1), blind: fc.boolean() }),
    fc.record({ kind: fc.constant('sync' as const), from: fc.nat(replicas - 1), to: fc.nat(replicas - 1) }),
  );

interface Write {
  id: string;
  dot: Dot;
  context: VersionVector;
}

interface Run {
  replicas: DvvSet<string>[];
  writes: Map<string, Write>;
  known: Set<string>[];
  snapshots: DvvSet<string>[];
}

/**
 * `disciplined` clients never write blind and keep their own last write in
 * their context (Riak clients with return_body): then each client has at most
 * one live value, so siblings never exceed the number of writers.
 */
function run(ops: Op[], replicaCount: number, disciplined: boolean): Run {
  const replicas = Array.from({ length: replicaCount }, () => emptyClock<string>());
  const known = Array.from({ length: replicaCount }, () => new Set<string>());
  const contexts: VersionVector[] = Array.from({ length: CLIENTS }, () => []);
  const writes = new Map<string, Write>();
  const snapshots: DvvSet<string>[] = [];
  for (const op of ops) {
    if (op.kind === 'read') {
      const seen = join(replicas[op.replica] as DvvSet<string>);
      contexts[op.client] = disciplined ? vvMerge(contexts[op.client] ?? [], seen) : seen;
    } else if (op.kind === 'write') {
      const id = `w${writes.size}`;
      const context = op.blind && !disciplined ? [] : (contexts[op.client] ?? []);
      const result = updateWithDot(replicas[op.replica] as DvvSet<string>, context, id, ACTORS[op.replica] as string);
      replicas[op.replica] = result.clock;
      writes.set(id, { id, dot: result.dot, context });
      known[op.replica]?.add(id);
      if (disciplined) contexts[op.client] = join(result.clock);
    } else {
      replicas[op.to] = sync(replicas[op.from] as DvvSet<string>, replicas[op.to] as DvvSet<string>);
      for (const id of known[op.from] ?? []) known[op.to]?.add(id);
    }
    replicas.forEach((clock, i) => assert.deepEqual(values(clock).sort(), expectedLive(known[i] ?? new Set(), writes), `replica ${i} after ${JSON.stringify(op)}`));
    if (snapshots.length < 6 && op.kind !== 'read') snapshots.push(replicas[snapshots.length % replicaCount] as DvvSet<string>);
  }
  return { replicas, writes, known, snapshots };
}

function expectedLive(known: Set<string>, writes: Map<string, Write>): string[] {
  const seen = [...known].map((id) => writes.get(id) as Write);
  return seen.filter((v) => !seen.some((w) => vvCovers(w.context, v.dot))).map((v) => v.id).sort();
}

const syncAll = (clocks: DvvSet<string>[]) => clocks.reduce((acc, c) => sync(acc, c), emptyClock<string>());

const historyArb = fc.integer({ min: 2, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(opArb(n), { maxLength: 60 })));

test('every replica holds exactly the acknowledged values no seen context covered', () => {
  fc.assert(
    fc.property(historyArb, ([n, ops]) => {
      const { replicas, writes } = run(ops, n, false);
      // After full sync: no acknowledged value disappears except by a write
      // whose context covered it, and no covered value survives.
      const all = syncAll(replicas);
      assert.deepEqual(values(all).sort(), expectedLive(new Set(writes.keys()), writes));
    }),
    { numRuns: 300 },
  );
});

test('sync is commutative, associative and idempotent on reachable replica states', () => {
  fc.assert(
    fc.property(historyArb, ([n, ops]) => {
      const { replicas, snapshots } = run(ops, n, false);
      const states = [...replicas, ...snapshots];
      for (const a of states) {
        assert.deepEqual(sync(a, a), a);
        for (const b of states) {
          assert.deepEqual(sync(a, b), sync(b, a));
          for (const c of states.slice(0, 4)) assert.deepEqual(sync(sync(a, b), c), sync(a, sync(b, c)));
        }
      }
    }),
    { numRuns: 150 },
  );
});

test('absorbs(b, a) holds exactly when sync(a, b) is b (the replica shortcut)', () => {
  const shape = (c: DvvSet<string>) => c.entries.map((e) => [e.actor, e.counter, e.values.map(([n]) => n)]);
  let absorbed = 0;
  let notAbsorbed = 0;
  fc.assert(
    fc.property(historyArb, ([n, ops]) => {
      const { replicas, snapshots } = run(ops, n, false);
      const states = [...replicas, ...snapshots, emptyClock<string>()];
      for (const a of states) {
        for (const b of states) {
          const expected = JSON.stringify(shape(sync(a, b))) === JSON.stringify(shape(b));
          assert.equal(absorbs(b, a), expected, `absorbs(${JSON.stringify(shape(b))}, ${JSON.stringify(shape(a))})`);
          if (expected) absorbed++;
          else notAbsorbed++;
        }
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(absorbed > 100 && notAbsorbed > 100, `both outcomes exercised (${absorbed} absorbed, ${notAbsorbed} not)`);
});

test('disciplined clients: siblings never exceed the number of concurrent writers', () => {
  fc.assert(
    fc.property(historyArb, ([n, ops]) => {
      const { replicas, writes } = run(ops, n, true);
      const writers = new Set(ops.filter((o) => o.kind === 'write').map((o) => (o as { client: number }).client)).size;
      for (const r of replicas) assert.ok(size(r) <= writers, `${size(r)} siblings from ${writers} writers`);
      const all = syncAll(replicas);
      assert.ok(size(all) <= writers);
      assert.deepEqual(values(all).sort(), expectedLive(new Set(writes.keys()), writes));
    }),
    { numRuns: 200 },
  );
});

test('writes with a fresh context through random coordinators never make false siblings', () => {
  const stepArb = fc.array(fc.tuple(fc.nat(2), fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { maxLength: 3 })), { minLength: 1, maxLength: 30 });
  fc.assert(
    fc.property(stepArb, (steps) => {
      let replicas = [emptyClock<string>(), emptyClock<string>(), emptyClock<string>()];
      steps.forEach(([coordinator, syncs], i) => {
        const fresh = join(syncAll(replicas)); // the client read everything acknowledged so far
        replicas[coordinator] = updateWithDot(replicas[coordinator] as DvvSet<string>, fresh, `w${i}`, ACTORS[coordinator] as string).clock;
        replicas = replicas.slice();
        for (const [from, to] of syncs) replicas[to] = sync(replicas[from] as DvvSet<string>, replicas[to] as DvvSet<string>);
        assert.deepEqual(values(syncAll(replicas)), [`w${i}`]);
      });
    }),
    { numRuns: 200 },
  );
});
