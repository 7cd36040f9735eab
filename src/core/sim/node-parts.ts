// The small per-node pieces of a simulated Env: its metadata store and logger.
import type { Logger, MetaStore, NodeName } from '../env.js';
import type { Trace } from './trace.js';

/** In-memory MetaStore; survives crash/restart unless wiped. Copies in and out, like a disk. */
export class SimMetaStore implements MetaStore {
  private values = new Map<string, Uint8Array>();
  load(key: string): Uint8Array | undefined {
    const value = this.values.get(key);
    return value === undefined ? undefined : value.slice();
  }
  save(key: string, value: Uint8Array): void {
    this.values.set(key, value.slice());
  }
  wipe(): void {
    this.values = new Map();
  }
}

/** Records into the trace (not the hash) at every level; cheap: the object is only printed when verbose. */
export function createSimLogger(opts: { trace: Trace; node: NodeName; nowMs: () => number; verbose: boolean }): Logger {
  const write = (level: string, obj: object, msg?: string): void => {
    const line = `${opts.nowMs()} ${level} ${opts.node} ${msg ?? ''}`;
    opts.trace.note(line);
    if (opts.verbose) console.log(line, obj);
  };
  return {
    debug: (obj, msg) => write('debug', obj, msg),
    info: (obj, msg) => write('info', obj, msg),
    warn: (obj, msg) => write('warn', obj, msg),
    error: (obj, msg) => write('error', obj, msg),
  };
}
