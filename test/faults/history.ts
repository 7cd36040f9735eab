// The history of a fault run, Jepsen-style: every operation a client invokes
// and how it completed, with times in milliseconds since the run began
// (monotonic clock), plus the nemesis's own actions. Checkers read only this,
// so a saved history can be checked again later (`--check <history.json>`).
//
// Completion types:
// - ok: the operation took effect (a read returned, a write was acknowledged);
// - fail: it certainly did not (a read that errored; a write the server
//   refused before touching any replica);
// - info: unknown; a write that timed out or lost its connection may or may
//   not have been applied, and checkers must allow both.
import { writeFileSync } from 'node:fs';

export type CompletionType = 'ok' | 'fail' | 'info';

export interface Op {
  /** Position in the history. */
  index: number;
  /** Who: a client ("mult-2"), "nemesis", or "final" for the reads after healing. */
  process: string;
  type: 'invoke' | CompletionType;
  /** What: read, write, or a nemesis action (partition, kill, ...). */
  f: string;
  key?: string;
  /** A write's value; a read's result (sibling values); a nemesis action's details. */
  value?: unknown;
  /** For a write after a read: the values that read returned (what its causal context covers). */
  observed?: string[];
  /** The node the client talked to. */
  node?: string;
  timeMs: number;
  error?: string;
}

export interface HistoryFile {
  version: 1;
  options: Record<string, unknown>;
  ops: Op[];
}

export class History {
  readonly ops: Op[] = [];
  private readonly startedMs = performance.now();

  private add(op: Omit<Op, 'index' | 'timeMs'>): Op {
    const full = { ...op, index: this.ops.length, timeMs: Math.round((performance.now() - this.startedMs) * 10) / 10 };
    this.ops.push(full);
    return full;
  }

  /** Records an invocation; complete it with the returned function. */
  invoke(process: string, f: string, fields: Partial<Pick<Op, 'key' | 'value' | 'observed' | 'node'>> = {}): (type: CompletionType, fields?: Partial<Pick<Op, 'value' | 'error'>>) => Op {
    const invocation = this.add({ process, type: 'invoke', f, ...fields });
    let done = false;
    return (type, more = {}) => {
      if (done) throw new Error(`op ${invocation.index} completed twice`);
      done = true;
      // The completion repeats the invocation's fields; a read's result replaces its value.
      return this.add({ process, f, ...fields, ...more, type });
    };
  }

  write(path: string, options: Record<string, unknown>): void {
    const file: HistoryFile = { version: 1, options, ops: this.ops };
    writeFileSync(path, JSON.stringify(file));
  }
}

export interface OpPair {
  invoke: Op;
  /** Undefined when the run ended with the operation still open (treated as info). */
  complete: Op | undefined;
}

/** Pairs each invocation with its completion (same process, next completion after it). */
export function pairs(ops: readonly Op[], filter: (op: Op) => boolean = () => true): OpPair[] {
  const open = new Map<string, Op>();
  const out: OpPair[] = [];
  const byInvoke = new Map<Op, OpPair>();
  for (const op of ops) {
    if (!filter(op)) continue;
    if (op.type === 'invoke') {
      const pair = { invoke: op, complete: undefined };
      open.set(op.process, op);
      byInvoke.set(op, pair);
      out.push(pair);
      continue;
    }
    const invocation = open.get(op.process);
    if (!invocation) throw new Error(`history: completion ${op.index} of ${op.process} has no open invocation`);
    open.delete(op.process);
    (byInvoke.get(invocation) as OpPair).complete = op;
  }
  return out;
}

/** ok, fail or info; an operation still open at the end counts as info. */
export function outcome(pair: OpPair): CompletionType {
  const type = pair.complete?.type;
  return type === undefined || type === 'invoke' ? 'info' : type;
}
