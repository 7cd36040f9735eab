// Where the nodes' CPU time goes, from Linux perf's on-CPU samples
// (`perf record -g -e cpu-clock` of the node processes, then
// `perf script -F pid,tid,ip,sym,dso`; bench/cpu-budget.ts --sampler perf).
// Pure: the script's text in, samples and per-operation figures out.
//
// Unlike V8's sampler (src/bench/cpu-roles.ts reads its profiles), a
// cpu-clock sample is taken only while a thread runs on a CPU, on every
// thread of the process, user and kernel code alike: each sample stands for
// 1 / frequency seconds of CPU time, so samples / frequency / operations is
// CPU µs per operation, comparable with the process's CPU time as measured
// by the kernel.
//
// A sample's role (leaf first, the first frame that says):
// - a GC frame of V8 (scavenger, mark-compact, concurrent marking, sweeper,
//   incremental marking, Heap::CollectGarbage, cppgc, ...): 'gc', on any thread;
// - a JIT compilation frame (v8::internal::compiler::, maglev, baseline
//   batch compiler, Compiler::, the parser and bytecode generator): 'jit', on any thread;
// - on the main thread (tid == pid), a frame that a rule of ROLE_RULES
//   matches: JavaScript frames carry their function name and script URL
//   (the /tmp/perf-<pid>.map names of --perf-basic-prof-only-functions:
//   "JS:*name file:///.../src/kv/service.ts:1:5045"), a native addon's frame
//   its file; with none, Node's HTTP internals on the stack mean 'api', else 'runtime';
// - on another thread, a frame of LMDB's native addon (dso under lmdb, or an
//   mdb_* symbol) or a kernel fsync / fdatasync path: 'lmdb' (LMDB's writer,
//   which commits on libuv's thread pool); else 'threads'.
// User or kernel: the leaf frame's code (kernel addresses, [kernel.kallsyms]).
import { CPU_ROLE_LABELS, CPU_ROLES, firstRole, frameRole, isInSrc, ROLE_RULES, shortUrl, throughHttpInternals, type CpuRole, type FrameRef, type RoleRule } from './cpu-roles.js';

/** The roles of perf samples: the main thread's of cpu-roles.ts, JIT compilation, and the work of other threads. */
export type PerfRole = CpuRole | 'jit' | 'lmdb' | 'threads';

export const PERF_ROLES: readonly PerfRole[] = [...CPU_ROLES.filter((r) => r !== 'gc' && r !== 'runtime'), 'gc', 'jit', 'runtime', 'lmdb', 'threads'];

export const PERF_ROLE_LABELS: Record<PerfRole, string> = {
  ...CPU_ROLE_LABELS,
  gc: 'GC (any thread)',
  jit: 'JIT compilation (any thread)',
  runtime: 'runtime / unattributed (main thread)',
  lmdb: 'LMDB writer (libuv pool)',
  threads: 'other threads',
};

/** Which thread did the work: the main thread, or another one by what it was doing. */
export type ThreadKind = 'main' | 'lmdb' | 'gc' | 'jit' | 'other';

export const THREAD_KINDS: readonly ThreadKind[] = ['main', 'lmdb', 'gc', 'jit', 'other'];

export const THREAD_KIND_LABELS: Record<ThreadKind, string> = {
  main: 'main thread',
  lmdb: 'LMDB writer (libuv pool)',
  gc: 'GC helper threads',
  jit: 'JIT compiler threads',
  other: 'other threads',
};

export interface PerfFrame {
  /** Hex, as perf prints it. */
  ip: string;
  sym: string;
  dso: string;
}

export interface PerfSample {
  /** Absent when the script was made without the pid field. */
  pid?: number;
  tid: number;
  /** Leaf first. */
  frames: PerfFrame[];
}

/** A sample's header line: "[comm] [pid/]tid", perf's fields separated by spaces. */
const HEADER = /^(?:.*?\s)?(?:(\d+)\/)?(\d+)\s*$/;
/** A frame line: "<ip> <sym> (<dso>)"; the symbol may contain parentheses, the dso does not. */
const FRAME = /^\s+([0-9a-fA-F]+)\s+(.*?)\s*\(([^()]*)\)\s*$/;

/** The samples of `perf script -F [comm,][pid,]tid,ip,sym,dso` (with call chains: one frame a line, leaf first; samples separated by blank lines). */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (/^\s/.test(line)) {
      const m = FRAME.exec(line);
      if (current !== undefined && m !== null) current.frames.push({ ip: m[1]!.toLowerCase(), sym: m[2]!, dso: m[3]! });
      continue;
    }
    const h = HEADER.exec(line);
    if (h === null) {
      current = undefined;
      continue;
    }
    current = { tid: Number(h[2]), frames: [], ...(h[1] !== undefined ? { pid: Number(h[1]) } : {}) };
    samples.push(current);
  }
  return samples;
}

