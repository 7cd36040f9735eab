// Pure mapping between the client's types and Riak PB messages. No I/O.
import { IndexQueryType, PB_QUORUM, type Decoded, type RpbBucketProps, type RpbCommitHook, type RpbContent, type RpbIndexReq, type RpbIndexResp, type RpbModFun } from '../api/pb/codec/index.js';
import { RondoClientError } from './errors.js';
import { assert } from './limits.js';
import type { BucketProps, CommitHook, IndexEntry, IndexHit, IndexQuery, ModFun, NewSibling, Quorum, Sibling } from './types.js';

const UINT32_MAX = 0xffff_ffff;
const QUORUM_SYMBOLS = new Map<number, Quorum>(Object.entries(PB_QUORUM).map(([word, code]) => [code, word as Quorum]));

export const CONTENT_TYPE_BYTES_DEFAULT = 'application/octet-stream';
export const CONTENT_TYPE_TEXT_DEFAULT = 'text/plain';
export const CHARSET_TEXT_DEFAULT = 'utf-8';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

export function quorumToPb(value: Quorum, name: string): number {
  if (typeof value === 'number') {
    // Numbers at the top of the uint32 range are the symbolic values' codes: refuse them as numbers.
    if (!Number.isSafeInteger(value) || value < 0 || value >= PB_QUORUM.default) throw new RondoClientError('invalid_argument', `${name} must be a non-negative integer or one|quorum|all|default, not ${value}`);
    return value;
  }
  const code = (PB_QUORUM as Record<string, number>)[value];
  if (code === undefined) throw new RondoClientError('invalid_argument', `${name} must be a non-negative integer or one|quorum|all|default, not ${JSON.stringify(value)}`);
  assert(code <= UINT32_MAX, 'quorum codes fit uint32');
  return code;
}

export function quorumFromPb(value: number): Quorum {
  return QUORUM_SYMBOLS.get(value) ?? value;
}

/** The quorum fields of a request that were given, encoded. */
export function quorumsToPb<N extends string>(options: Partial<Record<N, Quorum>>, names: readonly N[]): Partial<Record<N, number>> {
  const out: Partial<Record<N, number>> = {};
  for (const name of names) {
    const value = options[name];
    if (value !== undefined) out[name] = quorumToPb(value, name);
  }
  return out;
}

// ---- content ----

export function contentToPb(input: string | Uint8Array | NewSibling): RpbContent {
  const sibling: NewSibling = typeof input === 'string' || input instanceof Uint8Array ? { value: input } : input;
  const isText = typeof sibling.value === 'string';
  const out: RpbContent = {
    value: isText ? bytes(sibling.value as string) : (sibling.value as Uint8Array),
    content_type: bytes(sibling.contentType ?? (isText ? CONTENT_TYPE_TEXT_DEFAULT : CONTENT_TYPE_BYTES_DEFAULT)),
  };
  const charset = sibling.charset ?? (isText && sibling.contentType === undefined ? CHARSET_TEXT_DEFAULT : undefined);
  if (charset !== undefined) out.charset = bytes(charset);
  if (sibling.contentEncoding !== undefined) out.content_encoding = bytes(sibling.contentEncoding);
  const meta = Object.entries(sibling.userMeta ?? {});
  if (meta.length > 0) out.usermeta = meta.map(([key, value]) => ({ key: bytes(key), value: bytes(value) }));
  const indexes = sibling.indexes ?? [];
  if (indexes.length > 0) out.indexes = indexes.map(indexToPb);
  return out;
}

function indexToPb(entry: IndexEntry): { key: Buffer; value: Buffer } {
  const numeric = entry.name.endsWith('_int');
  if (!numeric && !entry.name.endsWith('_bin')) throw new RondoClientError('invalid_argument', `index ${entry.name} must end in _int or _bin`);
  if (numeric && !(typeof entry.value === 'number' ? Number.isSafeInteger(entry.value) : /^-?\d+$/.test(entry.value))) {
    throw new RondoClientError('invalid_argument', `index ${entry.name} takes integers, not ${JSON.stringify(entry.value)}`);
  }
  return { key: bytes(entry.name), value: bytes(String(entry.value)) };
}

/** A decoded RpbContent as a Sibling; the value is copied out of the frame. */
export function siblingFromPb(c: Decoded<RpbContent>): Sibling {
  const lastModifiedMs = (c.last_mod ?? 0) * 1000 + Math.floor((c.last_mod_usecs ?? 0) / 1000);
  const sibling: Sibling = {
    value: Buffer.from(c.value ?? Buffer.alloc(0)),
    contentType: c.content_type !== undefined && c.content_type.length > 0 ? text(c.content_type) : CONTENT_TYPE_BYTES_DEFAULT,
    vtag: c.vtag === undefined ? '' : text(c.vtag),
    lastModified: new Date(lastModifiedMs),
    userMeta: Object.fromEntries((c.usermeta ?? []).map((p) => [text(p.key), p.value === undefined ? '' : text(p.value)])),
    indexes: (c.indexes ?? []).map((p) => {
      const name = text(p.key);
      const value = p.value === undefined ? '' : text(p.value);
      return { name, value: name.endsWith('_int') ? Number(value) : value };
    }),
  };
  if (c.charset !== undefined && c.charset.length > 0) sibling.charset = text(c.charset);
  if (c.content_encoding !== undefined && c.content_encoding.length > 0) sibling.contentEncoding = text(c.content_encoding);
  return sibling;
}

// ---- secondary indexes ----

