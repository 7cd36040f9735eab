// bench/peers/install.sh: a no-op when everything is installed; without root
// and with something missing, a clear refusal (the apt-get path is CI's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const INSTALL = resolve(import.meta.dirname, '../../../bench/peers/install.sh');

test('install.sh: everything installed -> exit 0, nothing to do', () => {
  const run = spawnSync('bash', [INSTALL], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /etcd, etcdctl, redis-server and wrk are installed/);
});

test('install.sh: not root and binaries missing -> exit 1 naming the Debian packages', () => {
  const shims = mkdtempSync(join(tmpdir(), 'rondo-install-test-'));
  try {
    // A PATH holding only an `id` that says "not root": every peer binary looks missing.
    writeFileSync(join(shims, 'id'), '#!/bin/sh\necho 1000\n');
    chmodSync(join(shims, 'id'), 0o755);
    const run = spawnSync('/bin/bash', [INSTALL], { encoding: 'utf8', env: { PATH: shims } });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /missing Debian packages: etcd-server etcd-client redis-server wrk/);
    assert.match(run.stderr, /run as root/);
  } finally {
    rmSync(shims, { recursive: true, force: true });
  }
});
