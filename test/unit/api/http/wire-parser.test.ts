// The HTTP/1.1 request parser: framing, keep-alive rules, chunked bodies,
// any split of the byte stream, and a clear status for every malformed head.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParseError, RequestParser, type ParsedRequest } from '../../../../src/api/http/wire/parser.js';
import { HTTP_HEAD_BYTES_MAX, HTTP_HEADERS_MAX } from '../../../../src/api/http/wire/limits.js';

const LIMIT = 1_000;

function requests(chunks: (string | Buffer)[], limit = LIMIT): ParsedRequest[] {
  const parser = new RequestParser(limit);
  const out: ParsedRequest[] = [];
  for (const chunk of chunks) {
    for (const event of parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)) if (event.kind === 'request') out.push(event.request);
  }
  return out;
}

function refused(text: string, limit = LIMIT): ParseError {
  const parser = new RequestParser(limit);
  try {
    parser.push(Buffer.from(text, 'latin1'));
  } catch (err) {
    assert.ok(err instanceof ParseError, String(err));
    assert.throws(() => parser.push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), ParseError, 'no input after a malformed request');
    return err;
  }
  assert.fail(`not refused: ${JSON.stringify(text.slice(0, 60))}`);
}

const PIPELINE =
  'GET /buckets/b/keys/k?r=2 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n' +
  'PUT /buckets/b/keys/k HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Riak-Meta-A: 1\r\nx-riak-meta-a: 2\r\n\r\nhello' +
  'POST /buckets/b/keys HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n' +
  'DELETE /buckets/b/keys/k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';

describe('HTTP request parser', () => {
  it('parses pipelined requests: method, target, lowercase headers joined, bodies by length and by chunks', () => {
    const got = requests([PIPELINE]);
    assert.deepEqual(
      got.map((r) => [r.method, r.url, r.body.toString('latin1'), r.keepAlive, r.minorVersion]),
      [
        ['GET', '/buckets/b/keys/k?r=2', '', true, 1],
        ['PUT', '/buckets/b/keys/k', 'hello', true, 1],
        ['POST', '/buckets/b/keys', 'abcde', true, 1],
        ['DELETE', '/buckets/b/keys/k', '', true, 0],
      ],
    );
    assert.deepEqual(got[0]!.headers, { host: 'x', accept: '*/*' });
    assert.equal(got[1]!.headers['x-riak-meta-a'], '1, 2', 'repeated fields joined, names lowercased');
  });

  it('gives the same requests however the stream is split (property)', () => {
    const whole = Buffer.from(PIPELINE, 'latin1');
    const expected = requests([whole]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const at of [...points, whole.length]) {
          chunks.push(whole.subarray(from, at));
          from = at;
        }
        assert.deepEqual(requests(chunks), expected);
      }),
      { numRuns: 300 },
    );
    // And one byte at a time.
    assert.deepEqual(requests([...whole].map((b) => Buffer.from([b]))), expected);
  });

  it('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive', () => {
    const keep = (head: string): boolean => requests([`${head}\r\n\r\n`])[0]!.keepAlive;
    assert.equal(keep('GET / HTTP/1.1'), true);
    assert.equal(keep('GET / HTTP/1.1\r\nConnection: close'), false);
    assert.equal(keep('GET / HTTP/1.1\r\nConnection: upgrade, Close'), false);
    assert.equal(keep('GET / HTTP/1.0'), false);
    assert.equal(keep('GET / HTTP/1.0\r\nConnection: Keep-Alive'), true);
  });

  it('reports a complete head first, with its framing and Expect: 100-continue', () => {
    const parser = new RequestParser(LIMIT);
    const events = parser.push(Buffer.from('PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n'));
    assert.deepEqual(events.map((e) => e.kind), ['head']);
    assert.equal(events[0]!.kind === 'head' && events[0]!.bodyBytes, 3);
    assert.equal(events[0]!.kind === 'head' && events[0]!.request.expectsContinue, true);
    assert.equal(parser.idle, false);
    const done = parser.push(Buffer.from('abc'));
    assert.equal(done[0]!.kind === 'request' && done[0]!.request.body.toString(), 'abc');
    assert.equal(parser.idle, true);
  });

  it('refuses malformed heads with the status that says why', () => {
    const cases: [string, number][] = [
      ['GET /\r\n\r\n', 400],
      ['GET  / HTTP/1.1\r\n\r\n', 400],
      ['get / HTTP/1.1\r\n\r\n', 400],
      ['GET / HTTP/2.0\r\n\r\n', 505],
      ['GET / HTTX/1.1\r\n\r\n', 400],
      ['GET /a\x01b HTTP/1.1\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nBad Name: x\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nNoColon\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nA: x\x00y\r\n\r\n', 400],
      ['PUT / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      ['PUT / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
      ['PUT / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 400],
      ['PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
      [`PUT / HTTP/1.1\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`, 413],
      ['PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY', 400],
      [`PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${(LIMIT + 1).toString(16)}\r\n`, 413],
      [`GET / HTTP/1.1\r\nA: ${'x'.repeat(HTTP_HEAD_BYTES_MAX)}\r\n\r\n`, 431],
      [`GET / HTTP/1.1\r\n${'A: 1\r\n'.repeat(HTTP_HEADERS_MAX + 1)}\r\n`, 431],
    ];
    for (const [text, status] of cases) assert.equal(refused(text).status, status, JSON.stringify(text.slice(0, 70)));
    // A head that never ends is refused once it passes the limit, without waiting for the end.
    const parser = new RequestParser(LIMIT);
    assert.throws(() => parser.push(Buffer.from(`GET / HTTP/1.1\r\nA: ${'x'.repeat(HTTP_HEAD_BYTES_MAX + 10)}`)), (err) => err instanceof ParseError && err.status === 431);
  });

  it('repeated identical Content-Length values are one length; empty lines before a request are skipped', () => {
    const [r] = requests(['\r\n\r\nPUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok']);
    assert.equal(r!.body.toString(), 'ok');
  });
});
