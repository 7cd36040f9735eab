// Printable lines of `rondo admin transfers` (riak-admin transfers, with
// progress bars). Pure: the same report always renders the same lines, so the
// node can render it and the tests can assert exact strings.
import type { PendingTransfer } from '../membership/index.js';
import type { TransfersReport } from './admin.js';
import type { TransferRow } from './types.js';

const BAR_WIDTH = 20;

export function renderTransfers(report: TransfersReport): string[] {
  const lines: string[] = [];
  for (const n of [...report.nodes].sort((a, b) => cmp(a.node, b.node))) {
    if (n.error !== undefined) {
      lines.push(`${n.node}: did not answer (${n.error})`);
      continue;
    }
    if (n.rows.length === 0) {
      lines.push(`${n.node}: no active transfers`);
      continue;
    }
    const out = n.rows.filter((r) => r.direction === 'outbound').length;
    lines.push(`${n.node}: ${out} outbound, ${n.rows.length - out} inbound`);
    for (const row of [...n.rows].sort(compareRows)) lines.push(`  ${renderRow(row)}`);
  }
  lines.push('');
  lines.push(...renderPending(report.pending));
  lines.push('');
  lines.push(`handoff_concurrency: ${report.concurrency} per direction (on ${report.via})`);
  return lines;
}

// Rows of one node: outbound first, then by partition; the rest only makes
// ties deterministic.
function compareRows(a: TransferRow, b: TransferRow): number {
  if (a.direction !== b.direction) return a.direction === 'outbound' ? -1 : 1;
  return a.partition - b.partition || a.targetPartition - b.targetPartition || cmp(a.peer, b.peer) || cmp(a.id, b.id);
}

export function renderRow(row: TransferRow): string {
  const outbound = row.direction === 'outbound';
  const target = row.targetPartition !== row.partition ? ` → p${row.targetPartition}` : '';
  const parts = [`${outbound ? '→' : '←'} ${row.kind} p${row.partition}${target} ${outbound ? 'to' : 'from'} ${row.peer}`, row.phase];
  if (row.itemsTotal !== undefined) {
    const pct = percent(row.items, row.itemsTotal);
    parts.push(bar(pct), `${pct}%`, `${thousands(row.items)}/${thousands(row.itemsTotal)} items`);
  } else {
    parts.push(`${thousands(row.items)} items`);
  }
  parts.push(humanBytes(row.bytes), rate(row), `ETA ${eta(row)}`);
  if (row.attempt > 1) parts.push(`attempt ${row.attempt}`);
  return parts.join('  ');
}

function renderPending(pending: readonly PendingTransfer[]): string[] {
  if (pending.length === 0) return ['No pending ownership changes.'];
  const sorted = [...pending].sort((a, b) => a.partition - b.partition || a.epoch - b.epoch || cmp(a.to, b.to));
  return [`Pending ownership changes (${pending.length}):`, ...sorted.map((t) => `  p${t.partition}: ${t.from} → ${t.to} (epoch ${t.epoch})`)];
}

/** Whole percent, floored so 100% means done; clamped since itemsTotal is only an estimate. */
export function percent(items: number, itemsTotal: number): number {
  if (itemsTotal <= 0) return 100;
  return Math.min(100, Math.max(0, Math.floor((items / itemsTotal) * 100)));
}

export function bar(pct: number): string {
  const filled = Math.floor((pct / 100) * BAR_WIDTH);
  return '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
}

/** Grouped by hand, not toLocaleString: output must not depend on the locale. */
export function thousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}

/** MB/s in decimal megabytes, as network rates are usually quoted. */
export function rate(row: Pick<TransferRow, 'bytes' | 'items' | 'elapsedMs'>): string {
  if (row.elapsedMs <= 0) return '-';
  const seconds = row.elapsedMs / 1000;
  return `${(row.bytes / 1e6 / seconds).toFixed(1)} MB/s, ${thousands(row.items / seconds)} items/s`;
}

/** From the average item rate so far; unknown without an estimate or any progress yet. */
export function eta(row: Pick<TransferRow, 'items' | 'itemsTotal' | 'elapsedMs'>): string {
  if (row.itemsTotal === undefined || row.elapsedMs <= 0) return '-';
  const remaining = Math.max(0, row.itemsTotal - row.items);
  if (remaining === 0) return '0s';
  if (row.items <= 0) return '-';
  return duration(Math.ceil(remaining / (row.items / (row.elapsedMs / 1000))));
}

function duration(totalSeconds: number): string {
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const pad = (x: number): string => String(x).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m`;
  if (m > 0) return `${m}m${pad(s)}s`;
  return `${s}s`;
}

// Code-unit order, not localeCompare: independent of the locale.
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
