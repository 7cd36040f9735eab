// Workloads: the standard files load, flags override the file, and every bad
// input is refused with a message naming the field.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../../src/core/errors.js';
import { DEFAULT_WORKLOAD, STANDARD_WORKLOADS_DIR, loadWorkload, mixTable, parseMix, resolveWorkload, validateWorkload } from '../../../src/bench/workload.js';

const valid = (): Record<string, unknown> => ({ ...DEFAULT_WORKLOAD, mix: { ...DEFAULT_WORKLOAD.mix } });

describe('bench workloads', () => {
  it('every standard workload loads, by name and by path', () => {
    const files = readdirSync(STANDARD_WORKLOADS_DIR).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 6, `only ${files.join(', ')}`);
    for (const file of files) {
      const spec = loadWorkload(file.replace(/\.json$/, ''));
      assert.equal(spec.name, file.replace(/\.json$/, ''));
      assert.deepEqual(loadWorkload(`${STANDARD_WORKLOADS_DIR}${file}`), spec);
    }
  });

  it('the standard workloads say what the benchmark plan says', () => {
    const w50 = loadWorkload('w50');
    assert.deepEqual(w50, { name: 'w50', keys: 10_000, keyGen: 'uniform', valueBytes: 1024, mix: { get: 50, put: 50 }, concurrency: 32, durationSec: 20, warmupSec: 10, preload: true });
    assert.deepEqual(loadWorkload('w95').mix, { get: 95, put: 5 });
    assert.equal(loadWorkload('w50-1m').keys, 1_000_000);
    assert.equal(loadWorkload('w95-1m').keys, 1_000_000);
    for (const name of ['quick-w50', 'quick-w95']) {
      const quick = loadWorkload(name);
      assert.equal(quick.durationSec, 5);
      assert.equal(quick.warmupSec, 5);
      assert.equal(quick.keys, 10_000);
    }
  });

  it('flags override the file; --count replaces the file\'s duration', () => {
    const spec = resolveWorkload({ workload: 'w95', count: '300', concurrency: '4', keyGen: 'pareto', mix: 'get=1,put=3', preload: false });
    assert.equal(spec.name, 'w95');
    assert.equal(spec.count, 300);
    assert.equal(spec.durationSec, undefined);
    assert.equal(spec.concurrency, 4);
    assert.equal(spec.keyGen, 'pareto');
    assert.deepEqual(spec.mix, { get: 1, put: 3 });
    assert.equal(spec.preload, false);
    assert.equal(spec.keys, 10_000, 'untouched fields come from the file');
    const timed = resolveWorkload({ count: '5', duration: undefined });
    assert.equal(timed.count, 5);
    assert.equal(resolveWorkload({}).durationSec, DEFAULT_WORKLOAD.durationSec);
  });

  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['unknown keyGen', { keyGen: 'zipf' }, /keyGen.*zipf/],
    ['mix with an unknown op', { mix: { get: 1, delete: 1 } }, /mix.*delete/],
    ['all-zero mix', { mix: { get: 0, put: 0 } }, /mix.*zero/],
    ['negative weight', { mix: { get: -1, put: 1 } }, /mix.*get/],
    ['both durationSec and count', { count: 10 }, /durationSec\/count.*both/],
    ['neither durationSec nor count', { durationSec: undefined }, /durationSec\/count/],
    ['zero keys', { keys: 0 }, /keys/],
    ['fractional keys', { keys: 1.5 }, /keys.*integer/],
    ['negative valueBytes', { valueBytes: -1 }, /valueBytes/],
    ['zero concurrency', { concurrency: 0 }, /concurrency/],
    ['concurrency over 10,000', { concurrency: 10_001 }, /concurrency.*10000/],
    ['zero duration', { durationSec: 0 }, /durationSec.*positive/],
    ['negative warm-up', { warmupSec: -1 }, /warmupSec/],
    ['preload not a boolean', { preload: 'yes' }, /preload/],
    ['a misspelt field', { concurency: 3 }, /concurency.*unknown field/],
    ['a string for a number', { keys: '100' }, /keys/],
  ];
  for (const [what, change, message] of refusals) {
    it(`refuses ${what}`, () => {
      const raw = { ...valid(), ...change };
      assert.throws(() => validateWorkload(raw), (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message));
    });
  }

  it('refuses bad flags and files, naming them', () => {
    assert.throws(() => resolveWorkload({ keyGen: 'zipf' }), /keyGen.*zipf/);
    assert.throws(() => resolveWorkload({ keys: 'many' }), /--keys.*many/);
    assert.throws(() => resolveWorkload({ count: '10', duration: '5' }), /both/);
    assert.throws(() => resolveWorkload({ workload: 'no-such-workload' }), /no-such-workload.*no such file/);
    assert.throws(() => parseMix('get50'), /mix.*get50/);
    assert.throws(() => parseMix('get=x'), /mix.*get/);
  });

  it('the mix table picks ops by cumulative weight, skipping zero weights', () => {
    assert.deepEqual(mixTable({ get: 95, put: 5 }), { ops: ['get', 'put'], cumulative: [95, 100], total: 100 });
    assert.deepEqual(mixTable({ get: 0, put: 2 }), { ops: ['put'], cumulative: [2], total: 2 });
  });
});

describe('bench driver registry', () => {
  it('knows http and pb, and names them when asked for another', async () => {
    const { driverFactory, driverFactories } = await import('../../../src/bench/drivers/index.js');
    assert.ok(driverFactories.http && driverFactories.pb);
    assert.equal(driverFactory('http'), driverFactories.http);
    assert.throws(() => driverFactory('carrier-pigeon'), (err: unknown) => err instanceof InvalidArgumentError && /carrier-pigeon.*known: http, pb/.test(err.message));
    assert.throws(() => driverFactory('toString'), /unknown driver/);
    assert.throws(() => driverFactories.http!({ targets: ['no-port'], bucket: 'b', timeoutMs: 1000, params: {} }), /no-port.*host:port/);
    assert.throws(() => driverFactories.pb!({ targets: [], bucket: 'b', timeoutMs: 1000, params: {} }), /no targets/);
  });
});
