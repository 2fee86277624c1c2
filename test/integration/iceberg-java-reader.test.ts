// The strictest reader: Apache Iceberg's Java library (1.10, JdbcCatalog over our SQLite catalog)
// and pyiceberg read a partitioned table before and after a full round of maintenance — compaction,
// a manifest rewrite, more appends, snapshot expiry and orphan removal — and get the same rows,
// from fewer files and manifests.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePartitionField } from '../../src/config/partition-spec.js';
import type { PartitionFieldConfig } from '../../src/config/types.js';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import type { TableIdentifier } from '../../src/iceberg/catalog.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { maintainTable } from '../../src/iceberg/maintenance.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { readWithJava } from '../helpers/iceberg-java.js';
import { scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', region: 'STRING', name: 'STRING', amount: 'DECIMAL(10, 2)', ts: 'TIMESTAMP(3)' });
const REGIONS = ['eu', 'us', 'ap'];
const sorted = (rows: Array<Array<string | null>>): Array<Array<string | null>> => [...rows].sort((a, b) => Number(a[0]) - Number(b[0]));

describe('Java and pyiceberg read a table after compaction, manifest rewrite and expiry', { timeout: 600_000 }, () => {
  const { config, dir } = sqlCatalogConfig('java_reader');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function append(ident: TableIdentifier, ids: number[]): Promise<void> {
    const table = await catalog.loadTable(ident);
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
    const rows = ids.map((id) => ({ id: BigInt(id), region: REGIONS[id % 3], name: id % 4 === 0 ? null : `n${id}`, amount: BigInt(id) * 101n, ts: BigInt(id) * 1_000_000n }));
    await writer.write(batchOf(schema, rows));
    await commitAppend(catalog, ident, await writer.close(), { 'kafka.offsets.g1': `{"t":{"0":${ids.at(-1)! + 1}}}` });
  }

  it('gets the same rows from fewer files and manifests', async () => {
    const partitionBy = [parsePartitionField('region') as PartitionFieldConfig];
    // Merging on commit off: one manifest per commit, for the rewrite to gather.
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('maintained', schema, partitionBy, { 'commit.manifest-merge.enabled': 'false' }));
    const table = `${config.namespace}.maintained`;
    for (let i = 0; i < 8; i++) await append(ident, [3 * i, 3 * i + 1, 3 * i + 2]);
    const javaBefore = await readWithJava(config, table);
    const pyBefore = await scanSql(config, table, { orderBy: 'id' });
    expect(javaBefore.rows).toHaveLength(24);
    expect(javaBefore.files).toBe(24);
    expect(javaBefore.manifests).toBe(8);
    expect(sorted(javaBefore.rows)[5]).toEqual(['5', 'ap', 'n5', '5.05', '1970-01-01T00:00:05']);

    const round = await maintainTable(catalog, ident, { dryRun: false, compactMinFiles: 5, rewriteManifests: true, expire: false, orphanMinAgeMs: undefined });
    expect(round.compact?.replacedFiles).toHaveLength(24);
    expect(round.manifests?.created).toBeGreaterThan(0);
    await append(ident, [24, 25]);
    // Everything but what `main` and recovery need expires; the replaced files and manifests go.
    const expired = await maintainTable(catalog, ident, { dryRun: false, expire: true, orphanMinAgeMs: 0, now: Date.now() + 6 * 86_400_000 });
    expect(expired.expire!.files.dataFiles).toHaveLength(24);

    const javaAfter = await readWithJava(config, table);
    const pyAfter = await scanSql(config, table, { orderBy: 'id' });
    expect(sorted(javaAfter.rows)).toEqual(sorted([...javaBefore.rows, ['24', 'eu', null, '24.24', '1970-01-01T00:00:24'], ['25', 'us', 'n25', '25.25', '1970-01-01T00:00:25']]));
    expect(javaAfter.snapshot).toBe(String(mainSnapshot((await catalog.loadTable(ident)).metadata)!['snapshot-id']));
    // Three compacted files (one per region) and the two appended.
    expect(javaAfter.files).toBe(5);
    expect(javaAfter.manifests).toBe(2);
    expect(pyAfter.rows.slice(0, 24)).toEqual(pyBefore.rows);
    expect(pyAfter.rows).toHaveLength(26);
    expect(pyAfter.files).toBe(5);
  });
});
