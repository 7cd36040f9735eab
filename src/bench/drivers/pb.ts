// Riak's Protocol Buffers API on a raw socket, leaner than bench/pb-driver.ts:
// each request is encoded once with the server's codec, as a template, and
// only the key is spliced in per operation; a reply is judged by its message
// code and, for RpbGetResp, by whether field 1 (content) is present, found
// by a scan of the top-level fields without decoding the body.
import { InvalidArgumentError } from '../../core/errors.js';
import { FrameDecoder, PB_CODES, PB_FRAME_BYTES_MAX, PB_LENGTH_BYTES, PB_QUORUM, encodeMessage } from '../../api/pb/codec/index.js';
import type { Driver, DriverClient, DriverFactory, DriverOptions, OpOutcome } from '../types.js';
import { SerialSocketClient, parseTargets, type Target } from './socket.js';

/** RpbGetReq.key and RpbPutReq.key are both field 2, length-delimited: tag (2 << 3) | 2. */
const KEY_FIELD_TAG = 0x12;
/** RpbGetResp.content is field 1: present when the key has a value. */
const CONTENT_FIELD = 1;
/** A key that cannot occur in a benchmark: the template's placeholder, found and cut out once. */
const KEY_MARKER = Buffer.from('\u0000rondo-bench-key\u0000', 'latin1');
const CONTENT_TYPE = Buffer.from('application/octet-stream');

type QuorumParam = 'r' | 'pr' | 'w' | 'dw' | 'pw';
const GET_PARAMS = new Set<string>(['r', 'pr']);
const PUT_PARAMS = new Set<string>(['w', 'dw', 'pw']);
const PARAMS_KNOWN = ['r', 'pr', 'w', 'dw', 'pw', 'type'];

/** A quorum param as the uint32 PB carries: a number, or one of one/quorum/all/default. */
function quorumValue(name: string, text: string): number {
  if (text in PB_QUORUM) return PB_QUORUM[text as keyof typeof PB_QUORUM];
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > 0xffff_ffff) throw new InvalidArgumentError(`pb driver: param ${name}=${text}: expected a number or one of ${Object.keys(PB_QUORUM).join(', ')}`);
  return value;
}

export interface PbParams {
  get: Partial<Record<QuorumParam, number>>;
  put: Partial<Record<QuorumParam, number>>;
  type?: Buffer;
}

export function pbParams(params: Record<string, string>): PbParams {
  const parsed: PbParams = { get: {}, put: {} };
  for (const [name, text] of Object.entries(params)) {
    if (GET_PARAMS.has(name)) parsed.get[name as QuorumParam] = quorumValue(name, text);
    else if (PUT_PARAMS.has(name)) parsed.put[name as QuorumParam] = quorumValue(name, text);
    else if (name === 'type') parsed.type = Buffer.from(text);
    else throw new InvalidArgumentError(`pb driver: unknown param "${name}" (known: ${PARAMS_KNOWN.join(', ')})`);
  }
  return parsed;
}

/** A request frame cut around its key field: before + key field + after, length patched per key. */
export interface FrameTemplate {
  /** Length field (to patch), code, and the body before the key field. */
  before: Buffer;
  after: Buffer;
}

/**
 * Cuts an encoded frame around the marker key's field (tag, length, bytes).
 * protobufjs writes fields in field-number order, so the key (field 2) follows
 * the bucket (field 1) at once: the cut is checked to be exactly there.
 */
export function frameTemplate(frame: Buffer, bucket: Buffer): FrameTemplate {
  const field = Buffer.concat([Buffer.from([KEY_FIELD_TAG, KEY_MARKER.length]), KEY_MARKER]);
  const expectedAt = PB_LENGTH_BYTES + 1 + 1 + varintBytes(bucket.length) + bucket.length;
  const at = frame.indexOf(field);
  if (at !== expectedAt) throw new Error(`pb driver: the key field of the request template is at byte ${at}, expected ${expectedAt}`);
  return { before: frame.subarray(0, at), after: frame.subarray(at + field.length) };
}

/** The frame of a request for `key`: the template with the key field spliced in and the length patched. */
export function spliceKey(template: FrameTemplate, key: Buffer): Buffer {
  const lengthBytes = varintBytes(key.length);
  const frame = Buffer.allocUnsafe(template.before.length + 1 + lengthBytes + key.length + template.after.length);
  let at = template.before.copy(frame, 0);
  frame[at++] = KEY_FIELD_TAG;
  at = writeVarint(frame, at, key.length);
  at += key.copy(frame, at);
  template.after.copy(frame, at);
  frame.writeUInt32BE(frame.length - PB_LENGTH_BYTES, 0);
  return frame;
}

