// Metadata state as a join-semilattice, in the style of mergeRings: per
// (prefix, key) the greater entry under a total order (version, then writer,
// then canonical content), and the max of the clocks. A max under a total
// order is commutative, associative and idempotent, so gossip converges
// whatever the order, loss or duplication of messages. A tombstone carries a
// version greater than every write its replica had seen, so stale gossip can
// never bring the removed value back. States are never mutated in place.
import { createHash } from 'node:crypto';
import type { NodeName } from '../env.js';
import { InvalidArgumentError, assert } from '../errors.js';
import { METADATA_KEY_CHARS_MAX, METADATA_PREFIX_CHARS_MAX, METADATA_VALUE_DEPTH_MAX } from './types.js';
import type { MetadataEntry, MetadataPrefixEntries, MetadataState } from './types.js';

export function emptyMetadata(): MetadataState {
  return { clock: 0, prefixes: {} };
}

/** JSON with object keys sorted at every level: equal values, equal strings. */
export function canonicalValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalValue).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalValue(record[k])}`).join(',')}}`;
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order on entries of one key: version, writer, then content. */
export function compareEntries(a: MetadataEntry, b: MetadataEntry): number {
  if (a.version !== b.version) return a.version - b.version;
  const byWriter = compareStrings(a.writer, b.writer);
  if (byWriter !== 0) return byWriter;
  return compareStrings(canonicalValue([a.tombstone, a.value]), canonicalValue([b.tombstone, b.value]));
}

function checkName(what: 'prefix' | 'key', name: string, charsMax: number): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > charsMax) {
    throw new InvalidArgumentError(`metadata ${what} must be a string of 1..${charsMax} characters`);
  }
  if (name === '__proto__') throw new InvalidArgumentError(`metadata ${what} "__proto__" is reserved`);
}

