// Where a node's sampled CPU time goes, by role (API, coordinator, replica,
// node-to-node messaging, cluster background, logging, GC, runtime) and by
// function, from a V8 CPU profile (the .cpuprofile of `rondo admin
// cpu-profile`). Pure: profiles in, microseconds out; bench/cpu-budget.ts
// turns them into per-operation figures. The rules (ROLE_RULES, frameRole,
// firstRole) read only a frame's function name and script URL (FrameRef), so
// the same table serves the on-CPU samples of Linux perf
// (src/bench/perf-samples.ts), whose JavaScript frames carry both.
//
// A sample's role: walk its stack from the leaf towards the root and take the
// first frame that a rule of ROLE_RULES matches (first rule that matches wins).
// Frames no rule matches (Node internals, libraries such as msgpackr and
// protobufjs, src/kv/object/**, src/core/errors.ts, src/core/host/**, ...)
// are passed over, so their time goes to the Rondo code that called them.
// A stack with no matching frame: '(garbage collector)' is GC; a stack
// through Node's HTTP server internals is API; anything else (e.g.
// '(program)', socket reads before any Rondo code runs) is runtime.

export type CpuRole = 'api' | 'coordinator' | 'replica' | 'messaging' | 'background' | 'logging' | 'gc' | 'runtime';

export const CPU_ROLES: readonly CpuRole[] = ['api', 'coordinator', 'replica', 'messaging', 'background', 'logging', 'gc', 'runtime'];

export const CPU_ROLE_LABELS: Record<CpuRole, string> = {
  api: 'API (HTTP / PB)',
  coordinator: 'coordinator',
  replica: 'replica (vnode, storage)',
  messaging: 'node-to-node messaging',
  background: 'cluster background',
  logging: 'logging',
  gc: 'GC',
  runtime: 'runtime / unattributed',
};

/** What the role rules read of a frame: a V8 call frame, or a frame of a perf sample (src/bench/perf-samples.ts). */
export interface FrameRef {
  /** "name" or "Class.name"; '' for an anonymous function. */
  readonly functionName: string;
  /** The script's URL (file:///..., node:fs); for a native addon's frame in a perf sample, the addon's file; '' for other native code. */
  readonly url: string;
}

export interface RoleRule {
  /** The frame's script URL contains this string (or matches this expression). */
  readonly url: string | RegExp;
  /** Only frames of these functions (callFrame.functionName; for "Class.method", the method). */
  readonly functions?: readonly string[];
  readonly role: CpuRole;
}

/** Function names in KvService (src/kv/service.ts, or files split from it under src/kv/service/) that coordinate a request. */
const COORDINATOR_FUNCTIONS = ['get', 'put', 'delete', 'runGet', 'run', 'targetsFor', 'preflist', 'coordinatorOf', 'propsOf'];
/** ...and those that send a command to a vnode, ours or a peer's. */
const MESSAGING_FUNCTIONS = ['send', 'dispatch'];
/** src/kv/service.ts, and anything under src/kv/service/. */
const KV_SERVICE = /\/src\/kv\/service(\.ts|\/)/;

/** The rules, in order: the first one a frame matches gives its role. Edit here when files move. */
export const ROLE_RULES: readonly RoleRule[] = [
  { url: '/src/api/', role: 'api' },
  { url: '/src/kv/coord/', role: 'coordinator' },
  { url: '/src/core/ring/', role: 'coordinator' },
  { url: '/src/kv/service/request-table.ts', role: 'messaging' },
  { url: KV_SERVICE, functions: COORDINATOR_FUNCTIONS, role: 'coordinator' },
  { url: KV_SERVICE, functions: MESSAGING_FUNCTIONS, role: 'messaging' },
  { url: KV_SERVICE, role: 'replica' },
  { url: '/src/kv/vnode/', role: 'replica' },
  { url: '/src/core/vnode/', role: 'replica' },
  { url: '/src/kv/backend/', role: 'replica' },
  { url: '/node_modules/lmdb/', role: 'replica' },
  // LMDB's native addon (a perf frame's url is the addon's file; V8 frames of native code have no url).
  { url: '/node_modules/@lmdb/', role: 'replica' },
  { url: '/src/core/transport/', role: 'messaging' },
  { url: '/src/core/node/cluster-node.ts', role: 'messaging' },
  { url: '/src/core/membership/', role: 'background' },
  { url: '/src/core/detector/', role: 'background' },
  { url: '/src/core/handoff/', role: 'background' },
  { url: '/src/core/metadata/', role: 'background' },
  { url: '/node_modules/pino', role: 'logging' },
];

/** Node's own HTTP server modules: a stack through them with no Rondo frame is the HTTP API's work. */
const HTTP_SERVER_INTERNALS: readonly string[] = ['node:_http_server', 'node:_http_common', 'node:_http_incoming', 'node:_http_outgoing'];

