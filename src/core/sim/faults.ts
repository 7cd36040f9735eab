// Network fault settings and presets. All probabilities are per message and
// decided by the network's seeded stream.
import { assert } from '../errors.js';
import { SIM_IN_FLIGHT_MESSAGES_MAX, SIM_MESSAGE_BYTES_MAX } from './limits.js';

export interface NetworkFaults {
  latencyMsBase: number;
  /** Uniform extra latency in [0, latencyMsJitter]; this alone reorders messages. */
  latencyMsJitter: number;
  /** Added on the 'bulk' channel. */
  bulkLatencyMsExtra: number;
  /** Probability of a long-tail delay: exponential with mean tailLatencyMsMean, capped at tailLatencyMsMax. */
  tailProbability: number;
  tailLatencyMsMean: number;
  tailLatencyMsMax: number;
  /** Probability of an extra uniform delay in [0, reorderDelayMsMax] (explicit reordering). */
  reorderProbability: number;
  reorderDelayMsMax: number;
  dropProbability: number;
  duplicateProbability: number;
  /** Per (sender, peer) pair; send throws OverloadError beyond it, like the transport's outbound queue. */
  inFlightMessagesMax: number;
  /** Encoded bytes of one message; send throws MessageTooLargeError beyond it, like the transport's frame limit. */
  messageBytesMax: number;
}

/** Realistic latency, no loss: what a Simulation gets unless told otherwise. */
export const NETWORK_FAULTS_DEFAULT: Readonly<NetworkFaults> = Object.freeze({
  latencyMsBase: 1,
  latencyMsJitter: 4,
  bulkLatencyMsExtra: 5,
  tailProbability: 0.01,
  tailLatencyMsMean: 50,
  tailLatencyMsMax: 1_000,
  reorderProbability: 0,
  reorderDelayMsMax: 50,
  dropProbability: 0,
  duplicateProbability: 0,
  inFlightMessagesMax: SIM_IN_FLIGHT_MESSAGES_MAX,
  messageBytesMax: SIM_MESSAGE_BYTES_MAX,
});

/** A safety phase: loss, duplication, reordering and a fatter tail. */
export const NETWORK_FAULTS_HOSTILE: Readonly<NetworkFaults> = Object.freeze({
  ...NETWORK_FAULTS_DEFAULT,
  tailProbability: 0.05,
  reorderProbability: 0.05,
  dropProbability: 0.05,
  duplicateProbability: 0.02,
});

/** A liveness phase: setFaults(NETWORK_FAULTS_CALM) turns every probabilistic fault off. */
export const NETWORK_FAULTS_CALM: Readonly<Partial<NetworkFaults>> = Object.freeze({
  tailProbability: 0,
  reorderProbability: 0,
  dropProbability: 0,
  duplicateProbability: 0,
});

export function validateFaults(faults: NetworkFaults): void {
  for (const key of ['tailProbability', 'reorderProbability', 'dropProbability', 'duplicateProbability'] as const) {
    assert(faults[key] >= 0 && faults[key] <= 1, `${key} in [0, 1]`);
  }
  for (const key of ['latencyMsBase', 'latencyMsJitter', 'bulkLatencyMsExtra', 'tailLatencyMsMean', 'tailLatencyMsMax', 'reorderDelayMsMax'] as const) {
    assert(Number.isFinite(faults[key]) && faults[key] >= 0, `${key} >= 0`);
  }
  assert(Number.isSafeInteger(faults.inFlightMessagesMax) && faults.inFlightMessagesMax > 0, 'inFlightMessagesMax positive integer');
  assert(Number.isSafeInteger(faults.messageBytesMax) && faults.messageBytesMax > 0, 'messageBytesMax positive integer');
}
