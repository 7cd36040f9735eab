// Lint configuration. The block marked PURITY holds the line that makes the
// simulator possible: protocol cores never read the clock, set timers or
// schedule work, draw random numbers or touch sockets and files. They get all
// of that from an injected Env (or a function the caller injects, e.g.
// CoverageDeps.randomInt). Only the real adapters may.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TIME = 'Protocol cores get time from the injected Env.';
const TIMERS = 'Protocol cores get timers from the injected Env.';
const SCHEDULING = 'Protocol cores get scheduling from the injected Env (a timer), not from the event loop.';
const RANDOM = 'Protocol cores get randomness from the injected Env (env.random).';
const GLOBALS = 'Protocol cores take what they need from the injected Env, not from the global object.';
const IO = 'Protocol cores get network and storage from the injected Env.';

const impureGlobals = [
  { name: 'setTimeout', message: TIMERS },
  { name: 'setInterval', message: TIMERS },
  { name: 'setImmediate', message: SCHEDULING },
  { name: 'queueMicrotask', message: SCHEDULING },
  { name: 'performance', message: TIME },
  // Web Crypto's global: randomness (getRandomValues, randomUUID) and async digests; cores
  // hash synchronously with node:crypto's createHash.
  { name: 'crypto', message: RANDOM },
  // The ways around every other entry of this list (globalThis.setTimeout, global.Date.now()).
  { name: 'globalThis', message: GLOBALS },
  { name: 'global', message: GLOBALS },
];
const impureProperties = [
  { object: 'Date', property: 'now', message: TIME },
  { object: 'Math', property: 'random', message: RANDOM },
  { object: 'performance', property: 'now', message: TIME },
  { object: 'process', property: 'hrtime', message: TIME },
  { object: 'process', property: 'uptime', message: TIME },
  { object: 'process', property: 'nextTick', message: SCHEDULING },
  // `crypto` as the Web Crypto global or as a binding of node:crypto.
  ...['randomBytes', 'randomUUID', 'randomInt', 'randomFill', 'randomFillSync'].map((property) => ({ object: 'crypto', property, message: RANDOM })),
  // On any object (crypto.getRandomValues, webcrypto.getRandomValues).
  { property: 'getRandomValues', message: RANDOM },
];
const impureSyntax = [
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: TIME },
  // Date() without `new` returns the current time as a string, whatever its arguments.
  { selector: "CallExpression[callee.name='Date']", message: TIME },
];
const impureModules = [
  'net', 'dgram', 'tls', 'http', 'https', 'http2', 'dns', 'fs', 'fs/promises', 'child_process', 'worker_threads', 'timers', 'timers/promises', 'perf_hooks',
].flatMap((name) => [name, `node:${name}`]);
// node:crypto stays importable for hashing (createHash: ring positions, metadata and
// trace digests); its randomness is not. `import *` and the default import are refused
// too, since either reaches randomBytes under another name.
const randomCryptoExports = ['randomBytes', 'randomUUID', 'getRandomValues', 'randomInt', 'randomFill', 'randomFillSync', 'webcrypto', 'default'];
const impureImports = [
  ...impureModules.map((name) => ({ name, message: IO })),
  { name: 'lmdb', message: 'Protocol cores reach storage through a StorageEngine / PartitionStore, never LMDB itself.' },
  ...['crypto', 'node:crypto'].map((name) => ({ name, importNames: randomCryptoExports, message: RANDOM })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // PURITY: the protocol code of src/core and src/kv, i.e. everything there but
  // the I/O edges, which implement the Env or a storage engine on real resources:
  // - src/core/transport: the TCP transport (sockets, connect timers, handshake nonces);
  // - src/core/host: the real Env (clock, timers, Math.random, files) and the CPU profiler;
  // - src/kv/backend/lmdb.ts: the LMDB storage engine (creates its directory, opens the file);
  // - src/kv/backend/lmdb-stats.ts: a read-only LMDB file inspector for bench/key-overhead.ts.
  // The memory engine and the engine-independent layers of src/kv/backend (store, keys,
  // rows) stay covered: the simulator runs them.
  {
    files: ['src/core/**/*.ts', 'src/kv/**/*.ts'],
    ignores: ['src/core/transport/**', 'src/core/host/**', 'src/kv/backend/lmdb.ts', 'src/kv/backend/lmdb-stats.ts'],
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': ['error', ...impureProperties],
      'no-restricted-syntax': ['error', ...impureSyntax],
      'no-restricted-imports': ['error', { paths: impureImports }],
    },
  },
);
