// Cluster metadata (riak_core's cluster_metadata): a map prefix → key → entry,
// gossiped between nodes and merged as a join-semilattice. It knows nothing of
// what it stores; bucket types, bucket properties and later security live in
// it under their own prefixes.
import type { NodeName } from '../env.js';

/**
 * One write of one key. `version` is a Lamport clock: every put or remove
 * takes the largest version its replica has seen, plus one. A removed key
 * keeps its entry as a tombstone (`tombstone: true`, `value: null`) so that a
 * stale copy of the old value cannot come back through gossip.
 */
export interface MetadataEntry {
  readonly version: number;
  readonly writer: NodeName;
  readonly tombstone: boolean;
  /** Plain JSON-like data (null, booleans, finite numbers, strings, arrays, plain objects). */
  readonly value: unknown;
}

export type MetadataPrefixEntries = Readonly<Record<string, MetadataEntry>>;

export interface MetadataState {
  /** Largest entry version this replica has seen (its Lamport clock). */
  readonly clock: number;
  readonly prefixes: Readonly<Record<string, MetadataPrefixEntries>>;
}

// --- limits (TigerStyle: a limit on everything) ---
export const METADATA_PREFIX_CHARS_MAX = 64;
export const METADATA_KEY_CHARS_MAX = 1_024;
/** Nesting depth of a stored value; deeper values are refused. */
export const METADATA_VALUE_DEPTH_MAX = 16;
