// Pure parts of the riak-admin style status commands: stat name patterns
// (`stat show`), the ringready verdict, and the tables `status`,
// `cluster status` and `transfer-limit` print. No I/O, no clock.
import type { NodeName } from '../env.js';
import { InvalidArgumentError, assert } from '../errors.js';
import type { MemberStatus } from '../membership/index.js';

/** Stat names are words of [A-Za-z0-9_.-]; a pattern may add `*` (any run of characters, Riak's wildcard). */
const STAT_PATTERN_CHARS = /^[A-Za-z0-9_.*-]+$/;
/** A pattern longer than this is surely a mistake (stat names are short). */
const STAT_PATTERN_CHARS_MAX = 200;

/** Compile a `stat show` pattern (e.g. `node_get_fsm_*`, `*.time`, `pbc_active`); throws InvalidArgumentError on other syntax. */
export function statPattern(pattern: string): (name: string) => boolean {
  if (pattern.length === 0 || pattern.length > STAT_PATTERN_CHARS_MAX || !STAT_PATTERN_CHARS.test(pattern)) {
    throw new InvalidArgumentError(`stat pattern ${JSON.stringify(pattern)}: use stat-name characters (letters, digits, _ . -) and * as a wildcard, e.g. node_get_fsm_* or *_active`);
  }
  const parts = pattern.split('*').map((p) => p.replace(/\./g, '\\.'));
  const re = new RegExp(`^${parts.join('.*')}$`);
  return (name) => re.test(name);
}

/** One stat as `status` prints it (Riak's `name : value`); arrays and objects as JSON. */
export function statLine(name: string, value: unknown): string {
  const shown = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return `${name} : ${shown}`;
}

export function statLines(stats: Readonly<Record<string, unknown>>, match: (name: string) => boolean = () => true): { lines: string[]; data: Record<string, unknown> } {
  const data: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const [name, value] of Object.entries(stats)) {
    if (!match(name)) continue;
    data[name] = value;
    lines.push(statLine(name, value));
  }
  return { lines, data };
}

export interface RingReadyMember {
  name: NodeName;
  status: MemberStatus;
  /** From this node's failure detector (self is up). */
  up: boolean;
  /** Its last ring seen here has this node's digest (self agrees). */
  agrees: boolean;
}

export type RingReadyVerdict =
  | { ready: true; nodes: NodeName[] }
  | { ready: false; reason: 'nodes_down'; down: NodeName[] }
  | { ready: false; reason: 'different_rings'; disagreeing: NodeName[]; nodes: NodeName[] };

/**
 * riak_core_status:ringready: every member must be up (else FALSE, nodes
 * down) and show the same ring (else FALSE, the ones that differ). Exiting
 * members are on their way out and are not asked.
 */
export function ringReadyVerdict(members: readonly RingReadyMember[]): RingReadyVerdict {
  const asked = members.filter((m) => m.status !== 'exiting').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  assert(asked.length > 0, 'ringready asks at least this node');
  const down = asked.filter((m) => !m.up || m.status === 'down').map((m) => m.name);
  if (down.length > 0) return { ready: false, reason: 'nodes_down', down };
  const nodes = asked.map((m) => m.name);
  const disagreeing = asked.filter((m) => !m.agrees).map((m) => m.name);
  return disagreeing.length === 0 ? { ready: true, nodes } : { ready: false, reason: 'different_rings', disagreeing, nodes };
}

function erlList(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(',')}]`;
}

/** What riak-admin ringready prints. */
export function ringReadyLine(v: RingReadyVerdict): string {
  if (v.ready) return `TRUE All nodes agree on the ring ${erlList(v.nodes)}`;
  if (v.reason === 'nodes_down') return `FALSE ${erlList(v.down)} down.  All nodes need to be up to check.`;
  return `FALSE Nodes ${erlList(v.disagreeing)} do not agree on the ring with ${erlList(v.nodes.filter((n) => !v.disagreeing.includes(n)))}`;
}

export interface ClusterStatusRow {
  name: NodeName;
  status: MemberStatus;
  /** undefined: the detector never reported on it. */
  up: boolean | undefined;
  ringPct: number;
  pendingPct: number;
}

function cell(text: string, width: number): string {
  const pad = Math.max(0, width - text.length);
  return `${' '.repeat(Math.floor(pad / 2))}${text}${' '.repeat(Math.ceil(pad / 2))}`;
}

/** riak-admin cluster status: a boxed table of members, claimant marked (C). */
export function clusterStatusTable(o: { claimant: NodeName; ringReady: boolean; rows: readonly ClusterStatusRow[] }): string[] {
  const nodeCells = o.rows.map((r) => `${r.name === o.claimant ? '(C) ' : ''}${r.name}`);
  const nodeWidth = Math.max(6, ...nodeCells.map((c) => c.length + 2));
  const widths = [nodeWidth, 9, 7, 7, 9];
  const rule = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`;
  const row = (cells: string[]): string => `|${cells.map((c, i) => cell(c, widths[i] as number)).join('|')}|`;
  const lines = ['---- Cluster Status ----', `Ring ready: ${o.ringReady}`, '', rule, row(['node', 'status', 'avail', 'ring', 'pending']), rule];
  for (const [i, r] of o.rows.entries()) {
    // Riak marks availability that contradicts the status with '!' (a valid node down, a down node up).
    const avail = r.up === undefined ? '?' : r.up ? 'up' : 'down';
    const unexpected = (r.up === false && r.status !== 'down') || (r.up === true && r.status === 'down');
    const pending = r.pendingPct === r.ringPct ? '--' : `${r.pendingPct.toFixed(1)}`;
    lines.push(row([nodeCells[i] as string, r.status, `${avail}${unexpected ? '!' : ''}`, r.ringPct.toFixed(1), pending]));
  }
  lines.push(rule, '', "Key: (C) = Claimant; availability marked with '!' is unexpected");
  return lines;
}

export interface TransferLimitRow {
  node: NodeName;
  limit?: number;
  /** Why the limit is unknown (down, no answer). */
  error?: string;
}

/** riak-admin transfer-limit with no arguments. */
export function transferLimitTable(rows: readonly TransferLimitRow[]): string[] {
  const rule = '-'.repeat(79);
  const title = ' Transfer Limit ';
  const pad = 79 - title.length;
  const lines = [`${'='.repeat(Math.floor(pad / 2))}${title}${'='.repeat(Math.ceil(pad / 2))}`, `${'Limit'.padEnd(8)} Node`, rule];
  for (const r of rows) lines.push(`${(r.limit === undefined ? '?' : String(r.limit)).padStart(5).padEnd(8)} ${r.node}${r.error !== undefined ? `  (${r.error})` : ''}`);
  lines.push(rule, "Note: You can change transfer limits with 'rondo admin transfer-limit <limit>'", "      and 'rondo admin transfer-limit <node> <limit>'");
  return lines;
}
