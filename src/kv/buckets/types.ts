// Bucket types and per-bucket properties over cluster metadata, mirroring
// `riak-admin bucket-type create|activate|list|status|update` and the HTTP
// bucket props resources. All functions are pure: they take a metadata state
// and return a new one; the caller stores and gossips it.
//
// Riak keeps the invariant "every node sees no type, or one version of it"
// by creating a type inactive, activating it only once every node has it, and
// serialising create/activate/update through the claimant. Merging here is
// last-writer-wins per key (cluster metadata), so callers must route these
// operations through the claimant as Riak does; concurrent writes elsewhere
// still converge, to one of the writes.
//
// Differences from Riak, on purpose: a bucket stores only the properties set
// on it (Riak stores a full copy taken from its type at that moment), so a
// later type update reaches every bucket that did not override that property.
import type { NodeName } from '../../core/env.js';
import { get, list, put, remove } from '../../core/metadata/index.js';
import type { MetadataState } from '../../core/metadata/index.js';
import { assert } from '../../core/errors.js';
import { BUCKET_TYPE_FEATURES_AVAILABLE } from '../constants.js';
import { BadBucketNameError, BadBucketPropsError, BadBucketTypeError, BucketTypeStateError, UnknownBucketTypeError } from './errors.js';
import type { PropProblem } from './errors.js';
import { DEFAULT_TYPE, QUORUM_PROPS, READ_ONLY_PROPS, defaultTypeProps, overlayProps, propValue } from './props.js';
import type { Props } from './props.js';
import { validateProps } from './validate.js';

export const BUCKET_TYPES_PREFIX = 'bucket_types';
export const BUCKETS_PREFIX = 'buckets';
export const BUCKET_TYPE_NAME_CHARS_MAX = 255;
export const BUCKET_NAME_CHARS_MAX = 512;

/** As `riak-admin bucket-type status` reports: ready = created and known to every node. */
export type BucketTypeStatus = 'undefined' | 'created' | 'ready' | 'active';

export interface BucketTypeInfo {
  readonly name: string;
  readonly active: boolean;
  readonly props: Props;
  /** Node that last created, activated or updated the type (absent for `default`). */
  readonly claimant?: NodeName;
}

export interface BucketOptions {
  /** option: nValMax */
  nValMax?: number;
  /** Which bucket type features this build serves; a type asking for another is refused at creation. */
  features?: BucketTypeFeatures;
}

/** Bucket type features that change how a bucket is served (consistent=true, datatype). */
export interface BucketTypeFeatures {
  consistent: boolean;
  datatype: boolean;
}

/**
 * A type that asks for a feature this build does not serve would be served as
 * plain eventual KV, silently breaking its promise (strong consistency, CRDT
 * merges): refuse it, naming the property.
 */
function refuseUnavailableFeatures(props: Props, features: BucketTypeFeatures): void {
  const problems: PropProblem[] = [];
  if (props.consistent === true && !features.consistent) {
    problems.push({ property: 'consistent', reason: 'strongly consistent bucket types are not available in this version of Rondo' });
  }
  if (props.datatype !== undefined && !features.datatype) {
    problems.push({ property: 'datatype', reason: `data types (datatype ${props.datatype}) are not available in this version of Rondo` });
  }
  if (problems.length > 0) throw new BadBucketPropsError(problems);
}

interface StoredType {
  status: 'created' | 'active';
  props: Props;
  claimant: NodeName;
}

function checkTypeName(name: string): void {
  const ok = typeof name === 'string' && name.length > 0 && name.length <= BUCKET_TYPE_NAME_CHARS_MAX;
  // eslint-disable-next-line no-control-regex
  if (!ok || name.includes('/') || /[\u0000-\u001f\u007f]/.test(name) || name === '__proto__') {
    throw new BadBucketTypeError(`bucket type name ${JSON.stringify(name)} is invalid: 1..${BUCKET_TYPE_NAME_CHARS_MAX} characters, no '/' and no control characters`);
  }
}

function checkBucketName(bucket: string): void {
  if (typeof bucket !== 'string' || bucket.length === 0 || bucket.length > BUCKET_NAME_CHARS_MAX) {
    throw new BadBucketNameError(`bucket name must be 1..${BUCKET_NAME_CHARS_MAX} characters`);
  }
}

