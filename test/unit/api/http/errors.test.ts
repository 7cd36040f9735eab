// The error table: every code the brief lists maps to its status; unknown
// codes and non-RondoErrors are 500 with a generic body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP_STATUS_BY_CODE, HttpError, renderError, statusForCode } from '../../../../src/api/http/codec/index.js';
import { InvalidArgumentError, OverloadError, RondoError, TimeoutError } from '../../../../src/core/errors.js';
import { BadQuorumError, GetQuorumError, NValViolationError, PutQuorumError } from '../../../../src/kv/coord/quorum/index.js';
import { BadBucketPropsError, UnknownBucketTypeError } from '../../../../src/kv/buckets/index.js';
import { InvalidContextError, ObjectTooLargeError, PreconditionFailedError, TooManySiblingsError } from '../../../../src/kv/errors.js';

test('status table', () => {
  const expected: Record<string, number> = {
    kv_bad_vclock: 400,
    kv_bad_quorum: 400,
    invalid_argument: 400,
    kv_bad_props: 400,
    kv_bad_index: 400,
    kv_bad_metadata: 400,
    kv_n_val_violation: 400,
    kv_unknown_bucket_type: 404,
    kv_precondition_failed: 412,
    kv_object_too_large: 413,
    kv_too_many_siblings: 413,
    overload: 503,
    timeout: 503,
    kv_r_val_unsatisfied: 503,
    kv_pr_val_unsatisfied: 503,
    kv_w_val_unsatisfied: 503,
    kv_pw_val_unsatisfied: 503,
    kv_dw_val_unsatisfied: 503,
    api_not_found: 404,
    api_method_not_allowed: 405,
  };
  for (const [code, status] of Object.entries(expected)) assert.equal(statusForCode(code), status, code);
  assert.equal(statusForCode('kv_corrupt_object'), 500);
  assert.equal(statusForCode('toString'), 500, 'no prototype lookups');
  assert.ok(Object.values(HTTP_STATUS_BY_CODE).every((s) => s >= 400 && s < 600));
});

test('renderError: the status and a plain-text message saying what was wrong', () => {
  const failure = { required: 2, got: 1, timedOut: true, overload: false };
  const cases: [RondoError, number, RegExp][] = [
    [new BadQuorumError('r', 'x'), 400, /^r="x" is not a valid quorum value/],
    [new NValViolationError('w', 5, 3), 400, /w=5 is more than n_val=3/],
    [new InvalidContextError('vclock is not valid base64'), 400, /vclock/],
    [new InvalidArgumentError('bad'), 400, /bad/],
    [new BadBucketPropsError([{ property: 'n_val', reason: 'must be positive' }]), 400, /n_val/],
    [new UnknownBucketTypeError('t', 'missing'), 404, /'t' does not exist/],
    [new PreconditionFailedError('If-Match failed'), 412, /If-Match/],
    [new ObjectTooLargeError('too big', 10, 5), 413, /too big/],
    [new TooManySiblingsError('101 siblings', 101, 100), 413, /siblings/],
    [new OverloadError('busy'), 503, /busy/],
    [new TimeoutError('request timed out'), 503, /timed out/],
    [new GetQuorumError({ ...failure, parameter: 'r' }, 'R=2 not met: 1 of 3 replicas answered'), 503, /R=2 not met/],
    [new PutQuorumError({ ...failure, parameter: 'dw' }, 'DW=2 not met'), 503, /DW=2/],
    [new HttpError('api_method_not_allowed', 'no', ['GET', 'PUT']), 405, /no/],
  ];
  for (const [err, status, message] of cases) {
    const r = renderError(err);
    assert.equal(r.status, status, err.code);
    assert.equal(r.headers['Content-Type'], 'text/plain');
    assert.match(String(r.body), message);
    assert.ok(String(r.body).endsWith('\n'));
  }
  assert.equal(renderError(new HttpError('api_method_not_allowed', 'no', ['GET', 'PUT'])).headers.Allow, 'GET, PUT');
  assert.equal(renderError(new InvalidArgumentError('a\r\nInjected: yes')).body, 'a Injected: yes\n');
  const internal = renderError(new Error('secret detail'));
  assert.equal(internal.status, 500);
  assert.equal(internal.body, 'internal error\n');
  assert.equal(renderError(new RondoError('kv_corrupt_object', 'bytes')).body, 'internal error\n');
});
