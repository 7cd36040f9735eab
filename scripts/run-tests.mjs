// Runs every *.test.ts under the given folders (default: test/) with Node's
// test runner and tsx. Node 20's runner does not glob .ts files itself.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test'];
const files = roots.flatMap((root) => (statSync(root).isDirectory() ? collect(root, []) : [root]));
if (files.length === 0) {
  console.error('run-tests: no test files found under', roots.join(', '));
  process.exit(1);
}
// Simulation tests (test/sim) run on simulated time only: sharing the cores
// changes how long they take, never what they check. They are CPU-bound and
// the longest files, so they run two at a time, after the other tests, which
// run one at a time (timing-sensitive multi-process tests stay alone).
const isSimulation = (path) => path.split(/[\\/]/).slice(0, 2).join('/') === 'test/sim';
const phases = [
  { files: files.filter((f) => !isSimulation(f)), concurrency: 1 },
  { files: files.filter(isSimulation), concurrency: 2 },
].filter((phase) => phase.files.length > 0);
let failed = false;
for (const phase of phases) {
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${phase.concurrency}`, '--test-reporter=spec', ...phase.files];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