function readType(state: MetadataState, name: string): StoredType | undefined {
  const stored = get(state, BUCKET_TYPES_PREFIX, name) as StoredType | undefined;
  if (stored === undefined) return undefined;
  assert(stored.status === 'created' || stored.status === 'active', 'stored bucket type has a status');
  assert(typeof stored.props === 'object' && stored.props !== null, 'stored bucket type has props');
  return stored;
}

/** Props of an active type; UnknownBucketTypeError when missing or not active. */
function activeTypeProps(state: MetadataState, type: string): Props {
  if (type === DEFAULT_TYPE) return defaultTypeProps();
  const stored = readType(state, type);
  if (stored === undefined) throw new UnknownBucketTypeError(type, 'missing');
  if (stored.status !== 'active') throw new UnknownBucketTypeError(type, 'inactive');
  return stored.props;
}

/** `bucket-type create`: a new (or still inactive) type, not usable until activated. */
export function createType(state: MetadataState, name: string, props: Readonly<Record<string, unknown>>, writer: NodeName, opts: BucketOptions = {}): MetadataState {
  checkTypeName(name);
  if (name === DEFAULT_TYPE) throw new BadBucketTypeError(`bucket type '${DEFAULT_TYPE}' always exists and cannot be created`);
  if (readType(state, name)?.status === 'active') {
    throw new BucketTypeStateError(`bucket type '${name}' is already active; use update to change its properties`);
  }
  // Like Riak, a re-create before activation starts again from the defaults.
  const validated = validateProps(props, { creatingType: true, nValMax: opts.nValMax });
  refuseUnavailableFeatures(validated, opts.features ?? BUCKET_TYPE_FEATURES_AVAILABLE);
  const stored: StoredType = { status: 'created', props: validated, claimant: writer };
  return put(state, BUCKET_TYPES_PREFIX, name, stored, writer);
}

/**
 * `bucket-type activate`. Riak activates only a type every node has seen
 * ("ready"); the caller tells us whether that holds.
 */
export function activateType(state: MetadataState, name: string, cluster: { allNodesHaveIt: boolean }, writer: NodeName): MetadataState {
  checkTypeName(name);
  if (name === DEFAULT_TYPE) return state;
  const stored = readType(state, name);
  if (stored === undefined) throw new UnknownBucketTypeError(name, 'missing');
  if (stored.status === 'active') return state;
  if (!cluster.allNodesHaveIt) {
    throw new BucketTypeStateError(`bucket type '${name}' has been created but cannot be activated yet: not every node has it`);
  }
  return put(state, BUCKET_TYPES_PREFIX, name, { ...stored, status: 'active', claimant: writer }, writer);
}

/** `bucket-type update`: active types only; datatype, consistent and write_once stay as created. */
export function updateType(state: MetadataState, name: string, props: Readonly<Record<string, unknown>>, writer: NodeName, opts: BucketOptions = {}): MetadataState {
  checkTypeName(name);
  if (name === DEFAULT_TYPE) {
    throw new BadBucketTypeError(`bucket type '${DEFAULT_TYPE}' cannot be updated (its properties come from the node configuration); set properties on its buckets instead`);
  }
  const existing = activeTypeProps(state, name);
  const validated = validateProps(props, { existing, activated: true, nValMax: opts.nValMax });
  const stored = readType(state, name) as StoredType;
  return put(state, BUCKET_TYPES_PREFIX, name, { ...stored, props: validated, claimant: writer }, writer);
}

/** `bucket-type status`. Pass allNodesHaveIt to tell 'created' from 'ready'. */
export function typeStatus(state: MetadataState, name: string, cluster: { allNodesHaveIt?: boolean } = {}): BucketTypeStatus {
  if (name === DEFAULT_TYPE) return 'active';
  const stored = readType(state, name);
  if (stored === undefined) return 'undefined';
  if (stored.status === 'active') return 'active';
  return cluster.allNodesHaveIt === true ? 'ready' : 'created';
}

/** A type with its properties, active or not; undefined when never created. */
export function getType(state: MetadataState, name: string): BucketTypeInfo | undefined {
  if (name === DEFAULT_TYPE) return { name, active: true, props: defaultTypeProps() };
  const stored = readType(state, name);
  if (stored === undefined) return undefined;
  return { name, active: stored.status === 'active', props: stored.props, claimant: stored.claimant };
}

