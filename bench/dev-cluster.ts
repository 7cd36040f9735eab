// A fresh 3-node `rondo dev` cluster in a scratch folder for benchmarks,
// stopped (SIGINT to the one process we started) and removed afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCluster {
  dir: string;
  stop(): Promise<void>;
}

export async function startBenchCluster(opts: { basePort: number; httpBasePort: number; pbBasePort: number; keepData?: boolean; nodeArgs?: string[] }): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'rondo-bench-'));
  const dev = spawn(process.execPath, ['bin/rondo.mjs', 'dev', '--data', dir, '--base-port', String(opts.basePort), '--http-base-port', String(opts.httpBasePort), '--pb-base-port', String(opts.pbBasePort), ...(opts.nodeArgs?.length ? ['--node-args', opts.nodeArgs.join(' ')] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (dev.exitCode === null) {
      const exited = new Promise((r) => dev.once('exit', r));
      dev.kill('SIGINT');
      await exited;
    }
    if (opts.keepData) console.log(`data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      dev.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('Press Ctrl-C')) resolve();
      });
      dev.once('exit', () => reject(new Error(`rondo dev exited:\n${out}`)));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, stop };
}
