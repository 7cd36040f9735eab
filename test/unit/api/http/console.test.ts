// The web console's server side without a node: the overview builder (pure:
// ring + detector view + transfer report + process health → JSON), the
// /console routes, the assets it serves, and the rule that the page's script
// puts server strings into the DOM only as text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HttpError, parseRoute } from '../../../../src/api/http/codec/index.js';
import { CONSOLE_ASSETS_DIR, loadConsoleAssets, renderAsset } from '../../../../src/api/http/console/assets.js';
import { buildOverview, overviewProvider, type ConsoleSource, type OverviewInput } from '../../../../src/api/http/console/overview.js';
import type { TransfersReport } from '../../../../src/core/handoff/admin.js';
import type { MemberEntry, RingState } from '../../../../src/core/membership/index.js';

function member(name: string, status: MemberEntry['status'], staged: MemberEntry['staged'] = null): MemberEntry {
  return { name, address: `127.0.0.1:${9000 + Number(name.slice(1))}`, status, staged, version: 1, writer: 'n1' };
}

function ring(): RingState {
  const owners = ['n1', 'n2', 'n3', 'n1', 'n2', 'n3', 'n1', 'n2'];
  return {
    clusterName: 'c1',
    ringSize: 8,
    targetNVal: 4,
    members: { n2: member('n2', 'valid'), n1: member('n1', 'valid'), n3: member('n3', 'leaving', { kind: 'leave' }), n4: member('n4', 'joining'), n0: member('n0', 'removed') },
    ownership: { epoch: 7, claimant: 'n2', owners, pending: [{ partition: 5, from: 'n3', to: 'n4', epoch: 7 }, { partition: 2, from: 'n3', to: 'n4', epoch: 7 }] },
    transfersDone: {},
  };
}

const report: TransfersReport = {
  via: 'n1',
  concurrency: 2,
  nodes: [
    { node: 'n3', rows: [], error: 'down' },
    { node: 'n1', rows: [] },
    {
      node: 'n2',
      rows: [
        { id: 'b', node: 'n2', direction: 'inbound', kind: 'hinted', partition: 1, targetPartition: 1, peer: 'n4', phase: 'receiving', items: 5, bytes: 500, attempt: 1, elapsedMs: 0 },
        { id: 'a', node: 'n2', direction: 'outbound', kind: 'ownership', partition: 4, targetPartition: 4, peer: 'n4', phase: 'folding', items: 250, itemsTotal: 1000, bytes: 2_000_000, attempt: 2, elapsedMs: 2000 },
      ],
    },
  ],
  pending: [],
};

function input(overrides: Partial<OverviewInput> = {}): OverviewInput {
  return {
    self: 'n1',
    ring: ring(),
    liveness: [{ node: 'n2', liveness: 'alive' }, { node: 'n3', liveness: 'dead' }, { node: 'n4', liveness: 'suspect' }],
    transfers: report,
    health: { uptimeMs: 61_500, rssBytes: 100 << 20, heapUsedBytes: 20 << 20, cpuPercent: 12.345 },
    ...overrides,
  };
}

test('overview: members sorted, removed ones left out, reachability from the detector, claimant and partition counts', () => {
  const o = buildOverview(input());
  assert.equal(o.node, 'n1');
  assert.equal(o.clusterName, 'c1');
  assert.equal(o.claimant, 'n2');
  assert.equal(o.epoch, 7);
  assert.equal(o.ringSize, 8);
  assert.deepEqual(o.owners, ['n1', 'n2', 'n3', 'n1', 'n2', 'n3', 'n1', 'n2']);
  assert.deepEqual(
    o.members.map((m) => [m.name, m.status, m.up, m.liveness, m.self, m.claimant, m.partitions, m.partitionsAfter, m.staged]),
    [
      ['n1', 'valid', true, 'self', true, false, 3, 3, null],
      ['n2', 'valid', true, 'alive', false, true, 3, 3, null],
      ['n3', 'leaving', false, 'dead', false, false, 2, 0, 'leave'],
      ['n4', 'joining', true, 'suspect', false, false, 0, 2, null],
    ],
  );
});

test('overview: a member the detector does not know is neither up nor down', () => {
  const o = buildOverview(input({ liveness: [] }));
  assert.deepEqual(o.members.map((m) => m.up), [true, null, null, null]);
  assert.deepEqual(o.health.map((h) => h.up), [true, null, null, null]);
});

test('overview: pending changes sorted by partition; transfers flattened, sorted, with percent and rates; unanswered nodes listed', () => {
  const o = buildOverview(input());
  assert.deepEqual(o.pending, [{ partition: 2, from: 'n3', to: 'n4', epoch: 7 }, { partition: 5, from: 'n3', to: 'n4', epoch: 7 }]);
  assert.deepEqual(o.transfers.map((t) => [t.node, t.direction, t.partition, t.percent, t.itemsTotal, t.bytesPerSecond, t.itemsPerSecond, t.attempt]), [
    ['n2', 'outbound', 4, 25, 1000, 1_000_000, 125, 2],
    ['n2', 'inbound', 1, null, null, 0, 0, 1],
  ]);
  assert.deepEqual(o.transferErrors, [{ node: 'n3', error: 'down' }]);
  assert.equal(o.handoffConcurrency, 2);
});