/** `bucket-type list`: `default` first, then every created type by name. */
export function listTypes(state: MetadataState): BucketTypeInfo[] {
  const created = list(state, BUCKET_TYPES_PREFIX).map(([name]) => getType(state, name) as BucketTypeInfo);
  return [getType(state, DEFAULT_TYPE) as BucketTypeInfo, ...created];
}

function bucketKey(type: string, bucket: string): string {
  checkTypeName(type);
  checkBucketName(bucket);
  return `${type}/${bucket}`;
}

/** The properties set on one bucket (Riak names → values), without those it inherits. */
export function bucketOverrides(state: MetadataState, type: string, bucket: string): Record<string, unknown> {
  const stored = get(state, BUCKETS_PREFIX, bucketKey(type, bucket));
  return stored === undefined ? {} : { ...(stored as Record<string, unknown>) };
}

/**
 * Set properties of one bucket (HTTP PUT .../props). Validated against what
 * the bucket would have, with the type's immutable properties fixed. A quorum
 * property set to "default" drops the bucket's own value (it inherits again).
 */
export function setBucketProps(
  state: MetadataState,
  type: string,
  bucket: string,
  props: Readonly<Record<string, unknown>>,
  writer: NodeName,
  opts: BucketOptions = {},
): MetadataState {
  const key = bucketKey(type, bucket);
  const typeProps = activeTypeProps(state, type);
  const resets = new Set((QUORUM_PROPS as readonly string[]).filter((name) => props[name] === 'default'));
  const kept = Object.fromEntries(Object.entries(bucketOverrides(state, type, bucket)).filter(([name]) => !resets.has(name)));
  const validated = validateProps(props, { existing: overlayProps(typeProps, kept), defaultType: type === DEFAULT_TYPE, nValMax: opts.nValMax });
  const overrides: Record<string, unknown> = { ...kept };
  for (const name of Object.keys(props).sort()) {
    if (resets.has(name) || READ_ONLY_PROPS.includes(name) || name === 'custom' || name === '__proto__') continue;
    overrides[name] = propValue(validated, name);
  }
  if (Object.keys(overrides).length === 0) return resetBucketProps(state, type, bucket, writer);
  return put(state, BUCKETS_PREFIX, key, overrides, writer);
}

/** Drop every property set on the bucket (HTTP DELETE .../props): it inherits its type's again. */
export function resetBucketProps(state: MetadataState, type: string, bucket: string, writer: NodeName): MetadataState {
  const key = bucketKey(type, bucket);
  activeTypeProps(state, type);
  if (get(state, BUCKETS_PREFIX, key) === undefined) return state;
  return remove(state, BUCKETS_PREFIX, key, writer);
}

/** Buckets whose effective props are remembered per metadata state (a bound on the cache below). */
export const EFFECTIVE_PROPS_CACHED_MAX = 1_024;

/**
 * Effective props per metadata state. States are immutable, so an entry is
 * right for as long as its state is current; a new state starts empty and the
 * old one's cache goes with it. Every request resolves its bucket's props, and
 * building them (a deep copy of the type's) was a visible share of a get.
 */
const effectivePropsCache = new WeakMap<MetadataState, Map<string, Readonly<Props>>>();

/**
 * What a request on type/bucket runs with: defaults ← type ← the bucket's own
 * properties. The result is shared and frozen: copy it (cloneProps) to change it.
 */
export function effectiveProps(state: MetadataState, type: string, bucket: string): Readonly<Props> {
  const key = bucketKey(type, bucket);
  let cached = effectivePropsCache.get(state);
  const hit = cached?.get(key);
  if (hit !== undefined) return hit;
  const overrides = get(state, BUCKETS_PREFIX, key) as Record<string, unknown> | undefined;
  const props = deepFreeze(overlayProps(activeTypeProps(state, type), overrides ?? {}));
  if (cached === undefined) {
    cached = new Map();
    effectivePropsCache.set(state, cached);
  }
  if (cached.size < EFFECTIVE_PROPS_CACHED_MAX) cached.set(key, props);
  return props;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
