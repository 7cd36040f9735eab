// Runs an HTTP workload with wrk (a C load generator, far cheaper per request
// than Node) instead of the Node runner: Rondo's HTTP API ('riak-http') or
// etcd's v3 JSON gateway ('etcd'). A generated Lua script picks the key and
// the operation per request; its done() prints one JSON line we parse.
//
// wrk takes one URL, so each target gets its own wrk process (-t1: two cores
// only) with an even share of the concurrency; the results are merged. Each
// wrk runs under `sh -c '...; times'`: the shell's `times` prints its
// children's CPU (wrk's, reaped) when wrk exits, the one reliable reading of a
// finished child's rusage from Node.
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, LatencySummary, WorkloadSpec } from './types.js';

export type WrkKind = 'riak-http' | 'etcd';

export interface WrkOptions {
  label: string;
  /** host:port of each server; one wrk process per target. */
  targets: string[];
  kind: WrkKind;
  bucket: string;
  /** riak-http: query parameters (r, w, ...); etcd: serializable=true|false. */
  params: Record<string, string>;
  /** Per-request deadline; wrk takes whole seconds, so it is rounded up (default 2000, wrk's own). */
  timeoutMs?: number;
  /** Seeds the Lua PRNG of each wrk process (seed + process index), for a reproducible key sequence per process; random when absent. */
  seed?: number;
  wrkPath?: string;
  signal?: AbortSignal;
  /** Called just before the measured phase starts (after the warm-up), e.g. to read the servers' CPU. */
  onMeasureStart?: () => void;
}

/** What the script's done() prints, per wrk process. Times in microseconds. */
export interface WrkSummary {
  requests: number;
  durationUs: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; max: number; p50: number; p95: number; p99: number; p999: number };
  /** Requests issued per operation (counted in request(): wrk cannot tie a response to its request). */
  issued: { get: number; put: number };
  /** 404 responses, counted only when the script defines response() (riak-http without preload). */
  notfound: number;
}

export const WRK_JSON_MARKER = 'RONDO_WRK_JSON ';
const CHILD_TIMES_MARKER = 'RONDO_CHILD_TIMES';
const DEFAULT_TIMEOUT_MS = 2_000;
/** basho_bench's pareto_int shape, as src/bench/keys.ts draws it (keep the two in step). */
const PARETO_SHAPE = 1.5;
const PRINTABLE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A random value of `bytes` printable characters: it goes into the Lua script as a string literal. */
export function printableValue(bytes: number): string {
  const raw = randomBytes(bytes);
  let text = '';
  for (const byte of raw) text += PRINTABLE[byte & 63];
  return text;
}

/** A Lua string literal holding the UTF-8 bytes of `text`: printable ASCII as is, every other byte as a \ddd escape. */
export function luaString(text: string): string {
  let literal = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 /* " */ && byte !== 0x5c; /* backslash */
    literal += printable ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${literal}"`;
}

function getShareOf(spec: WorkloadSpec): number {
  const get = spec.mix.get ?? 0;
  const put = spec.mix.put ?? 0;
  if (get + put <= 0) throw new Error(`wrk: workload ${spec.name} has an empty mix`);
  return get / (get + put);
}

