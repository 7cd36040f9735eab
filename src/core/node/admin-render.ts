// Turns membership admin replies into what `rondo admin` prints (in the shape
// riak-admin users know) plus structured data for tools and tests.
import type { NodeName } from '../env.js';
import type { Liveness } from '../detector/index.js';
import type { AdminCommand, AdminReply as CoreReply, MemberStatusRow, RingState } from '../membership/index.js';
import type { AdminReply } from './admin-messages.js';

const RULE = '-'.repeat(79);

function banner(title: string): string {
  const pad = Math.max(0, 79 - title.length - 2);
  return `${'='.repeat(Math.floor(pad / 2))} ${title} ${'='.repeat(Math.ceil(pad / 2))}`;
}

function pct(value: number): string {
  return `${value.toFixed(1)}%`.padStart(6);
}

export function memberTable(rows: readonly MemberStatusRow[]): string[] {
  const lines = [banner('Membership'), `${'Status'.padEnd(10)}${'Ring'.padStart(7)}${'Pending'.padStart(10)}  ${'Reach'.padEnd(7)}Node (address)`, RULE];
  const counts: Record<string, number> = { valid: 0, leaving: 0, exiting: 0, joining: 0, down: 0 };
  for (const row of rows) {
    counts[row.status] = (counts[row.status] ?? 0) + 1;
    const pending = row.pendingPct === row.ringPct ? '--'.padStart(10) : pct(row.pendingPct).padStart(10);
    const reach = row.up === undefined ? 'self' : row.up ? 'up' : 'DOWN';
    lines.push(`${row.status.padEnd(10)}${pct(row.ringPct).padStart(7)}${pending}  ${reach.padEnd(7)}${row.name} (${row.address})${row.staged ? `  staged: ${row.staged}` : ''}`);
  }
  lines.push(RULE, `Valid:${counts.valid} / Leaving:${counts.leaving} / Exiting:${counts.exiting} / Joining:${counts.joining} / Down:${counts.down}`);
  return lines;
}

function summarizeTransfers(transfers: readonly { from: NodeName; to: NodeName }[]): string[] {
  const byPair = new Map<string, number>();
  for (const t of transfers) byPair.set(`${t.from} → ${t.to}`, (byPair.get(`${t.from} → ${t.to}`) ?? 0) + 1);
  return [...byPair.entries()].sort().map(([pair, n]) => `  ${String(n).padStart(4)} partition(s) ${pair}`);
}

export function renderAdminReply(cmd: AdminCommand, reply: CoreReply | undefined, ring: RingState, liveness: readonly { node: NodeName; liveness: Liveness }[]): AdminReply {
  if (reply === undefined || reply.kind === 'ok' || reply.kind === 'ring') {
    const what = cmd.cmd === 'leave' || cmd.cmd === 'replace' || cmd.cmd === 'force-remove' ? `staged: ${describe(cmd)}; review with 'cluster plan', apply with 'cluster commit'` : `${cmd.cmd}: ok`;
    if (cmd.cmd === 'down') {
      return { type: 'admin.reply', ok: true, lines: [`${cmd.node} marked down; if it was the claimant, the first valid member takes over. It becomes valid again when it runs.`] };
    }
    const extra = cmd.cmd === 'force-remove' ? [`NOTE: ${cmd.node}'s data is not handed off; its partitions are rebuilt from the other replicas by read repair (and by anti-entropy once it exists).`] : [];
    return { type: 'admin.reply', ok: true, lines: [what, ...extra] };
  }
  switch (reply.kind) {
    case 'plan': {
      const { plan } = reply;
      const lines = [banner('Staged Changes'), `${'Action'.padEnd(15)}Details`, RULE];
      for (const change of plan.changes) {
        const [action, ...rest] = change.split(' ');
        lines.push(`${(action ?? '').padEnd(15)}${rest.join(' ')}`);
      }
      lines.push(RULE, 'Ownership after the transition (partitions):');
      for (const node of [...new Set([...Object.keys(plan.ownershipBefore), ...Object.keys(plan.ownershipAfter)])].sort()) {
        lines.push(`  ${node.padEnd(20)} ${String(plan.ownershipBefore[node] ?? 0).padStart(5)} → ${String(plan.ownershipAfter[node] ?? 0).padStart(5)}`);
      }
      lines.push(`Transfers resulting from cluster changes: ${plan.transfers.length}`, ...summarizeTransfers(plan.transfers));
      if (plan.changes.some((c) => c.startsWith('force-remove'))) lines.push('NOTE: force-removed nodes hand off nothing: their partitions are rebuilt from the other replicas.');
      return { type: 'admin.reply', ok: true, lines, data: { changes: plan.changes, ownershipBefore: plan.ownershipBefore, ownershipAfter: plan.ownershipAfter, transfers: plan.transfers } };
    }
    case 'commit':
      return { type: 'admin.reply', ok: true, lines: [`Cluster changes committed (ring epoch ${reply.epoch}): ${reply.changes.join(', ')}`], data: reply };
    case 'member-status': {
      // Reachability comes from this node's failure detector, not from the ring.
      const dead = new Set(liveness.filter((l) => l.liveness === 'dead').map((l) => l.node));
      const known = new Set(liveness.map((l) => l.node));
      const rows = reply.members.map((row) => ({ ...row, up: known.has(row.name) ? !dead.has(row.name) : undefined }));
      return { type: 'admin.reply', ok: true, lines: memberTable(rows), data: { claimant: ring.ownership.claimant, epoch: ring.ownership.epoch, members: rows } };
    }
    case 'ring-status': {
      const { status } = reply;
      const down = liveness.filter((l) => l.liveness === 'dead').map((l) => l.node);
      const lines = [
        banner('Claimant'),
        `Claimant: ${status.claimant} (${status.claimantAddress ?? 'address unknown'})`,
        `Ring epoch: ${status.epoch}`,
        `Ring ready: ${status.ringReady}`,
        banner('Ownership Handoff'),
        ...(status.pending.length === 0 ? ['No pending changes.'] : summarizeTransfers(status.pending)),
        ...(status.staged.length > 0 ? [banner('Staged Changes'), ...status.staged] : []),
        banner('Unreachable Nodes'),
        down.length === 0 ? 'All nodes are up and reachable' : `The following nodes are unreachable: ${down.join(', ')}`,
      ];
      return { type: 'admin.reply', ok: true, lines, data: { ...status, unreachable: down } };
    }
    default: {
      const unreachable: never = reply;
      return { type: 'admin.reply', ok: true, lines: [JSON.stringify(unreachable)] };
    }
  }
}

function describe(cmd: AdminCommand): string {
  switch (cmd.cmd) {
    case 'leave':
      return `leave ${cmd.node ?? ''}`.trim();
    case 'replace':
      return `replace ${cmd.node} with ${cmd.by}`;
    case 'force-remove':
      return `force-remove ${cmd.node}`;
    default:
      return cmd.cmd;
  }
}
