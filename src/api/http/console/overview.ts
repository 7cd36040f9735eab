// The web console's one JSON document (GET /console/api/overview): members,
// ring, pending ownership changes, transfers and health, as this node sees
// them. buildOverview is pure: the same inputs give the same JSON, so it is
// unit-tested without a node; the node hands the inputs in through a
// ConsoleSource (src/node.ts wires it), so src/api never reaches into the node.
import assert from 'node:assert/strict';
import type { Liveness } from '../../../core/detector/index.js';
import type { NodeName } from '../../../core/env.js';
import type { TransfersReport } from '../../../core/handoff/admin.js';
import { percent } from '../../../core/handoff/render.js';
import type { MemberStatus, RingState } from '../../../core/membership/index.js';

/** This process's health, sampled by the node (the API layer reads no process counters itself). */
export interface ProcessHealth {
  uptimeMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Share of one core used since the previous sample (100 = one core busy); undefined on the first sample. */
  cpuPercent: number | undefined;
}

/** What the console needs from the running node. Read-only: nothing here changes the node. */
export interface ConsoleSource {
  readonly nodeName: NodeName;
  ring(): RingState;
  /** This node's failure detector's view of its peers. */
  liveness(): readonly { node: NodeName; liveness: Liveness }[];
  /** Active transfers on every live member and the ring's pending changes (as `rondo admin transfers`). */
  transfers(): Promise<TransfersReport>;
  health(): ProcessHealth;
}

export interface OverviewMember {
  name: NodeName;
  address: string;
  status: MemberStatus;
  /** Staged change not yet committed ("leave", "replace by n5", ...), or null. */
  staged: string | null;
  /** As this node's failure detector sees it: true for this node itself; null when the detector does not know the node. */
  up: boolean | null;
  /** alive | suspect | dead from the detector; "self" for this node; null when unknown. */
  liveness: Liveness | 'self' | null;
  self: boolean;
  claimant: boolean;
  /** Partitions it owns now, and once every pending change is done. */
  partitions: number;
  partitionsAfter: number;
}

export interface OverviewTransfer {
  /** The node that reported the row. */
  node: NodeName;
  direction: 'outbound' | 'inbound';
  kind: string;
  partition: number;
  targetPartition: number;
  peer: NodeName;
  phase: string;
  items: number;
  itemsTotal: number | null;
  /** Whole percent done, null without an estimate of the total. */
  percent: number | null;
  bytes: number;
  elapsedMs: number;
  bytesPerSecond: number;
  itemsPerSecond: number;
  attempt: number;
}

export interface OverviewHealth {
  node: NodeName;
  up: boolean | null;
  self: boolean;
  /** Only for this node (others' process counters are not gossiped). */
  uptimeSeconds?: number;
  rssBytes?: number;
  heapUsedBytes?: number;
  cpuPercent?: number | null;
}

export interface ConsoleOverview {
  version: 1;
  node: NodeName;
  clusterName: string;
  claimant: NodeName;
  epoch: number;
  ringSize: number;
  /** Owner of each partition, by index. */
  owners: NodeName[];
  members: OverviewMember[];
  pending: { partition: number; from: NodeName; to: NodeName; epoch: number }[];
  transfers: OverviewTransfer[];
  /** Members whose transfer rows could not be fetched, and why. */
  transferErrors: { node: NodeName; error: string }[];
  handoffConcurrency: number;
  health: OverviewHealth[];
}

