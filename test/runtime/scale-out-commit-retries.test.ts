// Regression: with runtime.scale_out a pipeline commits through its PartitionOwnership, which
// retried a conflicting commit without counting it, so streamberg_commit_retries_total stayed 0
// however often several processes' commits collided (the figure the multi-process test reports).

import { afterEach, beforeEach, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/types.js';
import type { Catalog, LoadedTable } from '../../src/iceberg/catalog.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { PartitionOwnership } from '../../src/iceberg/partition-claims.js';
import { GroupAssignment } from '../../src/runtime/group-assignment.js';
import { metricValue, recordingLogger, testMetrics, warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';

let w: Warehouse;
let rival: Catalog;
let table: LoadedTable;

beforeEach(async () => {
  w = await warehouse();
  rival = await createCatalog(w.config);
  table = await w.open('events');
});

afterEach(async () => {
  await rival.close();
  await w.close();
});

it('counts a conflict retried by a scale-out commit in streamberg_commit_retries_total', async () => {
  const metrics = testMetrics();
  // Only the fields the assignment reads; it never joins a group here (no broker).
  const pipeline = { topic: 'bids', groupId: 'g' } as PipelineConfig;
  const assignment = new GroupAssignment({
    kafka: undefined as never,
    catalog: w.catalog,
    pipeline,
    scaleOut: { protocol: 'consumer', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, member: 'proc-a' },
    metrics,
    log: recordingLogger(),
    changed: async () => {},
    failed: () => {},
  });
  const mine = assignment.forRunner().ownership(table.ident);
  await mine.claim(new Map([[0, 0n]]));
  const other = new PartitionOwnership(rival, table.ident, { groupId: 'g', topic: 'bids', owner: 'proc-b' });
  await other.claim(new Map([[1, 0n]]));

  // The other process's commit lands between this one's load of the table and its swap.
  const theirs = await w.dataFile(table, [1_000_000]);
  w.catalog.beforeNext = { table: 'events', run: async () => void (await other.commit([{ file: theirs, partitions: [1] }], new Map([[1, 1n]]))) };
  await mine.commit([{ file: await w.dataFile(table, [0]), partitions: [0] }], new Map([[0, 1n]]));

  // Both landed, the other's first: this commit met the conflict and was applied again.
  expect(w.catalog.beforeNext).toBeUndefined();
  const heads = (await w.catalog.loadTable(table.ident)).metadata.snapshots.map((s) => s.summary['streamberg.owner']);
  expect(heads.slice(-2)).toEqual(['proc-b', 'proc-a']);
  expect(await metricValue(metrics, 'streamberg_commit_retries_total', { pipeline: 'bids', table: 'events' })).toBe(1);
});
