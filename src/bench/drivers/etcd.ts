// The etcd driver for `rondo bench`: etcd v3's JSON gateway (grpc-gateway)
// over HTTP/1.1 keep-alive on a raw socket, one request in flight per client.
// Not node:http or fetch: their per-request CPU would be the generator's
// bottleneck on a machine whose cores the measured servers share.
//   get: POST /v3/kv/range {"key": b64}          -> 200; no "kvs" field: notfound
//   put: POST /v3/kv/put   {"key": b64, "value": b64} -> 200
// etcd 3.4 serves both /v3/ and the deprecated /v3beta/; 3.5 dropped /v3beta/.
// Key = base64 of `<bucket>/<key>`. Params: `serializable=true` makes gets
// serializable (served by the member alone) instead of linearizable (etcd's
// default: a read-index round through the leader).
import type { Driver, DriverClient, DriverFactory, DriverOptions, OpOutcome } from '../types.js';
import { HttpResponseParser, type HttpResponse } from './http.js';
import { SerialSocketClient, parseTargets, type Target } from './socket.js';

/**
 * The parser of etcd's replies: http.ts's, keeping bodies (a range reply
 * without "kvs" is a notfound) and refusing a body delimited only by the
 * close (etcd's gateway always sends Content-Length, or chunked above ~2 KB).
 */
export function etcdResponseParser(): HttpResponseParser<true> {
  return new HttpResponseParser({ keepBody: true, bodyUntilClose: false });
}

/** A POST with a JSON body, as one string (the body is ASCII: JSON around base64; the socket writes it as UTF-8, the same bytes). */
export function encodePost(host: string, path: string, json: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`;
}

/** What a gateway reply means: any non-2xx is an error; a 2xx range without `kvs` (omitted when empty) is notfound. */
export function etcdOutcome(op: 'range' | 'put', response: HttpResponse): OpOutcome {
  if (response.status < 200 || response.status > 299) return 'error';
  if (op === 'put') return 'ok';
  // A key search, not JSON.parse: the header's fields are numbers as strings and keys/values are base64, so `"kvs"` can only be the field.
  return response.body.indexOf('"kvs"') === -1 ? 'notfound' : 'ok';
}

interface EtcdSettings {
  keyPrefix: string;
  serializable: boolean;
  /** base64 of each value Buffer seen, by identity: the runner reuses its value buffers, so this is computed once per buffer. */
  valueBase64: WeakMap<Buffer, string>;
}

/** One connection, one request in flight; a timeout, error or bad reply drops the connection and the next request reconnects (socket.ts). */
class EtcdClient extends SerialSocketClient {
  private parser = etcdResponseParser();

  constructor(
    target: Target,
    /** The Host header: the target as given. */
    private readonly host: string,
    private readonly settings: EtcdSettings,
    timeoutMs: number,
    signal: AbortSignal,
  ) {
    super(target, timeoutMs, signal);
  }

  get(key: string): Promise<OpOutcome> {
    const keyBase64 = Buffer.from(this.settings.keyPrefix + key).toString('base64');
    const json = this.settings.serializable ? `{"key":"${keyBase64}","serializable":true}` : `{"key":"${keyBase64}"}`;
    return this.send('get', encodePost(this.host, '/v3/kv/range', json));
  }

  put(key: string, value: Buffer): Promise<OpOutcome> {
    const keyBase64 = Buffer.from(this.settings.keyPrefix + key).toString('base64');
    let valueBase64 = this.settings.valueBase64.get(value);
    if (valueBase64 === undefined) {
      valueBase64 = value.toString('base64');
      this.settings.valueBase64.set(value, valueBase64);
    }
    return this.send('put', encodePost(this.host, '/v3/kv/put', `{"key":"${keyBase64}","value":"${valueBase64}"}`));
  }

  protected resetParser(): void {
    this.parser = etcdResponseParser();
  }

  protected onData(chunk: Buffer): void {
    for (const response of this.parser.push(chunk)) {
      if (!response.keepAlive) this.drop();
      this.complete(etcdOutcome(this.op === 'get' ? 'range' : 'put', response));
    }
  }
}

function parseParams(params: Record<string, string>): { serializable: boolean } {
  const { serializable = 'false', ...unknown } = params;
  if (Object.keys(unknown).length > 0) throw new Error(`etcd driver: unknown params ${Object.keys(unknown).join(', ')} (it takes serializable=true|false)`);
  if (serializable !== 'true' && serializable !== 'false') throw new Error(`etcd driver: serializable must be true or false, got ${serializable}`);
  return { serializable: serializable === 'true' };
}

export const etcdDriver: DriverFactory = (opts: DriverOptions): Driver => {
  if (opts.targets.length === 0) throw new Error('etcd driver: no targets');
  const targets = parseTargets(opts.targets);
  const settings: EtcdSettings = { keyPrefix: `${opts.bucket}/`, valueBase64: new WeakMap(), ...parseParams(opts.params) };
  return {
    name: 'etcd',
    async connect(index: number, signal: AbortSignal): Promise<DriverClient> {
      const slot = index % targets.length;
      const client = new EtcdClient(targets[slot]!, opts.targets[slot]!, settings, opts.timeoutMs, signal);
      await client.open();
      return client;
    },
  };
};