/** Values are plain JSON-like data, so they encode with msgpack and order canonically. */
export function checkPlainData(value: unknown, path = 'value', depth = 0): void {
  if (depth > METADATA_VALUE_DEPTH_MAX) throw new InvalidArgumentError(`${path} nests deeper than ${METADATA_VALUE_DEPTH_MAX}`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`${path} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkPlainData(item, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkPlainData(v, `${path}.${k}`, depth + 1);
    return;
  }
  throw new InvalidArgumentError(`${path} is not plain data (got ${value === undefined ? 'undefined' : typeof value})`);
}

export function getEntry(state: MetadataState, prefix: string, key: string): MetadataEntry | undefined {
  const entries = own(state.prefixes, prefix);
  return entries === undefined ? undefined : own(entries, key);
}

/** The live value of a key; undefined when absent or removed. */
export function get(state: MetadataState, prefix: string, key: string): unknown {
  const entry = getEntry(state, prefix, key);
  return entry === undefined || entry.tombstone ? undefined : entry.value;
}

/** Live keys of a prefix with their values, sorted by key. */
export function list(state: MetadataState, prefix: string): [key: string, value: unknown][] {
  const entries = own(state.prefixes, prefix) ?? {};
  return Object.keys(entries)
    .sort()
    .map((key) => [key, entries[key] as MetadataEntry] as const)
    .filter(([, entry]) => !entry.tombstone)
    .map(([key, entry]) => [key, entry.value]);
}

function write(state: MetadataState, prefix: string, key: string, tombstone: boolean, value: unknown, writer: NodeName): MetadataState {
  checkName('prefix', prefix, METADATA_PREFIX_CHARS_MAX);
  checkName('key', key, METADATA_KEY_CHARS_MAX);
  assert(typeof writer === 'string' && writer.length > 0, 'writer is a node name');
  const previous = getEntry(state, prefix, key);
  const version = state.clock + 1;
  assert(previous === undefined || previous.version < version, 'the clock covers every entry');
  const entry: MetadataEntry = { version, writer, tombstone, value };
  const entries: MetadataPrefixEntries = { ...own(state.prefixes, prefix), [key]: entry };
  return { clock: version, prefixes: { ...state.prefixes, [prefix]: entries } };
}

export function put(state: MetadataState, prefix: string, key: string, value: unknown, writer: NodeName): MetadataState {
  checkPlainData(value);
  return write(state, prefix, key, false, value, writer);
}

/** Remove a key by writing a tombstone (also when the key is unknown here, so the intent spreads). */
export function remove(state: MetadataState, prefix: string, key: string, writer: NodeName): MetadataState {
  if (getEntry(state, prefix, key)?.tombstone === true) return state;
  return write(state, prefix, key, true, null, writer);
}

function mergeEntries(a: MetadataPrefixEntries, b: MetadataPrefixEntries): MetadataPrefixEntries {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return Object.fromEntries(
    keys.map((key) => {
      const left = own(a, key);
      const right = own(b, key);
      const winner = left === undefined ? right : right === undefined ? left : compareEntries(left, right) >= 0 ? left : right;
      assert(winner !== undefined, 'a merged key comes from one side');
      return [key, winner];
    }),
  );
}

export function mergeMetadata(a: MetadataState, b: MetadataState): MetadataState {
  const names = [...new Set([...Object.keys(a.prefixes), ...Object.keys(b.prefixes)])].sort();
  const prefixes = Object.fromEntries(names.map((name) => [name, mergeEntries(own(a.prefixes, name) ?? {}, own(b.prefixes, name) ?? {})]));
  const clock = Math.max(a.clock, b.clock);
  for (const entries of Object.values(prefixes)) {
    for (const entry of Object.values(entries)) assert(entry.version <= clock, 'the merged clock covers every entry');
  }
  return { clock, prefixes };
}

/** The entries of `a` that `b` lacks or holds older: mergeMetadata(b, diff(a, b)) equals mergeMetadata(a, b). */
export function diff(a: MetadataState, b: MetadataState): MetadataState {
  const prefixes: Record<string, MetadataPrefixEntries> = {};
  for (const name of Object.keys(a.prefixes).sort()) {
    const mine = own(a.prefixes, name) ?? {};
    const theirs = own(b.prefixes, name) ?? {};
    const newer = Object.keys(mine)
      .sort()
      .filter((key) => {
        const other = own(theirs, key);
        return other === undefined || compareEntries(mine[key] as MetadataEntry, other) > 0;
      })
      .map((key) => [key, mine[key] as MetadataEntry] as const);
    if (newer.length > 0) prefixes[name] = Object.fromEntries(newer);
  }
  return { clock: a.clock, prefixes };
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function canonicalEntries(entries: MetadataPrefixEntries): string {
  return canonicalValue(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, [e.version, e.writer, e.tombstone, e.value]])));
}

/** Stable hash of the whole state (entries and clock). */
export function metadataDigest(state: MetadataState): string {
  const perPrefix = prefixDigests(state);
  return sha1(canonicalValue({ clock: state.clock, prefixes: perPrefix }));
}

/** One hash per prefix: peers compare these and send only the prefixes that differ. */
export function prefixDigests(state: MetadataState): Record<string, string> {
  return Object.fromEntries(
    Object.keys(state.prefixes)
      .sort()
      .map((name) => [name, sha1(canonicalEntries(own(state.prefixes, name) ?? {}))]),
  );
}

/** The part of `state` under the given prefixes (to answer a peer whose digests differ). */
export function selectPrefixes(state: MetadataState, names: readonly string[]): MetadataState {
  const picked = names.filter((name) => Object.hasOwn(state.prefixes, name)).sort();
  return { clock: state.clock, prefixes: Object.fromEntries(picked.map((name) => [name, state.prefixes[name] as MetadataPrefixEntries])) };
}

export function metadataEqual(a: MetadataState, b: MetadataState): boolean {
  return a === b || metadataDigest(a) === metadataDigest(b);
}
