import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bar, eta, humanBytes, percent, rate, renderRow, renderTransfers, thousands } from '../../../../src/core/handoff/render.js';
import type { TransfersReport } from '../../../../src/core/handoff/admin.js';
import type { TransferRow } from '../../../../src/core/handoff/types.js';

function row(partial: Partial<TransferRow> & Pick<TransferRow, 'node' | 'direction' | 'kind' | 'partition' | 'peer' | 'phase'>): TransferRow {
  return { id: `${partial.node}-${partial.partition}-${partial.direction}`, targetPartition: partial.partition, items: 0, bytes: 0, attempt: 1, elapsedMs: 0, ...partial };
}

describe('renderTransfers', () => {
  it('renders an idle cluster', () => {
    const report: TransfersReport = { via: 'n1', concurrency: 2, nodes: [{ node: 'n1', rows: [] }], pending: [] };
    assert.deepEqual(renderTransfers(report), ['n1: no active transfers', '', 'No pending ownership changes.', '', 'handoff_concurrency: 2 per direction (on n1)']);
  });

  it('renders active transfers, a silent node and pending changes, sorted', () => {
    const report: TransfersReport = {
      via: 'n2',
      concurrency: 2,
      // Deliberately out of order: nodes, directions and partitions get sorted.
      nodes: [
        {
          node: 'n2',
          rows: [
            row({ node: 'n2', direction: 'inbound', kind: 'ownership', partition: 12, peer: 'n1', phase: 'receiving', items: 1250, bytes: 1_600_000, elapsedMs: 3000 }),
            row({ node: 'n2', direction: 'outbound', kind: 'repair', partition: 7, targetPartition: 8, peer: 'n1', phase: 'draining', items: 25_000, itemsTotal: 20_000, bytes: 3 * 1024 ** 3, elapsedMs: 60_000, attempt: 2 }),
          ],
        },
        { node: 'n3', rows: [], error: 'timeout after 5000 ms' },
        {
          node: 'n1',
          rows: [
            row({ node: 'n1', direction: 'inbound', kind: 'repair', partition: 7, targetPartition: 8, peer: 'n2', phase: 'receiving', items: 25_000, bytes: 10_000_000, elapsedMs: 10_000 }),
            row({ node: 'n1', direction: 'outbound', kind: 'ownership', partition: 12, peer: 'n2', phase: 'folding', items: 1200, itemsTotal: 3000, bytes: 1_572_864, elapsedMs: 3000 }),
            row({ node: 'n1', direction: 'outbound', kind: 'hinted', partition: 3, peer: 'n3', phase: 'starting', attempt: 3 }),
          ],
        },
      ],
      pending: [
        { partition: 12, from: 'n1', to: 'n2', epoch: 7 },
        { partition: 3, from: 'n1', to: 'n3', epoch: 7 },
      ],
    };
    assert.deepEqual(renderTransfers(report), [
      'n1: 2 outbound, 1 inbound',
      '  → hinted p3 to n3  starting  0 items  0 B  -  ETA -  attempt 3',
      '  → ownership p12 to n2  folding  ████████░░░░░░░░░░░░  40%  1,200/3,000 items  1.5 MiB  0.5 MB/s, 400 items/s  ETA 5s',
      '  ← repair p7 → p8 from n2  receiving  25,000 items  9.5 MiB  1.0 MB/s, 2,500 items/s  ETA -',
      'n2: 1 outbound, 1 inbound',
      '  → repair p7 → p8 to n1  draining  ████████████████████  100%  25,000/20,000 items  3.0 GiB  53.7 MB/s, 417 items/s  ETA 0s  attempt 2',
      '  ← ownership p12 from n1  receiving  1,250 items  1.5 MiB  0.5 MB/s, 417 items/s  ETA -',
      'n3: did not answer (timeout after 5000 ms)',
      '',
      'Pending ownership changes (2):',
      '  p3: n1 → n3 (epoch 7)',
      '  p12: n1 → n2 (epoch 7)',
      '',
      'handoff_concurrency: 2 per direction (on n2)',
    ]);
  });

  it('shows no target partition when it equals the source', () => {
    const line = renderRow(row({ node: 'n1', direction: 'outbound', kind: 'ownership', partition: 5, peer: 'n2', phase: 'awaiting-switch', items: 10, itemsTotal: 10, elapsedMs: 1000 }));
    assert.equal(line, '→ ownership p5 to n2  awaiting-switch  ████████████████████  100%  10/10 items  0 B  0.0 MB/s, 10 items/s  ETA 0s');
  });
});

describe('percent and bar', () => {
  it('clamps to 0..100 and floors', () => {
    assert.equal(percent(25_000, 20_000), 100);
    assert.equal(percent(-5, 100), 0);
    assert.equal(percent(0, 0), 100);
    assert.equal(percent(999, 1000), 99);
    assert.equal(percent(1, 3), 33);
  });

  it('has a fixed width of 20 and is full only at 100%', () => {
    assert.equal(bar(0), '░'.repeat(20));
    assert.equal(bar(4), '░'.repeat(20));
    assert.equal(bar(5), '█' + '░'.repeat(19));
    assert.equal(bar(99), '█'.repeat(19) + '░');
    assert.equal(bar(100), '█'.repeat(20));
    for (const p of [0, 17, 50, 83, 100]) assert.equal([...bar(p)].length, 20);
  });
});

describe('number formatting', () => {
  it('groups thousands independent of the locale', () => {
    assert.equal(thousands(0), '0');
    assert.equal(thousands(999), '999');
    assert.equal(thousands(1000), '1,000');
    assert.equal(thousands(1_234_567), '1,234,567');
    assert.equal(thousands(416.67), '417');
  });

  it('uses binary units with one decimal', () => {
    assert.equal(humanBytes(0), '0 B');
    assert.equal(humanBytes(1023), '1023 B');
    assert.equal(humanBytes(1024), '1.0 KiB');
    assert.equal(humanBytes(1536), '1.5 KiB');
    assert.equal(humanBytes(5 * 1024 ** 2), '5.0 MiB');
    assert.equal(humanBytes(5 * 1024 ** 4), '5120.0 GiB');
  });
});

describe('rate and ETA', () => {
  it('has no rate before any time has passed', () => {
    assert.equal(rate({ bytes: 100, items: 1, elapsedMs: 0 }), '-');
    assert.equal(rate({ bytes: 2_500_000, items: 5000, elapsedMs: 2000 }), '1.3 MB/s, 2,500 items/s');
  });

  it('estimates from the average item rate', () => {
    assert.equal(eta({ items: 10, itemsTotal: 200, elapsedMs: 10_000 }), '3m10s');
    assert.equal(eta({ items: 60, itemsTotal: 3720, elapsedMs: 60_000 }), '1h01m');
    assert.equal(eta({ items: 100, itemsTotal: 1_000_000, elapsedMs: 10_000 }), '27h46m');
    assert.equal(eta({ items: 3, itemsTotal: 10, elapsedMs: 1000 }), '3s');
  });

  it('is unknown without an estimate, elapsed time or progress, and 0s once past the estimate', () => {
    assert.equal(eta({ items: 10, elapsedMs: 1000 }), '-');
    assert.equal(eta({ items: 10, itemsTotal: 100, elapsedMs: 0 }), '-');
    assert.equal(eta({ items: 0, itemsTotal: 100, elapsedMs: 5000 }), '-');
    assert.equal(eta({ items: 150, itemsTotal: 100, elapsedMs: 5000 }), '0s');
  });
});
