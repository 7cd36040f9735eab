// Shared bits of the quorum cores: who replied, and how the error messages
// list the replies.

/** One replica of the preference list: its stable id (node/partition) and whether it is a primary. */
export interface ReplyFrom {
  id: string;
  primary: boolean;
}

export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "1 ok, 2 notfound" from [count, label] pairs, skipping zero counts. */
export function describeReplies(parts: ReadonlyArray<readonly [number, string]>): string {
  const shown = parts.filter(([count]) => count > 0).map(([count, label]) => `${count} ${label}`);
  return shown.length > 0 ? shown.join(', ') : 'no replies';
}
