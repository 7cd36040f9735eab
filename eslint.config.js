// Lint configuration. The block marked PURITY holds the line that makes the
// simulator possible: protocol cores never read the clock, set timers, draw
// random numbers or touch sockets and files. They get all of that from an
// injected Env. Only the real adapters (transport, host) may.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureGlobals = [
  { name: 'setTimeout', message: 'Protocol cores get timers from the injected Env.' },
  { name: 'setInterval', message: 'Protocol cores get timers from the injected Env.' },
  { name: 'setImmediate', message: 'Protocol cores get scheduling from the injected Env.' },
  { name: 'performance', message: 'Protocol cores get time from the injected Env.' },
];
const impureProperties = [
  { object: 'Date', property: 'now', message: 'Protocol cores get time from the injected Env.' },
  { object: 'Math', property: 'random', message: 'Protocol cores get randomness from the injected Env.' },
  { object: 'performance', property: 'now', message: 'Protocol cores get time from the injected Env.' },
  { object: 'process', property: 'hrtime', message: 'Protocol cores get time from the injected Env.' },
];
const impureModules = ['net', 'node:net', 'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'dgram', 'node:dgram', 'tls', 'node:tls', 'timers', 'node:timers', 'timers/promises', 'node:timers/promises', 'perf_hooks', 'node:perf_hooks'];

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
  // PURITY: everything under src/core except the real adapters.
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/transport/**', 'src/core/host/**'],
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': ['error', ...impureProperties],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Protocol cores get time from the injected Env.' }],
      'no-restricted-imports': ['error', { paths: impureModules.map((name) => ({ name, message: 'Protocol cores get network and storage from the injected Env.' })) }],
    },
  },
);