/** A JavaScript frame of a perf map: "JS:*name url:line:column" (* optimized, ^ baseline, + maglev, ~ interpreted). */
export interface JsFrame extends FrameRef {
  tier: string;
  /** 1-based, as in the map; 0 when the map gives none. */
  line: number;
  column: number;
}

const JS_SYMBOL = /^(?:JS|LazyCompile|Function|Script):([*~^+]?)(.*)$/;
const JS_POSITION = /^(.*?)\s*(\S+):(\d+):(\d+)$/;

export function jsFrameOf(frame: PerfFrame): JsFrame | undefined {
  const m = JS_SYMBOL.exec(frame.sym);
  if (m === null) return undefined;
  const rest = m[2]!.trim();
  const at = JS_POSITION.exec(rest);
  if (at === null) return { tier: m[1]!, functionName: rest, url: '', line: 0, column: 0 };
  return { tier: m[1]!, functionName: at[1]!, url: at[2]!, line: Number(at[3]), column: Number(at[4]) };
}

export function isKernelFrame(frame: PerfFrame): boolean {
  return frame.dso === '[kernel.kallsyms]' || (frame.ip.length === 16 && frame.ip.startsWith('ffff'));
}

/** A native addon's file (Node loads them from *.node). */
const ADDON = /\.node$/;

/** What the role rules see of a frame: a JS frame's name and script, an addon's file, or nothing (other native code). */
export function frameRefOf(frame: PerfFrame): FrameRef {
  const js = jsFrameOf(frame);
  if (js !== undefined) return js;
  return { functionName: frame.sym, url: ADDON.test(frame.dso) ? frame.dso : '' };
}

/** V8's garbage collector (and cppgc, Oilpan); not the allocator's fast paths or write barriers. */
const GC_SYMBOL =
  /^(?:v8::internal::.*(?:Scaveng|MarkCompact|MinorMarkSweep|MinorMC|ConcurrentMarking|Sweeper|IncrementalMarking|MarkingVisitor|MarkingWorklist|MarkingBarrier|Evacuat|PointersUpdating|ArrayBufferSweeper|MemoryAllocator::Unmapper|GCTracer|Heap::CollectGarbage|Heap::CollectAllGarbage|Heap::PerformGarbageCollection|Heap::GarbageCollection|Heap::MarkCompact|Heap::Scavenge|Heap::MinorMarkSweep|Heap::StartIncrementalMarking|Heap::FinalizeIncrementalMarking|Heap::ExternalStringTable|GlobalHandles::(?:IterateWeak|ProcessWeak|PostGarbageCollection))|cppgc::|heap::base::)/;
/** V8 compiling: TurboFan, Maglev, Sparkplug's batch compiler, the lazy bytecode compiler and the parser. */
const JIT_SYMBOL = /^(?:v8::internal::(?:compiler::|maglev::|baseline::|BaselineBatchCompiler|OptimizingCompileDispatcher|TurbofanCompilationJob|OptimizedCompilationJob|Compiler::|interpreter::BytecodeGenerator|Parser::|PreParser::|ParserBase<)|Builtins_CompileLazy|Builtins_InstantiateAsmJs)/;
/** LMDB's code: its native addon (lmdb-js and liblmdb) or an mdb_* symbol. */
const LMDB_DSO = /lmdb/i;
const LMDB_SYMBOL = /^mdb_/;
/** The kernel flushing a file (LMDB's commit fsyncs or fdatasyncs its data file). */
const KERNEL_FSYNC = /^(?:__x64_sys_|__ia32_sys_|__arm64_sys_|__se_sys_|__do_sys_|ksys_)?(?:fsync|fdatasync|msync|sync_file_range)$|^do_fsync$|^vfs_fsync(?:_range)?$/;

export function isGcFrame(frame: PerfFrame): boolean {
  return GC_SYMBOL.test(frame.sym);
}

export function isJitFrame(frame: PerfFrame): boolean {
  return JIT_SYMBOL.test(frame.sym);
}

export function isLmdbFrame(frame: PerfFrame): boolean {
  return LMDB_DSO.test(frame.dso) || LMDB_SYMBOL.test(frame.sym) || (isKernelFrame(frame) && KERNEL_FSYNC.test(frame.sym));
}

export interface SampleAttribution {
  role: PerfRole;
  thread: ThreadKind;
  /** The leaf frame runs in the kernel. */
  kernel: boolean;
}

