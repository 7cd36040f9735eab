// One sibling: a value and its metadata. Validation lives here so every entry
// point (HTTP, PB, decode) refuses the same things with the same messages.
import type { Random } from '../../core/env.js';
import { assert } from '../../core/errors.js';
import { CONTENT_TYPE_DEFAULT, META_ENTRIES_MAX, META_STRING_CHARS_MAX, VTAG_CHARS, VTAG_CHARS_MAX } from '../constants.js';
import { InvalidIndexError, InvalidMetadataError } from '../errors.js';
import { compareHlc, isHlc } from './hlc.js';
import type { Hlc } from './hlc.js';

export type IndexValue = string | number;

export interface ContentMeta {
  contentType: string;
  charset?: string;
  contentEncoding?: string;
  /** X-Riak-Meta-* pairs, keys unique (case-insensitively), sorted by key. */
  userMeta: [string, string][];
  /** Secondary index entries; names end _bin (string value) or _int (integer). Sorted, unique. */
  indexes: [string, IndexValue][];
  lastModified: Hlc;
  /** Random id of this write; names the sibling (ETag, ?vtag=) and breaks HLC ties. */
  vtag: string;
  /** A tombstone: what a delete writes. */
  deleted: boolean;
}

export interface Content {
  value: Uint8Array;
  meta: ContentMeta;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const VTAG_PATTERN = /^[0-9A-Za-z]+$/;
// HTTP header token characters, lowercase only: names travel as header names,
// which are case-insensitive, so "Foo_bin" and "foo_bin" could not be told apart.
const INDEX_NAME_PATTERN = /^[a-z0-9!#$%&'*+.^`|~_-]+_(bin|int)$/;
const META_KEY_PATTERN = /^[A-Za-z0-9!#$%&'*+.^`|~_-]+$/;
// Header values may not carry line breaks or NUL (header injection).
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

/** A fresh vtag: VTAG_CHARS base62 characters drawn from `random`. */
export function newVtag(random: Pick<Random, 'int'>): string {
  let out = '';
  for (let i = 0; i < VTAG_CHARS; i++) out += BASE62[random.int(62)] ?? '';
  assert(out.length === VTAG_CHARS, 'random.int(62) stays in [0, 62)');
  return out;
}

export interface NewContent {
  value: Uint8Array;
  contentType?: string;
  charset?: string;
  contentEncoding?: string;
  userMeta?: [string, string][];
  indexes?: [string, IndexValue][];
  lastModified: Hlc;
  vtag: string;
  deleted?: boolean;
}

/** Validates and normalizes (sorts, dedupes indexes) a content; throws InvalidIndexError / InvalidMetadataError. */
export function makeContent(input: NewContent): Content {
  validateUserMeta(input.userMeta ?? []);
  const meta: ContentMeta = {
    contentType: input.contentType ?? CONTENT_TYPE_DEFAULT,
    userMeta: [...(input.userMeta ?? [])].sort((a, b) => compareStrings(a[0], b[0])),
    indexes: normalizeIndexes(input.indexes ?? []),
    // Copied so the stored HLC is a plain object of exactly two fields.
    lastModified: isHlc(input.lastModified) ? { wallMs: input.lastModified.wallMs, logical: input.lastModified.logical } : input.lastModified,
    vtag: input.vtag,
    deleted: input.deleted ?? false,
  };
  if (input.charset !== undefined) meta.charset = input.charset;
  if (input.contentEncoding !== undefined) meta.contentEncoding = input.contentEncoding;
  const content = { value: input.value, meta };
  validateContent(content);
  return content;
}

/** A tombstone written by a delete: empty value, deleted=true. */
export function makeTombstone(lastModified: Hlc, vtag: string): Content {
  return makeContent({ value: new Uint8Array(0), lastModified, vtag, deleted: true });
}

/** Throws a typed error naming the first problem. */
export function validateContent(content: Content): void {
  if (!(content.value instanceof Uint8Array)) throw new InvalidMetadataError('value must be bytes');
  const m = content.meta;
  checkHeaderString('content type', m.contentType, false);
  if (m.charset !== undefined) checkHeaderString('charset', m.charset, false);
  if (m.contentEncoding !== undefined) checkHeaderString('content encoding', m.contentEncoding, false);
  if (!isHlc(m.lastModified)) throw new InvalidMetadataError('lastModified must be an HLC of non-negative integers');
  if (typeof m.vtag !== 'string' || m.vtag.length === 0 || m.vtag.length > VTAG_CHARS_MAX || !VTAG_PATTERN.test(m.vtag)) {
    throw new InvalidMetadataError(`vtag must be 1..${VTAG_CHARS_MAX} base62 characters`);
  }
  if (typeof m.deleted !== 'boolean') throw new InvalidMetadataError('deleted must be a boolean');
  validateUserMeta(m.userMeta);
  validateIndexes(m.indexes);
}

export function validateUserMeta(userMeta: [string, string][]): void {
  if (!Array.isArray(userMeta)) throw new InvalidMetadataError('user metadata must be a list of pairs');
  if (userMeta.length > META_ENTRIES_MAX) throw new InvalidMetadataError(`${userMeta.length} user metadata entries (max ${META_ENTRIES_MAX})`);
  const seen = new Set<string>();
  for (const pair of userMeta) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidMetadataError('user metadata entries are [key, value] pairs');
    const [key, value] = pair;
    if (typeof key !== 'string' || !META_KEY_PATTERN.test(key) || key.length > META_STRING_CHARS_MAX) {
      throw new InvalidMetadataError(`user metadata key ${JSON.stringify(key)} must be a non-empty HTTP header token`);
    }
    if (seen.has(key.toLowerCase())) throw new InvalidMetadataError(`user metadata key ${JSON.stringify(key)} appears twice`);
    seen.add(key.toLowerCase());
    checkHeaderString(`user metadata ${key}`, value, true);
  }
}

export function validateIndexes(indexes: [string, IndexValue][]): void {
  if (!Array.isArray(indexes)) throw new InvalidIndexError('indexes must be a list of [name, value] pairs');
  if (indexes.length > META_ENTRIES_MAX) throw new InvalidIndexError(`${indexes.length} index entries (max ${META_ENTRIES_MAX})`);
  for (const pair of indexes) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidIndexError('index entries are [name, value] pairs');
    const [name, value] = pair;
    if (typeof name !== 'string' || name.length > META_STRING_CHARS_MAX || !INDEX_NAME_PATTERN.test(name)) {
      throw new InvalidIndexError(`index name ${JSON.stringify(name)} must be lowercase header characters ending in _bin or _int`);
    }
    if (name.endsWith('_int')) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new InvalidIndexError(`index ${name} needs an integer value (got ${JSON.stringify(value)})`);
      }
    } else if (typeof value !== 'string' || value.length > META_STRING_CHARS_MAX) {
      throw new InvalidIndexError(`index ${name} needs a string value of at most ${META_STRING_CHARS_MAX} chars`);
    }
  }
}

