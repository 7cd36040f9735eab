// Every operating error code mapped to the HTTP status Rondo answers with, in
// one table, and the plain-text error response. Riak facts relied on
// (riak_kv_wm_object handle_common_error, docs.riak.com developing/api/http):
// - timeout -> 503 "request timed out"; {r,w,pr,pw,dw}_val_unsatisfied -> 503
//   naming the quorum; n_val_violation -> 400; notfound -> 404 "not found\n";
//   missing Content-Type on a store -> 400; conditional store failing -> 412.
// Choices where Riak is silent or where we differ, and why:
// - kv_unknown_bucket_type -> 404: the resource named by the URL does not exist
//   (Riak's wm resources answer 404 "Unknown bucket type" too, as far as we
//   know from riak_kv_wm_utils; not re-checked against a live node).
// - kv_too_many_siblings -> 413: Riak's vnode refuses the write and the put
//   then fails its W quorum (a 503 "too many write failures"). A 503 invites
//   retrying, which can never succeed; the client has to resolve siblings
//   first, so the request itself is what is too large. src/kv/errors.ts
//   documents 413 as well.
// - kv_clock_drift, kv_insufficient_vnodes, insufficient_vnodes (coverage), overload, peer_unreachable,
//   kv_local_write_failed, aborted -> 503: the cluster, not the request, is
//   at fault, and a retry may succeed.
// - message_too_large -> 413: the request (or the object it names) is too
//   large to travel between nodes in one frame; a retry cannot succeed.
// - kv_bucket_type_state -> 409 (the type is in the wrong state).
// - anything else, and any non-RondoError -> 500 with a generic message
//   (programmer errors are logged by the server, not shown to clients).
import { RondoError } from '../../../core/errors.js';
import type { LayerErrorCode } from '../../../core/errors.js';
import type { HttpResponse } from './types.js';

export type HttpErrorCode = 'api_bad_request' | 'api_not_found' | 'api_method_not_allowed' | 'api_unsupported_media_type';

/** A malformed HTTP request, or a URL that names nothing; carries its status. */
export class HttpError extends RondoError {
  readonly status: number;
  /** For 405: the methods the resource does allow. */
  readonly allow: readonly string[];
  constructor(code: HttpErrorCode & LayerErrorCode, message: string, allow: readonly string[] = []) {
    super(code, message);
    this.status = HTTP_STATUS_BY_CODE[code] ?? 500;
    this.allow = allow;
  }
}

/** The one table: error code -> HTTP status. Codes not listed answer 500. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  // malformed requests
  invalid_argument: 400,
  api_bad_request: 400,
  kv_bad_vclock: 400,
  kv_bad_quorum: 400,
  kv_bad_props: 400,
  kv_bad_index: 400,
  kv_bad_metadata: 400,
  kv_n_val_violation: 400,
  kv_bad_bucket_type: 400,
  kv_bad_bucket_name: 400,
  kv_key_invalid: 400,
  kv_index_invalid: 400,
  // nothing there
  api_not_found: 404,
  kv_unknown_bucket_type: 404,
  api_method_not_allowed: 405,
  kv_bucket_type_state: 409,
  kv_precondition_failed: 412,
  kv_object_too_large: 413,
  kv_value_too_large: 413,
  kv_too_many_siblings: 413,
  message_too_large: 413,
  api_unsupported_media_type: 415,
  // the cluster could not do it now; a retry may succeed
  overload: 503,
  timeout: 503,
  aborted: 503,
  peer_unreachable: 503,
  kv_r_val_unsatisfied: 503,
  kv_pr_val_unsatisfied: 503,
  kv_w_val_unsatisfied: 503,
  kv_pw_val_unsatisfied: 503,
  kv_dw_val_unsatisfied: 503,
  kv_insufficient_vnodes: 503,
  insufficient_vnodes: 503,
  kv_clock_drift: 503,
  kv_local_write_failed: 503,
});

/** The status for an error code; 500 for codes not in the table. */
export function statusForCode(code: string): number {
  return Object.hasOwn(HTTP_STATUS_BY_CODE, code) ? (HTTP_STATUS_BY_CODE[code] ?? 500) : 500;
}

/** A plain-text response saying what was wrong. Non-RondoErrors become a bare 500. */
export function renderError(err: unknown): HttpResponse {
  if (!(err instanceof RondoError)) {
    return { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'internal error\n' };
  }
  const status = err instanceof HttpError ? err.status : statusForCode(err.code);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain' };
  if (err instanceof HttpError && err.allow.length > 0) headers.Allow = err.allow.join(', ');
  // Header-safe and one line: messages may quote client input.
  const message = status === 500 ? 'internal error' : err.message.replace(/[\r\n\0]+/g, ' ');
  return { status, headers, body: `${message}\n` };
}
