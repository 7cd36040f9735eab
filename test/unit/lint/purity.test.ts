// The purity lint rule is what keeps protocol cores simulatable. These tests
// fail if it is weakened: each forbidden use must be reported in a core file,
// and allowed in the real adapters (transport, host).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function errorsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

const FORBIDDEN: Record<string, string> = {
  'Date.now': 'export const t = Date.now();',
  'new Date()': 'export const t = new Date();',
  'performance.now': 'export const t = performance.now();',
  'process.hrtime': 'export const t = process.hrtime();',
  'Math.random': 'export const r = Math.random();',
  setTimeout: 'setTimeout(() => undefined, 1);',
  setInterval: 'setInterval(() => undefined, 1);',
  'node:net': "import { createServer } from 'node:net';\nexport const s = createServer;",
  'node:fs': "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;",
  fs: "import { readFileSync } from 'fs';\nexport const f = readFileSync;",
};

describe('protocol-core purity lint rule', () => {
  for (const [what, code] of Object.entries(FORBIDDEN)) {
    it(`rejects ${what} in src/core protocol code`, async () => {
      for (const file of ['src/core/membership/x.ts', 'src/core/detector/x.ts', 'src/core/ring/x.ts', 'src/core/sim/x.ts', 'src/core/node/x.ts']) {
        const errors = await errorsFor(file, code);
        assert.ok(errors.length > 0, `${what} was not reported in ${file}`);
      }
    });
  }

  it('allows them in the real adapters (transport, host) and outside src/core', async () => {
    for (const file of ['src/core/transport/x.ts', 'src/core/host/x.ts', 'src/cli/x.ts']) {
      for (const [what, code] of Object.entries(FORBIDDEN)) {
        const errors = await errorsFor(file, code);
        assert.deepEqual(errors, [], `${what} unexpectedly reported in ${file}`);
      }
    }
  });

  it('accepts time and randomness taken from an injected Env', async () => {
    const code = "import type { Env } from '../env.js';\nexport function f(env: Env): number { return env.nowMs() + env.random.next(); }\n";
    assert.deepEqual(await errorsFor('src/core/membership/x.ts', code), []);
  });
});
