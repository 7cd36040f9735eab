// The last resort: a parent that dies of an exception or of a SIGINT it does
// not handle still takes its peers (and their temp folders) with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { requireBinary } from '../../../bench/peers/peer.js';
import { assertProcessGone, dataRoot, freePort } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'start-redis-then.ts');

async function runFixture(ending: 'throw' | 'sigint'): Promise<void> {
  const root = dataRoot();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root.path, String(await freePort()), ending], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /pid (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', () => reject(new Error(`fixture exited before printing the Redis PID: ${out}`)));
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    if (ending === 'sigint') child.kill('SIGINT');
    const exit = await exited;
    if (ending === 'throw') assert.equal(exit.code, 1);
    else assert.equal(exit.signal, 'SIGINT', 'the parent still dies of the signal');
    await assertProcessGone(pid);
    root.assertEmpty();
  } finally {
    root.remove();
  }
}

test('cleanup: an uncaught exception in the parent kills Redis and removes its folder', () => runFixture('throw'));

test('cleanup: a SIGINT the parent does not handle kills Redis and removes its folder', () => runFixture('sigint'));

test('a missing binary is an error naming the installer, not a skip', () => {
  assert.throws(() => requireBinary('rondo-no-such-binary'), /rondo-no-such-binary is not installed .*bench\/peers\/install\.sh/);
});