/** Parses a textual _int value ("42", "-7"), e.g. a header or a query term (`what`); throws InvalidIndexError. */
export function parseIntIndexValue(name: string, text: string, what = 'value'): number {
  const n = /^-?[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidIndexError(`index ${name} needs an integer ${what} (got ${JSON.stringify(text.slice(0, 80))})`);
  return n;
}

function normalizeIndexes(indexes: [string, IndexValue][]): [string, IndexValue][] {
  validateIndexes(indexes);
  const unique = new Map<string, [string, IndexValue]>();
  for (const [name, value] of indexes) unique.set(`${name}\u0000${typeof value}\u0000${value}`, [name, value]);
  return [...unique.values()].sort((a, b) => compareStrings(a[0], b[0]) || compareIndexValues(a[1], b[1]));
}

function compareIndexValues(a: IndexValue, b: IndexValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareStrings(String(a), String(b));
}

function checkHeaderString(what: string, value: unknown, allowEmpty: boolean): void {
  if (typeof value !== 'string') throw new InvalidMetadataError(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw new InvalidMetadataError(`${what} must not be empty`);
  if (value.length > META_STRING_CHARS_MAX) throw new InvalidMetadataError(`${what} is ${value.length} chars (max ${META_STRING_CHARS_MAX})`);
  if (HEADER_VALUE_FORBIDDEN.test(value)) throw new InvalidMetadataError(`${what} must not contain CR, LF or NUL`);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Total order on siblings: lastModified, then vtag. The newest wins for
 * allow_mult=false and LWW; vtags are random, so equal HLCs (only possible
 * across nodes) are broken arbitrarily but identically on every replica.
 */
export function compareContents(a: Content, b: Content): number {
  return compareHlc(a.meta.lastModified, b.meta.lastModified) || compareStrings(a.meta.vtag, b.meta.vtag);
}

/** Bytes this content takes, roughly as stored: value plus metadata strings. */
export function approximateContentBytes(c: Content): number {
  const m = c.meta;
  let n = c.value.byteLength + m.contentType.length + (m.charset?.length ?? 0) + (m.contentEncoding?.length ?? 0) + m.vtag.length + 24;
  for (const [k, v] of m.userMeta) n += k.length + v.length;
  for (const [k, v] of m.indexes) n += k.length + (typeof v === 'number' ? 8 : v.length);
  return n;
}
