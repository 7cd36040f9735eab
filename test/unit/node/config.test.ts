// Node configuration: defaults < file < environment < flags, and clear
// errors for bad values.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configFromEnv, parseDeleteMode, readConfigFile, resolveConfig } from '../../../src/cli/config.js';
import { FRAME_BYTES_MAX } from '../../../src/core/constants.js';
import { OBJECT_BYTES_MAX_CEILING } from '../../../src/kv/constants.js';
import { tempDir } from '../../helpers/processes.js';

const BASE = { name: 'n1', listen: '127.0.0.1:7000', dataDir: '/tmp/x', clusterSecret: 'long enough secret' };

describe('node configuration', () => {
  it('fills Riak-like defaults', () => {
    const c = resolveConfig(BASE);
    assert.equal(c.clusterName, 'rondo');
    assert.equal(c.ringSize, 64);
    assert.equal(c.targetNVal, 4);
    assert.equal(c.deleteMode, '3s');
    assert.equal(c.httpListen, undefined);
  });

  it('later sources win: file < environment < flags', () => {
    const dir = tempDir('rondo-config-');
    try {
      const path = join(dir.path, 'rondo.json');
      writeFileSync(path, JSON.stringify({ ...BASE, ringSize: 128, clusterName: 'from-file', logLevel: 'debug' }));
      const env = configFromEnv({ RONDO_CLUSTER_NAME: 'from-env', RONDO_RING_SIZE: '256' });
      const c = resolveConfig(readConfigFile(path), env, { ringSize: '512', logLevel: undefined });
      assert.equal(c.clusterName, 'from-env');
      assert.equal(c.ringSize, 512);
      assert.equal(c.logLevel, 'debug');
    } finally {
      dir.remove();
    }
  });

  it('refuses an objectBytesMax that cannot fit one internal frame with its message, and accepts the largest that can', () => {
    assert.throws(() => resolveConfig({ ...BASE, objectBytesMax: FRAME_BYTES_MAX }), new RegExp(`objectBytesMax must be 1\\.\\.${OBJECT_BYTES_MAX_CEILING} bytes: an object travels between nodes in one frame of at most ${FRAME_BYTES_MAX} bytes`));
    assert.throws(() => resolveConfig({ ...BASE, objectBytesMax: OBJECT_BYTES_MAX_CEILING + 1 }), /objectBytesMax must be/);
    assert.throws(() => resolveConfig({ ...BASE, objectBytesMax: 0, objectBytesWarn: 0 }), /objectBytesMax must be/);
    assert.equal(resolveConfig({ ...BASE, objectBytesMax: OBJECT_BYTES_MAX_CEILING }).objectBytesMax, OBJECT_BYTES_MAX_CEILING);
    assert.equal(resolveConfig(BASE, configFromEnv({ RONDO_OBJECT_BYTES_MAX: '262144', RONDO_OBJECT_BYTES_WARN: '131072' })).objectBytesMax, 262_144);
    assert.ok(OBJECT_BYTES_MAX_CEILING < FRAME_BYTES_MAX);
  });

  it('refuses bad values, naming what is wrong', () => {
    assert.throws(() => resolveConfig({ ...BASE, name: undefined }), /missing configuration: name \(--name or RONDO_NAME\)/);
    assert.throws(() => resolveConfig({ ...BASE, ringSize: 100 }), /ring/i);
    assert.throws(() => resolveConfig({ ...BASE, listen: 'nowhere' }), /host:port/);
    assert.throws(() => resolveConfig({ ...BASE, httpListen: 'x:99999' }), /host:port/);
    assert.throws(() => resolveConfig({ ...BASE, clusterSecret: 'short' }), /at least 8/);
    assert.throws(() => resolveConfig({ ...BASE, name: 'bad name!' }), /bad node name/);
    assert.throws(() => resolveConfig({ ...BASE, deleteMode: 'soon' }), /deleteMode/);
    const dir = tempDir('rondo-config-');
    try {
      writeFileSync(join(dir.path, 'bad.json'), '{not json');
      assert.throws(() => readConfigFile(join(dir.path, 'bad.json')), /not valid JSON/);
      assert.throws(() => readConfigFile(join(dir.path, 'absent.json')), /cannot read config file/);
    } finally {
      dir.remove();
    }
  });

  it("parses delete_mode as Riak spells it", () => {
    assert.deepEqual(parseDeleteMode('3s'), { delayMs: 3000 });
    assert.deepEqual(parseDeleteMode('250ms'), { delayMs: 250 });
    assert.deepEqual(parseDeleteMode('1000'), { delayMs: 1000 });
    assert.equal(parseDeleteMode('keep'), 'keep');
    assert.equal(parseDeleteMode('immediate'), 'immediate');
  });
});
