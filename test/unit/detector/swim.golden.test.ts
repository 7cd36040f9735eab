// Golden interaction tests (etcd-raft style): scripted inputs, exact output.
// Section numbers refer to Das, Gupta, Motivala, "SWIM" (DSN 2002).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSwimMessage, SwimDetector, type SwimMessage } from '../../../src/core/detector/index.js';
import { seededRandom } from './harness.js';
import { only, render } from './golden.js';

function detector(self: string, members: string[], seed = 1): SwimDetector {
  const d = new SwimDetector({ self, random: seededRandom(seed) });
  assert.deepEqual(render(self, d.setMembers(members, 0)), [], 'initial members emit nothing');
  return d;
}

test('3.1: a pings b, b acks; no ping-req, next period probes again', () => {
  const a = detector('a', ['b']);
  const b = detector('b', ['a']);
  const ping = a.tick(0);
  assert.deepEqual(render('a', ping), ['a->b swim.ping seq=1 inc=0 []']);
  const ack = b.receive('a', only(ping), 2);
  assert.deepEqual(render('b', ack), ['b->a swim.ack seq=1 inc=0 []']);
  assert.deepEqual(render('a', a.receive('b', only(ack), 4)), []);
  assert.deepEqual(render('a', a.tick(100)), []);
  assert.deepEqual(render('a', a.tick(200)), [], 'acked: no ping-req');
  assert.deepEqual(render('a', a.tick(300)), ['a->b swim.ping seq=2 inc=0 []']);
  assert.equal(a.liveness('b'), 'alive');
  assert.equal(a.localHealth, 0);
});

test('3.1: ping timeout -> ping-req via the other member -> relayed ack keeps the target alive', () => {
  const a = detector('a', ['b', 'c']);
  const first = a.tick(0);
  const target = first.send[0]?.to ?? '';
  const helper = target === 'b' ? 'c' : 'b';
  assert.deepEqual(render('a', first), [`a->${target} swim.ping seq=1 inc=0 []`]); // lost
  assert.deepEqual(render('a', a.tick(100)), []);
  const req = a.tick(200);
  assert.deepEqual(render('a', req), [`a->${helper} swim.ping-req seq=1 inc=0 target=${target} []`]);
  const h = detector(helper, ['a', target]);
  const t = detector(target, ['a', helper]);
  const relayPing = h.receive('a', only(req), 202);
  assert.deepEqual(render(helper, relayPing), [`${helper}->${target} swim.ping seq=1 inc=0 []`]);
  const relayAck = t.receive(helper, only(relayPing), 204);
  assert.deepEqual(render(target, relayAck), [`${target}->${helper} swim.ack seq=1 inc=0 []`]);
  const indirect = h.receive(target, only(relayAck), 206);
  assert.deepEqual(render(helper, indirect), [`${helper}->a swim.indirect-ack seq=1 inc=0 target=${target} targetInc=0 []`]);
  assert.deepEqual(render('a', a.receive(helper, only(indirect), 208)), []);
  assert.deepEqual(render('a', a.tick(300)), [`a->${helper} swim.ping seq=2 inc=0 []`], 'no suspicion, next member of the round');
  assert.equal(a.liveness(target), 'alive');
  assert.equal(a.localHealth, 0, 'a probe that succeeded indirectly does not hurt our health');
});

