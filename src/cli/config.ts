// Node configuration: defaults < config file (JSON) < environment (RONDO_*) < flags.
import { readFileSync } from 'node:fs';
import { FRAME_BYTES_MAX, HANDOFF_CONCURRENCY_DEFAULT, HANDOFF_CONCURRENCY_MAX, RING_SIZE_DEFAULT, TARGET_N_VAL_DEFAULT } from '../core/constants.js';
import { OBJECT_BYTES_MAX, OBJECT_BYTES_MAX_CEILING, OBJECT_BYTES_WARN, SIBLINGS_MAX, SIBLINGS_WARN } from '../kv/constants.js';
import { InvalidArgumentError } from '../core/errors.js';
import { validateRingSize } from '../core/ring/hash.js';

export interface NodeConfig {
  name: string;
  /** host:port of the node-to-node transport (also the admin endpoint). */
  listen: string;
  /** host:port of the Riak-compatible HTTP API; absent = no HTTP API. */
  httpListen?: string;
  /** host:port of the Riak-compatible Protocol Buffers API; absent = no PB API. */
  pbListen?: string;
  dataDir: string;
  clusterName: string;
  clusterSecret: string;
  ringSize: number;
  targetNVal: number;
  logLevel: string;
  /** Riak's delete_mode: '3s' / '3000ms' / 'keep' / 'immediate'. */
  deleteMode: string;
  /** Objects above this many bytes are stored with a warning in the log. */
  objectBytesWarn: number;
  /** Objects above this many bytes are refused (HTTP 413). At most OBJECT_BYTES_MAX_CEILING: an object must fit one internal frame. */
  objectBytesMax: number;
  /** Keys with more siblings than this are stored with a warning. */
  siblingsWarn: number;
  /** Writes that would leave more siblings than this are refused. */
  siblingsMax: number;
  /** Handoff transfers at once per direction (riak's handoff_concurrency). */
  handoffConcurrency: number;
}

export const CONFIG_ENV: Record<keyof NodeConfig, string> = {
  name: 'RONDO_NAME',
  listen: 'RONDO_LISTEN',
  httpListen: 'RONDO_HTTP_LISTEN',
  pbListen: 'RONDO_PB_LISTEN',
  dataDir: 'RONDO_DATA',
  clusterName: 'RONDO_CLUSTER_NAME',
  clusterSecret: 'RONDO_CLUSTER_SECRET',
  ringSize: 'RONDO_RING_SIZE',
  targetNVal: 'RONDO_TARGET_N_VAL',
  logLevel: 'RONDO_LOG_LEVEL',
  deleteMode: 'RONDO_DELETE_MODE',
  objectBytesWarn: 'RONDO_OBJECT_BYTES_WARN',
  objectBytesMax: 'RONDO_OBJECT_BYTES_MAX',
  siblingsWarn: 'RONDO_SIBLINGS_WARN',
  siblingsMax: 'RONDO_SIBLINGS_MAX',
  handoffConcurrency: 'RONDO_HANDOFF_CONCURRENCY',
};

const DEFAULTS: Partial<NodeConfig> = {
  clusterName: 'rondo',
  ringSize: RING_SIZE_DEFAULT,
  targetNVal: TARGET_N_VAL_DEFAULT,
  logLevel: 'info',
  deleteMode: '3s',
  objectBytesWarn: OBJECT_BYTES_WARN,
  objectBytesMax: OBJECT_BYTES_MAX,
  siblingsWarn: SIBLINGS_WARN,
  siblingsMax: SIBLINGS_MAX,
  handoffConcurrency: HANDOFF_CONCURRENCY_DEFAULT,
};

export type ConfigSource = Partial<Record<keyof NodeConfig, string | number | undefined>>;

