// Admin requests of the handoff subsystem (`rondo admin transfers|repair`)
// and the report they return. The node that receives the request asks every
// live member for its rows, so one call shows the whole cluster.
import type { NodeName } from '../env.js';
import type { PendingTransfer } from '../membership/index.js';
import type { TransferRow } from './types.js';

export type HandoffAdminRequest =
  /** Active transfers on every live member, and the ring's pending ownership changes. */
  | { type: 'handoff.transfers' }
  /** Cancel this node's outbound transfer of `partition` (it is retried later). */
  | { type: 'handoff.cancel'; partition: number }
  /** Rebuild `partition` on its owner from the neighbouring partitions' replicas. */
  | { type: 'handoff.repair'; partition: number }
  /** This node's handoff_concurrency; with `limit`, set it first (riak-admin transfer-limit; the CLI asks each member). */
  | { type: 'handoff.transfer-limit'; limit?: number };

export const HANDOFF_ADMIN_TYPES: ReadonlySet<string> = new Set(['handoff.transfers', 'handoff.cancel', 'handoff.repair', 'handoff.transfer-limit']);

export function isHandoffAdminRequest(msg: { type: string }): msg is HandoffAdminRequest {
  return HANDOFF_ADMIN_TYPES.has(msg.type);
}

export interface NodeTransfers {
  node: NodeName;
  rows: TransferRow[];
  /** Set when the node did not answer (down, or timed out). */
  error?: string;
}

export interface TransfersReport {
  /** Node that assembled the report. */
  via: NodeName;
  /** handoff_concurrency per direction on the reporting node. */
  concurrency: number;
  nodes: NodeTransfers[];
  /** Ownership changes the ring still waits for (from the reporting node's ring). */
  pending: PendingTransfer[];
}
