// Shapes of the handoff subsystem shared by the manager, its wire messages,
// the admin replies and their rendering. Plain data (msgpack- and JSON-able).
import type { NodeName } from '../env.js';

/**
 * ownership: the partition moves to its new owner after `cluster commit`;
 * hinted: a fallback gives back what it accepted for a primary that was down;
 * repair: a neighbour sends the keys of a partition it also replicates.
 */
export type TransferKind = 'ownership' | 'hinted' | 'repair';
export type TransferDirection = 'outbound' | 'inbound';

/**
 * Outbound phases: waiting for the receiver to accept (starting), streaming
 * the fold, or waiting for the node's fold turn (folding), sending what
 * changed meanwhile and waiting for every batch's ack (draining), waiting for
 * the receiver's final ack (finishing), waiting for the ring to switch owners
 * (awaiting-switch), deleting the local copy (dropping). Inbound: receiving.
 * From finishing on, a transfer holds no concurrency slot.
 */
export type TransferPhase = 'starting' | 'folding' | 'draining' | 'finishing' | 'awaiting-switch' | 'dropping' | 'receiving';

export interface TransferRow {
  id: string;
  /** The node that reports this row. */
  node: NodeName;
  direction: TransferDirection;
  kind: TransferKind;
  /** Partition read from on the sender. */
  partition: number;
  /** Partition written to on the receiver (differs only for repair). */
  targetPartition: number;
  /** The other end: receiver of an outbound row, sender of an inbound one. */
  peer: NodeName;
  phase: TransferPhase;
  items: number;
  bytes: number;
  /** Items the sender expects to send in all, when it could estimate it. */
  itemsTotal?: number;
  /** Attempt number of this partition's transfer (1 = first). */
  attempt: number;
  elapsedMs: number;
}
