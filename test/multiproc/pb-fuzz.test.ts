// The PB listener of one real node process takes any bytes without dying or
// wedging. Seeded (PB_FUZZ_SEED=<n> replays a run); a failure prints its seed
// and the end of the node's log. Cases:
// - well-formed frames of every request code, type-correct bodies from
//   fast-check arbitraries derived from the .proto files, sometimes mutated
//   in ways that keep the stream in step (bit flips, code byte changed, body
//   cut or extended with the length fixed), and frames of random codes
//   0..255 with random bodies; each connection's stream is cut at random
//   points across writes. Every request must get its answer, in order (one
//   frame, or a stream ending in done or an error), then a final ping its pong;
// - streams knocked out of step at the end: the length field raised or
//   lowered, a frame cut short, random bytes; the answers before must still
//   come;
// - connections of nothing but random bytes.
// Meanwhile a control connection pings every 100 ms and must always be
// answered. After: the process is alive, a put/get over PB works, HTTP /ping
// answers, and /stats counts framing errors.
import assert from 'node:assert/strict';
import { Prng } from '../../src/core/sim/prng.js';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import {
  PB_CODES, PB_QUORUM, decodeMessage, encodeFrame, encodeMessage, isBodyless, isCodecName,
  type PbCodecName, type PbMessageName,
} from '../../src/api/pb/codec/index.js';
import { RawPbConnection, type RawReply } from '../helpers/pb-raw.js';
import { freePort, readLog, startNodeProcess, stopProcess, tempDir, waitForPing, type NodeProcess } from '../helpers/processes.js';

const SEED = process.env.PB_FUZZ_SEED !== undefined ? Number(process.env.PB_FUZZ_SEED) : Math.floor(Math.random() * 0x7fff_ffff);
/** PB_FUZZ_SCALE=<k> runs k times the connections (a longer hunt); 1 keeps the test at a few seconds. */
const SCALE = Number(process.env.PB_FUZZ_SCALE ?? 1);
const WORKERS = 4;
const RANDOM_BYTES_CONNECTIONS = Math.round(150 * SCALE);
const IN_STEP_CONNECTIONS = Math.round(300 * SCALE);
const IN_STEP_FRAMES_PER_CONNECTION = 16;
const OUT_OF_STEP_CONNECTIONS = Math.round(200 * SCALE);
const OUT_OF_STEP_PREFIX_FRAMES = 5;
const REPLY_TIMEOUT_MS = 10_000;
const CONTROL_PING_EVERY_MS = 100;
const CONTROL_PING_TIMEOUT_MS = 3_000;

// ---- seeded randomness for mutations and cuts (fast-check makes the messages) ----

const prng = new Prng(SEED);
const random = (): number => prng.next();
const int = (below: number): number => Math.floor(random() * below);
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));

// ---- type-correct request messages from the .proto files ----

const PROTO_DIR = join(import.meta.dirname, '../../src/api/pb/codec/proto');
const root = new protobuf.Root().loadSync([join(PROTO_DIR, 'riak.proto'), join(PROTO_DIR, 'riak_kv.proto')], { keepCase: true });
root.resolveAll();

const REQUEST_NAMES = (Object.keys(PB_CODES) as PbMessageName[]).filter(
  (name): name is PbCodecName => isCodecName(name) && (name.endsWith('Req') || name === 'RpbStartTls'),
);

const names = ['b', 'k', 'fuzz', 'default', 'n_int', 'x_bin', '$bucket', '$key', 'text/plain', 'application/json', 'utf-8', '0', '10', '-1', 'tt', ''];
const bytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...names).map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }).map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)) },
);
const uint32Arb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 2, arbitrary: fc.constantFrom(...Object.values(PB_QUORUM), 0xffff_ffff, 2 ** 31, 2 ** 31 - 1, 64, 65, 1_000, 3_600_000, 3_600_001) },
  { weight: 1, arbitrary: fc.nat() },
);

/** Names mostly valid, so requests get past the checks into the KV layer; sometimes anything. */
const mostly = (...valid: string[]): fc.Arbitrary<Buffer> =>
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...valid).map((s) => Buffer.from(s)) }, { weight: 1, arbitrary: bytesArb });
const NAMED_FIELDS: Record<string, fc.Arbitrary<Buffer>> = {
  bucket: mostly('b', 'fuzz', 'k'),
  key: mostly('k', 'k1', 'k2', 'n_int', 'x_bin'),
  type: mostly('default'),
  index: mostly('n_int', 'x_bin', '$bucket', '$key'),
  content_type: mostly('text/plain', 'application/json'),
};

