// Public API of coverage queries: listing and secondary indexes.
export * from './continuation.js';
export * from './limits.js';
export { compareUtf8 } from './merge.js';
export * from './queries.js';
