// Public API of cluster metadata.
export {
  canonicalValue,
  checkPlainData,
  compareEntries,
  diff,
  emptyMetadata,
  get,
  getEntry,
  list,
  mergeMetadata,
  metadataDigest,
  metadataEqual,
  prefixDigests,
  put,
  remove,
  selectPrefixes,
} from './store.js';
export * from './types.js';
export { MetadataService, type MetadataMessage } from './service.js';
