// The deterministic simulator: public API.
export { EventQueue, type QueuedEvent } from './event-queue.js';
export { NETWORK_FAULTS_CALM, NETWORK_FAULTS_DEFAULT, NETWORK_FAULTS_HOSTILE, validateFaults, type NetworkFaults } from './faults.js';
export { SIM_EPOCH_MS, SIM_EVENTS_PER_RUN_MAX, SIM_IN_FLIGHT_MESSAGES_MAX, SIM_TRACE_LINES_MAX } from './limits.js';
export { Nemesis, type NemesisOptions } from './nemesis.js';
export { SimNetwork, type NetworkHost, type NetworkStats } from './network.js';
export { SimMetaStore, createSimLogger } from './node-parts.js';
export { Prng, between, chance, exponential, intBetween, logNormal, pick, shuffle } from './prng.js';
export { EventLimitExceededError, Simulation, type SimulationOptions, type SimulationStats } from './simulation.js';
export { Trace } from './trace.js';
