import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abortedError, connectionError, RondoClientError, serverError } from '../../../src/client/errors.js';

test("server errmsgs: 'timeout' and 'overload' exactly, '<code>: <message>', or 'server'", () => {
  const cases: [string, string, boolean][] = [
    ['timeout', 'timeout', true],
    ['overload', 'overload', true],
    ['overload: too many connections (limit 1000)', 'overload', true],
    ['kv_precondition_failed: the key exists', 'kv_precondition_failed', false],
    ['invalid_argument: r must be <= n_val\nsecond line', 'invalid_argument', false],
    ['kv_unknown_bucket_type: unknown bucket type nope', 'kv_unknown_bucket_type', false],
    ['not supported: RpbMapRedReq', 'server', false],
    ['internal error', 'server', false],
    ['', 'server', false],
  ];
  for (const [errmsg, code, retryable] of cases) {
    const err = serverError(errmsg, '127.0.0.1:8087');
    assert.ok(err instanceof RondoClientError && err instanceof Error);
    assert.equal(err.name, 'RondoClientError');
    assert.equal(err.code, code, errmsg);
    assert.equal(err.retryable, retryable, errmsg);
    assert.equal(err.node, '127.0.0.1:8087');
    if (code !== 'timeout' && code !== 'overload') assert.equal(err.message, errmsg, 'the whole errmsg is the message');
  }
});

test('client-side errors: connection is retryable; aborted and protocol are not', () => {
  const cause = new Error('ECONNREFUSED');
  const conn = connectionError('cannot connect', 'h:1', cause);
  assert.equal(conn.code, 'connection');
  assert.equal(conn.retryable, true);
  assert.equal(conn.cause, cause);
  const controller = new AbortController();
  controller.abort(new Error('user gave up'));
  const aborted = abortedError(controller.signal);
  assert.equal(aborted.code, 'aborted');
  assert.equal(aborted.retryable, false);
  assert.match(aborted.message, /user gave up/);
  assert.equal(new RondoClientError('protocol', 'x').retryable, false);
});
