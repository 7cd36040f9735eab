export { BucketTypeAdmin, isBucketTypeRequest, type BucketTypeRequest } from './bucket-types.js';
export { handleKvAdmin, isKvAdminRequest, vnodeStatusLines, type KvAdminRequest } from './vnode-status.js';
