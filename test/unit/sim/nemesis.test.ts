import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeName } from '../../../src/core/env.js';
import { Nemesis, Simulation } from '../../../src/core/sim/index.js';
import { startNode, type PingPongNode } from './ping-pong.js';

const NAMES: readonly NodeName[] = ['n1', 'n2', 'n3', 'n4', 'n5'];

function run(seed: number): { sim: Simulation; nodes: Map<NodeName, PingPongNode>; crashes: number; restarts: number; downMax: number } {
  const sim = new Simulation({ seed });
  const nodes = new Map<NodeName, PingPongNode>();
  for (const name of NAMES) nodes.set(name, startNode(sim.createEnv(name), NAMES));
  let crashes = 0;
  let restarts = 0;
  let downMax = 0;
  const nemesis = new Nemesis(sim, sim.fork('nemesis'), {
    nodes: NAMES,
    crashProbability: 0.3,
    partitionProbability: 0.3,
    clogProbability: 0.3,
    meanFaultDurationMs: 100,
    onCrash: (node) => {
      crashes++;
      nodes.delete(node);
    },
    onRestart: (node, env) => {
      restarts++;
      nodes.set(node, startNode(env, NAMES));
    },
  });
  const watch = (): void => {
    downMax = Math.max(downMax, NAMES.filter((name) => !sim.isUp(name)).length);
    sim.schedule(1, watch);
  };
  sim.schedule(0, watch);
  nemesis.start();
  sim.runFor(3_000);
  nemesis.stop();
  assert.deepEqual(nemesis.crashedNodes(), []);
  sim.runFor(500);
  return { sim, nodes, crashes, restarts, downMax };
}

test('nemesis injects faults, keeps a majority up, and stop() restores everything', () => {
  const { sim, nodes, crashes, restarts, downMax } = run(21);
  assert.ok(crashes > 0, 'crashed something');
  assert.equal(restarts, crashes, 'every crash was followed by a restart');
  assert.ok(downMax <= 2, `at most a minority down (saw ${downMax})`);
  assert.ok(sim.stats().messagesHeld > 0, 'clogged something');
  assert.ok(sim.stats().messagesDropped > 0, 'partitioned or crashed something');
  for (const name of NAMES) assert.ok(sim.isUp(name), `${name} up after stop`);
  // Liveness after stop: every node hears from the others again.
  const mark = new Map([...nodes].map(([name, node]) => [name, node.received.length]));
  sim.runFor(200);
  for (const [name, node] of nodes) assert.ok(node.received.length > (mark.get(name) ?? 0), `${name} hears traffic`);
  assert.equal(sim.network.isBlocked('n1', 'n2'), false);
});

test('nemesis is deterministic per seed', () => {
  const a = run(33);
  const b = run(33);
  const c = run(34);
  assert.equal(a.sim.traceHash(), b.sim.traceHash());
  assert.equal(a.crashes, b.crashes);
  assert.notEqual(a.sim.traceHash(), c.sim.traceHash());
});