function fieldArb(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> | undefined {
  if (field.type === 'bytes' && NAMED_FIELDS[field.name] !== undefined) return NAMED_FIELDS[field.name];
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return fc.constantFrom(...Object.values(resolved.values));
  if (resolved instanceof protobuf.Type) return depth >= 3 && !field.required ? undefined : messageArb(resolved, depth + 1);
  switch (field.type) {
    case 'bytes': return bytesArb;
    case 'uint32': return uint32Arb;
    case 'bool': return fc.boolean();
    case 'int64': case 'sint64': case 'int32': case 'sint32': return fc.integer({ min: -1_000, max: 1_000 });
    case 'uint64': return fc.integer({ min: 0, max: 1_000 });
    default: throw new Error(`no arbitrary for field ${field.name} of type ${field.type}`);
  }
}

function messageArb(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    let arb = fieldArb(field, depth);
    if (arb === undefined) continue;
    if (field.repeated) arb = fc.array(arb, { maxLength: 3 });
    // An optional field is mostly absent: with each present half the time, nearly every request would carry
    // some refused option, and the fuzzing would never get past the checks into the KV layer.
    model[field.name] = field.required ? arb : fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  }
  return fc.record(model).map((message) => Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined)));
}

const requestArb: fc.Arbitrary<Buffer> = fc.oneof(
  ...REQUEST_NAMES.map((name) =>
    (isBodyless(name) ? fc.constant({}) : messageArb(root.lookupType(name))).map((message) => encodeMessage(name, message as never)),
  ),
);

// ---- mutations ----

/** A frame with its length field set from its content. */
function framed(code: number, body: Buffer): Buffer {
  return encodeFrame(code & 0xff, body);
}

/** Mutations that keep the stream in step: the length field still tells where the frame ends. */
function mutateInStep(frame: Buffer): Buffer {
  const code = frame[4] as number;
  const body = frame.subarray(5);
  const roll = random();
  if (roll < 0.55) return frame;
  if (roll < 0.7 && body.length > 0) {
    const flipped = Buffer.from(body);
    for (let i = 0, n = 1 + int(4); i < n; i++) {
      const at = int(flipped.length);
      flipped[at] = (flipped[at] as number) ^ (1 << int(8));
    }
    return framed(code, flipped);
  }
  if (roll < 0.78) return framed(int(256), body);
  if (roll < 0.89) return framed(code, body.subarray(0, int(body.length + 1)));
  return framed(code, Buffer.concat([body, bytes(1 + int(16))]));
}

/** Endings that knock the stream out of step; the server may close, wait or answer garbage. */
function outOfStep(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  const length = copy.readUInt32BE(0);
  switch (int(6)) {
    case 0: copy.writeUInt32BE(Math.min(0xffff_ffff, length + 1 + int(1_000)), 0); return copy;
    case 1: copy.writeUInt32BE(Math.max(0, length - 1 - int(length)), 0); return copy;
    case 2: copy.writeUInt32BE([0, 0xffff_ffff, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1][int(4)] as number, 0); return copy;
    case 3: return copy.subarray(0, int(copy.length));
    case 4: return Buffer.concat([copy, bytes(1 + int(64))]);
    default: return bytes(1 + int(200));
  }
}

/** Whether the server answers this well-framed request with a stream (ending in done) rather than one frame. */
function isStreamed(frame: Buffer): boolean {
  const decoded = decodeMessage(frame[4] as number, frame.subarray(5));
  if (!decoded.ok || !decoded.supported) return false;
  if (decoded.name === 'RpbListKeysReq') return true;
  if (decoded.name === 'RpbListBucketsReq' || decoded.name === 'RpbIndexReq') return decoded.message.stream === true;
  return false;
}

/** Writes the bytes cut at random points, yielding between writes so they travel as separate segments. */
async function writeInPieces(conn: RawPbConnection, stream: Buffer): Promise<void> {
  let offset = 0;
  while (offset < stream.length) {
    const size = random() < 0.3 ? 1 + int(8) : 1 + int(stream.length - offset);
    conn.sendRaw(stream.subarray(offset, offset + size));
    offset += size;
    if (random() < 0.5) await new Promise((r) => setImmediate(r));
  }
}

