// Shared by the real-process tests of the benchmark peers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canListen } from '../../helpers/processes.js';

export { freePort } from '../../helpers/processes.js';

/** A base port with base+0..2 (etcd clients) and base+10..12 (Raft) free, below the ephemeral range. */
export async function freeEtcdBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 11_000);
    const ports = [0, 1, 2, 10, 11, 12].map((offset) => base + offset);
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
  throw new Error('no free etcd base port');
}

/** A folder for a peer's dataRoot: after stop() it must be empty again. */
export function dataRoot(): { path: string; assertEmpty: () => void; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'rondo-peers-test-'));
  return {
    path,
    assertEmpty: () => assert.deepEqual(readdirSync(path), [], 'the peer removed its temp folder'),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** True once `pid` has exited: no such process, or a zombie left for init to reap. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Waits (briefly: a SIGKILL is delivered and reaped asynchronously) for `pid` to be gone. */
export async function assertProcessGone(pid: number, deadlineMs = 3_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!processGone(pid)) {
    if (Date.now() > deadline) assert.fail(`process ${pid} still running ${deadlineMs} ms later`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