/** The parts of a V8 CPU profile (Profiler.Profile) read here. */
export interface CpuProfileLike {
  nodes: { id: number; callFrame: CallFrameLike; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface CallFrameLike extends FrameRef {
  functionName: string;
  url: string;
  /** 0-based, as in the profile. */
  lineNumber: number;
  columnNumber: number;
}

/** Time of one function (all its stack nodes in the profile), microseconds. */
export interface FunctionTime {
  name: string;
  /** "src/kv/vnode/kv-vnode.ts:120", "node:net:310", "(native)", or for a native function "(native) ← its nearest caller with a script". */
  location: string;
  selfUs: number;
  /** Time with the function anywhere on the stack, counted once per sample; only for functions in src/. */
  inclusiveUs: number;
  /** The function's file is under src/. */
  inSrc: boolean;
}

/** What a profile (or several, merged) comes to, in sampled microseconds. */
export interface ProfileBreakdown {
  samples: number;
  /** All samples, idle included. */
  sampledUs: number;
  idleUs: number;
  /** Samples that are not '(idle)': main-thread busy time. */
  busyUs: number;
  roles: Record<CpuRole, number>;
  /** Keyed by name and location. */
  functions: Map<string, FunctionTime>;
}

export function emptyRoles(): Record<CpuRole, number> {
  return { api: 0, coordinator: 0, replica: 0, messaging: 0, background: 0, logging: 0, gc: 0, runtime: 0 };
}

/** "Class.method" → "method"; V8 usually gives the bare name already. */
function bareName(functionName: string): string {
  const dot = functionName.lastIndexOf('.');
  return dot >= 0 ? functionName.slice(dot + 1) : functionName;
}

function ruleMatches(rule: RoleRule, frame: FrameRef): boolean {
  const urlOk = typeof rule.url === 'string' ? frame.url.includes(rule.url) : rule.url.test(frame.url);
  return urlOk && (rule.functions === undefined || rule.functions.includes(bareName(frame.functionName)));
}

/** The role of the first rule the frame matches, or undefined: pass it over. */
export function frameRole(frame: FrameRef, rules: readonly RoleRule[] = ROLE_RULES): CpuRole | undefined {
  if (frame.url === '') return undefined;
  for (const rule of rules) if (ruleMatches(rule, frame)) return rule.role;
  return undefined;
}

/**
 * The first role from the leaf: `roleOf` gives a frame's role or undefined
 * (pass it over); for perf samples it also knows GC and JIT frames of V8's
 * native code before it asks frameRole.
 */
export function firstRole<F, R>(stackLeafFirst: readonly F[], roleOf: (frame: F) => R | undefined): R | undefined {
  for (const frame of stackLeafFirst) {
    const role = roleOf(frame);
    if (role !== undefined) return role;
  }
  return undefined;
}

/** Some frame of the stack is in Node's HTTP server modules (a stack with no Rondo frame through them is the HTTP API's). */
export function throughHttpInternals(stack: readonly FrameRef[]): boolean {
  return stack.some((f) => HTTP_SERVER_INTERNALS.some((prefix) => f.url === prefix || f.url.startsWith(`${prefix}.`)));
}

/** The role of a sample, given its stack from leaf to root. */
export function stackRole(stackLeafFirst: readonly CallFrameLike[], rules: readonly RoleRule[] = ROLE_RULES): CpuRole {
  const role = firstRole(stackLeafFirst, (frame) => frameRole(frame, rules));
  if (role !== undefined) return role;
  if (stackLeafFirst[0]?.functionName === '(garbage collector)') return 'gc';
  if (throughHttpInternals(stackLeafFirst)) return 'api';
  return 'runtime';
}

/** A readable script path: from src/ or node_modules/ on, or Node's module name ('' for none). */
export function shortUrl(url: string): string {
  const at = Math.max(url.lastIndexOf('/src/'), url.lastIndexOf('/node_modules/'));
  if (at >= 0) return url.slice(at + 1);
  return url.startsWith('file://') ? url.slice('file://'.length) : url;
}

/** A readable place: the path from src/ or node_modules/ on, or Node's module name; 1-based line. */
export function frameLocation(frame: CallFrameLike): string {
  if (frame.url === '') return '(native)';
  const path = shortUrl(frame.url);
  return frame.lineNumber >= 0 ? `${path}:${frame.lineNumber + 1}` : path;
}

/** Stack nodes V8 makes up: not functions. */
const V8_META_NODES: ReadonlySet<string> = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/**
 * Where a sample's own time is spent: a native function (no script, e.g. a
 * binding of lmdb or of a socket) is named by the nearest caller that has one,
 * so that native time of different callers is not one '(anonymous)' row.
 */
function leafLocation(stackLeafFirst: readonly CallFrameLike[]): string | undefined {
  const leaf = stackLeafFirst[0];
  if (leaf === undefined) return undefined;
  if (leaf.url !== '' || V8_META_NODES.has(leaf.functionName)) return frameLocation(leaf);
  const caller = stackLeafFirst.find((frame) => frame.url !== '');
  return caller === undefined ? '(native)' : `(native) ← ${frameLocation(caller)}`;
}

export function isInSrc(frame: FrameRef): boolean {
  return frame.url.startsWith('file:') && frame.url.includes('/src/') && !frame.url.includes('/node_modules/');
}

/**
 * Each sample lasts until the next one (as DevTools counts it); the last one
 * until the profile's end. Negative deltas (V8 sometimes reorders samples) count as 0.
 */
export function sampleDurationsUs(profile: CpuProfileLike): number[] {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const durations: number[] = new Array<number>(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) t += deltas[i] ?? 0;
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? (deltas[i + 1] ?? 0) : profile.endTime - t;
    durations[i] = Math.max(0, next);
  }
  return durations;
}

/** Breaks one profile down by role and by function. */
export function analyzeProfile(profile: CpuProfileLike, rules: readonly RoleRule[] = ROLE_RULES): ProfileBreakdown {
  const byId = new Map<number, CpuProfileLike['nodes'][number]>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Per stack node, computed once: its role, its function key, and the src/ function keys on its stack.
  const roleOf = new Map<number, CpuRole>();
  const keyOf = new Map<number, string>();
  const srcKeysOf = new Map<number, string[]>();
  const functions = new Map<string, FunctionTime>();
  const stackOf = (id: number): CallFrameLike[] => {
    const stack: CallFrameLike[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node === undefined) break;
      if (node.callFrame.functionName !== '(root)' || parent.has(at)) stack.push(node.callFrame);
    }
    return stack;
  };
  const functionKey = (frame: CallFrameLike, location = frameLocation(frame)): string => {
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${name} ${location}`;
    if (!functions.has(key)) functions.set(key, { name, location, selfUs: 0, inclusiveUs: 0, inSrc: isInSrc(frame) });
    return key;
  };
  const prepare = (id: number): void => {
    const stack = stackOf(id);
    roleOf.set(id, stackRole(stack, rules));
    const leaf = stack[0] ?? byId.get(id)?.callFrame;
    if (leaf !== undefined) keyOf.set(id, functionKey(leaf, leafLocation(stack)));
    srcKeysOf.set(id, [...new Set(stack.filter(isInSrc).map((frame) => functionKey(frame)))]);
  };

  const roles = emptyRoles();
  const durations = sampleDurationsUs(profile);
  const samples = profile.samples ?? [];
  let sampledUs = 0;
  let idleUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    const us = durations[i]!;
    sampledUs += us;
    const node = byId.get(id);
    if (node === undefined) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    if (!roleOf.has(id)) prepare(id);
    roles[roleOf.get(id)!] += us;
    const key = keyOf.get(id);
    if (key !== undefined) functions.get(key)!.selfUs += us;
    for (const srcKey of srcKeysOf.get(id)!) functions.get(srcKey)!.inclusiveUs += us;
  }
  return { samples: samples.length, sampledUs, idleUs, busyUs: sampledUs - idleUs, roles, functions };
}

/** Adds breakdowns (e.g. of each node of a cluster over the same window). */
export function mergeBreakdowns(parts: readonly ProfileBreakdown[]): ProfileBreakdown {
  const merged: ProfileBreakdown = { samples: 0, sampledUs: 0, idleUs: 0, busyUs: 0, roles: emptyRoles(), functions: new Map() };
  for (const part of parts) {
    merged.samples += part.samples;
    merged.sampledUs += part.sampledUs;
    merged.idleUs += part.idleUs;
    merged.busyUs += part.busyUs;
    for (const role of CPU_ROLES) merged.roles[role] += part.roles[role];
    for (const [key, f] of part.functions) {
      const into = merged.functions.get(key);
      if (into === undefined) merged.functions.set(key, { ...f });
      else {
        into.selfUs += f.selfUs;
        into.inclusiveUs += f.inclusiveUs;
      }
    }
  }
  return merged;
}

/** Per operation: each role's share of sampled busy time applied to the measured CPU, and the plain sampled time. */
export interface RoleBudget {
  role: CpuRole;
  label: string;
  /** cpuUsPerOp × (role sampled / busy sampled). */
  usPerOp: number;
  /** Sampled main-thread time of the role per operation. */
  sampledUsPerOp: number;
  /** Of sampled busy time. */
  share: number;
}

export function roleBudget(breakdown: ProfileBreakdown, cpuUsPerOp: number, ops: number): RoleBudget[] {
  return CPU_ROLES.map((role) => {
    const share = breakdown.busyUs > 0 ? breakdown.roles[role] / breakdown.busyUs : 0;
    return { role, label: CPU_ROLE_LABELS[role], usPerOp: cpuUsPerOp * share, sampledUsPerOp: ops > 0 ? breakdown.roles[role] / ops : 0, share };
  });
}

/** The `count` functions with the most self time (any code), or the most inclusive time (src/ only). */
export function topFunctions(breakdown: ProfileBreakdown, by: 'self' | 'inclusive', count: number): FunctionTime[] {
  const all = [...breakdown.functions.values()].filter((f) => (by === 'self' ? f.selfUs > 0 : f.inSrc && f.inclusiveUs > 0));
  const value = (f: FunctionTime): number => (by === 'self' ? f.selfUs : f.inclusiveUs);
  return all.sort((a, b) => value(b) - value(a) || a.location.localeCompare(b.location)).slice(0, count);
}
