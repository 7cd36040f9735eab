// Public API of bucket types and bucket properties.
export * from './errors.js';
export * from './json.js';
export * from './props.js';
export * from './types.js';
export { validateProps } from './validate.js';
export type { ValidateContext } from './validate.js';
