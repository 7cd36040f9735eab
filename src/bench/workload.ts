// Workloads for `rondo bench`: read from a JSON file (a standard one by name
// from bench/workloads/, or any path), overridden field by field by CLI flags,
// and validated as a whole. Every refusal names the field it is about.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../core/errors.js';
import { KEY_GENERATORS, type KeyGenName } from './keys.js';
import type { OpName, WorkloadSpec } from './types.js';

/** Where the standard workloads live: bench/workloads/ at the repo root. */
export const STANDARD_WORKLOADS_DIR = fileURLToPath(new URL('../../bench/workloads/', import.meta.url));

export const OP_NAMES: readonly OpName[] = ['get', 'put'];

// Limits: beyond these a spec is a typo, not a benchmark.
export const KEYS_MAX = 1_000_000_000;
export const VALUE_BYTES_MAX = 50 * 1024 * 1024;
export const CONCURRENCY_MAX = 10_000;
export const DURATION_SEC_MAX = 7 * 24 * 3600;
export const COUNT_MAX = 1_000_000_000_000;
export const WARMUP_SEC_MAX = 3600;

/** What a workload is when neither a file nor a flag says otherwise: W50's shape. */
export const DEFAULT_WORKLOAD: WorkloadSpec = {
  name: 'custom',
  keys: 10_000,
  keyGen: 'uniform',
  valueBytes: 1024,
  mix: { get: 50, put: 50 },
  concurrency: 32,
  durationSec: 20,
  warmupSec: 2,
  preload: true,
};

const SPEC_FIELDS = new Set(['name', 'keys', 'keyGen', 'valueBytes', 'mix', 'concurrency', 'durationSec', 'count', 'warmupSec', 'preload']);
/** Free text a workload file may carry; ignored. */
const COMMENT_FIELDS = new Set(['description', '$comment']);

function fail(field: string, message: string): never {
  throw new InvalidArgumentError(`workload ${field}: ${message}`);
}

function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(field, `expected an integer, got ${JSON.stringify(value)}`);
  if (value < min || value > max) fail(field, `must be in ${min}..${max}, got ${value}`);
  return value;
}

function checkSeconds(field: string, value: unknown, opts: { zeroAllowed: boolean; max: number }): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, `expected a number of seconds, got ${JSON.stringify(value)}`);
  if (opts.zeroAllowed ? value < 0 : value <= 0) fail(field, `must be ${opts.zeroAllowed ? '>= 0' : 'positive'}, got ${value}`);
  if (value > opts.max) fail(field, `must be at most ${opts.max} seconds, got ${value}`);
  return value;
}

function checkMix(value: unknown): Partial<Record<OpName, number>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('mix', `expected an object like {"get": 50, "put": 50}, got ${JSON.stringify(value)}`);
  const mix: Partial<Record<OpName, number>> = {};
  let total = 0;
  for (const [op, weight] of Object.entries(value)) {
    if (!(OP_NAMES as readonly string[]).includes(op)) fail('mix', `unknown operation "${op}" (known: ${OP_NAMES.join(', ')})`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) fail('mix', `weight of ${op} must be a number >= 0, got ${JSON.stringify(weight)}`);
    mix[op as OpName] = weight;
    total += weight;
  }
  if (total <= 0) fail('mix', 'all weights are zero: no operation to run');
  return mix;
}

/** Checks a whole spec (e.g. parsed JSON); returns a clean copy or throws naming the field. */
export function validateWorkload(raw: unknown): WorkloadSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError('workload: expected a JSON object');
  const input = raw as Record<string, unknown>;
  for (const field of Object.keys(input)) {
    if (!SPEC_FIELDS.has(field) && !COMMENT_FIELDS.has(field)) fail(field, `unknown field (known: ${[...SPEC_FIELDS].join(', ')})`);
  }
  if (typeof input.name !== 'string' || input.name.trim() === '') fail('name', `expected a non-empty string, got ${JSON.stringify(input.name)}`);
  if (!KEY_GENERATORS.includes(input.keyGen as KeyGenName)) fail('keyGen', `unknown key generator ${JSON.stringify(input.keyGen)} (known: ${KEY_GENERATORS.join(', ')})`);
  if (typeof input.preload !== 'boolean') fail('preload', `expected true or false, got ${JSON.stringify(input.preload)}`);
  const hasDuration = input.durationSec !== undefined;
  const hasCount = input.count !== undefined;
  if (hasDuration === hasCount) fail('durationSec/count', hasDuration ? 'give one of durationSec and count, not both' : 'give one of durationSec and count');
  const spec: WorkloadSpec = {
    name: input.name,
    keys: checkInteger('keys', input.keys, 1, KEYS_MAX),
    keyGen: input.keyGen as KeyGenName,
    valueBytes: checkInteger('valueBytes', input.valueBytes, 1, VALUE_BYTES_MAX),
    mix: checkMix(input.mix),
    concurrency: checkInteger('concurrency', input.concurrency, 1, CONCURRENCY_MAX),
    warmupSec: checkSeconds('warmupSec', input.warmupSec, { zeroAllowed: true, max: WARMUP_SEC_MAX }),
    preload: input.preload,
  };
  if (hasDuration) spec.durationSec = checkSeconds('durationSec', input.durationSec, { zeroAllowed: false, max: DURATION_SEC_MAX });
  else spec.count = checkInteger('count', input.count, 1, COUNT_MAX);
  return spec;
}

