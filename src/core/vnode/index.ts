// Vnodes: the contract (types.ts) and the host that runs them (host.ts).
export type { HandoffItem, VnodeBehaviour, VnodeContext, VnodeDirective } from './types.js';
export { VnodeHost, type VnodeCommandOptions, type VnodeHostOptions, type VnodeOutcome, type VnodeResult, type VnodeStats } from './host.js';
