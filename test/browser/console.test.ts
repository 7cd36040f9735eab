// The web console in headless Chromium (Debian's `chromium`, driven by
// playwright-core; never a downloaded browser) against a real 3-node
// `rondo dev` cluster: the page loads with no console or page errors and
// shows three members up; when a node is killed (SIGKILL by PID) it shows
// that node down; when a fourth node joins and the change is committed it
// shows the new member, the pending ownership changes and the transfers.
// Partitions of the killed node cannot move while it is down, so the
// pending changes stay visible however fast the other transfers run.
// Screenshots of each step go to test-artifacts/console/ (CI keeps them).
//
// Chromium is required, not optional: without it this test fails and says
// how to install it (CI's .ci/run installs it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminCall, adminCallOnClaimant } from '../../src/cli/admin.js';
import type { AdminRequest } from '../../src/core/node/admin-messages.js';
import { startDevCluster, type DevCluster } from '../helpers/dev-cluster.js';
import { freePort, REPO, startNodeProcess, stopProcess, tempDir, waitFor, waitForPing, type NodeProcess } from '../helpers/processes.js';

export const ARTIFACTS_DIR = join(REPO, 'test-artifacts', 'console');
const PRELOAD_KEYS = 3_000;
const VALUE_BYTES = 2_048;
const LOAD_CONCURRENCY = 16;
/** The page polls once a second; the detector needs a few seconds to call a killed node dead. */
const PAGE_LOAD_BOUND_MS = 15_000;
const MEMBERS_UP_BOUND_MS = 15_000;
const DOWN_BOUND_MS = 30_000;
const JOIN_BOUND_MS = 30_000;
const PENDING_BOUND_MS = 30_000;
const ADMIN_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 240_000;

function findChromium(): string {
  const fromEnv = process.env.RONDO_CHROMIUM;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) assert.fail(`RONDO_CHROMIUM=${fromEnv}: no such file; headless Chromium is required for the web console test`);
    return fromEnv;
  }
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    if (found !== '') return found;
  } catch {
    // not on PATH
  }
  assert.fail("headless Chromium is required for the web console test and was not found: install Debian's package ('apt-get install chromium'; .ci/run does it) or set RONDO_CHROMIUM to its path");
}

interface RowState {
  node: string;
  up: string;
  status: string;
}

async function memberRows(page: Page): Promise<RowState[]> {
  return page.$$eval('#members tbody tr', (rows) => rows.map((r) => ({ node: (r as HTMLElement).dataset.node ?? '', up: (r as HTMLElement).dataset.up ?? '', status: (r as HTMLElement).dataset.status ?? '' })));
}

async function put(http: string, key: string, value: string): Promise<void> {
  const response = await fetch(`http://${http}/buckets/console/keys/${key}?w=2`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: value });
  assert.ok(response.status === 204 || response.status === 200, `PUT ${key}: ${response.status}`);
  await response.arrayBuffer();
}