test('overview: process health only for this node, CPU rounded, unknown CPU is null', () => {
  const o = buildOverview(input());
  assert.deepEqual(o.health[0], { node: 'n1', up: true, self: true, uptimeSeconds: 61, rssBytes: 100 << 20, heapUsedBytes: 20 << 20, cpuPercent: 12.3 });
  assert.deepEqual(o.health[2], { node: 'n3', up: false, self: false });
  const first = buildOverview(input({ health: { uptimeMs: 10, rssBytes: 1, heapUsedBytes: 1, cpuPercent: undefined } }));
  assert.equal(first.health[0]?.cpuPercent, null);
});

test('overview: pure and JSON-safe (same input, same output; the input is not changed)', () => {
  const given = input();
  const before = JSON.stringify(given);
  const a = buildOverview(given);
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  assert.deepEqual(buildOverview(input()), a);
  assert.equal(JSON.stringify(given), before);
});

test('overview: a ring whose owners do not match its size is a programmer error', () => {
  const broken = ring();
  broken.ownership.owners.pop();
  assert.throws(() => buildOverview(input({ ring: broken })), /one owner per partition/);
});

test('routes: /console, its assets and its API; writes are 405; other paths 404', () => {
  assert.deepEqual({ ...parseRoute('GET', '/console'), query: undefined }, { kind: 'console-asset', method: 'GET', asset: 'index.html', query: undefined });
  assert.deepEqual({ ...parseRoute('GET', '/console/'), query: undefined }, { kind: 'console-asset', method: 'GET', asset: 'index.html', query: undefined });
  assert.deepEqual({ ...parseRoute('HEAD', '/console/console.js'), query: undefined }, { kind: 'console-asset', method: 'HEAD', asset: 'console.js', query: undefined });
  assert.deepEqual({ ...parseRoute('GET', '/console/api/overview?x=1'), query: undefined }, { kind: 'console-overview', method: 'GET', query: undefined });
  for (const [method, url, status] of [
    ['PUT', '/console', 405],
    ['POST', '/console/api/overview', 405],
    ['GET', '/console/api', 404],
    ['GET', '/console/../package.json', 404],
    ['GET', '/console/%2e%2e%2fpackage.json', 404],
    ['GET', '/console/a/b/c', 404],
  ] as const) {
    const r = parseRoute(method, url);
    assert.ok(r instanceof HttpError, `${method} ${url}`);
    assert.equal(r.status, status, `${method} ${url}`);
  }
});

test('assets: the page, script and stylesheet load from the package, with their types and a strict CSP; unknown names are absent', () => {
  const assets = loadConsoleAssets();
  const page = renderAsset(assets, 'index.html');
  assert.equal(page?.status, 200);
  assert.equal(page?.headers['Content-Type'], 'text/html; charset=utf-8');
  assert.match(page?.headers['Content-Security-Policy'] ?? '', /script-src 'self'/);
  assert.match(Buffer.from(page?.body as Uint8Array).toString(), /<script src="\/console\/console\.js"/);
  assert.equal(renderAsset(assets, 'console.js')?.headers['Content-Type'], 'text/javascript; charset=utf-8');
  assert.equal(renderAsset(assets, 'console.css')?.headers['Content-Type'], 'text/css; charset=utf-8');
  assert.equal(renderAsset(assets, 'package.json'), undefined);
});

test('the page loads nothing from elsewhere, and its script never writes markup (text only)', () => {
  const html = readFileSync(join(CONSOLE_ASSETS_DIR, 'index.html'), 'utf8');
  const script = readFileSync(join(CONSOLE_ASSETS_DIR, 'console.js'), 'utf8');
  const css = readFileSync(join(CONSOLE_ASSETS_DIR, 'console.css'), 'utf8');
  for (const text of [html, script, css]) assert.doesNotMatch(text, /(src|href)=["']?(https?:)?\/\/|@import|url\(\s*["']?https?:/i);
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  for (const field of ['node_gets_total', 'node_puts_total', 'node_get_fsm_time_95', 'node_put_fsm_time_95']) assert.ok(script.includes(field), `the charts read ${field}`);
});

test('overview provider: concurrent callers share one round of transfer status requests; the next call asks again', async () => {
  let asked = 0;
  let release: () => void = () => undefined;
  const source: ConsoleSource = {
    nodeName: 'n1',
    ring,
    liveness: () => input().liveness,
    transfers: () => {
      asked++;
      return new Promise((resolve) => (release = () => resolve(report)));
    },
    health: () => input().health,
  };
  const overview = overviewProvider(source);
  const a = overview();
  const b = overview();
  assert.equal(asked, 1);
  release();
  const [first, second] = await Promise.all([a, b]);
  assert.equal(first, second);
  assert.deepEqual(first, buildOverview(input()));
  const c = overview();
  assert.equal(asked, 2);
  release();
  await c;
});

test('overview provider: a failed round fails its callers and does not stick', async () => {
  let fail = true;
  const source: ConsoleSource = { nodeName: 'n1', ring, liveness: () => [], transfers: async () => (fail ? Promise.reject(new Error('boom')) : report), health: () => input().health };
  const overview = overviewProvider(source);
  await assert.rejects(overview(), /boom/);
  fail = false;
  assert.equal((await overview()).node, 'n1');
});
