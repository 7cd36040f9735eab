// The drivers' byte work, fed bytes directly: the http driver's response
// parser (split and coalesced chunks, chunked bodies, interim responses,
// close, garbage), and the pb driver's request templates and reply scan,
// checked against the server's own codec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, PB_CODES, PB_FRAME_BYTES_MAX, PB_QUORUM, decodeMessage, encodeMessage } from '../../../src/api/pb/codec/index.js';
import { HttpParseError, HttpResponseParser, httpOutcome, type HttpResponse, type HttpResponseHead } from '../../../src/bench/drivers/http.js';
import { hasTopLevelField, pbOutcome, pbParams, requestTemplates, spliceKey } from '../../../src/bench/drivers/pb.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello';
const NOT_FOUND = 'HTTP/1.1 404 Object Not Found\r\nContent-Length: 10\r\n\r\nnot found\n';
const NO_CONTENT = 'HTTP/1.1 204 No Content\r\nServer: Rondo\r\n\r\n';
const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\n\r\n';
const CLOSE = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno';
const ALL = [OK, NOT_FOUND, NO_CONTENT, CHUNKED, CLOSE];
const EXPECTED: HttpResponseHead[] = [
  { status: 200, keepAlive: true },
  { status: 404, keepAlive: true },
  { status: 204, keepAlive: true },
  { status: 200, keepAlive: true },
  { status: 503, keepAlive: false },
];

