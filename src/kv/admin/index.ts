export { BucketTypeAdmin, isBucketTypeRequest, type BucketTypeRequest } from './bucket-types.js';
