// The simulator's command line: a campaign runs only the scenarios asked for
// (its --scenario once went to the parent command and every scenario ran).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('sim:campaign --scenario runs that scenario only, and reports the runs', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/sim.ts', 'campaign', '--scenario', 'detector', '--seeds', '2', '--first-seed', '3'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /campaign: 2 runs in [\d.]+ s \([\d.]+ runs\/s\), 0 failed/);
});
