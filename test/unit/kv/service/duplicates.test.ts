// Found by the KV simulation scenario (seeds 1 and 2 of `npm run sim --
// --scenario kv`): a network that duplicates a put-coordinate request made the
// coordinating vnode apply the write twice, under two dots, so one write
// became a sibling of itself. The service now drops a request it already ran.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WireMessage } from '../../../../src/core/env.js';
import { valuesWithDots } from '../../../../src/kv/object/index.js';
import { decode, formKvCluster, REF, text } from './harness.js';

describe('KvService: duplicated requests', () => {
  it('a put-coordinate delivered twice issues one dot (no sibling of a write with itself)', async () => {
    const c = await formKvCluster(3, { seed: 41 });
    const target = c.kv('n1').preflist(REF).find((t) => t.node !== 'n1');
    assert.ok(target, 'a replica on another node');
    const request = {
      type: 'kv.vnode-request', reqId: 2 ** 40 + 1, partition: target.partition,
      command: { kind: 'put-coordinate', ...REF, props: { allowMult: true, lastWriteWins: false }, context: [], content: text('once') },
    } as unknown as WireMessage;
    const env = c.envs.get('n1')!;
    env.net.send(target.node, request);
    env.net.send(target.node, request);
    await c.advance(500);
    const stored = await c.stored(target.node, target.partition, REF);
    assert.ok(stored, 'the write landed');
    const live = valuesWithDots(stored.clock);
    assert.deepEqual(live.map(([, content]) => decode(content.value)), ['once'], `one sibling, got dots ${JSON.stringify(live.map(([dot]) => dot))}`);
  });
});
