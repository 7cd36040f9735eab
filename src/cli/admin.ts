// `rondo admin ...`: talks to a running node over the authenticated RPC channel.
import type { WireMessage } from '../core/env.js';
import { RondoError } from '../core/errors.js';
import type { AdminReply, AdminRequest } from '../core/node/admin-messages.js';
import type { BucketTypeRequest, KvAdminRequest } from '../kv/admin/index.js';
import type { HandoffAdminRequest } from '../core/handoff/admin.js';
import type { CpuProfileRequest } from '../core/host/cpu-profiler.js';
import { rpcRequest } from '../core/transport/index.js';

/** Every request the admin channel accepts. */
export type AnyAdminRequest = AdminRequest | BucketTypeRequest | HandoffAdminRequest | CpuProfileRequest | KvAdminRequest;

export interface AdminTarget {
  address: string;
  clusterSecret: string;
  timeoutMs?: number;
}

export async function adminCall(target: AdminTarget, req: AnyAdminRequest): Promise<AdminReply> {
  const reply: WireMessage = await rpcRequest({
    address: target.address,
    clusterSecret: target.clusterSecret,
    role: 'admin',
    msg: req,
    ...(target.timeoutMs !== undefined ? { timeoutMs: target.timeoutMs } : {}),
  });
  if (reply.type !== 'admin.reply') throw new RondoError('internal', `unexpected reply ${reply.type} from ${target.address}`);
  return reply as AdminReply;
}

/**
 * Plan and commit must run on the claimant. When the node we asked is not the
 * claimant, look the claimant's address up from member-status and ask it.
 */
export async function adminCallOnClaimant(target: AdminTarget, req: AnyAdminRequest): Promise<{ reply: AdminReply; via?: string }> {
  try {
    return { reply: await adminCall(target, req) };
  } catch (err) {
    if (!(err instanceof RondoError) || err.code !== 'not_claimant') throw err;
    const status = await adminCall(target, { type: 'admin.member-status' });
    const data = status.data as { claimant: string; members: { name: string; address: string }[] } | undefined;
    const claimant = data?.members.find((m) => m.name === data.claimant);
    if (!claimant) throw err;
    const reply = await adminCall({ ...target, address: claimant.address }, req);
    return { reply, via: `${claimant.name} (${claimant.address})` };
  }
}