describe('web console in headless Chromium against a 3-node cluster', { timeout: TEST_TIMEOUT_MS }, () => {
  let cluster: DevCluster | undefined;
  let browser: Browser | undefined;
  let n4: NodeProcess | undefined;
  const n4Dir = tempDir('rondo-console-n4-');
  const problems: string[] = [];
  const shots: string[] = [];

  before(async () => {
    const executablePath = findChromium();
    rmSync(ARTIFACTS_DIR, { recursive: true, force: true }); // only this run's screenshots
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    cluster = await startDevCluster({ nodes: 3 });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 30_000 });
  });

  after(async () => {
    // Every step is bounded; whatever failed, nothing is left running.
    await browser?.close().catch(() => undefined);
    if (n4 !== undefined) await stopProcess(n4, 'SIGKILL');
    n4Dir.remove();
    await cluster?.stop();
    if (shots.length > 0) process.stdout.write(`console screenshots: ${ARTIFACTS_DIR} (${shots.join(', ')})\n`);
  });

  async function shot(page: Page, name: string, fullPage = true): Promise<void> {
    const path = join(ARTIFACTS_DIR, name);
    await page.screenshot({ path, fullPage, timeout: 15_000 });
    shots.push(name);
  }

  async function until(page: Page, what: string, boundMs: number, check: () => Promise<boolean>): Promise<void> {
    const ms = await waitFor(check, boundMs, 200);
    if (ms < 0) {
      await shot(page, `failed-${what.replace(/\W+/g, '-')}.png`).catch(() => undefined);
      assert.fail(`the console did not show ${what} within ${boundMs} ms; members: ${JSON.stringify(await memberRows(page))}\n${cluster?.logs() ?? ''}`);
    }
  }

  it('loads with no errors, shows 3 members up, a killed node down, and a join\'s pending changes and transfers', async () => {
    assert.ok(cluster !== undefined && browser !== undefined);
    const c = cluster;
    const [n1Http] = c.http as [string];
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? '?'})`));
    page.setDefaultTimeout(PAGE_LOAD_BOUND_MS);

    // 1. Three members, all up.
    const response = await page.goto(`http://${n1Http}/console`, { timeout: PAGE_LOAD_BOUND_MS, waitUntil: 'load' });
    assert.equal(response?.status(), 200);
    await until(page, 'three members up', MEMBERS_UP_BOUND_MS, async () => {
      const rows = await memberRows(page);
      return rows.length === 3 && rows.every((r) => r.up === 'true');
    });
    assert.deepEqual((await memberRows(page)).map((r) => `${r.node}:${r.status}:${r.up}`), ['n1:valid:true', 'n2:valid:true', 'n3:valid:true']);
    assert.equal(await page.locator('#ring path.partition').count(), 64, 'the ring is drawn with one arc per partition');
    // The JSON the page reads, as a tool would.
    const api = await fetch(`http://${n1Http}/console/api/overview`);
    assert.equal(api.status, 200);
    assert.equal(api.headers.get('content-type'), 'application/json');
    const overview = (await api.json()) as { node: string; ringSize: number; owners: string[]; members: { name: string; up: boolean }[]; health: { node: string; rssBytes?: number }[] };
    assert.equal(overview.node, 'n1');
    assert.equal(overview.owners.length, overview.ringSize);
    assert.deepEqual(overview.members.map((m) => `${m.name}:${m.up}`), ['n1:true', 'n2:true', 'n3:true']);
    assert.ok((overview.health.find((h) => h.node === 'n1')?.rssBytes ?? 0) > 0);
    assert.equal((await fetch(`http://${n1Http}/console/nope.js`)).status, 404);
    assert.equal(await page.locator('#health tbody tr').count(), 3);
    // /stats has no get/put counters yet on this branch, or has them: either way the chart draws without errors.
    await until(page, 'the charts drawn', 5_000, async () => ['nodata', 'data'].includes((await page.locator('#chart-latency').getAttribute('data-state')) ?? ''));
    // Some traffic, so the throughput chart (when /stats has the counters) and the later transfers have something to show.
    let next = 0;
    const value = 'v'.repeat(VALUE_BYTES);
    await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, async () => {
      while (next < PRELOAD_KEYS) await put(c.http[next % 3] ?? n1Http, `k${next++}`, value);
    }));
    await page.waitForTimeout(2_500);
    await shot(page, '1-three-members.png');

    // 2. Kill n3 by its PID: the page shows it down.
    const n3Pid = c.nodePids[2];
    assert.ok(n3Pid !== undefined);
    process.kill(n3Pid, 'SIGKILL');
    const killedAt = performance.now();
    await until(page, 'n3 down', DOWN_BOUND_MS, async () => (await memberRows(page)).some((r) => r.node === 'n3' && r.up === 'false'));
    process.stdout.write(`console showed n3 down ${Math.round(performance.now() - killedAt)} ms after SIGKILL\n`);
    assert.equal(await page.locator('#health tbody tr[data-node="n3"]').getAttribute('data-up'), 'false');
    assert.deepEqual((await memberRows(page)).filter((r) => r.node !== 'n3').map((r) => r.up), ['true', 'true']);
    await shot(page, '2-n3-down.png');

    // 3. A fourth node joins; plan and commit: the page shows it, the pending ownership changes and (while they run) transfers.
    const config = JSON.parse(readFileSync(c.configPath(1), 'utf8')) as { listen: string; clusterSecret: string; clusterName: string };
    const address = `127.0.0.1:${await freePort()}`;
    const http = `127.0.0.1:${await freePort()}`;
    n4 = startNodeProcess({ name: 'n4', address, dataDir: n4Dir.path, secret: config.clusterSecret, clusterName: config.clusterName, extraArgs: ['--http-listen', http] });
    assert.ok((await waitForPing(n4, http, JOIN_BOUND_MS)) >= 0, 'n4 did not start');
    await adminCall({ address, clusterSecret: config.clusterSecret, timeoutMs: ADMIN_TIMEOUT_MS }, { type: 'admin.join', seed: config.listen });
    await until(page, 'n4 joining', JOIN_BOUND_MS, async () => (await memberRows(page)).some((r) => r.node === 'n4'));
    const seed = { address: config.listen, clusterSecret: config.clusterSecret, timeoutMs: ADMIN_TIMEOUT_MS };
    for (const req of [{ type: 'admin.plan' }, { type: 'admin.commit' }] satisfies AdminRequest[]) await adminCallOnClaimant(seed, req);
    let sawTransferRows = false;
    await until(page, 'pending ownership changes', PENDING_BOUND_MS, async () => {
      sawTransferRows ||= Number(await page.locator('#transfers').getAttribute('data-count')) > 0;
      return Number(await page.locator('#pending-summary').getAttribute('data-count')) > 0;
    });
    assert.match((await page.locator('#pending-summary').textContent()) ?? '', /Pending ownership changes: \d+/);
    const pendingLines = await page.locator('#pending li').allTextContents();
    assert.ok(pendingLines.length > 0 && pendingLines.every((line) => /^p\d+: n\d → n\d$/.test(line)), `pending changes name old and new owner: ${JSON.stringify(pendingLines)}`);
    assert.ok(await page.locator('#ring path.partition.pending').count() > 0, 'the ring marks pending partitions');
    await shot(page, '3-join-pending.png');
    // The first screenful alone (members, ring, changes): small enough for README's docs/console.png.
    await shot(page, '3-join-pending-viewport.png', false);
    // Transfers from n1 and n2 run (n3's wait for it): watch for a row for a few seconds, and record what was seen.
    await waitFor(async () => (sawTransferRows ||= Number(await page.locator('#transfers').getAttribute('data-count')) > 0), 10_000, 100);
    process.stdout.write(`console showed active transfer rows: ${sawTransferRows}\n`);
    // Those from n1 and n2 end; the page follows (not asserted: how long they take is handoff's business, not the console's).
    const settledMs = await waitFor(async () => Number(await page.locator('#transfers').getAttribute('data-count')) === 0, 20_000, 200);
    process.stdout.write(`console showed no active transfers ${settledMs >= 0 ? `after ${Math.round(settledMs)} ms more` : 'for 20 s: some still running'}\n`);
    await shot(page, '4-after-transfers.png');
    assert.ok((await memberRows(page)).some((r) => r.node === 'n4' && r.up === 'true'));

    assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
  });

  it('draws the throughput and latency charts from /stats counters (synthetic /stats, same page code)', async () => {
    assert.ok(cluster !== undefined && browser !== undefined);
    const [n1Http] = cluster.http as [string];
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageProblems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') pageProblems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => pageProblems.push(`page error: ${err.message}`));
    page.setDefaultTimeout(PAGE_LOAD_BOUND_MS);
    // The Riak-named fields the page reads; counters grow by a varying amount per poll.
    let polls = 0;
    await page.route('**/stats', async (route) => {
      polls++;
      const body = { nodename: 'n1', node_gets_total: polls * 120 + (polls % 3) * 40, node_puts_total: polls * 60, node_get_fsm_time_95: 900 + (polls % 4) * 150, node_put_fsm_time_95: 2_100 + (polls % 5) * 200 };
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    });
    await page.goto(`http://${n1Http}/console`, { timeout: PAGE_LOAD_BOUND_MS, waitUntil: 'load' });
    await until(page, 'both charts with data', 15_000, async () => {
      const states = await Promise.all(['#chart-throughput', '#chart-latency'].map((sel) => page.locator(sel).getAttribute('data-state')));
      return polls >= 4 && states.every((s) => s === 'data');
    });
    assert.equal(await page.locator('#chart-throughput path.line').count(), 2, 'a get and a put line');
    assert.equal(await page.locator('#chart-latency path.line').count(), 2);
    await page.locator('#charts-section').screenshot({ path: join(ARTIFACTS_DIR, '5-charts-synthetic-stats.png'), timeout: 15_000 });
    shots.push('5-charts-synthetic-stats.png');
    await page.close();
    assert.deepEqual(pageProblems, []);
  });
});
