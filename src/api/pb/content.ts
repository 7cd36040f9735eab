// Objects between RpbContent / vclock bytes and the KV layer's types.
// - The vclock travels as raw bytes: the same bytes whose base64 form is
//   HTTP's X-Riak-Vclock, so a context read over one API works on the other.
// - Names (bucket types, buckets, keys, index names) must be UTF-8: the KV
//   layer keys by string, and a lossy decode would silently alias two keys.
// - On a put, vtag, last_mod and deleted are the server's to set and are
//   ignored, as Riak ignores them (it reads them only for `asis`, which we
//   refuse). Links are refused: Rondo does not store them.
import { InvalidArgumentError } from '../../core/errors.js';
import { CONTENT_TYPE_DEFAULT } from '../../kv/constants.js';
import { decodeContextBytes, parseIntIndexValue, validateIndexes, validateUserMeta } from '../../kv/object/index.js';
import type { Content, IndexValue, VersionVector } from '../../kv/object/index.js';
import type { PutContent } from '../../kv/vnode/index.js';
import type { RpbContent } from './codec/index.js';
import { REQUEST_TIMEOUT_MS_MAX } from '../../kv/coord/limits.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text; InvalidArgumentError naming `what` when they are not UTF-8 or are empty. */
export function text(bytes: Uint8Array | undefined, what: string, opts: { optional?: false } | { optional: true } = {}): string {
  if (bytes === undefined || bytes.length === 0) {
    if (opts.optional === true) return '';
    throw new InvalidArgumentError(`${what} is required`);
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new InvalidArgumentError(`${what} must be UTF-8`);
  }
}

/** A request's bucket type: absent or empty means `default`. */
export function typeOf(type: Uint8Array | undefined): string {
  return type === undefined || type.length === 0 ? 'default' : text(type, 'type');
}

/** A request's `timeout` (ms): positive, and small enough for a Node timer (larger ones fire at once). */
export function timeoutOf(timeout: number | undefined): { timeoutMs?: number } {
  if (timeout === undefined) return {};
  if (timeout === 0) throw new InvalidArgumentError('timeout must be positive (milliseconds)');
  if (timeout > REQUEST_TIMEOUT_MS_MAX) throw new InvalidArgumentError(`timeout ${timeout} must be at most ${REQUEST_TIMEOUT_MS_MAX} (milliseconds)`);
  return { timeoutMs: timeout };
}

export const bytesOf = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Absent or empty = [] (a blind write). Throws InvalidContextError on bytes we did not issue. */
export function contextOf(vclock: Uint8Array | undefined): VersionVector {
  return vclock === undefined ? [] : decodeContextBytes(vclock);
}

/** A client's RpbContent as the KV layer's new sibling; validates metadata and indexes. */
export function putContentOf(c: RpbContent): PutContent {
  if ((c.links?.length ?? 0) > 0) throw new InvalidArgumentError('links are not supported');
  const userMeta: [string, string][] = (c.usermeta ?? []).map((p) => [text(p.key, 'usermeta key'), text(p.value, 'usermeta value', { optional: true })]);
  const indexes: [string, IndexValue][] = (c.indexes ?? []).map((p) => {
    const name = text(p.key, 'index name');
    const value = text(p.value, `index ${name} value`, { optional: true });
    return [name, name.endsWith('_int') ? parseIntIndexValue(name, value) : value];
  });
  validateUserMeta(userMeta);
  validateIndexes(indexes);
  const out: PutContent = {
    value: Buffer.from(c.value ?? new Uint8Array(0)),
    contentType: c.content_type !== undefined && c.content_type.length > 0 ? text(c.content_type, 'content_type') : CONTENT_TYPE_DEFAULT,
    userMeta,
    indexes,
  };
  if (c.charset !== undefined && c.charset.length > 0) out.charset = text(c.charset, 'charset');
  if (c.content_encoding !== undefined && c.content_encoding.length > 0) out.contentEncoding = text(c.content_encoding, 'content_encoding');
  return out;
}

/** A stored sibling as RpbContent; `head` leaves the value out (RpbGetReq.head, return_head). */
export function rpbContentOf(c: Content, head: boolean): RpbContent {
  const m = c.meta;
  const out: RpbContent = {
    value: head ? Buffer.alloc(0) : c.value,
    content_type: bytesOf(m.contentType),
    vtag: bytesOf(m.vtag),
    last_mod: Math.floor(m.lastModified.wallMs / 1000),
    last_mod_usecs: (m.lastModified.wallMs % 1000) * 1000,
    usermeta: m.userMeta.map(([key, value]) => ({ key: bytesOf(key), value: bytesOf(value) })),
    indexes: m.indexes.map(([name, value]) => ({ key: bytesOf(name), value: bytesOf(String(value)) })),
  };
  if (m.charset !== undefined) out.charset = bytesOf(m.charset);
  if (m.contentEncoding !== undefined) out.content_encoding = bytesOf(m.contentEncoding);
  if (m.deleted) out.deleted = true;
  return out;
}
