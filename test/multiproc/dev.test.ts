// `npm start` runs `rondo dev`: three real node processes, joined and
// committed. This checks it forms the cluster, that the admin command README
// prints works, and that Ctrl-C stops every node it started.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, freePort, runCli, tempDir, waitFor } from '../helpers/processes.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('rondo dev (npm start)', { timeout: 120_000 }, () => {
  const dir = tempDir('rondo-dev-');
  after(() => dir.remove());

  it('forms a 3-node cluster, answers admin commands, and stops all nodes on SIGINT', async () => {
    // Three consecutive free ports: probe a few random bases.
    let basePort = 0;
    for (let attempt = 0; attempt < 20 && basePort === 0; attempt++) {
      const candidate = await freePort();
      if (candidate > 65_000) continue;
      basePort = candidate;
    }
    const dev = spawn(process.execPath, [BIN, 'dev', '--nodes', '3', '--base-port', String(basePort), '--data', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    dev.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const readyMs = await waitFor(async () => output.includes('Press Ctrl-C'), 60_000, 100);
      assert.ok(readyMs >= 0, `dev cluster did not come up:\n${output}`);
      assert.match(output, /Valid:3 \/ Leaving:0 \/ Exiting:0 \/ Joining:0 \/ Down:0/);

      const status = runCli(['admin', '--config', join(dir.path, 'n1', 'rondo.json'), '--json', 'member-status']);
      assert.equal(status.code, 0, status.stderr);
      const rows = (JSON.parse(status.stdout) as { members: { name: string; status: string }[] }).members;
      assert.deepEqual(rows.map((r) => `${r.name}:${r.status}`), ['n1:valid', 'n2:valid', 'n3:valid']);

      const pids = [1, 2, 3].map((i) => {
        const info = runCli(['admin', '--config', join(dir.path, `n${i}`, 'rondo.json'), '--json', 'node-info']);
        assert.equal(info.code, 0, info.stderr);
        return (JSON.parse(info.stdout) as { pid: number }).pid;
      });
      for (const pid of pids) assert.ok(Number.isInteger(pid) && pidAlive(pid));

      const exited = new Promise<number | null>((r) => dev.once('exit', (code) => r(code)));
      dev.kill('SIGINT');
      assert.equal(await exited, 0);
      const goneMs = await waitFor(async () => pids.every((pid) => !pidAlive(pid)), 10_000);
      assert.ok(goneMs >= 0, 'some node processes outlived rondo dev');
    } finally {
      if (dev.exitCode === null) dev.kill('SIGKILL');
    }
  });
});
