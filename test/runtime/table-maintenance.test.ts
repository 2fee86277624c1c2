// The runtime's maintenance scheduler on a real SQL catalog: when it runs, what it counts, that a
// failure is logged and counted instead of thrown, and the catalog-aware defaults.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MaintenanceConfig } from '../../src/config/types.js';
import type { TableIdentifier } from '../../src/iceberg/catalog.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { TableMaintenance, maintenanceEnabled } from '../../src/runtime/table-maintenance.js';
import type { RewritePort } from '../../src/runtime/threads/rewrite-port.js';
import { ThreadedRewriter } from '../../src/runtime/threads/rewrite-thread.js';
import { NAMESPACE, metricValue, recordingLogger, testMetrics, warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';

const CONFIG: MaintenanceConfig = { enabled: undefined, expireIntervalMs: 60_000, compactIntervalMs: 3_600_000, compactMinFiles: 5, orphanIntervalMs: 86_400_000, orphanMinAgeMs: 3 * 86_400_000 };

describe('maintenanceEnabled', () => {
  it('is on for sql and rest catalogs, off on S3 Tables unless configured, and says why', () => {
    expect(maintenanceEnabled(CONFIG, 'sql').enabled).toBe(true);
    expect(maintenanceEnabled(CONFIG, 'rest').enabled).toBe(true);
    const s3 = maintenanceEnabled(CONFIG, 's3tables');
    expect(s3.enabled).toBe(false);
    expect(s3.reason).toMatch(/S3 Tables maintains its tables itself.*runtime\.maintenance\.enabled: true/);
    expect(maintenanceEnabled({ ...CONFIG, enabled: true }, 's3tables').enabled).toBe(true);
    expect(maintenanceEnabled({ ...CONFIG, enabled: false }, 'sql').enabled).toBe(false);
  });
});

describe('TableMaintenance', () => {
  let w: Warehouse;
  let ident: TableIdentifier;
  beforeEach(async () => {
    w = await warehouse();
    const table = await w.open('events');
    ident = table.ident;
    // Every snapshot but the head may go at once.
    await w.catalog.commit(table, { ...table.metadata, properties: { ...table.metadata.properties, 'history.expire.max-snapshot-age-ms': '0' } });
    for (const ids of [[1], [2], [3]]) {
      const t = await w.catalog.loadTable(ident);
      await commitAppend(w.catalog, ident, [await w.dataFile(t, ids)], { 'kafka.offsets.g': `{"t":{"0":${ids[0]}}}` });
    }
  });
  afterEach(async () => {
    await w.close();
  });

  it('expires after a commit, counts what it did, and waits its interval before the next run', async () => {
    let now = 1_000_000;
    const metrics = testMetrics();
    const m = new TableMaintenance({ pipelineId: 'p', catalog: w.catalog, config: CONFIG, managedCatalog: false, metrics, log: recordingLogger(), now: () => now });
    const table = `${NAMESPACE}.events`;

    m.afterCommit(ident);
    await m.pending;
    expect(await metricValue(metrics, 'streamberg_maintenance_snapshots_expired_total', { table })).toBe(2);
    expect(await metricValue(metrics, 'streamberg_maintenance_files_deleted_total', { table, kind: 'manifest_list' })).toBe(2);
    expect(await metricValue(metrics, 'streamberg_maintenance_snapshots_retained', { table })).toBe(1);
    expect((await w.catalog.loadTable(ident)).metadata.snapshots).toHaveLength(1);

    const t = await w.catalog.loadTable(ident);
    await commitAppend(w.catalog, ident, [await w.dataFile(t, [4])], { 'kafka.offsets.g': '{"t":{"0":4}}' });
    now += CONFIG.expireIntervalMs - 1;
    m.afterCommit(ident);
    expect(m.pending).toBeUndefined();
    now += 1;
    m.afterCommit(ident);
    await m.pending;
    expect(await metricValue(metrics, 'streamberg_maintenance_snapshots_expired_total', { table })).toBe(3);
    await m.close();
  });

  it('compacts a partition once it holds compact_min_files small files, then expires, and counts both', async () => {
    const metrics = testMetrics();
    const m = new TableMaintenance({ pipelineId: 'p', catalog: w.catalog, config: { ...CONFIG, compactMinFiles: 3 }, managedCatalog: false, metrics, log: recordingLogger() });
    const table = `${NAMESPACE}.events`;
    m.afterCommit(ident);
    await m.pending;
    expect(await metricValue(metrics, 'streamberg_maintenance_files_compacted_total', { table })).toBe(3);
    const head = (await w.catalog.loadTable(ident)).metadata;
    expect(head.snapshots.at(-1)!.summary).toMatchObject({ operation: 'replace', 'deleted-data-files': '3', 'added-data-files': '1' });
    // The replace has no offsets key: expiry keeps the chain down to the pipeline's last snapshot.
    expect(await metricValue(metrics, 'streamberg_maintenance_snapshots_expired_total', { table })).toBe(2);
    expect(head.snapshots).toHaveLength(2);
    await m.close();
  });

  it('compacts through its rewrite thread, and ends the thread when it closes', async () => {
    const metrics = testMetrics();
    const thread = new ThreadedRewriter(w.config);
    const calls: number[] = [];
    let closed = false;
    const rewriter: RewritePort = {
      rewrite: (table, group, onProgress) => {
        calls.push(group.length);
        return thread.rewrite(table, group, onProgress);
      },
      close: async () => {
        closed = true;
        await thread.close();
      },
    };
    const m = new TableMaintenance({ pipelineId: 'p', catalog: w.catalog, config: { ...CONFIG, compactMinFiles: 3 }, managedCatalog: false, metrics, log: recordingLogger(), rewriter });
    m.afterCommit(ident);
    await m.pending;
    expect(calls).toEqual([3]);
    expect(await metricValue(metrics, 'streamberg_maintenance_files_compacted_total', { table: `${NAMESPACE}.events` })).toBe(3);
    expect((await w.catalog.loadTable(ident)).metadata.snapshots.at(-1)!.summary).toMatchObject({ operation: 'replace', 'added-records': '3' });
    await m.close();
    expect(closed).toBe(true);
  });

  it('logs and counts a failed run, and never throws into the pipeline', async () => {
    const metrics = testMetrics();
    const log = recordingLogger();
    const m = new TableMaintenance({ pipelineId: 'p', catalog: w.catalog, config: CONFIG, managedCatalog: false, metrics, log });
    m.afterCommit({ namespace: NAMESPACE, name: 'no_such_table' });
    await expect(m.pending).resolves.toBeUndefined();
    for (const task of ['compact', 'expire']) {
      expect(await metricValue(metrics, 'streamberg_maintenance_failures_total', { table: `${NAMESPACE}.no_such_table`, task })).toBe(1);
    }
    expect(log.lines.find((l) => l.level === 'warn')?.msg).toMatch(/table maintenance failed; tried again at the next interval/);
    await m.close();
  });
});
