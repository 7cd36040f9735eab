// Requests the `rondo admin` CLI sends to a node over the authenticated RPC
// channel, and what comes back. One union, exhaustively switched in the node.
import type { NodeAddress, NodeName } from '../env.js';

export type AdminRequest =
  | { type: 'admin.node-info' }
  | { type: 'admin.join'; seed: NodeAddress }
  | { type: 'admin.leave'; node?: NodeName }
  | { type: 'admin.replace'; old: NodeName; new: NodeName }
  | { type: 'admin.force-remove'; node: NodeName }
  | { type: 'admin.down'; node: NodeName }
  | { type: 'admin.plan' }
  | { type: 'admin.commit' }
  | { type: 'admin.clear' }
  | { type: 'admin.member-status' }
  | { type: 'admin.ring-status' }
  /** Every stat of this node, the same values as its HTTP /stats (riak-admin status). */
  | { type: 'admin.status' }
  /** The stats whose names match a pattern with `*` wildcards (riak-admin stat show). */
  | { type: 'admin.stat-show'; pattern: string }
  /** Whether every member is up and shows this node's ring (riak-admin ringready). */
  | { type: 'admin.ringready' }
  /** Services registered and running on this node (riak-admin wait-for-service asks it). */
  | { type: 'admin.services' }
  /** Members, status, availability, ring and pending shares, claimant (riak-admin cluster status). */
  | { type: 'admin.cluster-status' };

export const ADMIN_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'admin.node-info',
  'admin.join',
  'admin.leave',
  'admin.replace',
  'admin.force-remove',
  'admin.down',
  'admin.plan',
  'admin.commit',
  'admin.clear',
  'admin.member-status',
  'admin.ring-status',
  'admin.status',
  'admin.stat-show',
  'admin.ringready',
  'admin.services',
  'admin.cluster-status',
]);

export interface NodeInfo {
  type: 'admin.node-info.reply';
  name: NodeName;
  address: NodeAddress;
  clusterName: string;
  protocolVersion: number;
  claimant: NodeName;
  memberCount: number;
}

/** Every reply carries printable lines for the CLI and structured data for tests and tools. */
export interface AdminReply {
  type: 'admin.reply';
  ok: true;
  lines: string[];
  data?: unknown;
}