/** Answers seen, by request and reply name: shows the fuzzing reaches past the decoder. */
const tally = new Map<string, number>();
function count(frame: Buffer, reply: RawReply): void {
  const decoded = decodeMessage(frame[4] as number, frame.subarray(5));
  const request = decoded.ok ? decoded.name : 'undecodable';
  const key = `${request} -> ${reply.name === 'RpbErrorResp' ? 'error' : 'ok'}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

/** Reads the answers to these well-framed requests, in order: one frame each, or a stream to done (or an error). */
async function expectAnswers(conn: RawPbConnection, frames: Buffer[], what: string): Promise<void> {
  for (const [i, frame] of frames.entries()) {
    const streamed = isStreamed(frame);
    for (let reply: RawReply | undefined; ;) {
      try {
        reply = await conn.next(REPLY_TIMEOUT_MS);
      } catch (err) {
        throw new Error(`${what}: request ${i} (code ${frame[4]}, ${frame.length} bytes: ${frame.toString('hex').slice(0, 200)}) got no answer: ${(err as Error).message}`, { cause: err });
      }
      if (!streamed || reply.name === 'RpbErrorResp' || reply.message?.done === true) {
        count(frame, reply);
        break;
      }
    }
  }
}

interface Plan {
  kind: 'in-step' | 'out-of-step' | 'random-bytes';
  frames: Buffer[];
  ending?: Buffer;
}

function plans(): Plan[] {
  const typed = fc.sample(requestArb, { seed: SEED, numRuns: IN_STEP_CONNECTIONS * IN_STEP_FRAMES_PER_CONNECTION + OUT_OF_STEP_CONNECTIONS * (OUT_OF_STEP_PREFIX_FRAMES + 1) });
  const nextFrame = (): Buffer => (random() < 0.15 ? encodeFrame(int(256), bytes(int(64))) : mutateInStep(typed.pop() as Buffer));
  const out: Plan[] = [];
  for (let i = 0; i < IN_STEP_CONNECTIONS; i++) out.push({ kind: 'in-step', frames: Array.from({ length: IN_STEP_FRAMES_PER_CONNECTION }, nextFrame) });
  for (let i = 0; i < OUT_OF_STEP_CONNECTIONS; i++) {
    out.push({ kind: 'out-of-step', frames: Array.from({ length: int(OUT_OF_STEP_PREFIX_FRAMES + 1) }, nextFrame), ending: outOfStep(typed.pop() as Buffer) });
  }
  for (let i = 0; i < RANDOM_BYTES_CONNECTIONS; i++) out.push({ kind: 'random-bytes', frames: [], ending: bytes(1 + int(300)) });
  // Shuffle, so kinds interleave across the workers.
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [out[i], out[j]] = [out[j] as Plan, out[i] as Plan];
  }
  return out;
}

async function runPlan(address: string, plan: Plan, index: number): Promise<void> {
  const conn = await RawPbConnection.open(address);
  const what = `connection ${index} (${plan.kind})`;
  try {
    const ping = encodeMessage('RpbPingReq', {});
    if (plan.kind === 'in-step') {
      await writeInPieces(conn, Buffer.concat([...plan.frames, ping]));
      await expectAnswers(conn, plan.frames, what);
      const pong = await conn.next(REPLY_TIMEOUT_MS);
      assert.equal(pong.name, 'RpbPingResp', `${what}: the final ping got ${pong.name}`);
      return;
    }
    await writeInPieces(conn, Buffer.concat([...plan.frames, plan.ending as Buffer]));
    await expectAnswers(conn, plan.frames, what);
    // Whatever comes next (an error and a close, more answers, nothing), the node must live: checked by the control connection.
    await Promise.race([conn.closed, new Promise((r) => setTimeout(r, 50))]);
  } finally {
    conn.close();
  }
}

describe('PB API fuzzing: the node survives any input', { timeout: 120_000 }, () => {
  const dir = tempDir('rondo-pb-fuzz-');
  let proc: NodeProcess | undefined;
  let pbAddress = '';
  let httpAddress = '';

  before(async () => {
    pbAddress = `127.0.0.1:${await freePort()}`;
    httpAddress = `127.0.0.1:${await freePort()}`;
    proc = startNodeProcess({
      name: 'fz1', address: `127.0.0.1:${await freePort()}`, dataDir: dir.path, secret: 'pb-fuzz-secret',
      extraArgs: ['--pb-listen', pbAddress, '--http-listen', httpAddress, '--log-level', 'info'],
    });
    await waitForPing(proc, httpAddress);
  });
  after(async () => {
    if (proc) await stopProcess(proc);
    dir.remove();
  });

  it('answers every in-step request, never dies, never stops answering pings (PB_FUZZ_SEED replays a run)', async (t) => {
    t.diagnostic(`PB_FUZZ_SEED=${SEED}`);
    const started = performance.now();
    const node = proc as NodeProcess;
    try {
      const control = await RawPbConnection.open(pbAddress);
      let controlRunning = true;
      let pings = 0;
      let pingMsMax = 0;
      const controlLoop = (async () => {
        while (controlRunning) {
          const sent = performance.now();
          const reply = await control.request('RpbPingReq', {}, CONTROL_PING_TIMEOUT_MS).catch((err: Error) => {
            throw new Error(`control ping ${pings} got no answer: ${err.message}`, { cause: err });
          });
          assert.equal(reply.name, 'RpbPingResp', `control ping ${pings} got ${reply.name}`);
          pings++;
          pingMsMax = Math.max(pingMsMax, performance.now() - sent);
          await new Promise((r) => setTimeout(r, CONTROL_PING_EVERY_MS));
        }
      })();
      const queue = plans();
      const total = queue.length;
      const workers = Array.from({ length: WORKERS }, async () => {
        for (let plan = queue.shift(); plan !== undefined; plan = queue.shift()) {
          await runPlan(pbAddress, plan, total - queue.length - 1);
          if (node.child.exitCode !== null || node.child.signalCode !== null) throw new Error(`the node exited (${node.child.exitCode ?? node.child.signalCode})`);
        }
      });
      // The control loop fails the test as soon as a ping goes unanswered.
      const fuzzing = Promise.all(workers);
      fuzzing.catch(() => undefined); // reported by the race below; no unhandled rejection if the control loop fails first
      controlLoop.catch(() => undefined);
      await Promise.race([fuzzing, controlLoop]);
      controlRunning = false;
      await controlLoop;
      control.close();
      t.diagnostic(`${total} connections in ${Math.round(performance.now() - started)} ms; ${pings} control pings, slowest ${Math.round(pingMsMax)} ms`);

      assert.equal(node.child.exitCode, null, 'the node exited');
      assert.equal(node.child.signalCode, null, 'the node was killed');
      const check = await RawPbConnection.open(pbAddress);
      const put = await check.request('RpbPutReq', { bucket: Buffer.from('after-fuzz'), key: Buffer.from('k'), content: { value: Buffer.from('still here') } });
      assert.equal(put.name, 'RpbPutResp');
      const got = await check.request('RpbGetReq', { bucket: Buffer.from('after-fuzz'), key: Buffer.from('k') });
      assert.equal(((got.message?.content as { value: Buffer }[] | undefined)?.[0]?.value ?? Buffer.alloc(0)).toString(), 'still here');
      check.close();
      assert.equal(await (await fetch(`http://${httpAddress}/ping`)).text(), 'OK');
      const stats = (await (await fetch(`http://${httpAddress}/stats`)).json()) as Record<string, number>;
      assert.ok(stats.pbc_framing_errors !== undefined && stats.pbc_framing_errors > 0, `pbc_framing_errors ${stats.pbc_framing_errors}`);
      // Warnings are not failures (a handler's unexpected throw is caught and answered), but worth reading.
      const warnings = readLog(node).split('\n').filter((line) => /"level":(40|50|60)/.test(line));
      t.diagnostic(`node log: ${warnings.length} warnings or errors${warnings.length > 0 ? `, e.g. ${[...new Set(warnings.map((w) => w.replace(/"time":\d+,/, '').slice(0, 300)))].slice(0, 5).join(' | ')}` : ''}`);
      t.diagnostic(`answers: ${[...tally].sort().map(([key, n]) => `${key} ${n}`).join(', ')}`);
      t.diagnostic(`stats: pbc_requests ${stats.pbc_requests}, pbc_errors ${stats.pbc_errors}, pbc_framing_errors ${stats.pbc_framing_errors}`);
    } catch (err) {
      throw new Error(`PB fuzzing failed with PB_FUZZ_SEED=${SEED}: ${(err as Error).message}\nend of the node's log:\n${readLog(node).slice(-4_000)}`, { cause: err });
    }
  });
});
