// Server CPU from /proc: the stat line's utime and stime, and this process's own figures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processCpuSec, statTicks } from '../../../src/bench/process-cpu.js';

test('statTicks reads utime + stime, whatever the command name holds', () => {
  const line = '4242 (node (weird) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 11 0 12345 999 10 18446744073709551615';
  assert.equal(statTicks(line), 325);
  assert.throws(() => statTicks('1 (x) S'), /unexpected/);
});

test('processCpuSec of this process grows with work and agrees with process.cpuUsage', () => {
  const before = processCpuSec([process.pid]);
  const own = process.cpuUsage();
  const end = Date.now() + 60;
  while (Date.now() < end) Math.sqrt(Math.random());
  const spent = processCpuSec([process.pid]) - before;
  const ownSpent = (process.cpuUsage(own).user + process.cpuUsage(own).system) / 1e6;
  assert.ok(spent > 0, 'it grew');
  assert.ok(Math.abs(spent - ownSpent) < 0.05, `/proc ${spent} s vs cpuUsage ${ownSpent} s (10 ms ticks)`);
  assert.throws(() => processCpuSec([2 ** 22 + 12345]), /ENOENT/);
});