export function indexRequest(q: IndexQuery, stream: boolean): RpbIndexReq {
  if (q.maxResults !== undefined && (!Number.isSafeInteger(q.maxResults) || q.maxResults < 1)) throw new RondoClientError('invalid_argument', `maxResults must be a positive integer, not ${q.maxResults}`);
  const req: RpbIndexReq = {
    bucket: bytes(q.bucket),
    index: bytes(q.index),
    qtype: q.end === undefined ? IndexQueryType.eq : IndexQueryType.range,
  };
  if (q.end === undefined) req.key = bytes(String(q.start));
  else {
    req.range_min = bytes(String(q.start));
    req.range_max = bytes(String(q.end));
  }
  if (q.type !== undefined) req.type = bytes(q.type);
  if (q.returnTerms === true) req.return_terms = true;
  if (stream) req.stream = true;
  if (q.maxResults !== undefined) req.max_results = q.maxResults;
  if (q.continuation !== undefined) req.continuation = bytes(q.continuation);
  return req;
}

export function indexHitsFromPb(index: string, m: Decoded<RpbIndexResp>): IndexHit[] {
  const numeric = index.endsWith('_int');
  if (m.results !== undefined && m.results.length > 0) {
    return m.results.map((p) => {
      const term = text(p.key);
      return { key: p.value === undefined ? '' : text(p.value), term: numeric ? Number(term) : term };
    });
  }
  return (m.keys ?? []).map((k) => ({ key: text(k) }));
}

export function continuationFromPb(m: { continuation?: Buffer }): string | undefined {
  return m.continuation !== undefined && m.continuation.length > 0 ? text(m.continuation) : undefined;
}

// ---- bucket properties ----

const QUORUM_PROPS = [['pr', 'pr'], ['r', 'r'], ['w', 'w'], ['pw', 'pw'], ['dw', 'dw'], ['rw', 'rw']] as const;
const NUMBER_PROPS = [['nVal', 'n_val'], ['oldVclock', 'old_vclock'], ['youngVclock', 'young_vclock'], ['bigVclock', 'big_vclock'], ['smallVclock', 'small_vclock'], ['hllPrecision', 'hll_precision']] as const;
const BOOLEAN_PROPS = [['allowMult', 'allow_mult'], ['lastWriteWins', 'last_write_wins'], ['basicQuorum', 'basic_quorum'], ['notfoundOk', 'notfound_ok'], ['search', 'search'], ['consistent', 'consistent'], ['writeOnce', 'write_once']] as const;
const TEXT_PROPS = [['backend', 'backend'], ['searchIndex', 'search_index'], ['datatype', 'datatype']] as const;
/** RpbReplMode by number. */
const REPL_VALUES: readonly (boolean | 'realtime' | 'fullsync')[] = [false, 'realtime', 'fullsync', true];

function modFunToPb(m: ModFun): RpbModFun {
  return { module: bytes(m.module), function: bytes(m.function) };
}
function modFunFromPb(m: Decoded<RpbModFun>): ModFun {
  return { module: text(m.module), function: text(m.function) };
}
function hookToPb(h: CommitHook): RpbCommitHook {
  return 'name' in h ? { name: bytes(h.name) } : { modfun: modFunToPb(h) };
}
function hookFromPb(h: Decoded<RpbCommitHook>): CommitHook {
  if (h.modfun !== undefined) return modFunFromPb(h.modfun);
  return { name: h.name === undefined ? '' : text(h.name) };
}

/** The given fields only; an empty hook list is sent with has_precommit/has_postcommit, so it clears the hooks. */
export function propsToPb(props: BucketProps): RpbBucketProps {
  const out: RpbBucketProps = {};
  for (const [ours, theirs] of NUMBER_PROPS) if (props[ours] !== undefined) out[theirs] = props[ours];
  for (const [ours, theirs] of BOOLEAN_PROPS) if (props[ours] !== undefined) out[theirs] = props[ours];
  for (const [ours, theirs] of TEXT_PROPS) if (props[ours] !== undefined) out[theirs] = bytes(props[ours]);
  for (const [ours, theirs] of QUORUM_PROPS) if (props[ours] !== undefined) out[theirs] = quorumToPb(props[ours], ours);
  if (props.precommit !== undefined) {
    out.precommit = props.precommit.map(hookToPb);
    out.has_precommit = true;
  }
  if (props.postcommit !== undefined) {
    out.postcommit = props.postcommit.map(hookToPb);
    out.has_postcommit = true;
  }
  if (props.chashKeyfun !== undefined) out.chash_keyfun = modFunToPb(props.chashKeyfun);
  if (props.linkfun !== undefined) out.linkfun = modFunToPb(props.linkfun);
  if (props.repl !== undefined) out.repl = REPL_VALUES.indexOf(props.repl);
  return out;
}

export function propsFromPb(pb: Decoded<RpbBucketProps>): BucketProps {
  const out: BucketProps = {};
  for (const [ours, theirs] of NUMBER_PROPS) if (pb[theirs] !== undefined) out[ours] = pb[theirs];
  for (const [ours, theirs] of BOOLEAN_PROPS) if (pb[theirs] !== undefined) out[ours] = pb[theirs];
  for (const [ours, theirs] of TEXT_PROPS) if (pb[theirs] !== undefined) out[ours] = text(pb[theirs]);
  for (const [ours, theirs] of QUORUM_PROPS) if (pb[theirs] !== undefined) out[ours] = quorumFromPb(pb[theirs]);
  out.precommit = (pb.precommit ?? []).map(hookFromPb);
  out.postcommit = (pb.postcommit ?? []).map(hookFromPb);
  if (pb.chash_keyfun !== undefined) out.chashKeyfun = modFunFromPb(pb.chash_keyfun);
  if (pb.linkfun !== undefined) out.linkfun = modFunFromPb(pb.linkfun);
  if (pb.repl !== undefined) {
    const repl = REPL_VALUES[pb.repl];
    if (repl !== undefined) out.repl = repl;
  }
  return out;
}
