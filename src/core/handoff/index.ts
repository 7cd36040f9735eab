export { HandoffManager, HANDOFF_DEFAULTS } from './manager.js';
export type { HandoffManagerOptions, HandoffOptions } from './manager.js';
export { wantedTransfers } from './planner.js';
export type { WantedTransfer } from './planner.js';
export { renderTransfers } from './render.js';
export * from './admin.js';
export * from './types.js';
