import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireMessage } from '../../../src/core/env.js';
import { OverloadError, UnknownPeerError } from '../../../src/core/errors.js';
import { NETWORK_FAULTS_CALM, NETWORK_FAULTS_HOSTILE, Simulation, type NetworkFaults } from '../../../src/core/sim/index.js';
import { receivedBy, startCluster } from './ping-pong.js';

function pingPongRun(seed: number, network?: Partial<NetworkFaults>): Simulation {
  const sim = new Simulation({ seed, network });
  startCluster(sim);
  sim.runFor(500);
  return sim;
}

test('same seed gives the same trace hash; different seeds differ', () => {
  const a = pingPongRun(11, NETWORK_FAULTS_HOSTILE);
  const b = pingPongRun(11, NETWORK_FAULTS_HOSTILE);
  const c = pingPongRun(12, NETWORK_FAULTS_HOSTILE);
  assert.equal(a.traceHash(), b.traceHash());
  assert.deepEqual(a.stats(), b.stats());
  assert.notEqual(a.traceHash(), c.traceHash());
  assert.notEqual(pingPongRun(11).traceHash(), pingPongRun(12).traceHash());
  assert.ok(a.stats().messagesDelivered > 100);
});

test('without faults every message arrives', () => {
  const stats = pingPongRun(3).stats();
  assert.equal(stats.messagesDropped, 0);
  assert.ok(stats.messagesSent > 100);
  // Only messages still in flight at the end may be missing.
  assert.ok(stats.messagesSent - stats.messagesDelivered < 10);
});

test('dropProbability 1 drops everything', () => {
  const stats = pingPongRun(3, { dropProbability: 1 }).stats();
  assert.ok(stats.messagesSent > 50);
  assert.equal(stats.messagesDelivered, 0);
  assert.equal(stats.messagesDropped, stats.messagesSent);
});

test('duplicateProbability produces duplicates, delivered as separate copies', () => {
  const sim = new Simulation({ seed: 4, network: { duplicateProbability: 0.5 } });
  const nodes = startCluster(sim);
  sim.runFor(300);
  const stats = sim.stats();
  assert.ok(stats.messagesDuplicated > 20, `duplicated ${stats.messagesDuplicated}`);
  assert.ok(stats.messagesDelivered > stats.messagesSent);
  const pings = receivedBy(nodes, 'n2').filter((r) => r.msg.type === 'ping');
  const keys = pings.map((r) => `${r.from}:${r.msg.seq}`);
  assert.ok(new Set(keys).size < keys.length, 'some ping arrived twice');
});

test('partition blocks both ways; heal restores', () => {
  const sim = new Simulation({ seed: 5 });
  const nodes = startCluster(sim);
  sim.partition([['n1'], ['n2', 'n3']]);
  sim.runFor(30); // let messages sent before the partition land
  const mark = { n1: receivedBy(nodes, 'n1').length, n2: receivedBy(nodes, 'n2').length };
  sim.runFor(300);
  assert.ok(receivedBy(nodes, 'n1').slice(mark.n1).length === 0, 'n1 hears nothing');
  const n2After = receivedBy(nodes, 'n2').slice(mark.n2);
  assert.ok(n2After.length > 0, 'n2 and n3 still talk');
  assert.ok(n2After.every((r) => r.from === 'n3'), 'nothing from n1 reaches n2');
  sim.heal();
  sim.runFor(300);
  assert.ok(receivedBy(nodes, 'n1').slice(mark.n1).some((r) => r.from === 'n2'), 'healed');
});

test('nodes left out of partition groups form one group', () => {
  const sim = new Simulation({ seed: 5 });
  const nodes = startCluster(sim);
  sim.partition([['n1']]);
  sim.runFor(300);
  assert.ok(receivedBy(nodes, 'n3').some((r) => r.from === 'n2' && r.msg.type === 'ping' && r.msg.seq > 5));
  assert.ok(!receivedBy(nodes, 'n3').some((r) => r.from === 'n1' && r.msg.type === 'ping' && r.msg.seq > 5));
});

test('blockOneWay is one-way', () => {
  const sim = new Simulation({ seed: 6 });
  const nodes = startCluster(sim, ['n1', 'n2']);
  sim.blockOneWay('n1', 'n2');
  sim.runFor(300);
  assert.equal(receivedBy(nodes, 'n2').length, 0, 'n1 -> n2 blocked');
  const atN1 = receivedBy(nodes, 'n1');
  assert.ok(atN1.some((r) => r.msg.type === 'ping'), 'n2 -> n1 open');
  assert.ok(!atN1.some((r) => r.msg.type === 'pong'), 'replies to n2 are lost');
});

