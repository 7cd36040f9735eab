// The trace: every simulation event as one compact line. All lines are folded
// into a running SHA-256 (same seed => same hash, the determinism check); only
// the last `limit` lines are kept, for printing when a run fails.
import { createHash, type Hash } from 'node:crypto';
import { assert } from '../errors.js';

export class Trace {
  private readonly limit: number;
  private readonly ring: string[] = [];
  private ringStart = 0;
  private readonly hash: Hash = createHash('sha256');
  private linesTotal = 0;

  constructor(limit: number) {
    assert(Number.isSafeInteger(limit) && limit > 0, 'trace limit is a positive integer');
    this.limit = limit;
  }

  /** An event: hashed and kept. `bytes` (e.g. a packed message) is hashed too. */
  event(line: string, bytes?: Uint8Array): void {
    this.hash.update(line);
    this.hash.update('\n');
    if (bytes !== undefined) this.hash.update(bytes);
    this.linesTotal++;
    this.keep(line);
  }

  /** A note (log line): kept for reading, not hashed, so logging never changes a seed's hash. */
  note(line: string): void {
    this.keep(line);
  }

  /** Hex SHA-256 over every event so far. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  get eventsTotal(): number {
    return this.linesTotal;
  }

  /** The kept lines, oldest first. */
  tail(): string[] {
    return [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
  }

  private keep(line: string): void {
    if (this.ring.length < this.limit) {
      this.ring.push(line);
      return;
    }
    this.ring[this.ringStart] = line;
    this.ringStart = (this.ringStart + 1) % this.limit;
  }
}
