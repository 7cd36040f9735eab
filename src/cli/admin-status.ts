// The CLI side of `rondo admin transfer-limit` and `wait-for-service`: both
// talk to several nodes (or the same node several times), so they run here
// over the admin channel rather than as one request.
import { HANDOFF_CONCURRENCY_MAX } from '../core/constants.js';
import { InvalidArgumentError, RondoError } from '../core/errors.js';
import { transferLimitTable, type TransferLimitRow } from '../core/node/admin-status.js';
import { adminCall, type AdminTarget } from './admin.js';

/** One try of wait-for-service waits at most this long for the node's answer. */
const WAIT_FOR_SERVICE_CALL_TIMEOUT_MS = 2_000;
/** Between tries of wait-for-service (riak-admin waits 3 s; a test or a script wants less). */
export const WAIT_FOR_SERVICE_INTERVAL_MS = 1_000;

interface MemberRow {
  name: string;
  address: string;
  status: string;
  up: boolean | undefined;
}

async function membersOf(target: AdminTarget): Promise<MemberRow[]> {
  const reply = await adminCall(target, { type: 'admin.member-status' });
  const data = reply.data as { members: MemberRow[] } | undefined;
  if (data === undefined) throw new RondoError('internal', `${target.address} sent no member list`);
  return data.members;
}

export function parseTransferLimit(text: string): number {
  const limit = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(limit) || limit < 1 || limit > HANDOFF_CONCURRENCY_MAX) {
    throw new InvalidArgumentError(`transfer limit must be an integer in 1..${HANDOFF_CONCURRENCY_MAX}, got ${text}`);
  }
  return limit;
}

export interface TransferLimitResult {
  lines: string[];
  rows: TransferLimitRow[];
  /** Some node to set could not be reached. */
  failed: boolean;
}

/**
 * riak-admin transfer-limit: no arguments shows every member's limit;
 * `<limit>` sets it on every member; `<node> <limit>` on one. Arguments are
 * checked, and the node looked up, before anything is changed.
 */
export async function transferLimit(target: AdminTarget, args: readonly string[]): Promise<TransferLimitResult> {
  if (args.length > 2) throw new InvalidArgumentError('usage: transfer-limit [[node] limit]');
  const limit = args.length === 0 ? undefined : parseTransferLimit(args[args.length - 1] as string);
  const members = (await membersOf(target)).filter((m) => m.status !== 'removed');
  const only = args.length === 2 ? (args[0] as string) : undefined;
  if (only !== undefined && !members.some((m) => m.name === only)) {
    throw new InvalidArgumentError(`${only} is not a member; members: ${members.map((m) => m.name).join(', ')}`);
  }
  const chosen = only === undefined ? members : members.filter((m) => m.name === only);
  const rows = await Promise.all(
    chosen.map(async (m): Promise<TransferLimitRow> => {
      if (m.up === false) return { node: m.name, error: 'down' };
      try {
        const reply = await adminCall({ ...target, address: m.address, timeoutMs: WAIT_FOR_SERVICE_CALL_TIMEOUT_MS }, limit === undefined ? { type: 'handoff.transfer-limit' } : { type: 'handoff.transfer-limit', limit });
        return { node: m.name, limit: (reply.data as { limit: number }).limit };
      } catch (err) {
        return { node: m.name, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const failedNodes = rows.filter((r) => r.error !== undefined).map((r) => r.node);
  const lines: string[] = [];
  if (limit !== undefined) {
    const setOn = rows.filter((r) => r.error === undefined).map((r) => r.node);
    if (setOn.length > 0) lines.push(only !== undefined ? `Set transfer limit for ${only} to ${limit}.` : failedNodes.length === 0 ? `Set transfer limit for all nodes to ${limit}.` : `Set transfer limit for ${setOn.join(', ')} to ${limit}.`);
    if (failedNodes.length > 0) lines.push(`Failed to set transfer limit for ${failedNodes.join(', ')}`);
  }
  lines.push(...transferLimitTable(rows));
  return { lines, rows, failed: limit !== undefined && failedNodes.length > 0 };
}

/** `kv` or Riak's `riak_kv` → the registered service prefix `kv`. */
export function serviceName(text: string): string {
  const name = text.startsWith('riak_') ? text.slice('riak_'.length) : text;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new InvalidArgumentError(`service ${JSON.stringify(text)}: a service name such as riak_kv or kv`);
  return name;
}

export interface WaitForServiceResult {
  service: string;
  node: string;
  up: boolean;
  waitedMs: number;
  tries: number;
}

/**
 * riak-admin wait-for-service: ask the node every WAIT_FOR_SERVICE_INTERVAL_MS
 * which services run, printing `riak_kv is not up: [...]` until `riak_kv is
 * up`, for at most `timeoutMs`. `node` is an address (host:port) or a member
 * name looked up through `target`.
 */
export async function waitForService(o: { target: AdminTarget; service: string; node?: string; timeoutMs: number; print: (line: string) => void }): Promise<WaitForServiceResult> {
  const name = serviceName(o.service);
  const shown = `riak_${name}`;
  if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) throw new InvalidArgumentError('--timeout wants a positive number of seconds');
  const startedMs = Date.now();
  for (let tries = 1; ; tries++) {
    const leftMs = o.timeoutMs - (Date.now() - startedMs);
    let running: string[] = [];
    let where = o.node ?? o.target.address;
    try {
      const address = o.node === undefined || o.node.includes(':') ? (o.node ?? o.target.address) : await addressOf(o.target, o.node, leftMs);
      where = address;
      const reply = await adminCall({ ...o.target, address, timeoutMs: Math.max(1, Math.min(WAIT_FOR_SERVICE_CALL_TIMEOUT_MS, leftMs)) }, { type: 'admin.services' });
      running = (reply.data as { services: string[] }).services;
    } catch (err) {
      // Not up yet (or not reachable): that is what we wait for; a bad argument is not.
      if (err instanceof InvalidArgumentError) throw err;
    }
    if (running.includes(name)) {
      o.print(`${shown} is up`);
      return { service: shown, node: where, up: true, waitedMs: Date.now() - startedMs, tries };
    }
    o.print(`${shown} is not up: [${running.map((s) => `riak_${s}`).join(',')}]`);
    const remainingMs = o.timeoutMs - (Date.now() - startedMs);
    if (remainingMs <= 0) return { service: shown, node: where, up: false, waitedMs: Date.now() - startedMs, tries };
    await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_FOR_SERVICE_INTERVAL_MS, remainingMs)));
  }
}

async function addressOf(target: AdminTarget, node: string, leftMs: number): Promise<string> {
  const members = await membersOf({ ...target, timeoutMs: Math.max(1, Math.min(WAIT_FOR_SERVICE_CALL_TIMEOUT_MS, leftMs)) });
  const member = members.find((m) => m.name === node);
  if (member === undefined) throw new InvalidArgumentError(`${node} is not a member; members: ${members.map((m) => m.name).join(', ')}`);
  return member.address;
}
