export * from './errors.js';
export * from './quorum-value.js';
export * from './get-core.js';
export * from './put-core.js';
export * from './delete-core.js';
export { type ReplyFrom } from './replies.js';
