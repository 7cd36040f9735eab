// The KV object model: hybrid logical clocks, siblings with metadata, dotted
// version vector sets, the put/merge/resolve rules, and their binary forms.
export * from './hlc.js';
export * from './content.js';
export * from './dvv.js';
export * from './object.js';
export * from './codec.js';
