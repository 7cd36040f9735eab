// Spreads cluster metadata (bucket types, bucket properties, ...) to every
// member: a local write is persisted, then pushed to all members; every
// METADATA_GOSSIP_INTERVAL_MS a digest goes to one random member, which
// answers with its whole state when the digests differ (push-pull). Merge is
// a semilattice (store.ts), so order, loss and duplication do not matter.
import { pack, unpack } from 'msgpackr';
import { METADATA_GOSSIP_INTERVAL_MS } from '../constants.js';
import type { NodeName, TimerId, WireMessage } from '../env.js';
import { assert } from '../errors.js';
import { presentMembers } from '../membership/index.js';
import type { ClusterNode } from '../node/cluster-node.js';
import { pick } from '../random.js';
import { compareEntries, emptyMetadata, get, getEntry, list, mergeMetadata, metadataDigest, put, remove } from './store.js';
import type { MetadataState } from './types.js';

const META_KEY = 'metadata';

export type MetadataMessage = { type: 'meta.digest'; digest: string } | { type: 'meta.state'; state: MetadataState };

function isMetadataMessage(msg: WireMessage): msg is MetadataMessage {
  const m = msg as { type: string; digest?: unknown; state?: unknown };
  if (m.type === 'meta.digest') return typeof m.digest === 'string';
  if (m.type === 'meta.state') return typeof m.state === 'object' && m.state !== null && typeof (m.state as { prefixes?: unknown }).prefixes === 'object';
  return false;
}

export class MetadataService {
  private readonly cluster: ClusterNode;
  private readonly gossipIntervalMs: number;
  private state: MetadataState;
  private digest: string;
  private timer: TimerId | undefined;
  private readonly listeners = new Set<(state: MetadataState) => void>();
  /** What each peer last showed us: its digest, and its whole state when it sent one. */
  private readonly peerDigests = new Map<NodeName, string>();
  private readonly peerStates = new Map<NodeName, MetadataState>();

  constructor(opts: { cluster: ClusterNode; gossipIntervalMs?: number }) {
    this.cluster = opts.cluster;
    this.gossipIntervalMs = opts.gossipIntervalMs ?? METADATA_GOSSIP_INTERVAL_MS;
    assert(this.gossipIntervalMs > 0, 'metadata gossip interval positive');
    const stored = this.cluster.env.meta.load(META_KEY);
    this.state = stored ? (unpack(stored) as MetadataState) : emptyMetadata();
    this.digest = metadataDigest(this.state);
    this.cluster.registerService('meta', { receive: (from, msg) => this.receive(from, msg) });
  }

  start(): void {
    assert(this.timer === undefined, 'start once');
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) this.cluster.env.clearTimer(this.timer);
    this.timer = undefined;
  }

  current(): MetadataState {
    return this.state;
  }

  get(prefix: string, key: string): unknown {
    return get(this.state, prefix, key);
  }

  list(prefix: string): [string, unknown][] {
    return list(this.state, prefix);
  }

  /** Apply a pure update (e.g. one of src/kv/buckets' operations) locally, persist it, and push it to every member. */
  update(change: (state: MetadataState, writer: NodeName) => MetadataState): MetadataState {
    this.adopt(change(this.state, this.cluster.name));
    for (const peer of this.peers()) this.cluster.send(peer, { type: 'meta.state', state: this.state });
    return this.state;
  }

  put(prefix: string, key: string, value: unknown): void {
    this.update((state, writer) => put(state, prefix, key, value, writer));
  }

  remove(prefix: string, key: string): void {
    this.update((state, writer) => remove(state, prefix, key, writer));
  }

  /** Called with the new state after every change, local or learned. */
  onChange(listener: (state: MetadataState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(from: NodeName, msg: WireMessage): void {
    if (!isMetadataMessage(msg)) {
      this.cluster.env.log.warn({ from, type: msg.type }, 'malformed metadata message dropped');
      return;
    }
    if (msg.type === 'meta.digest') {
      this.peerDigests.set(from, msg.digest);
      if (msg.digest !== this.digest) this.cluster.send(from, { type: 'meta.state', state: this.state });
      return;
    }
    this.peerStates.set(from, msg.state);
    this.peerDigests.set(from, metadataDigest(msg.state));
    let merged: MetadataState;
    try {
      merged = mergeMetadata(this.state, msg.state);
    } catch (err) {
      this.cluster.env.log.warn({ from, err: (err as Error).message }, 'metadata state refused');
      return;
    }
    this.adopt(merged);
    // Push-pull: show the sender what it lacks, or acknowledge with our digest so it knows we have it all.
    if (metadataDigest(msg.state) !== this.digest) this.cluster.send(from, { type: 'meta.state', state: this.state });
    else this.cluster.send(from, { type: 'meta.digest', digest: this.digest });
  }

  /**
   * Whether `peer` is known to hold our version (or a later one) of an entry:
   * its last digest equals ours, or the last state it sent has that entry at
   * least as new. Used to decide that every node knows a bucket type.
   */
  peerKnows(peer: NodeName, prefix: string, key: string): boolean {
    const ours = getEntry(this.state, prefix, key);
    if (ours === undefined) return false;
    if (this.peerDigests.get(peer) === this.digest) return true;
    const theirs = this.peerStates.get(peer);
    const entry = theirs ? getEntry(theirs, prefix, key) : undefined;
    return entry !== undefined && compareEntries(entry, ours) >= 0;
  }

  /** Members (other than this node) not yet known to hold our version of the entry. */
  membersMissing(prefix: string, key: string): NodeName[] {
    return this.peers().filter((peer) => !this.peerKnows(peer, prefix, key));
  }

  /** Take `next` as our state: persist before anyone can learn of it, then notify. */
  private adopt(next: MetadataState): void {
    const digest = metadataDigest(next);
    if (digest === this.digest) return;
    this.cluster.env.meta.save(META_KEY, pack(next));
    this.state = next;
    this.digest = digest;
    for (const listener of this.listeners) listener(next);
  }

  private peers(): NodeName[] {
    return presentMembers(this.cluster.ring())
      .map((m) => m.name)
      .filter((name) => name !== this.cluster.name);
  }

  private schedule(): void {
    this.timer = this.cluster.env.setTimer(this.gossipIntervalMs, () => {
      const up = this.cluster.upNodes();
      const candidates = this.peers().filter((peer) => up.has(peer));
      if (candidates.length > 0) this.cluster.send(pick(this.cluster.env.random, candidates), { type: 'meta.digest', digest: this.digest });
      this.schedule();
    });
  }
}