function queryOf(params: Record<string, string>): string {
  const pairs = Object.entries(params).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

function etcdSerializable(params: Record<string, string>): boolean {
  const { serializable = 'false', ...unknown } = params;
  if (Object.keys(unknown).length > 0) throw new Error(`wrk etcd: unknown params ${Object.keys(unknown).join(', ')} (it takes serializable=true|false)`);
  if (serializable !== 'true' && serializable !== 'false') throw new Error(`wrk etcd: serializable must be true or false, got ${serializable}`);
  return serializable === 'true';
}

const LUA_BASE64 = `
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local d1, d2 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64
    local d3, d4 = math.floor(n / 64) % 64, n % 64
    out[#out + 1] = b64chars:sub(d1 + 1, d1 + 1) .. b64chars:sub(d2 + 1, d2 + 1)
      .. (b and b64chars:sub(d3 + 1, d3 + 1) or "=") .. (c and b64chars:sub(d4 + 1, d4 + 1) or "=")
  end
  return table.concat(out)
end
-- base64 of "<bucket>/k<n>", computed once per key per wrk process.
local keyCache = {}
local function keyBase64(n)
  local k = keyCache[n]
  if k == nil then
    k = base64(keyPrefix .. n)
    keyCache[n] = k
  end
  return k
end
`;

/**
 * The Lua script for one workload. Per request: a key index by spec.keyGen
 * (uniform; pareto as src/bench/keys.ts; sequential from a per-process start
 * given as the second script argument), GET or PUT by the mix.
 */
export function buildWrkScript(spec: WorkloadSpec, opts: { kind: WrkKind; bucket: string; params: Record<string, string>; value: string }): string {
  const getShare = getShareOf(spec);
  const countNotfound = opts.kind === 'riak-http' && !spec.preload;
  const head = `-- Generated by src/bench/wrk.ts for workload ${luaString(spec.name)} (${opts.kind}).
local keys = ${spec.keys}
local getShare = ${getShare}
local keyGen = ${luaString(spec.keyGen)}
local paretoScale = ${spec.keys * 0.2 * (PARETO_SHAPE - 1)}
local paretoExponent = ${-1 / PARETO_SHAPE}
local nextKey = 0
-- Globals, not locals: done() reads them from each thread with thread:get().
gets, puts, notfound = 0, 0, 0

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- args: a seed (wrk processes started together must not share one), the first sequential key.
function init(args)
  math.randomseed(tonumber(args[1]) or os.time())
  nextKey = tonumber(args[2]) or 0
end

local function pickKey()
  if keyGen == "uniform" then
    return math.random(0, keys - 1)
  elseif keyGen == "pareto" then
    local x = math.floor(((1 - math.random()) ^ paretoExponent - 1) * paretoScale)
    if x >= keys then x = x % keys end
    return x
  end
  local n = nextKey
  nextKey = (nextKey + 1) % keys
  return n
end
`;
  let body: string;
  if (opts.kind === 'riak-http') {
    const pathPrefix = `/buckets/${encodeURIComponent(opts.bucket)}/keys/k`;
    body = `local pathPrefix = ${luaString(pathPrefix)}
local query = ${luaString(queryOf(opts.params))}
local value = ${luaString(opts.value)}
local getHeaders = {}
local putHeaders = { ["Content-Type"] = "application/octet-stream" }

function request()
  local n = pickKey()
  if math.random() < getShare then
    gets = gets + 1
    return wrk.format("GET", pathPrefix .. n .. query, getHeaders)
  end
  puts = puts + 1
  return wrk.format("PUT", pathPrefix .. n .. query, putHeaders, value)
end
`;
    if (countNotfound) {
      body += `
-- Keys were not preloaded: a 404 is a notfound, not an error. (Defining response()
-- makes wrk hand every response to Lua, which costs it CPU: only done when needed.)
function response(status, headers, body)
  if status == 404 then notfound = notfound + 1 end
end
`;
    }
  } else {
    const rangeTail = etcdSerializable(opts.params) ? '","serializable":true}' : '"}';
    body = `local keyPrefix = ${luaString(`${opts.bucket}/k`)}
local rangeTail = ${luaString(rangeTail)}
local putTail = ${luaString(`","value":"${Buffer.from(opts.value).toString('base64')}"}`)}
local headers = { ["Content-Type"] = "application/json" }
${LUA_BASE64}
function request()
  local k = keyBase64(pickKey())
  if math.random() < getShare then
    gets = gets + 1
    return wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. k .. rangeTail)
  end
  puts = puts + 1
  return wrk.format("POST", "/v3/kv/put", headers, '{"key":"' .. k .. putTail)
end
`;
  }
  const done = `
function done(summary, latency, requests)
  local g, p, nf = 0, 0, 0
  for _, thread in ipairs(threads) do
    g = g + (thread:get("gets") or 0)
    p = p + (thread:get("puts") or 0)
    nf = nf + (thread:get("notfound") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '\\n${WRK_JSON_MARKER}{"requests":%.0f,"durationUs":%.0f,"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latencyUs":{"mean":%.3f,"max":%.0f,"p50":%.0f,"p95":%.0f,"p99":%.0f,"p999":%.0f},"issued":{"get":%.0f,"put":%.0f},"notfound":%.0f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency:percentile(99.9),
    g, p, nf))
end
`;
  return head + body + done;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The summary line in one wrk process's stdout; throws when absent or malformed. */
export function parseWrkOutput(stdout: string): WrkSummary {
  const line = stdout.split('\n').find((l) => l.startsWith(WRK_JSON_MARKER));
  if (line === undefined) throw new Error(`wrk printed no ${WRK_JSON_MARKER.trim()} line`);
  const parsed = JSON.parse(line.slice(WRK_JSON_MARKER.length)) as WrkSummary;
  const numbers = [parsed.requests, parsed.durationUs, parsed.notfound, ...Object.values(parsed.errors ?? {}), ...Object.values(parsed.latencyUs ?? {}), ...Object.values(parsed.issued ?? {})];
  if (numbers.length !== 16 || !numbers.every(isCount)) throw new Error(`wrk: malformed summary line ${line}`);
  return parsed;
}

/** CPU seconds (user + system) of the shell's children, from the second line `times` prints after the marker. */
export function parseChildCpuSec(stdout: string): number {
  const at = stdout.lastIndexOf(CHILD_TIMES_MARKER);
  if (at === -1) throw new Error('wrk: no CPU times after the run');
  const childLine = stdout.slice(at).split('\n')[2] ?? '';
  const times = [...childLine.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (times.length !== 2) throw new Error(`wrk: unreadable CPU times ${JSON.stringify(childLine)}`);
  return (times[0] as number) + (times[1] as number);
}

/** Connections per target: an even split, the remainder to the first ones; targets left with none are dropped. */
export function splitConcurrency(concurrency: number, targets: string[]): Array<{ target: string; connections: number }> {
  if (targets.length === 0) throw new Error('wrk: no targets');
  const base = Math.floor(concurrency / targets.length);
  const extra = concurrency % targets.length;
  return targets.map((target, i) => ({ target, connections: base + (i < extra ? 1 : 0) })).filter((share) => share.connections > 0);
}

/** Errors of one process: every wrk error; without a preload, less the 404s the script counted as notfound. */
function errorsOf(summary: WrkSummary, preloaded: boolean): number {
  const e = summary.errors;
  const statusErrors = preloaded ? e.status : Math.max(0, e.status - summary.notfound);
  return e.connect + e.read + e.write + e.timeout + statusErrors;
}

/** One result from the wrk processes of one run (one per target). */
export function mergeWrkSummaries(spec: WorkloadSpec, opts: { label: string; kind: WrkKind; targets: string[]; startedAt: string; cpuSec: number; notes: string[] }, summaries: WrkSummary[]): BenchResult {
  const totalOps = summaries.reduce((sum, s) => sum + s.requests, 0);
  const errors = summaries.reduce((sum, s) => sum + errorsOf(s, spec.preload), 0);
  const durationSec = Math.max(...summaries.map((s) => s.durationUs)) / 1e6;
  const opsPerSec = summaries.reduce((sum, s) => sum + (s.durationUs > 0 ? s.requests / (s.durationUs / 1e6) : 0), 0);
  const maxOf = (pick: (s: WrkSummary) => number): number => Math.max(...summaries.map(pick)) / 1000;
  const meanUs = totalOps === 0 ? 0 : summaries.reduce((sum, s) => sum + s.latencyUs.mean * s.requests, 0) / totalOps;
  const all: LatencySummary = {
    count: totalOps,
    errors,
    meanMs: meanUs / 1000,
    p50Ms: maxOf((s) => s.latencyUs.p50),
    p95Ms: maxOf((s) => s.latencyUs.p95),
    p99Ms: maxOf((s) => s.latencyUs.p99),
    p999Ms: maxOf((s) => s.latencyUs.p999),
    maxMs: maxOf((s) => s.latencyUs.max),
  };
  const issuedGets = summaries.reduce((sum, s) => sum + s.issued.get, 0);
  const issuedPuts = summaries.reduce((sum, s) => sum + s.issued.put, 0);
  const notfound = summaries.reduce((sum, s) => sum + s.notfound, 0);
  const errorKinds = (['connect', 'read', 'write', 'status', 'timeout'] as const).map((kind) => `${kind} ${summaries.reduce((sum, s) => sum + s.errors[kind], 0)}`);
  const notes = [
    ...opts.notes,
    `wrk gives no per-operation latencies: ops is empty; requests issued: get ${issuedGets}, put ${issuedPuts}`,
    'totalOps and opsPerSec count every completed request, errors included; latencies include error responses',
  ];
  if (errors > 0) notes.push(`wrk errors by kind: ${errorKinds.join(', ')} (status: HTTP status >= 400)`);
  if (summaries.length > 1) notes.push(`${summaries.length} wrk processes (one per target): percentiles and max are the largest of the per-process ones, so upper bounds; the mean is weighted by requests`);
  if (opts.kind === 'riak-http') {
    notes.push(spec.preload ? 'keys were preloaded: every non-2xx response, 404 included, is an error' : `keys were not preloaded: ${notfound} 404 responses counted as notfound, not errors`);
  }
  const cpuPctOfOneCore = durationSec > 0 ? (opts.cpuSec / durationSec) * 100 : 0;
  return {
    version: 1,
    label: opts.label,
    driver: `wrk-${opts.kind}`,
    targets: opts.targets,
    workload: spec,
    startedAt: opts.startedAt,
    durationSec,
    totalOps,
    opsPerSec,
    errors,
    all,
    ops: {},
    timeline: [],
    generator: { tool: 'wrk', cpuPctOfOneCore: Math.round(cpuPctOfOneCore * 10) / 10 },
    notes,
  };
}

interface WrkProcessResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * One wrk process under `sh -c` (for `times`), in its own process group so an
 * abort can signal both. The shell traps TERM with a no-op (a handler, unlike
 * an ignored signal, is reset by exec: wrk still dies of it) so that it
 * outlives wrk and reaps it, instead of leaving an orphan for init to reap.
 */
function runWrkProcess(wrkPath: string, args: string[], signal: AbortSignal | undefined): Promise<WrkProcessResult> {
  return new Promise((resolve, reject) => {
    const script = `trap : TERM; "$0" "$@"; status=$?; echo ${CHILD_TIMES_MARKER}; times; exit $status`;
    const child = spawn('sh', ['-c', script, wrkPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    // Last resort: the parent exiting (an exception) must not leave wrk running.
    const onExit = (): void => killGroup('SIGKILL');
    const onAbort = (): void => killGroup('SIGTERM');
    process.on('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', (err) => {
      process.removeListener('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', (code) => {
      process.removeListener('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ stdout, stderr, code });
    });
  });
}

function tail(text: string, lines = 10): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Runs one phase (warm-up or measured): one wrk per target, in parallel. */
async function runPhase(wrkPath: string, shares: Array<{ target: string; connections: number }>, argsOf: (share: { target: string; connections: number }, index: number) => string[], signal: AbortSignal | undefined): Promise<Array<{ summary: WrkSummary; cpuSec: number }>> {
  const results = await Promise.all(shares.map((share, i) => runWrkProcess(wrkPath, argsOf(share, i), signal)));
  return results.map((result, i) => {
    const target = shares[i]?.target;
    if (result.code === 127) throw new Error(`wrk not found (${wrkPath}): run bench/peers/install.sh as root`);
    if (result.code !== 0) throw new Error(`wrk against ${target} exited with code ${result.code}:\n${tail(result.stderr)}\n${tail(result.stdout)}`);
    return { summary: parseWrkOutput(result.stdout), cpuSec: parseChildCpuSec(result.stdout) };
  });
}

/** Runs `spec` with wrk against `opts.targets`: a discarded warm-up of spec.warmupSec, then the measured phase. Preloading is the caller's. */
export async function runWrk(spec: WorkloadSpec, opts: WrkOptions): Promise<BenchResult> {
  if (spec.durationSec === undefined || spec.count !== undefined) throw new Error(`wrk runs for a duration: workload ${spec.name} must set durationSec, not count`);
  const wrkPath = opts.wrkPath ?? 'wrk';
  const notes: string[] = [];
  const wholeSeconds = (sec: number, what: string): number => {
    const whole = Math.max(1, Math.round(sec));
    if (whole !== sec) notes.push(`wrk takes whole seconds: ${what} ${sec} s ran as ${whole} s`);
    return whole;
  };
  const durationSec = wholeSeconds(spec.durationSec, 'durationSec');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeoutSec = Math.max(1, Math.ceil(timeoutMs / 1000));
  if (timeoutSec * 1000 !== timeoutMs) notes.push(`wrk takes whole seconds: timeout ${timeoutMs} ms ran as ${timeoutSec} s`);
  const shares = splitConcurrency(spec.concurrency, opts.targets);
  if (shares.length < opts.targets.length) notes.push(`concurrency ${spec.concurrency} < ${opts.targets.length} targets: only ${shares.length} targets used`);

  const dir = mkdtempSync(join(tmpdir(), 'rondo-wrk-'));
  try {
    const scriptPath = join(dir, 'workload.lua');
    writeFileSync(scriptPath, buildWrkScript(spec, { kind: opts.kind, bucket: opts.bucket, params: opts.params, value: printableValue(spec.valueBytes) }));
    const argsFor = (seconds: number) => (share: { target: string; connections: number }, index: number): string[] => [
      '-t1', `-c${share.connections}`, `-d${seconds}s`, '--latency', `--timeout`, `${timeoutSec}s`, '-s', scriptPath, `http://${share.target}/`,
      '--', String(((opts.seed ?? randomInt(1, 2 ** 31 - 1)) + index) % 2 ** 31), String(Math.floor((index * spec.keys) / shares.length)),
    ];
    if (spec.warmupSec > 0) await runPhase(wrkPath, shares, argsFor(wholeSeconds(spec.warmupSec, 'warmupSec')), opts.signal);
    const startedAt = new Date().toISOString();
    opts.onMeasureStart?.();
    const measured = await runPhase(wrkPath, shares, argsFor(durationSec), opts.signal);
    const cpuSec = measured.reduce((sum, m) => sum + m.cpuSec, 0);
    return mergeWrkSummaries(spec, { label: opts.label, kind: opts.kind, targets: opts.targets, startedAt, cpuSec, notes }, measured.map((m) => m.summary));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
