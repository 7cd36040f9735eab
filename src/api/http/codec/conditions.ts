// Conditional stores (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since on PUT): Riak answers 412 Precondition Failed when the
// test fails against the current object (docs.riak.com store-object). Pure:
// the server fetches the current object and calls this before writing.
// An object's entity tags are its live siblings' vtags; with siblings, a tag
// matches when any sibling has it. Its last-modified time is the newest
// sibling's, at HTTP's one-second precision.
import { PreconditionFailedError } from '../../../kv/errors.js';
import type { FetchedObject } from './response.js';
import { secondsFloor } from './response.js';
import type { Conditions } from './request.js';

/** Throws PreconditionFailedError (412) naming the header whose test failed. */
export function checkStoreConditions(conditions: Conditions, current: FetchedObject | undefined): void {
  const live = current?.contents.filter((c) => !c.meta.deleted) ?? [];
  const exists = live.length > 0;
  const etags = live.map((c) => c.meta.vtag);
  if (conditions.ifMatch !== undefined) {
    const ok = exists && (conditions.ifMatch.any || conditions.ifMatch.etags.some((e) => etags.includes(e)));
    if (!ok) throw new PreconditionFailedError(exists ? 'If-Match: the object has changed' : 'If-Match: the object does not exist');
  }
  if (conditions.ifNoneMatch !== undefined && exists) {
    if (conditions.ifNoneMatch.any) throw new PreconditionFailedError('If-None-Match: *: the object already exists');
    if (conditions.ifNoneMatch.etags.some((e) => etags.includes(e))) throw new PreconditionFailedError('If-None-Match: the object still has that ETag');
  }
  if (!exists) return;
  const lastModifiedMs = secondsFloor(Math.max(...live.map((c) => c.meta.lastModified.wallMs)));
  if (conditions.ifUnmodifiedSinceMs !== undefined && lastModifiedMs > conditions.ifUnmodifiedSinceMs) {
    throw new PreconditionFailedError('If-Unmodified-Since: the object was modified since');
  }
  if (conditions.ifModifiedSinceMs !== undefined && conditions.ifNoneMatch === undefined && lastModifiedMs <= conditions.ifModifiedSinceMs) {
    throw new PreconditionFailedError('If-Modified-Since: the object was not modified since');
  }
}
