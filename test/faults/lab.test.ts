// The fault lab's own faults must really happen, or the fault suite would pass
// without testing anything: a partition must stop TCP between namespaces (and
// healing must restore it), a skewed clock must move Date.now() of a process
// (and follow a change while it runs),
// and destroying the lab must leave no namespace or link behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findLibfaketime, skewedClockEnv, writeClockOffset } from './cluster.js';
import { Lab, labUnavailableReason, type LabHost } from './lab.js';

const unavailable = labUnavailableReason();
if (unavailable !== undefined) {
  process.stderr.write(`\n!!! FAULT LAB TESTS SKIPPED: ${unavailable} !!!\n\n`);
  if (process.env.RONDO_FAULTS_REQUIRED === '1') throw new Error(`RONDO_FAULTS_REQUIRED=1 but the lab cannot run: ${unavailable}`);
}

if (process.env.RONDO_FAULTS_REQUIRED === '1' && findLibfaketime() === undefined) throw new Error('RONDO_FAULTS_REQUIRED=1 but libfaketime is not installed (apt-get install faketime)');

const SERVER_PORT = 9555;

/** Whether a TCP connection from `from` to `to`:SERVER_PORT completes within `timeoutMs`. */
function connects(from: LabHost, to: LabHost, timeoutMs: number): boolean {
  const script = `const s=require('net').connect(${SERVER_PORT},'${to.ip}');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),${timeoutMs});`;
  return spawnSync('ip', ['netns', 'exec', from.ns, process.execPath, '-e', script], { timeout: timeoutMs + 5_000 }).status === 0;
}

describe('fault lab', { skip: unavailable }, () => {
  let lab: Lab;
  const servers: ReturnType<typeof spawn>[] = [];

  before(async () => {
    lab = Lab.create(3);
    for (const host of lab.hosts) {
      const server = spawn('ip', ['netns', 'exec', host.ns, process.execPath, '-e', `require('net').createServer((c)=>c.end()).listen(${SERVER_PORT},'${host.ip}',()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.stdout?.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`server in ${host.name} exited ${code}`)));
      });
    }
  });

  after(() => {
    for (const server of servers) server.kill('SIGKILL');
    lab?.destroy();
  });

  it('hosts reach each other and the driver reaches them', () => {
    const [a, b, c] = lab.hosts as [LabHost, LabHost, LabHost];
    assert.ok(connects(a, b, 2_000));
    assert.ok(connects(c, a, 2_000));
  });

  it('a partition stops TCP across it, not within it, and healing restores it', () => {
    const [a, b, c] = lab.hosts as [LabHost, LabHost, LabHost];
    lab.partitionGroups([[a], [b, c]]);
    assert.equal(connects(a, b, 1_500), false, 'a reached b across the partition');
    assert.equal(connects(c, a, 1_500), false, 'c reached a across the partition');
    assert.ok(connects(b, c, 2_000), 'b and c are on the same side');
    lab.healPartition();
    assert.ok(connects(a, b, 2_000), 'healed');
  });

  it('a majorities ring is symmetric: each host hears exactly its neighbours', () => {
    const [a, b, c] = lab.hosts as [LabHost, LabHost, LabHost];
    lab.partition((h) => (h === a ? [a, b] : h === b ? [a, b] : [c]));
    assert.ok(connects(a, b, 2_000));
    assert.equal(connects(b, c, 1_500), false);
    assert.equal(connects(c, a, 1_500), false);
    lab.healPartition();
  });

  it('a slow link drops packets but keeps partition rules apart', () => {
    const [a, b] = lab.hosts as [LabHost, LabHost];
    lab.partitionGroups([[a], [b, lab.hosts[2] as LabHost]]);
    lab.slow(b, { delayMs: 50, loss: 0.2, reorder: 0.1, rateKbit: 512 });
    lab.healSlow(b);
    assert.equal(connects(a, b, 1_500), false, 'healing the slow link must not heal the partition');
    lab.healAll();
    assert.ok(connects(a, b, 2_000));
  });

  it('destroy removes every namespace and link it made', () => {
    const names = lab.hosts.map((h) => h.ns);
    lab.destroy();
    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const ns of names) assert.ok(!netns.includes(ns), `${ns} left behind`);
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    assert.ok(!links.includes(lab.bridge), 'bridge left behind');
    for (const host of lab.hosts) assert.ok(!links.includes(host.hostLink), `${host.hostLink} left behind`);
  });
});

describe('skewed clocks', { skip: findLibfaketime() === undefined ? 'libfaketime is not installed (apt-get install faketime)' : false }, () => {
  it('a process under skewedClockEnv sees Date.now() moved by the offset, and follows a change of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rondo-clock-'));
    const clockFile = join(dir, 'clock');
    const env = { ...process.env, ...skewedClockEnv(findLibfaketime() as string, clockFile) };
    // The child prints its wall clock every 100 ms; this process (not under
    // libfaketime) compares each reading with its own clock. libfaketime
    // re-reads the file at most once a second, on whole-second boundaries, so
    // a change may take up to about 2 s to show, more on a loaded machine:
    // wait for it with a deadline instead of sampling once at a fixed time.
    writeClockOffset(clockFile, -5_000);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => console.log(Date.now()), 100)'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const offsets: number[] = [];
    let waiter: (() => void) | undefined;
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') offsets.push(Number(line) - Date.now());
      waiter?.();
    });
    const waitForOffset = async (expectedMs: number, deadlineMs: number): Promise<number[]> => {
      const from = offsets.length;
      const until = Date.now() + deadlineMs;
      while (Date.now() < until) {
        if (offsets.slice(from).some((o) => Math.abs(o - expectedMs) < 1_000)) return offsets.slice(from);
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 200);
        });
      }
      return offsets.slice(from);
    };
    try {
      const before = await waitForOffset(-5_000, 15_000);
      assert.ok(before.some((o) => Math.abs(o + 5_000) < 1_000), `readings ${before.slice(0, 5).join(', ')} ms off, expected about -5000`);
      writeClockOffset(clockFile, 7_000);
      const after = await waitForOffset(7_000, 6_000);
      assert.ok(after.some((o) => Math.abs(o - 7_000) < 1_000), `within 6 s of the change, readings were ${after.slice(-5).join(', ')} ms off, expected about +7000`);
      // Once followed, the new offset holds: no reading goes back to the old one.
      const settled = await waitForOffset(Number.NaN, 500);
      assert.ok(settled.every((o) => Math.abs(o - 7_000) < 1_000), `after the change, readings ${settled.join(', ')} ms off`);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