test('4.2: no ack -> suspect (piggybacked) -> dead after the suspicion timeout -> revived by a message from the node itself, which refutes above the claim', () => {
  const a = detector('a', ['b', 'c']);
  const target = a.tick(0).send[0]?.to ?? '';
  const helper = target === 'b' ? 'c' : 'b';
  const req = a.tick(200);
  const h = detector(helper, ['a', target]);
  assert.equal(h.receive('a', only(req), 202).send.length, 1, 'relay ping (lost)');
  assert.deepEqual(render('a', a.tick(300)), [`a->${helper} swim.ping seq=2 inc=0 [${target}:suspect@0/a]`]);
  assert.equal(a.liveness(target), 'suspect');
  // The helper's own first tick also starts its own probe; we look at the nack.
  assert.ok(render(helper, h.tick(400)).includes(`${helper}->a swim.nack seq=1 inc=0 target=${target} []`));
  // With 3 members there is no one to confirm: the full 1 500 ms after suspecting at 300.
  a.tick(1700);
  assert.equal(a.liveness(target), 'suspect');
  const death = a.tick(1800);
  assert.ok(render('a', death).includes(`a: ${target} DOWN`), render('a', death).join('\n'));
  assert.equal(a.liveness(target), 'dead');
  // The target restarts: fresh detector, incarnation 0. It pings a; a revives it at once.
  const t = detector(target, ['a', helper], 7);
  const ping = only(t.tick(2000));
  const revived = a.receive(target, ping, 2002);
  const lines = render('a', revived);
  assert.ok(lines.includes(`a: ${target} UP`), lines.join('\n'));
  // a's answer carries the claim about the target, so it can refute.
  const toTarget = revived.send.find((s) => s.to === target);
  assert.ok(toTarget !== undefined && toTarget.msg.updates.some((u) => u.node === target && u.state === 'dead' && u.inc === 0));
  assert.equal(toTarget.msg.type, 'swim.ack');
  assert.deepEqual(render(target, t.receive('a', toTarget.msg, 2004)), []);
  assert.equal(t.selfIncarnation, 1, 'refutes with an incarnation above the dead claim');
  // Its next message (next probe period) carries the refutation.
  const next = t.tick(2300);
  assert.ok(next.send.length >= 1 && next.send.every((s) => s.msg.inc === 1));
  assert.ok(next.send.every((s) => s.msg.updates.some((u) => u.node === target && u.state === 'alive' && u.inc === 1)), render(target, next).join('\n'));
});

test('4.2: a stale same-incarnation dead claim does not re-kill a node just heard from', () => {
  const a = detector('a', ['b', 'c']);
  const claim = (node: string, state: 'suspect' | 'dead', inc: number): SwimMessage => ({ type: 'swim.ping', seq: 9, inc: 0, updates: [{ node, state, inc }] });
  assert.deepEqual(render('a', a.receive('b', claim('c', 'dead', 0), 10)).slice(1), ['a: c DOWN']);
  assert.deepEqual(render('a', a.receive('c', { type: 'swim.ping', seq: 1, inc: 0, updates: [] }, 20)), ['a->c swim.ack seq=1 inc=0 [c:dead@0]', 'a: c UP']);
  assert.deepEqual(render('a', a.receive('b', claim('c', 'dead', 0), 30)).slice(1), [], 'ignored: we just heard from c');
  assert.equal(a.liveness('c'), 'alive');
  assert.deepEqual(render('a', a.receive('b', { type: 'swim.ack', seq: 1, inc: 0, updates: [{ node: 'c', state: 'alive', inc: 1 }] }, 40)), []);
  assert.deepEqual(a.snapshot().find((s) => s.node === 'c'), { node: 'c', liveness: 'alive', incarnation: 1, sinceMs: 20 });
  // The claim is refuted: no more hints to c (and c's own news is not echoed back to it).
  assert.deepEqual(render('a', a.receive('c', { type: 'swim.ping', seq: 2, inc: 1, updates: [] }, 50)), ['a->c swim.ack seq=2 inc=0 []']);
  assert.deepEqual(render('a', a.receive('b', { type: 'swim.ping', seq: 3, inc: 0, updates: [] }, 60)), ['a->b swim.ack seq=3 inc=0 [c:alive@1]']);
});

