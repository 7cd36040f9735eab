// A tiny protocol for simulator tests: every node pings a random peer on a
// jittered timer; a ping is answered with a pong. Counts what each node saw.
import type { Env, NodeName, WireMessage } from '../../../src/core/env.js';
import type { Simulation } from '../../../src/core/sim/index.js';

export type PingPongMessage = { type: 'ping'; seq: number; from: NodeName } | { type: 'pong'; seq: number };

export interface PingPongNode {
  env: Env;
  received: { from: NodeName; msg: PingPongMessage }[];
  pingsSent: number;
}

export const NODES: readonly NodeName[] = ['n1', 'n2', 'n3'];

export function startNode(env: Env, peers: readonly NodeName[], intervalMs = 10): PingPongNode {
  const node: PingPongNode = { env, received: [], pingsSent: 0 };
  const send = (to: NodeName, msg: PingPongMessage): void => env.net.send(to, msg);
  env.net.onReceive((from: NodeName, raw: WireMessage) => {
    const msg = raw as PingPongMessage;
    node.received.push({ from, msg });
    if (msg.type === 'ping') send(from, { type: 'pong', seq: msg.seq });
  });
  const others = peers.filter((peer) => peer !== env.nodeName);
  const tick = (): void => {
    const to = others[env.random.int(others.length)] as NodeName;
    send(to, { type: 'ping', seq: node.pingsSent++, from: env.nodeName });
    env.setTimer(intervalMs + env.random.int(intervalMs), tick);
  };
  env.setTimer(env.random.int(intervalMs), tick);
  return node;
}

export function startCluster(sim: Simulation, names: readonly NodeName[] = NODES): Map<NodeName, PingPongNode> {
  const nodes = new Map<NodeName, PingPongNode>();
  for (const name of names) nodes.set(name, startNode(sim.createEnv(name), names));
  return nodes;
}

export function receivedBy(nodes: Map<NodeName, PingPongNode>, name: NodeName): PingPongNode['received'] {
  const node = nodes.get(name);
  if (node === undefined) throw new Error(`no node ${name}`);
  return node.received;
}
