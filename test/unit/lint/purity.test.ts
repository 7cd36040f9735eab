// The purity lint rule is what keeps protocol cores simulatable. These tests
// fail if it is weakened: each forbidden use must be reported, by the purity
// rules themselves, in every covered folder of src/core and src/kv, and
// allowed in the I/O edges (transport, host, the LMDB engine) and outside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

const PURITY_RULES = new Set(['no-restricted-globals', 'no-restricted-properties', 'no-restricted-syntax', 'no-restricted-imports']);

async function errorsFor(filePath: string, code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => ({ ruleId: m.ruleId, message: m.message }));
}

const show = (errors: { ruleId: string | null; message: string }[]): string => errors.map((e) => `${e.ruleId}: ${e.message}`).join('; ');

const FORBIDDEN: Record<string, string> = {
  'Date.now': 'export const t = Date.now();',
  'new Date()': 'export const t = new Date();',
  'Date() without new': 'export const t = Date();',
  'Date(x) without new': 'export const t = Date(0);',
  'performance.now': 'export const t = performance.now();',
  'process.hrtime': 'export const t = process.hrtime();',
  'process.hrtime.bigint': 'export const t = process.hrtime.bigint();',
  'process.uptime': 'export const t = process.uptime();',
  'Math.random': 'export const r = Math.random();',
  setTimeout: 'setTimeout(() => undefined, 1);',
  setInterval: 'setInterval(() => undefined, 1);',
  setImmediate: 'setImmediate(() => undefined);',
  queueMicrotask: 'queueMicrotask(() => undefined);',
  'process.nextTick': 'process.nextTick(() => undefined);',
  'globalThis.setTimeout': 'globalThis.setTimeout(() => undefined, 1);',
  'global.Date.now': 'export const t = global.Date.now();',
  'randomBytes from node:crypto': "import { randomBytes } from 'node:crypto';\nexport const b = randomBytes(8);",
  'randomBytes from crypto': "import { randomBytes } from 'crypto';\nexport const b = randomBytes(8);",
  'crypto.randomBytes (namespace import)': "import * as crypto from 'node:crypto';\nexport const b = crypto.randomBytes(8);",
  'crypto.randomBytes (default import)': "import crypto from 'node:crypto';\nexport const b = crypto.randomBytes(8);",
  'randomUUID from node:crypto': "import { randomUUID } from 'node:crypto';\nexport const id = randomUUID();",
  'randomUUID from node:crypto, renamed': "import { randomUUID as uuid } from 'node:crypto';\nexport const id = uuid();",
  'crypto.randomUUID (global)': 'export const id = crypto.randomUUID();',
  'crypto.getRandomValues (global)': 'export const b = crypto.getRandomValues(new Uint8Array(8));',
  'getRandomValues from node:crypto': "import { getRandomValues } from 'node:crypto';\nexport const b = getRandomValues(new Uint8Array(8));",
  'webcrypto.getRandomValues': "import { webcrypto } from 'node:crypto';\nexport const b = webcrypto.getRandomValues(new Uint8Array(8));",
  'randomInt from node:crypto': "import { randomInt } from 'node:crypto';\nexport const n = randomInt(8);",
  'node:net': "import { createServer } from 'node:net';\nexport const s = createServer;",
  'node:fs': "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;",
  fs: "import { readFileSync } from 'fs';\nexport const f = readFileSync;",
  'node:timers': "import { setTimeout as later } from 'node:timers';\nexport const f = later;",
  'node:http': "import { request } from 'node:http';\nexport const f = request;",
  lmdb: "import { open } from 'lmdb';\nexport const f = open;",
};

// One file in every covered folder: src/core's protocol code, and src/kv's
// coordinators, quorum cores, vnode, object model (HLC, DVV, codec), scenarios,
// service, coverage queries, bucket types, admin, and the engine-independent
// parts of the storage layer (memory engine, store, keys).
const COVERED = [
  'src/core/membership/x.ts',
  'src/core/detector/x.ts',
  'src/core/ring/x.ts',
  'src/core/sim/x.ts',
  'src/core/node/x.ts',
  'src/kv/coord/x.ts',
  'src/kv/coord/quorum/x.ts',
  'src/kv/vnode/x.ts',
  'src/kv/object/hlc.ts',
  'src/kv/object/x.ts',
  'src/kv/scenarios/x.ts',
  'src/kv/service.ts',
  'src/kv/service/x.ts',
  'src/kv/index/x.ts',
  'src/kv/buckets/x.ts',
  'src/kv/admin/x.ts',
  'src/kv/backend/memory.ts',
  'src/kv/backend/store.ts',
  'src/kv/x.ts',
];

// The I/O edges and code outside the protocol layers.
const NOT_COVERED = ['src/core/transport/x.ts', 'src/core/host/x.ts', 'src/kv/backend/lmdb.ts', 'src/kv/backend/lmdb-stats.ts', 'src/cli/x.ts', 'src/api/http/x.ts', 'src/node.ts'];

describe('protocol-core purity lint rule', () => {
  for (const [what, code] of Object.entries(FORBIDDEN)) {
    it(`rejects ${what} in src/core and src/kv protocol code`, async () => {
      for (const file of COVERED) {
        const errors = await errorsFor(file, code);
        assert.ok(errors.length > 0, `${what} was not reported in ${file}`);
        assert.ok(errors.every((e) => e.ruleId !== null && PURITY_RULES.has(e.ruleId)), `${what} in ${file}: other errors than purity: ${show(errors)}`);
      }
    });
  }

  it('allows them in the I/O edges (transport, host, LMDB engine) and outside src/core and src/kv', async () => {
    for (const file of NOT_COVERED) {
      for (const [what, code] of Object.entries(FORBIDDEN)) {
        const errors = await errorsFor(file, code);
        assert.deepEqual(errors, [], `${what} unexpectedly reported in ${file}: ${show(errors)}`);
      }
    }
  });

  it('accepts time, timers and randomness taken from an injected Env or function', async () => {
    const code = [
      "import type { Env } from '../env.js';",
      'export function f(env: Env, deps: { randomInt(n: number): number }): number {',
      '  env.setTimer(10, () => undefined);',
      '  return env.nowMs() + env.wallClockMs() + env.random.next() + env.random.int(4) + deps.randomInt(4);',
      '}',
      '',
    ].join('\n');
    for (const file of ['src/core/membership/x.ts', 'src/kv/coord/x.ts', 'src/kv/vnode/x.ts', 'src/kv/object/hlc.ts', 'src/kv/scenarios/x.ts']) {
      assert.deepEqual(await errorsFor(file, code), [], file);
    }
  });

  it('accepts hashing with node:crypto, formatting a given time, and awaiting promises', async () => {
    const code = [
      "import { createHash, type Hash } from 'node:crypto';",
      'export const digest = (h: Hash = createHash(\'sha1\')): Buffer => h.update(\'x\').digest();',
      'export const iso = (wallMs: number): string => new Date(wallMs).toISOString();',
      'export async function settle(): Promise<void> {',
      '  for (let i = 0; i < 2; i++) await Promise.resolve();',
      '}',
      '',
    ].join('\n');
    for (const file of ['src/core/ring/x.ts', 'src/kv/coord/x.ts', 'src/kv/vnode/x.ts', 'src/kv/object/x.ts', 'src/kv/scenarios/x.ts']) {
      assert.deepEqual(await errorsFor(file, code), [], file);
    }
  });
});
