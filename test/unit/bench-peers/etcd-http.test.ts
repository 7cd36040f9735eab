import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpParseError, type HttpResponse } from '../../../src/bench/drivers/http.js';
import { encodePost, etcdOutcome, etcdResponseParser } from '../../../src/bench/drivers/etcd.js';

// Heads as etcd 3.4's gateway sends them (captured with curl): Content-Length
// for small replies, chunked above ~2 KB.
const GATEWAY_HEADERS = 'Access-Control-Allow-Origin: *\r\nContent-Type: application/json\r\nGrpc-Metadata-Content-Type: application/grpc\r\nDate: Sat, 21 Nov 2026 14:00:11 GMT\r\n';
const putBody = '{"header":{"cluster_id":"6001611773266757492","member_id":"13049071153751544597","revision":"2","raft_term":"2"}}';
const rangeBody = `{"header":{"revision":"3"},"kvs":[{"key":"Yi9rMQ==","value":"${'QUFB'.repeat(700)}"}],"count":"1"}`;
const errorBody = '{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}';

function withLength(status: string, body: string): string {
  return `HTTP/1.1 ${status}\r\n${GATEWAY_HEADERS}Content-Length: ${body.length}\r\n\r\n${body}`;
}

function chunked(body: string, sizes: number[]): string {
  let out = `HTTP/1.1 200 OK\r\n${GATEWAY_HEADERS}Transfer-Encoding: chunked\r\n\r\n`;
  let at = 0;
  for (const size of sizes) {
    out += `${size.toString(16)}${size === sizes[0] ? ';ext=1' : ''}\r\n${body.slice(at, at + size)}\r\n`;
    at += size;
  }
  return `${out}${(body.length - at).toString(16)}\r\n${body.slice(at)}\r\n0\r\nX-Trailer: yes\r\n\r\n`;
}

const stream = Buffer.from(
  withLength('200 OK', putBody) +
    chunked(rangeBody, [1000, 800]) +
    'HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n' +
    withLength('503 Service Unavailable', errorBody) +
    `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
  'latin1',
);
const expected: HttpResponse[] = [
  { status: 200, keepAlive: true, body: Buffer.from(putBody) },
  { status: 200, keepAlive: true, body: Buffer.from(rangeBody) },
  { status: 204, keepAlive: true, body: Buffer.alloc(0) },
  { status: 503, keepAlive: true, body: Buffer.from(errorBody) },
  { status: 200, keepAlive: false, body: Buffer.from('{}') },
];

function parseAll(chunks: Buffer[]): HttpResponse[] {
  const parser = etcdResponseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

test('HTTP: responses coalesced in one chunk (Content-Length, chunked with extension and trailer, 204, 503, Connection: close)', () => {
  assert.deepEqual(parseAll([stream]), expected);
});

test('HTTP: split in two at every byte position', () => {
  for (let cut = 0; cut <= stream.length; cut += 1) assert.deepEqual(parseAll([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
});

test('HTTP: one byte at a time', () => {
  assert.deepEqual(parseAll([...stream].map((byte) => Buffer.from([byte]))), expected);
});

test('HTTP: malformed responses are protocol errors', () => {
  const bad = [
    'SSH-2.0-OpenSSH\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY',
  ];
  for (const text of bad) assert.throws(() => etcdResponseParser().push(Buffer.from(text)), HttpParseError, text);
});

test('etcd: a POST request as one string', () => {
  assert.equal(encodePost('127.0.0.1:2379', '/v3/kv/range', '{"key":"eA=="}'), 'POST /v3/kv/range HTTP/1.1\r\nHost: 127.0.0.1:2379\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"key":"eA=="}');
});

test('etcd: outcomes of gateway replies', () => {
  const reply = (status: number, body: string): HttpResponse => ({ status, keepAlive: true, body: Buffer.from(body) });
  assert.equal(etcdOutcome('range', reply(200, rangeBody)), 'ok');
  assert.equal(etcdOutcome('range', reply(200, putBody)), 'notfound');
  assert.equal(etcdOutcome('range', reply(503, errorBody)), 'error');
  assert.equal(etcdOutcome('put', reply(200, putBody)), 'ok');
  assert.equal(etcdOutcome('put', reply(400, '{"error":"unexpected EOF","code":3}')), 'error');
});