/** The role and thread kind of one sample; `main`: it is the process's main thread. */
export function attributeSample(frames: readonly PerfFrame[], main: boolean, rules: readonly RoleRule[] = ROLE_RULES): SampleAttribution {
  const kernel = frames[0] !== undefined && isKernelFrame(frames[0]);
  if (main) {
    const role =
      firstRole<PerfFrame, PerfRole>(frames, (frame) => {
        if (isGcFrame(frame)) return 'gc';
        if (isJitFrame(frame)) return 'jit';
        return frameRole(frameRefOf(frame), rules);
      }) ?? (throughHttpInternals(frames.map(frameRefOf)) ? 'api' : 'runtime');
    return { role, thread: 'main', kernel };
  }
  const role =
    firstRole<PerfFrame, PerfRole>(frames, (frame) => {
      if (isGcFrame(frame)) return 'gc';
      if (isJitFrame(frame)) return 'jit';
      if (isLmdbFrame(frame)) return 'lmdb';
      return undefined;
    }) ?? 'threads';
  const thread: ThreadKind = role === 'gc' ? 'gc' : role === 'jit' ? 'jit' : role === 'lmdb' ? 'lmdb' : 'other';
  return { role, thread, kernel };
}

/** Samples split user / kernel. */
export interface SplitCount {
  user: number;
  kernel: number;
}

export interface PerfProcessCounts {
  samples: number;
  mainSamples: number;
  kernelSamples: number;
  roles: Record<PerfRole, number>;
}

/** What the samples of a window come to, in samples. */
export interface PerfBreakdown {
  samples: number;
  roles: Record<PerfRole, SplitCount>;
  threads: Record<ThreadKind, SplitCount & { tids: number }>;
  /** By process (pid), when the script has pids or the main threads are known. */
  processes: Map<number, PerfProcessCounts>;
  /** By leaf frame: "name<TAB>src/...:line:column" of JS, "symbol<TAB>dso file name" of native code. */
  leaves: Map<string, number>;
  /** By the first JavaScript frame from the leaf (keyed as leaves); samples with none are not here. */
  firstJs: Map<string, number>;
  /** By function in src/ anywhere on the stack, once per sample. */
  inclusiveSrc: Map<string, number>;
  /** Samples with no JavaScript frame. */
  noJs: number;
}

export function emptyPerfRoles(): Record<PerfRole, number> {
  return Object.fromEntries(PERF_ROLES.map((r) => [r, 0])) as Record<PerfRole, number>;
}

function split(): SplitCount {
  return { user: 0, kernel: 0 };
}

function baseName(path: string): string {
  return path.startsWith('[') ? path : path.slice(path.lastIndexOf('/') + 1);
}

/** A JS frame's readable place: "src/kv/service.ts:1:5045". */
export function jsLocation(js: JsFrame): string {
  const path = js.url === '' ? '(no script)' : shortUrl(js.url);
  return js.line > 0 ? `${path}:${js.line}:${js.column}` : path;
}

/** A JS frame's key, whatever its tier: "name<TAB>place". */
function jsKey(js: JsFrame): string {
  return `${js.functionName === '' ? '(anonymous)' : js.functionName}\t${jsLocation(js)}`;
}

/** A leaf's key: a JS frame's, or "symbol<TAB>dso file name". */
function leafKey(frame: PerfFrame): string {
  const js = jsFrameOf(frame);
  return js !== undefined ? jsKey(js) : `${frame.sym}\t${baseName(frame.dso)}`;
}

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/**
 * Counts the samples by role, thread kind, process, leaf and first JS frame.
 * A sample is its process's main thread when tid == pid; for a script
 * without pids, when its tid is one of `mainPids` (then its process is that
 * tid; other threads' process is unknown and they count in no process).
 */
