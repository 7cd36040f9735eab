// The KV vnode: commands, replies and the VnodeBehaviour that serves them.
export * from './commands.js';
export { KvVnode, type KvVnodeOptions } from './kv-vnode.js';
export { liveIndexes } from './support.js';
export { HANDOFF_KEY_FORMAT_VERSION, decodeHandoffKey, encodeHandoffKey } from './handoff-key.js';