function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

function writeVarint(buf: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    buf[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[at++] = value;
  return at;
}

/** Reads a varint at `at`; returns [value, next offset], or undefined when it runs past the end. */
function readVarint(buf: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && at < buf.length; i++) {
    const byte = buf[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
  return undefined;
}

/**
 * Whether a protobuf message body has top-level field `field` as a
 * length-delimited value (a message, bytes); 'malformed' when the top-level
 * fields do not parse to exactly the end of the body. Nested messages are
 * skipped, not parsed.
 */
export function hasTopLevelField(body: Buffer, field: number): boolean | 'malformed' {
  let found = false;
  let at = 0;
  while (at < body.length) {
    const tag = readVarint(body, at);
    if (!tag) return 'malformed';
    at = tag[1];
    const wireType = tag[0] % 8;
    switch (wireType) {
      case 0: {
        const skipped = readVarint(body, at);
        if (!skipped) return 'malformed';
        at = skipped[1];
        break;
      }
      case 1:
        at += 8;
        break;
      case 2: {
        const length = readVarint(body, at);
        if (!length) return 'malformed';
        at = length[1] + length[0];
        if (Math.floor(tag[0] / 8) === field) found = true;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        return 'malformed';
    }
  }
  return at === body.length ? found : 'malformed';
}

/** What a reply frame means for a get or a put. */
export function pbOutcome(code: number, body: Buffer, isGet: boolean): OpOutcome {
  if (isGet && code === PB_CODES.RpbGetResp) {
    const found = hasTopLevelField(body, CONTENT_FIELD);
    return found === 'malformed' ? 'error' : found ? 'ok' : 'notfound';
  }
  if (!isGet && code === PB_CODES.RpbPutResp) return 'ok';
  return 'error'; // RpbErrorResp, or a reply to some other request
}

/** The get and put templates of a run (one value size: the workload's). */
export function requestTemplates(bucket: string, params: PbParams, value: Buffer): { get: FrameTemplate; put: FrameTemplate } {
  const bucketBytes = Buffer.from(bucket);
  const common = { bucket: bucketBytes, key: KEY_MARKER, ...(params.type ? { type: params.type } : {}) };
  return {
    get: frameTemplate(encodeMessage('RpbGetReq', { ...common, ...params.get }), bucketBytes),
    put: frameTemplate(encodeMessage('RpbPutReq', { ...common, ...params.put, content: { value, content_type: CONTENT_TYPE } }), bucketBytes),
  };
}

class PbClient extends SerialSocketClient {
  private decoder = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX });
  /** The put template and the value it was built for; rebuilt only if a put brings another value. */
  private putTemplate: { value: Buffer; template: FrameTemplate } | undefined;

  constructor(
    target: Target,
    private readonly bucket: string,
    private readonly params: PbParams,
    private readonly getTemplate: FrameTemplate,
    timeoutMs: number,
    signal: AbortSignal,
  ) {
    super(target, timeoutMs, signal);
  }

  get(key: string): Promise<OpOutcome> {
    return this.send('get', spliceKey(this.getTemplate, Buffer.from(key)));
  }

  put(key: string, value: Buffer): Promise<OpOutcome> {
    if (this.putTemplate?.value !== value) this.putTemplate = { value, template: requestTemplates(this.bucket, this.params, value).put };
    return this.send('put', spliceKey(this.putTemplate.template, Buffer.from(key)));
  }

  protected resetParser(): void {
    this.decoder = new FrameDecoder({ maxFrameBytes: PB_FRAME_BYTES_MAX });
  }

  protected onData(chunk: Buffer): void {
    for (const event of this.decoder.push(chunk)) {
      if (event.kind === 'error') throw new Error(`bad frame from server: ${event.message}`);
      this.complete(pbOutcome(event.code, event.body, this.op === 'get'));
    }
  }
}

export const createPbDriver: DriverFactory = (opts: DriverOptions): Driver => {
  const targets = parseTargets(opts.targets);
  if (opts.bucket === '') throw new InvalidArgumentError('pb driver: the bucket name is empty');
  const params = pbParams(opts.params);
  const getTemplate = requestTemplates(opts.bucket, params, Buffer.alloc(0)).get;
  return {
    name: 'pb',
    async connect(index: number, signal: AbortSignal): Promise<DriverClient> {
      const client = new PbClient(targets[index % targets.length]!, opts.bucket, params, getTemplate, opts.timeoutMs, signal);
      await client.open();
      return client;
    },
  };
};