export function analyzePerfSamples(samples: readonly PerfSample[], opts: { mainPids?: Iterable<number>; rules?: readonly RoleRule[] } = {}): PerfBreakdown {
  const mainPids = new Set(opts.mainPids ?? []);
  const roles = Object.fromEntries(PERF_ROLES.map((r) => [r, split()])) as Record<PerfRole, SplitCount>;
  const threads = Object.fromEntries(THREAD_KINDS.map((k) => [k, { ...split(), tids: 0 }])) as PerfBreakdown['threads'];
  const tidsOf = new Map<ThreadKind, Set<number>>(THREAD_KINDS.map((k) => [k, new Set<number>()]));
  const processes = new Map<number, PerfProcessCounts>();
  const leaves = new Map<string, number>();
  const firstJs = new Map<string, number>();
  const inclusiveSrc = new Map<string, number>();
  let noJs = 0;
  for (const sample of samples) {
    const main = sample.pid !== undefined ? sample.tid === sample.pid : mainPids.has(sample.tid);
    const pid = sample.pid ?? (main ? sample.tid : undefined);
    const a = attributeSample(sample.frames, main, opts.rules);
    const side = a.kernel ? 'kernel' : 'user';
    roles[a.role][side]++;
    threads[a.thread][side]++;
    tidsOf.get(a.thread)!.add(sample.tid);
    if (pid !== undefined) {
      let p = processes.get(pid);
      if (p === undefined) processes.set(pid, (p = { samples: 0, mainSamples: 0, kernelSamples: 0, roles: emptyPerfRoles() }));
      p.samples++;
      if (main) p.mainSamples++;
      if (a.kernel) p.kernelSamples++;
      p.roles[a.role]++;
    }
    if (sample.frames[0] !== undefined) bump(leaves, leafKey(sample.frames[0]));
    const jsFrames = sample.frames.map(jsFrameOf).filter((js): js is JsFrame => js !== undefined);
    if (jsFrames[0] !== undefined) bump(firstJs, jsKey(jsFrames[0]));
    else noJs++;
    for (const key of new Set(jsFrames.filter(isInSrc).map(jsKey))) bump(inclusiveSrc, key);
  }
  for (const kind of THREAD_KINDS) threads[kind].tids = tidsOf.get(kind)!.size;
  return { samples: samples.length, roles, threads, processes, leaves, firstJs, inclusiveSrc, noJs };
}

/** Samples to CPU microseconds: each cpu-clock sample stands for 1 / frequency seconds on a CPU. */
export function samplesToUs(samples: number, frequencyHz: number): number {
  return (samples * 1e6) / frequencyHz;
}

export interface PerfRoleBudget {
  role: PerfRole;
  label: string;
  /** Sampled CPU µs per operation: samples / frequency / operations. */
  usPerOp: number;
  userUsPerOp: number;
  kernelUsPerOp: number;
  /** Of all samples. */
  share: number;
}

export interface PerfThreadBudget {
  thread: ThreadKind;
  label: string;
  /** Distinct threads (over all processes) with samples of this kind. */
  threads: number;
  usPerOp: number;
  userUsPerOp: number;
  kernelUsPerOp: number;
  share: number;
}

export interface PerfRow {
  /** A function's or symbol's name. */
  name: string;
  /** A JS frame's place (src/kv/service.ts:1:5045), or a native symbol's dso (node, libc.so.6, [kernel.kallsyms]). */
  location: string;
  usPerOp: number;
  /** Of all samples. */
  share: number;
}

export interface PerfBudget {
  /** Sampled CPU µs per operation, all threads. */
  usPerOp: number;
  kernelUsPerOp: number;
  roles: PerfRoleBudget[];
  threads: PerfThreadBudget[];
}

export function perfBudget(b: PerfBreakdown, frequencyHz: number, ops: number): PerfBudget {
  const perOp = (samples: number): number => (ops > 0 ? samplesToUs(samples, frequencyHz) / ops : 0);
  const share = (samples: number): number => (b.samples > 0 ? samples / b.samples : 0);
  const kernel = PERF_ROLES.reduce((sum, r) => sum + b.roles[r].kernel, 0);
  return {
    usPerOp: perOp(b.samples),
    kernelUsPerOp: perOp(kernel),
    roles: PERF_ROLES.map((role) => {
      const c = b.roles[role];
      return { role, label: PERF_ROLE_LABELS[role], usPerOp: perOp(c.user + c.kernel), userUsPerOp: perOp(c.user), kernelUsPerOp: perOp(c.kernel), share: share(c.user + c.kernel) };
    }),
    threads: THREAD_KINDS.map((thread) => {
      const c = b.threads[thread];
      return { thread, label: THREAD_KIND_LABELS[thread], threads: c.tids, usPerOp: perOp(c.user + c.kernel), userUsPerOp: perOp(c.user), kernelUsPerOp: perOp(c.kernel), share: share(c.user + c.kernel) };
    }),
  };
}

/** The `count` keys with the most samples, in µs per operation. */
export function topRows(counts: ReadonlyMap<string, number>, total: number, frequencyHz: number, ops: number, count: number): PerfRow[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, count)
    .map(([key, n]) => ({ name: key.slice(0, key.indexOf('\t')), location: key.slice(key.indexOf('\t') + 1), usPerOp: ops > 0 ? samplesToUs(n, frequencyHz) / ops : 0, share: total > 0 ? n / total : 0 }));
}
