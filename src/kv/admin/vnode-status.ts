// `rondo admin vnode-status` (riak-admin vnode-status): one row per local
// partition with what the vnode host, the vnode and the store expose. The
// object count is an LMDB range count per partition: cheap for the stores
// Rondo runs, but it reads every key, so `--no-count` skips it.
import type { WireMessage } from '../../core/env.js';
import type { AdminReply } from '../../core/node/admin-messages.js';
import type { KvService, VnodeStatusRow } from '../service.js';

export type KvAdminRequest = { type: 'kv.vnode-status'; countObjects?: boolean };

export function isKvAdminRequest(msg: WireMessage): msg is KvAdminRequest {
  if (msg.type !== 'kv.vnode-status') return false;
  const countObjects = (msg as { countObjects?: unknown }).countObjects;
  return countObjects === undefined || typeof countObjects === 'boolean';
}

export function vnodeStatusLines(node: string, rows: readonly VnodeStatusRow[]): string[] {
  const header = `${'Partition'.padStart(9)}  ${'Role'.padEnd(8)} ${'Objects'.padStart(8)} ${'Pending'.padStart(7)} ${'Queued'.padStart(6)} ${'Waiting'.padStart(7)} ${'Processed'.padStart(9)}  Handoff`;
  const lines = [`Vnodes on ${node}: ${rows.length} (${rows.filter((r) => r.role === 'primary').length} primary, ${rows.filter((r) => r.role === 'fallback').length} fallback, ${rows.filter((r) => r.role === 'incoming').length} incoming, ${rows.filter((r) => r.role === 'idle').length} idle)`, header, '-'.repeat(79)];
  for (const r of rows) {
    const handoff = [...(r.nextOwner !== undefined ? [`ownership pending to ${r.nextOwner}`] : []), ...(r.role === 'fallback' || r.role === 'idle' ? [`owner ${r.owner}`] : []), ...r.handoff];
    lines.push(
      `${String(r.partition).padStart(9)}  ${r.role.padEnd(8)} ${(r.objects === undefined ? '-' : String(r.objects)).padStart(8)} ${String(r.pendingWrites).padStart(7)} ${String(r.queued).padStart(6)} ${String(r.awaiting).padStart(7)} ${String(r.processed).padStart(9)}  ${handoff.length === 0 ? '--' : handoff.join('; ')}`,
    );
  }
  return lines;
}

export async function handleKvAdmin(kv: KvService, req: KvAdminRequest): Promise<AdminReply> {
  const rows = await kv.vnodeStatus({ countObjects: req.countObjects ?? true });
  return { type: 'admin.reply', ok: true, lines: vnodeStatusLines(kv.name, rows), data: { node: kv.name, vnodes: rows } };
}
