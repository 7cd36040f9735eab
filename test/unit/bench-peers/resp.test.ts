import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespParser, RespProtocolError, encodeGet, encodeSet, outcomeOf, type RespReply } from '../../../src/bench/drivers/redis.js';

const bigValue = Buffer.alloc(5000, 0x61);
const stream = Buffer.concat([
  Buffer.from('+OK\r\n'),
  Buffer.from('$-1\r\n'),
  Buffer.from('-ERR wrong number of arguments\r\n'),
  Buffer.from(':42\r\n'),
  Buffer.from('$5\r\nhe\r\no\r\n'), // a bulk string holding CRLF: read by length, not by line
  Buffer.from('$0\r\n\r\n'),
  Buffer.from(`$${bigValue.length}\r\n`),
  bigValue,
  Buffer.from('\r\n'),
]);
const expected: RespReply[] = [
  { kind: 'simple', value: 'OK' },
  { kind: 'bulk', value: null },
  { kind: 'error', message: 'ERR wrong number of arguments' },
  { kind: 'integer', value: 42 },
  { kind: 'bulk', value: Buffer.from('he\r\no') },
  { kind: 'bulk', value: Buffer.alloc(0) },
  { kind: 'bulk', value: bigValue },
];

function parseAll(chunks: Buffer[]): RespReply[] {
  const parser = new RespParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

test('RESP: all replies coalesced in one chunk', () => {
  assert.deepEqual(parseAll([stream]), expected);
});

test('RESP: split in two at every byte position', () => {
  for (let cut = 0; cut <= stream.length; cut += 1) assert.deepEqual(parseAll([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
});

test('RESP: one byte at a time, and in 7-byte chunks', () => {
  assert.deepEqual(parseAll([...stream].map((byte) => Buffer.from([byte]))), expected);
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += 7) chunks.push(stream.subarray(at, at + 7));
  assert.deepEqual(parseAll(chunks), expected);
});

test('RESP: malformed input is a protocol error', () => {
  for (const bad of ['*1\r\n$1\r\na\r\n', '?x\r\n', ':abc\r\n', '$-2\r\n', '$2\r\nabXY', '+OK\rX']) {
    assert.throws(() => new RespParser().push(Buffer.from(bad)), RespProtocolError, bad);
  }
});

test('RESP: reset drops a half-read reply', () => {
  const parser = new RespParser();
  assert.deepEqual(parser.push(Buffer.from('$10\r\nabc')), []);
  parser.reset();
  assert.deepEqual(parser.push(Buffer.from('+OK\r\n')), [{ kind: 'simple', value: 'OK' }]);
});

test('RESP: GET and SET frames', () => {
  assert.equal(encodeGet('b:k1'), '*2\r\n$3\r\nGET\r\n$4\r\nb:k1\r\n');
  assert.equal(encodeGet('b:é'), '*2\r\n$3\r\nGET\r\n$4\r\nb:é\r\n'); // byte length, not characters
  assert.deepEqual(encodeSet('b:k1', Buffer.from('v\r\n')), Buffer.from('*3\r\n$3\r\nSET\r\n$4\r\nb:k1\r\n$3\r\nv\r\n\r\n'));
});

test('RESP: outcomes of GET and SET replies', () => {
  assert.equal(outcomeOf('get', { kind: 'bulk', value: Buffer.from('x') }), 'ok');
  assert.equal(outcomeOf('get', { kind: 'bulk', value: null }), 'notfound');
  assert.equal(outcomeOf('get', { kind: 'error', message: 'WRONGTYPE' }), 'error');
  assert.equal(outcomeOf('set', { kind: 'simple', value: 'OK' }), 'ok');
  assert.equal(outcomeOf('set', { kind: 'error', message: 'OOM' }), 'error');
  assert.equal(outcomeOf('set', { kind: 'bulk', value: null }), 'error');
});