export function readConfigFile(path: string): ConfigSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as ConfigSource;
  } catch (err) {
    throw new InvalidArgumentError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function configFromEnv(env: NodeJS.ProcessEnv): ConfigSource {
  const out: ConfigSource = {};
  for (const [key, variable] of Object.entries(CONFIG_ENV) as [keyof NodeConfig, string][]) {
    const value = env[variable];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Merge sources (later wins) and validate. */
export function resolveConfig(...sources: ConfigSource[]): NodeConfig {
  const merged: ConfigSource = { ...DEFAULTS };
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  const missing = (['name', 'listen', 'dataDir', 'clusterSecret'] as const).filter((k) => merged[k] === undefined || merged[k] === '');
  if (missing.length > 0) {
    throw new InvalidArgumentError(`missing configuration: ${missing.map((k) => `${k} (--${flagOf(k)} or ${CONFIG_ENV[k]})`).join(', ')}`);
  }
  const config: NodeConfig = {
    name: String(merged.name),
    listen: String(merged.listen),
    ...(merged.httpListen !== undefined && merged.httpListen !== '' ? { httpListen: String(merged.httpListen) } : {}),
    ...(merged.pbListen !== undefined && merged.pbListen !== '' ? { pbListen: String(merged.pbListen) } : {}),
    dataDir: String(merged.dataDir),
    clusterName: String(merged.clusterName),
    clusterSecret: String(merged.clusterSecret),
    ringSize: toInt('ringSize', merged.ringSize),
    targetNVal: toInt('targetNVal', merged.targetNVal),
    logLevel: String(merged.logLevel),
    deleteMode: String(merged.deleteMode),
    objectBytesWarn: toInt('objectBytesWarn', merged.objectBytesWarn),
    objectBytesMax: toInt('objectBytesMax', merged.objectBytesMax),
    siblingsWarn: toInt('siblingsWarn', merged.siblingsWarn),
    siblingsMax: toInt('siblingsMax', merged.siblingsMax),
    handoffConcurrency: toInt('handoffConcurrency', merged.handoffConcurrency),
  };
  if (!(config.handoffConcurrency >= 1 && config.handoffConcurrency <= HANDOFF_CONCURRENCY_MAX)) throw new InvalidArgumentError(`handoffConcurrency must be 1..${HANDOFF_CONCURRENCY_MAX}`);
  if (!(config.objectBytesMax > 0 && config.objectBytesMax <= OBJECT_BYTES_MAX_CEILING)) {
    throw new InvalidArgumentError(`objectBytesMax must be 1..${OBJECT_BYTES_MAX_CEILING} bytes: an object travels between nodes in one frame of at most ${FRAME_BYTES_MAX} bytes with its message`);
  }
  if (!(config.objectBytesWarn > 0 && config.objectBytesWarn <= config.objectBytesMax)) throw new InvalidArgumentError('objectBytesWarn must be positive and at most objectBytesMax');
  if (!(config.siblingsWarn > 0 && config.siblingsWarn <= config.siblingsMax)) throw new InvalidArgumentError('siblingsWarn must be positive and at most siblingsMax');
  parseDeleteMode(config.deleteMode);
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(config.name)) throw new InvalidArgumentError(`bad node name ${JSON.stringify(config.name)}: use 1-64 of A-Z a-z 0-9 _ . @ -`);
  parseAddress(config.listen);
  if (config.httpListen !== undefined) parseAddress(config.httpListen);
  if (config.pbListen !== undefined) parseAddress(config.pbListen);
  validateRingSize(config.ringSize);
  if (config.targetNVal < 1) throw new InvalidArgumentError('targetNVal must be >= 1');
  if (config.clusterSecret.length < 8) throw new InvalidArgumentError('clusterSecret must be at least 8 characters');
  return config;
}

export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || !(port >= 0 && port <= 65535)) throw new InvalidArgumentError(`bad address ${JSON.stringify(address)}: expected host:port`);
  return { host: match[1], port };
}

function toInt(name: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

function flagOf(key: keyof NodeConfig): string {
  return key === 'dataDir' ? 'data' : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** delete_mode as Riak spells it: a delay ("3s", "500ms", "3000"), "keep" or "immediate". */
export function parseDeleteMode(text: string): { delayMs: number } | 'keep' | 'immediate' {
  if (text === 'keep' || text === 'immediate') return text;
  const match = /^(\d+)(ms|s)?$/.exec(text);
  if (!match) throw new InvalidArgumentError(`bad deleteMode ${JSON.stringify(text)}: expected a delay like 3s or 500ms, keep, or immediate`);
  return { delayMs: Number(match[1]) * (match[2] === 's' ? 1000 : 1) };
}
