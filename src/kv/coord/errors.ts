// Errors of the coordinators. A coordinator whose timer fires before its
// quorum was decided answers a TimeoutError (code 'timeout', as the APIs expect)
// whose message is the quorum core's account of what was missing.
import { TimeoutError } from '../../core/errors.js';
import type { GetQuorumError, PutQuorumError } from './quorum/index.js';

export class CoordinatorTimeoutError extends TimeoutError {
  /** The quorum that was not met when the timer fired. */
  readonly quorum: GetQuorumError | PutQuorumError;
  constructor(what: string, timeoutMs: number, quorum: GetQuorumError | PutQuorumError) {
    super(`${what} timed out after ${timeoutMs} ms: ${quorum.message}`);
    this.quorum = quorum;
  }
}