function feed(parser: HttpResponseParser, chunks: Buffer[]): HttpResponseHead[] {
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('bench http response parser', () => {
  it('parses responses coalesced into one chunk', () => {
    assert.deepEqual(feed(new HttpResponseParser(), [Buffer.from(ALL.join(''))]), EXPECTED);
  });

  it('parses responses split at every byte', () => {
    const bytes = Buffer.from(ALL.join(''));
    const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    assert.deepEqual(feed(new HttpResponseParser(), chunks), EXPECTED);
  });

  it('parses responses split at every possible point in two', () => {
    const bytes = Buffer.from(ALL.join(''));
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(feed(new HttpResponseParser(), [bytes.subarray(0, cut), bytes.subarray(cut)]), EXPECTED, `cut at ${cut}`);
    }
  });

  it('a chunked body is whole only after its last chunk and trailer', () => {
    const parser = new HttpResponseParser();
    const cut = CHUNKED.indexOf('0\r\n');
    assert.deepEqual(parser.push(Buffer.from(CHUNKED.slice(0, cut))), []);
    assert.deepEqual(parser.push(Buffer.from(CHUNKED.slice(cut, -2))), []);
    assert.deepEqual(parser.push(Buffer.from('\r\n')), [{ status: 200, keepAlive: true }]);
  });

  it('skips interim 100 Continue responses', () => {
    const parser = new HttpResponseParser();
    assert.deepEqual(parser.push(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${NO_CONTENT}`)), [{ status: 204, keepAlive: true }]);
  });

  it('HTTP/1.0 closes unless told keep-alive; a body without length runs to the close', () => {
    assert.deepEqual(new HttpResponseParser().push(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')), [{ status: 200, keepAlive: false }]);
    assert.deepEqual(new HttpResponseParser().push(Buffer.from('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')), [{ status: 200, keepAlive: true }]);
    const parser = new HttpResponseParser();
    assert.deepEqual(parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome body')), []);
    assert.deepEqual(parser.push(Buffer.from(' and more')), []);
    assert.deepEqual(parser.end(), { status: 200, keepAlive: false });
    assert.equal(new HttpResponseParser().end(), undefined, 'nothing pending, nothing to end');
  });

  it('refuses bytes that are not HTTP', () => {
    assert.throws(() => new HttpResponseParser().push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), HttpParseError);
    assert.throws(() => new HttpResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n')), /content-length/);
    assert.throws(() => new HttpResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')), /chunk size/);
    assert.throws(() => new HttpResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY')), /not followed by CRLF/);
    const split = new HttpResponseParser();
    assert.deepEqual(split.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r')), []);
    assert.throws(() => split.push(Buffer.from('X0\r\n\r\n')), /not followed by CRLF/);
    assert.throws(() => new HttpResponseParser().push(Buffer.alloc(70 * 1024, 'a')), /longer than/);
  });

  it('keeps bodies when asked: by length, chunked, none, and up to the close', () => {
    const bytes = Buffer.from(ALL.join(''));
    const expected: HttpResponse[] = [
      { status: 200, keepAlive: true, body: Buffer.from('hello') },
      { status: 404, keepAlive: true, body: Buffer.from('not found\n') },
      { status: 204, keepAlive: true, body: Buffer.alloc(0) },
      { status: 200, keepAlive: true, body: Buffer.from('helloabcdefghijklmnopqrstuvwxyz') },
      { status: 503, keepAlive: false, body: Buffer.from('no') },
    ];
    assert.deepEqual(new HttpResponseParser({ keepBody: true }).push(bytes), expected);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new HttpResponseParser({ keepBody: true });
      assert.deepEqual([...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))], expected, `cut at ${cut}`);
    }
    const parser = new HttpResponseParser({ keepBody: true });
    assert.deepEqual(parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome body')), []);
    assert.deepEqual(parser.push(Buffer.from(' and more')), []);
    assert.deepEqual(parser.end(), { status: 200, keepAlive: false, body: Buffer.from('some body and more') });
    assert.throws(() => new HttpResponseParser({ keepBody: true, bodyUntilClose: false }).push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody')), /without Content-Length/);
  });

  it('maps statuses to outcomes', () => {
    assert.equal(httpOutcome(200, true), 'ok');
    assert.equal(httpOutcome(204, false), 'ok');
    assert.equal(httpOutcome(404, true), 'notfound');
    assert.equal(httpOutcome(404, false), 'error');
    assert.equal(httpOutcome(300, true), 'ok');
    assert.equal(httpOutcome(500, true), 'error');
    assert.equal(httpOutcome(412, false), 'error');
  });
});

function decodeFrame(frame: Buffer): { name: string; message: Record<string, unknown> } {
  const events = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX }).push(frame);
  assert.equal(events.length, 1);
  const event = events[0]!;
  assert.equal(event.kind, 'frame');
  if (event.kind !== 'frame') throw new Error('unreachable');
  const decoded = decodeMessage(event.code, event.body);
  assert.ok(decoded.ok && decoded.supported);
  return { name: decoded.name, message: decoded.message as Record<string, unknown> };
}

describe('bench pb driver codec', () => {
  it('spliced requests decode to bucket, key, quorums and value', () => {
    const value = Buffer.alloc(1024, 7);
    const templates = requestTemplates('bench', pbParams({ r: '2', w: 'quorum', pw: '1' }), value);
    for (const key of ['k0', 'k123456', 'x'.repeat(200)]) {
      const get = decodeFrame(spliceKey(templates.get, Buffer.from(key)));
      assert.equal(get.name, 'RpbGetReq');
      assert.equal((get.message.bucket as Buffer).toString(), 'bench');
      assert.equal((get.message.key as Buffer).toString(), key);
      assert.equal(get.message.r, 2);
      assert.equal(get.message.w, undefined);
      const put = decodeFrame(spliceKey(templates.put, Buffer.from(key)));
      assert.equal(put.name, 'RpbPutReq');
      assert.equal((put.message.key as Buffer).toString(), key);
      assert.equal(put.message.w, PB_QUORUM.quorum);
      assert.equal(put.message.pw, 1);
      const content = put.message.content as { value: Buffer; content_type: Buffer };
      assert.ok(content.value.equals(value));
      assert.equal(content.content_type.toString(), 'application/octet-stream');
    }
  });

  it('refuses unknown or malformed params, naming them', () => {
    assert.throws(() => pbParams({ rw: '2' }), /unknown param "rw".*known: r, pr, w/);
    assert.throws(() => pbParams({ r: 'two' }), /r=two/);
  });

  it('a get reply is ok with content, notfound without; errors are errors', () => {
    const found = encodeMessage('RpbGetResp', { content: [{ value: Buffer.from('v') }], vclock: Buffer.from('vc') }).subarray(5);
    const tombstoneVclockOnly = encodeMessage('RpbGetResp', { vclock: Buffer.from('vc') }).subarray(5);
    assert.equal(pbOutcome(PB_CODES.RpbGetResp, found, true), 'ok');
    assert.equal(pbOutcome(PB_CODES.RpbGetResp, Buffer.alloc(0), true), 'notfound');
    assert.equal(pbOutcome(PB_CODES.RpbGetResp, tombstoneVclockOnly, true), 'notfound');
    assert.equal(pbOutcome(PB_CODES.RpbPutResp, Buffer.alloc(0), false), 'ok');
    assert.equal(pbOutcome(PB_CODES.RpbErrorResp, Buffer.from('x'), false), 'error');
    assert.equal(pbOutcome(PB_CODES.RpbPutResp, Buffer.alloc(0), true), 'error', 'a put reply to a get');
    assert.equal(pbOutcome(PB_CODES.RpbGetResp, Buffer.from([0x0a, 0x05, 0x01]), true), 'error', 'truncated body');
  });

  it('the field scan skips every wire type and agrees with a full decode', () => {
    // field 2 varint 300, field 3 fixed64, field 4 fixed32, field 5 bytes, then field 1.
    const body = Buffer.from([0x10, 0xac, 0x02, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4, 0x2a, 2, 9, 9, 0x0a, 0]);
    assert.equal(hasTopLevelField(body, 1), true);
    assert.equal(hasTopLevelField(body.subarray(0, body.length - 2), 1), false);
    assert.equal(hasTopLevelField(Buffer.from([0x0f]), 1), 'malformed', 'wire type 7 does not exist');
    assert.equal(hasTopLevelField(Buffer.from([0x2a, 10, 1]), 1), 'malformed', 'a length past the end');
    assert.equal(hasTopLevelField(Buffer.from([0x10, 0xff]), 1), 'malformed', 'a varint cut short');
  });
});
