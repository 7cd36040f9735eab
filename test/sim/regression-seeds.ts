// Every seed that ever made a scenario fail is kept here and replayed in
// `npm test`, so a fixed bug stays fixed. Format: scenario, seed, what it found.
import type { ScenarioName } from '../../src/core/scenarios/scenarios.js';

export const REGRESSION_SEEDS: readonly { scenario: ScenarioName; seed: number; found: string }[] = [];

/** The KV scenario's (src/kv/scenarios), replayed by test/sim/kv.test.ts with the safety phase given. */
export const KV_REGRESSION_SEEDS: readonly { seed: number; durationMs: number; found: string }[] = [
  {
    seed: 1,
    durationMs: 20_000,
    found: 'a duplicated put-coordinate message was applied twice by the vnode: one write under two dots, a sibling of itself. Fixed: KvService drops a vnode request (sender, reqId) it already ran.',
  },
  { seed: 2, durationMs: 20_000, found: 'same bug as seed 1 (duplicate put-coordinate, value seen under two dots)' },
];

/** The handoff scenario's, replayed by test/sim/handoff.test.ts with the phase length given. */
export const HANDOFF_REGRESSION_SEEDS: readonly { seed: number; phaseMs: number; found: string }[] = [
  {
    seed: 35,
    phaseMs: 6_000,
    found: 'a node that had left kept data of a partition forever: once removed, its failure detector saw no peer up, and handoff waited for the owner to be up. Fixed: a node that has left tries the owners regardless.',
  },
  {
    seed: 36,
    phaseMs: 6_000,
    found: 'an acknowledged write was lost: a vnode that dropped its data after a handoff later coordinated a write on the same key with its old actor id, restarting the counter, so the new owner took the new write for an old one. Fixed: a vnode takes a new actor id each time it drops its data.',
  },
  {
    seed: 60,
    phaseMs: 6_000,
    found: 'one client\'s sequential PR=2/PW=2 writes became siblings: writes landing on the old owner after the transfer finished reached the new owner only later, so right after the ring switched a PR=2 read missed one. Fixed: the old owner forwards commands to the new owner from before finish until it drops its copy.',
  },
  {
    seed: 45,
    phaseMs: 4_000,
    found: 'a transfer whose receiver restarted was cancelled while it waited for acknowledgements, and the wait never looked at the cancellation: the partition stayed on the leaver forever. Fixed: every wait of a transfer checks for cancellation, and the timer wakes it.',
  },
  { seed: 32, phaseMs: 4_000, found: 'same bug as seed 45: a pending ownership transfer never completed' },
  {
    seed: 80,
    phaseMs: 4_000,
    found: 'one client\'s sequential PR=2/PW=2 writes became siblings: a coordinator with a stale ring replicated to the old owner of a partition after that owner had handed it off and dropped its copy; the old owner stored the write and it counted as a primary\'s, so PW=2 held while only one current owner had it, and a PR=2 read by the new ring missed it (found when replication stopped waiting for the local fsync). Fixed: a request says the ownership epoch by which the sender counts the receiver as the owner, and a receiver whose newer ring names another owner passes the command on to it.',
  },
];