test('clog holds traffic, then delivers it late', () => {
  const sim = new Simulation({ seed: 7, network: NETWORK_FAULTS_CALM });
  const nodes = startCluster(sim);
  sim.clog('n1', 200);
  sim.runFor(199);
  assert.equal(receivedBy(nodes, 'n1').length, 0);
  assert.ok(sim.stats().messagesHeld > 10);
  assert.equal(sim.stats().messagesDropped, 0);
  sim.runFor(50);
  assert.ok(receivedBy(nodes, 'n1').length > 10, 'held messages released');
  assert.equal(sim.stats().messagesDropped, 0);
});

test('heal releases clogged traffic early', () => {
  const sim = new Simulation({ seed: 7 });
  const nodes = startCluster(sim);
  sim.clog('n1', 10_000);
  sim.runFor(100);
  sim.heal();
  sim.runFor(50);
  assert.ok(receivedBy(nodes, 'n1').length > 5);
});

test('messages are deep-copied at send', () => {
  const sim = new Simulation({ seed: 8 });
  const a = sim.createEnv('a');
  const b = sim.createEnv('b');
  const got: WireMessage[] = [];
  b.net.onReceive((_from, msg) => got.push(msg));
  const sent = { type: 'x', nested: { list: [1, 2] } };
  a.net.send('b', sent);
  sent.nested.list.push(3);
  sim.runFor(100);
  assert.deepEqual(got, [{ type: 'x', nested: { list: [1, 2] } }]);
  assert.notEqual(got[0], sent);
});

test('crash drops deliveries to the node; a restarted node only gets new traffic', () => {
  const sim = new Simulation({ seed: 9, network: { latencyMsBase: 10, latencyMsJitter: 0, tailProbability: 0 } });
  const a = sim.createEnv('a');
  sim.createEnv('b');
  a.net.send('b', { type: 'early' });
  sim.runFor(5);
  sim.crash('b');
  sim.runFor(2);
  const b = sim.restart('b');
  const got: string[] = [];
  b.net.onReceive((_from, msg) => got.push(msg.type));
  a.net.send('b', { type: 'late' });
  sim.runFor(50);
  assert.deepEqual(got, ['late']);
  assert.equal(sim.stats().messagesDropped, 1);
});

test('handler exceptions propagate out of the run', () => {
  const sim = new Simulation({ seed: 9 });
  const a = sim.createEnv('a');
  const b = sim.createEnv('b');
  b.net.onReceive(() => {
    throw new Error('bug in handler');
  });
  a.net.send('b', { type: 'boom' });
  assert.throws(() => sim.runFor(100), /bug in handler/);
});

test('unknown peers throw; registered addresses and simulation nodes do not', () => {
  const sim = new Simulation({ seed: 10 });
  const a = sim.createEnv('a');
  sim.createEnv('b');
  assert.throws(() => a.net.send('ghost', { type: 'x' }), UnknownPeerError);
  a.net.send('b', { type: 'x' });
  a.net.setPeerAddress('ghost', '10.0.0.9:8087');
  a.net.send('ghost', { type: 'x' }); // accepted, then lost: nobody is there
  a.net.removePeer('b');
  assert.throws(() => a.net.send('b', { type: 'x' }), UnknownPeerError);
  sim.runFor(100);
  assert.equal(sim.stats().messagesDelivered, 0);
});

test('the per-peer in-flight limit throws OverloadError', () => {
  const sim = new Simulation({ seed: 10, network: { inFlightMessagesMax: 5 } });
  const a = sim.createEnv('a');
  sim.createEnv('b').net.onReceive(() => {});
  for (let i = 0; i < 5; i++) a.net.send('b', { type: 'x' });
  assert.throws(() => a.net.send('b', { type: 'x' }), OverloadError);
  sim.runFor(100);
  a.net.send('b', { type: 'x' });
  sim.runFor(100);
  assert.equal(sim.stats().messagesDelivered, 6);
});

test('setFaults changes probabilities mid-run', () => {
  const sim = new Simulation({ seed: 2, network: { dropProbability: 1 } });
  startCluster(sim);
  sim.runFor(200);
  assert.equal(sim.stats().messagesDelivered, 0);
  sim.setFaults({ dropProbability: 0 });
  sim.runFor(200);
  assert.ok(sim.stats().messagesDelivered > 20);
  assert.throws(() => sim.setFaults({ dropProbability: 2 }));
});