test('refutation: a node told it is suspect bumps its incarnation and disseminates alive', () => {
  const c = detector('c', ['a', 'b']);
  const out = c.receive('a', { type: 'swim.ping', seq: 5, inc: 0, updates: [{ node: 'c', state: 'suspect', inc: 0, from: 'a' }] }, 10);
  assert.deepEqual(render('c', out), ['c->a swim.ack seq=5 inc=1 [c:alive@1]']);
  assert.equal(c.selfIncarnation, 1);
  assert.equal(c.localHealth, 1, 'Lifeguard: being suspected raises our health multiplier');
  // Old claims are ignored; a claim at the new incarnation is refuted again.
  assert.deepEqual(render('c', c.receive('b', { type: 'swim.ping', seq: 6, inc: 0, updates: [{ node: 'c', state: 'dead', inc: 0 }] }, 20)), ['c->b swim.ack seq=6 inc=1 [c:alive@1]']);
  c.receive('b', { type: 'swim.ping', seq: 7, inc: 0, updates: [{ node: 'c', state: 'dead', inc: 1 }] }, 30);
  assert.equal(c.selfIncarnation, 2);
});

test('setMembers: new members start alive and get probed, removed ones are forgotten', () => {
  const a = detector('a', ['b']);
  assert.deepEqual(render('a', a.setMembers(['a', 'b', 'd'], 0)), [], 'self is ignored, additions emit nothing');
  assert.deepEqual(a.snapshot(), [
    { node: 'b', liveness: 'alive', incarnation: 0, sinceMs: 0 },
    { node: 'd', liveness: 'alive', incarnation: 0, sinceMs: 0 },
  ]);
  // Every ping is answered at once, so everyone stays alive.
  const step = (now: number): string[] => {
    const out = a.tick(now);
    for (const { to, msg } of out.send) if (msg.type === 'swim.ping') a.receive(to, { type: 'swim.ack', seq: msg.seq, inc: 0, updates: [] }, now + 1);
    return out.send.map((s) => s.to);
  };
  const probed = new Set<string>();
  for (let now = 0; now < 600; now += 100) for (const to of step(now)) probed.add(to);
  assert.deepEqual([...probed].sort(), ['b', 'd'], 'both probed within one round');
  assert.deepEqual(render('a', a.setMembers(['d'], 600)), []);
  assert.equal(a.liveness('b'), undefined);
  for (let now = 600; now < 3000; now += 100) for (const to of step(now)) assert.equal(to, 'd', 'b is no longer probed');
  assert.equal(a.liveness('d'), 'alive');
  // Claims about non-members are ignored.
  assert.deepEqual(render('a', a.receive('d', { type: 'swim.ping', seq: 1, inc: 0, updates: [{ node: 'b', state: 'dead', inc: 3 }] }, 3000)), ['a->d swim.ack seq=1 inc=0 []']);
  assert.equal(a.liveness('b'), undefined);
});

test('isSwimMessage validates what comes off the wire', () => {
  assert.ok(isSwimMessage({ type: 'swim.ping', seq: 1, inc: 0, updates: [] } as SwimMessage));
  assert.ok(isSwimMessage({ type: 'swim.indirect-ack', seq: 1, inc: 0, target: 'x', targetInc: 2, updates: [{ node: 'x', state: 'alive', inc: 2 }] } as SwimMessage));
  const bad: object[] = [
    { type: 'ring.gossip' },
    { type: 'swim.ping', seq: -1, inc: 0, updates: [] },
    { type: 'swim.ping', seq: 1, inc: 0.5, updates: [] },
    { type: 'swim.ping', seq: 1, inc: 0 },
    { type: 'swim.ping-req', seq: 1, inc: 0, updates: [] },
    { type: 'swim.ack', seq: 1, inc: 0, updates: [{ node: 'x', state: 'zombie', inc: 0 }] },
    { type: 'swim.ack', seq: 1, inc: 0, updates: Array.from({ length: 17 }, () => ({ node: 'x', state: 'alive', inc: 0 })) },
  ];
  for (const msg of bad) assert.equal(isSwimMessage(msg as SwimMessage), false, JSON.stringify(msg));
  const a = detector('a', ['b']);
  assert.deepEqual(render('a', a.receive('b', { type: 'swim.ping', seq: 1 } as unknown as SwimMessage, 0)), [], 'malformed input is dropped');
});