/** A path to a workload file: a name without slash or .json is a standard workload. */
export function workloadPath(nameOrPath: string): string {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json');
  return isPath ? nameOrPath : `${STANDARD_WORKLOADS_DIR}${nameOrPath}.json`;
}

/** The raw fields of a workload file; a missing name defaults to the file's base name. */
export function readWorkloadFile(nameOrPath: string): Record<string, unknown> {
  const path = workloadPath(nameOrPath);
  if (!existsSync(path)) throw new InvalidArgumentError(`workload ${nameOrPath}: no such file ${path}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`workload ${path}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError(`workload ${path}: expected a JSON object`);
  return { name: basename(path, '.json'), ...(raw as Record<string, unknown>) };
}

/** Loads and validates a workload file by name or path. */
export function loadWorkload(nameOrPath: string): WorkloadSpec {
  return validateWorkload(readWorkloadFile(nameOrPath));
}

/** `get=50,put=50` → { get: 50, put: 50 }; validated later with the rest. */
export function parseMix(text: string): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [op, weight, extra] = part.split('=').map((s) => s.trim());
    if (!op || weight === undefined || weight === '' || extra !== undefined) fail('mix', `expected op=weight[,op=weight...], got "${text}"`);
    mix[op] = Number(weight);
    if (!Number.isFinite(mix[op])) fail('mix', `weight of ${op} is not a number: "${weight}"`);
  }
  return mix;
}

/** The workload flags of `rondo bench run`, as commander gives them (strings). */
export interface WorkloadFlags {
  workload?: string;
  keys?: string;
  keyGen?: string;
  valueBytes?: string;
  mix?: string;
  concurrency?: string;
  duration?: string;
  count?: string;
  warmup?: string;
  preload?: boolean;
}

function flagNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new InvalidArgumentError(`--${flag}: expected a number, got "${text}"`);
  return value;
}

/**
 * The workload a run uses: the file (if any, else DEFAULT_WORKLOAD), then each
 * flag given. A flag choosing --count drops the file's durationSec and vice
 * versa, so `--workload w50 --count 1000` means what it says.
 */
export function resolveWorkload(flags: WorkloadFlags): WorkloadSpec {
  const merged: Record<string, unknown> = flags.workload ? readWorkloadFile(flags.workload) : { ...DEFAULT_WORKLOAD };
  const overrides: Record<string, unknown> = {
    keys: flagNumber('keys', flags.keys),
    keyGen: flags.keyGen,
    valueBytes: flagNumber('value-bytes', flags.valueBytes),
    mix: flags.mix === undefined ? undefined : parseMix(flags.mix),
    concurrency: flagNumber('concurrency', flags.concurrency),
    durationSec: flagNumber('duration', flags.duration),
    count: flagNumber('count', flags.count),
    warmupSec: flagNumber('warmup', flags.warmup),
    preload: flags.preload,
  };
  if (overrides.durationSec !== undefined && overrides.count === undefined) delete merged.count;
  if (overrides.count !== undefined && overrides.durationSec === undefined) delete merged.durationSec;
  for (const [field, value] of Object.entries(overrides)) if (value !== undefined) merged[field] = value;
  return validateWorkload(merged);
}

/** The mix as parallel arrays of ops and cumulative weights, for a cheap pick per operation. */
export function mixTable(mix: WorkloadSpec['mix']): { ops: OpName[]; cumulative: number[]; total: number } {
  const ops: OpName[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const op of OP_NAMES) {
    const weight = mix[op] ?? 0;
    if (weight <= 0) continue;
    total += weight;
    ops.push(op);
    cumulative.push(total);
  }
  if (total <= 0) throw new InvalidArgumentError('workload mix: all weights are zero: no operation to run');
  return { ops, cumulative, total };
}
