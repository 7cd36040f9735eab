// Hybrid Logical Clock (Kulkarni, Demirbas et al., "Logical Physical Clocks",
// 2014). Timestamps stay close to wall time but never go backwards and always
// move past every timestamp observed, so "newest" means "happened after" for
// writes that saw each other, even across nodes whose clocks disagree.
//
// Drift policy: REFUSE, not clamp. A remote timestamp more than maxDriftMs
// ahead of our wall clock throws ClockDriftError. Clamping our clock would not
// help: the remote content keeps its far-future lastModified and would beat
// every later write (LWW, allow_mult=false) until real time caught up. By
// refusing, a node whose clock runs fast gets its writes rejected by the
// replicas (the put fails with a clear error) instead of planting timestamps
// that win for hours; what is accepted is at most maxDriftMs in the future.
// The refusal is temporary by construction: once wall time catches up, the
// same timestamp is accepted.
import { assert } from '../../core/errors.js';
import { HLC_DRIFT_MAX_MS } from '../constants.js';
import { ClockDriftError } from '../errors.js';

export interface Hlc {
  /** Wall-clock milliseconds since the Unix epoch (the physical part). */
  wallMs: number;
  /** Breaks ties among events within the same wallMs. */
  logical: number;
}

export const HLC_ZERO: Hlc = Object.freeze({ wallMs: 0, logical: 0 });

export function isHlc(x: unknown): x is Hlc {
  if (typeof x !== 'object' || x === null) return false;
  const { wallMs, logical } = x as Record<string, unknown>;
  return isCount(wallMs) && isCount(logical);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return 0;
}

export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

export interface HybridClockOptions {
  /** Default HLC_DRIFT_MAX_MS (60 s). */
  maxDriftMs?: number;
  /** The last timestamp issued before a restart, so a restarted node stays monotonic. */
  last?: Hlc;
}

export class HybridClock {
  readonly maxDriftMs: number;
  #last: Hlc;

  constructor(opts: HybridClockOptions = {}) {
    this.maxDriftMs = opts.maxDriftMs ?? HLC_DRIFT_MAX_MS;
    assert(isCount(this.maxDriftMs), 'maxDriftMs is a non-negative integer');
    this.#last = opts.last ?? HLC_ZERO;
    assert(isHlc(this.#last), 'initial HLC is valid');
  }

  /** The last timestamp issued or observed (persist it to stay monotonic across restarts). */
  get last(): Hlc {
    return this.#last;
  }

  /** A timestamp for a local event: after every earlier one, even if wallMs went back. */
  now(wallMs: number): Hlc {
    assertWall(wallMs);
    const last = this.#last;
    const next = wallMs > last.wallMs ? { wallMs, logical: 0 } : { wallMs: last.wallMs, logical: last.logical + 1 };
    return this.#advance(next);
  }

  /**
   * Take in a timestamp from elsewhere (a replicated object, a stored sibling)
   * and return a local timestamp after both it and everything issued so far.
   * Throws ClockDriftError when `remote` is more than maxDriftMs ahead of wallMs.
   */
  observe(remote: Hlc, wallMs: number): Hlc {
    assertWall(wallMs);
    assert(isHlc(remote), 'remote HLC is valid');
    this.checkDrift(remote, wallMs);
    const last = this.#last;
    const wall = Math.max(wallMs, last.wallMs, remote.wallMs);
    let logical = 0;
    if (wall === last.wallMs && wall === remote.wallMs) logical = Math.max(last.logical, remote.logical) + 1;
    else if (wall === last.wallMs) logical = last.logical + 1;
    else if (wall === remote.wallMs) logical = remote.logical + 1;
    return this.#advance({ wallMs: wall, logical });
  }

  /** Throws ClockDriftError when `remote` is too far ahead; changes nothing. */
  checkDrift(remote: Hlc, wallMs: number): void {
    const aheadMs = remote.wallMs - wallMs;
    if (aheadMs > this.maxDriftMs) {
      throw new ClockDriftError(
        `timestamp ${remote.wallMs}.${remote.logical} is ${aheadMs} ms ahead of local wall clock ${wallMs} ` +
          `(max drift ${this.maxDriftMs} ms): the sender's clock is fast, or ours is slow`,
        aheadMs,
      );
    }
  }

  #advance(next: Hlc): Hlc {
    assert(compareHlc(next, this.#last) > 0, 'HLC strictly increases');
    assert(Number.isSafeInteger(next.logical), 'HLC logical counter in range');
    this.#last = next;
    return next;
  }
}

function assertWall(wallMs: number): void {
  assert(isCount(wallMs), `wall clock is a non-negative integer of ms (got ${wallMs})`);
}
