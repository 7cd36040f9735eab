// Detector configuration. Defaults live in src/core/constants.ts.
//
// Detection bound (a killed node seen down by ALL others). Defaults: probe
// period P = 300 ms, probe timeout 200 ms, suspicion 1 000-1 500 ms; host tick
// 100 ms (every deadline fires on the first tick at or after it).
//   W  until some member probes it: each member probes one peer per period
//      from its own shuffled round; with m >= 2 probers the chance that nobody
//      picked it in a period is about 1/e, so P(W > j periods) ~ e^-j
//      (measured, 20 nodes: 65 % within 1 period, 98 % within 4)  ~ 0-1 500
//   +  the rest of that period: ping, ping-req at 200 ms, suspect at 300 = 300
//   +  suspicion timeout (1 500 alone, down to 1 000 with 3 confirmations)
//      -- the suspicion spreads DURING the timeout, each node runs its own
//      timer, and the 'dead' update then reaches stragglers         <= 1 500
//   +  stragglers' timers / 'dead' dissemination, tick rounding       ~ 500
//   = ~2-3.5 s; the 5 s bound leaves ~5 more periods of margin on W.
// Measured (300 seeded kills each, test harness): 5 nodes median 1.8 s, max
// 2.5 s; 20 nodes median 2.2 s, max 3.6 s.
// Recovery bound (a restarted node seen up by all): besides its live probe,
// every member pings one DEAD member per period, and any message from a node
// itself revives it, so <= P + one tick per dead node queued ahead of it;
// with one dead node <= 0.4 s (measured max 320 ms), bound 2 s.
// Message cost per node and period: one ping + ack, one ping to a dead
// member if any, k ping-reqs per failed probe; <= 16 updates ride on each.
// A node whose own links are bad (Lifeguard health > 0) probes more slowly,
// up to (1 + localHealthMax) times; healthy nodes are unaffected.
import {
  SWIM_DIRECT_EVIDENCE_GRACE_MS,
  SWIM_INDIRECT_PROBES,
  SWIM_LOCAL_HEALTH_MAX,
  SWIM_PROBE_INTERVAL_MS,
  SWIM_PROBE_TIMEOUT_MS,
  SWIM_RELAYS_MAX,
  SWIM_RETRANSMIT_MULT,
  SWIM_SUSPICION_CONFIRMATIONS_MAX,
  SWIM_SUSPICION_TIMEOUT_MIN_MS,
  SWIM_SUSPICION_TIMEOUT_MS,
  SWIM_UPDATES_PER_MESSAGE_MAX,
} from '../constants.js';
import { assert } from '../errors.js';

export interface SwimConfig {
  /** One probe per period (stretched by the local health multiplier). */
  probeIntervalMs: number;
  /** Wait this long for a direct ack before asking others (ping-req). */
  probeTimeoutMs: number;
  /** Helpers asked to probe indirectly (SWIM's k). */
  indirectProbes: number;
  /** Suspicion timeout with no confirmations (Lifeguard's max). */
  suspicionTimeoutMs: number;
  /** Suspicion timeout once `suspicionConfirmationsMax` others agree. */
  suspicionTimeoutMinMs: number;
  suspicionConfirmationsMax: number;
  /** Each update is piggybacked retransmitMult * ceil(log10(n + 1)) times. */
  retransmitMult: number;
  updatesPerMessageMax: number;
  /** Lifeguard local health multiplier cap. */
  localHealthMax: number;
  /** After a message from X itself, ignore suspect/dead claims at X's known incarnation this long. */
  directEvidenceGraceMs: number;
  relaysMax: number;
}

export const SWIM_CONFIG_DEFAULT: Readonly<SwimConfig> = Object.freeze({
  probeIntervalMs: SWIM_PROBE_INTERVAL_MS,
  probeTimeoutMs: SWIM_PROBE_TIMEOUT_MS,
  indirectProbes: SWIM_INDIRECT_PROBES,
  suspicionTimeoutMs: SWIM_SUSPICION_TIMEOUT_MS,
  suspicionTimeoutMinMs: SWIM_SUSPICION_TIMEOUT_MIN_MS,
  suspicionConfirmationsMax: SWIM_SUSPICION_CONFIRMATIONS_MAX,
  retransmitMult: SWIM_RETRANSMIT_MULT,
  updatesPerMessageMax: SWIM_UPDATES_PER_MESSAGE_MAX,
  localHealthMax: SWIM_LOCAL_HEALTH_MAX,
  directEvidenceGraceMs: SWIM_DIRECT_EVIDENCE_GRACE_MS,
  relaysMax: SWIM_RELAYS_MAX,
});

export function resolveConfig(partial: Partial<SwimConfig> | undefined): SwimConfig {
  const config: SwimConfig = { ...SWIM_CONFIG_DEFAULT, ...partial };
  assert(config.probeTimeoutMs > 0, 'probe timeout positive');
  assert(config.probeTimeoutMs < config.probeIntervalMs, 'probe timeout fits in a probe period');
  assert(config.suspicionTimeoutMinMs > 0, 'suspicion timeout positive');
  assert(config.suspicionTimeoutMinMs <= config.suspicionTimeoutMs, 'suspicion timeout range ordered');
  assert(config.indirectProbes >= 0 && config.suspicionConfirmationsMax >= 1, 'counts in range');
  assert(config.retransmitMult >= 1 && config.relaysMax >= 1, 'limits positive');
  assert(config.updatesPerMessageMax >= 1 && config.updatesPerMessageMax <= SWIM_UPDATES_PER_MESSAGE_MAX, 'updates per message within the wire limit');
  assert(config.localHealthMax >= 0, 'local health cap non-negative');
  return config;
}

/** Lifeguard suspicion timeout: max with one suspector, falling logarithmically to min at K+1. */
export function suspicionTimeoutMs(config: SwimConfig, suspectors: number, memberCount: number): number {
  assert(suspectors >= 1, 'a suspicion has at least one suspector');
  const k = Math.min(config.suspicionConfirmationsMax, memberCount - 2);
  if (k < 1) return config.suspicionTimeoutMs;
  const fraction = Math.min(1, Math.log(suspectors) / Math.log(k + 1));
  const span = config.suspicionTimeoutMs - config.suspicionTimeoutMinMs;
  return Math.round(config.suspicionTimeoutMs - span * fraction);
}

export function retransmitLimit(config: SwimConfig, memberCount: number): number {
  return config.retransmitMult * Math.max(1, Math.ceil(Math.log10(memberCount + 1)));
}

