// Pure request parsing and response rendering for Riak's HTTP API.
export * from './conditions.js';
export * from './constants.js';
export * from './errors.js';
export * from './request.js';
export * from './response.js';
export * from './routes.js';
export * from './types.js';