export interface OverviewInput {
  self: NodeName;
  ring: RingState;
  liveness: readonly { node: NodeName; liveness: Liveness }[];
  transfers: TransfersReport;
  health: ProcessHealth;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function countOwners(owners: readonly NodeName[]): Map<NodeName, number> {
  const counts = new Map<NodeName, number>();
  for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}

function describeStaged(staged: RingState['members'][string]['staged']): string | null {
  if (staged === null) return null;
  return staged.kind === 'replace' ? `replace by ${staged.by}` : staged.kind;
}

export function buildOverview(input: OverviewInput): ConsoleOverview {
  const { ring, self } = input;
  assert.equal(ring.ownership.owners.length, ring.ringSize, 'the ring has one owner per partition');
  const liveness = new Map(input.liveness.map((l) => [l.node, l.liveness]));
  const now = countOwners(ring.ownership.owners);
  const after = [...ring.ownership.owners];
  for (const t of ring.ownership.pending) after[t.partition] = t.to;
  const heading = countOwners(after);
  const members = Object.values(ring.members)
    .filter((m) => m.status !== 'removed')
    .sort((a, b) => cmp(a.name, b.name))
    .map((m): OverviewMember => {
      const isSelf = m.name === self;
      const seen = isSelf ? 'self' : (liveness.get(m.name) ?? null);
      return {
        name: m.name,
        address: m.address,
        status: m.status,
        staged: describeStaged(m.staged),
        up: seen === null ? null : seen !== 'dead',
        liveness: seen,
        self: isSelf,
        claimant: m.name === ring.ownership.claimant,
        partitions: now.get(m.name) ?? 0,
        partitionsAfter: heading.get(m.name) ?? 0,
      };
    });
  const transfers = input.transfers.nodes
    .flatMap((n) => n.rows)
    .map((row): OverviewTransfer => {
      const seconds = row.elapsedMs / 1000;
      return {
        node: row.node,
        direction: row.direction,
        kind: row.kind,
        partition: row.partition,
        targetPartition: row.targetPartition,
        peer: row.peer,
        phase: row.phase,
        items: row.items,
        itemsTotal: row.itemsTotal ?? null,
        percent: row.itemsTotal === undefined ? null : percent(row.items, row.itemsTotal),
        bytes: row.bytes,
        elapsedMs: row.elapsedMs,
        bytesPerSecond: seconds > 0 ? Math.round(row.bytes / seconds) : 0,
        itemsPerSecond: seconds > 0 ? Math.round(row.items / seconds) : 0,
        attempt: row.attempt,
      };
    })
    .sort((a, b) => cmp(a.node, b.node) || (a.direction === b.direction ? 0 : a.direction === 'outbound' ? -1 : 1) || a.partition - b.partition || cmp(a.peer, b.peer));
  const health = members.map((m): OverviewHealth => {
    if (!m.self) return { node: m.name, up: m.up, self: false };
    const h = input.health;
    return { node: m.name, up: true, self: true, uptimeSeconds: Math.floor(h.uptimeMs / 1000), rssBytes: h.rssBytes, heapUsedBytes: h.heapUsedBytes, cpuPercent: h.cpuPercent === undefined ? null : Math.round(h.cpuPercent * 10) / 10 };
  });
  const overview: ConsoleOverview = {
    version: 1,
    node: self,
    clusterName: ring.clusterName,
    claimant: ring.ownership.claimant,
    epoch: ring.ownership.epoch,
    ringSize: ring.ringSize,
    owners: [...ring.ownership.owners],
    members,
    pending: [...ring.ownership.pending].sort((a, b) => a.partition - b.partition).map((t) => ({ partition: t.partition, from: t.from, to: t.to, epoch: t.epoch })),
    transfers,
    transferErrors: input.transfers.nodes.filter((n) => n.error !== undefined).map((n) => ({ node: n.node, error: n.error ?? '' })).sort((a, b) => cmp(a.node, b.node)),
    handoffConcurrency: input.transfers.concurrency,
    health,
  };
  assert.ok(overview.members.filter((m) => m.self).length <= 1, 'at most one member is this node');
  return overview;
}

/**
 * The overview as the handler serves it: every call asks the live members
 * for their transfer rows, so callers that arrive while one is being built
 * share it (any number of open consoles cost one round of status requests
 * at a time).
 */
export function overviewProvider(source: ConsoleSource): () => Promise<ConsoleOverview> {
  let inFlight: Promise<ConsoleOverview> | undefined;
  return () => {
    inFlight ??= source
      .transfers()
      .then((transfers) => buildOverview({ self: source.nodeName, ring: source.ring(), liveness: source.liveness(), transfers, health: source.health() }))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
