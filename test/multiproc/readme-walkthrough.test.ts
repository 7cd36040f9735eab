// README's HTTP walkthrough, run exactly as printed: `rondo dev` (what `npm
// start` runs, on its default ports) in a scratch folder, then every command
// of the walkthrough block in one bash session. Each `# → text` line after a
// command says what that command's output must contain.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, tempDir, waitFor } from '../helpers/processes.js';

interface Step {
  command: string;
  expect: string[];
}

function walkthrough(): Step[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme)?.[1];
  assert.ok(block, 'README has no walkthrough block');
  const steps: Step[] = [];
  for (const line of block.split('\n')) {
    if (line.trim() === '') continue;
    const expectation = /^# → (.*)$/.exec(line);
    if (expectation) steps[steps.length - 1]?.expect.push(expectation[1] as string);
    else steps.push({ command: line, expect: [] });
  }
  return steps;
}

describe('README walkthrough', { timeout: 180_000 }, () => {
  const dir = tempDir('rondo-readme-');
  after(() => dir.remove());

  it('works exactly as printed against npm start', async (t) => {
    if (spawnSync('curl', ['--version']).status !== 0) assert.fail('curl is not installed (.ci/run installs it)');
    const steps = walkthrough();
    assert.ok(steps.length >= 10, 'the walkthrough lost its steps');
    symlinkSync(join(REPO, 'bin'), join(dir.path, 'bin'));
    const dev = spawn(process.execPath, [join(REPO, 'bin', 'rondo.mjs'), 'dev'], { cwd: dir.path, stdio: ['ignore', 'pipe', 'pipe'] });
    let devOutput = '';
    dev.stdout.on('data', (c: Buffer) => (devOutput += c.toString()));
    dev.stderr.on('data', (c: Buffer) => (devOutput += c.toString()));
    t.after(async () => {
      if (dev.exitCode === null) {
        const exited = new Promise((r) => dev.once('exit', r));
        dev.kill('SIGINT');
        await exited;
      }
    });
    assert.ok((await waitFor(async () => devOutput.includes('Press Ctrl-C'), 60_000, 100)) >= 0, `npm start did not come up (ports 7101-7103 and 8098-8100 must be free):\n${devOutput}`);

    const script = ['set -e', ...steps.map((s, i) => `printf '\\n@@@step ${i}\\n'\n${s.command}`), "printf '\\n@@@end\\n'"].join('\n');
    const run = spawnSync('bash', ['-c', script], { cwd: dir.path, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, `the walkthrough failed:\n${run.stdout}\n${run.stderr}`);
    // curl -i output may not end in a newline: every marker starts on a line of its own.
    const outputs = run.stdout.split(/\n@@@step \d+\n/).slice(1);
    assert.equal(outputs.length, steps.length);
    for (const [i, step] of steps.entries()) {
      for (const expected of step.expect) {
        assert.ok(outputs[i]?.includes(expected), `step ${i}: ${step.command}\nexpected to print "${expected}", printed:\n${outputs[i]}`);
      }
    }
  });
});
