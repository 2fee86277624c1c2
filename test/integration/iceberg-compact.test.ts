// Compaction on a real SQLite-catalog table, read back by pyiceberg: the same rows in fewer
// files, a rival append during the rewrite kept (the replace is rebuilt on the new head), a rival
// delete of a file being rewritten makes the compaction give up, and expiry afterwards removes
// the replaced files.

import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import type { TableIdentifier } from '../../src/iceberg/catalog.js';
import { commitAppend, latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { compactTable } from '../../src/iceberg/compact.js';
import { expireSnapshots } from '../../src/iceberg/expire.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import { parsePartitionField } from '../../src/config/partition-spec.js';
import type { PartitionFieldConfig } from '../../src/config/types.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG, scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', name: 'STRING', ts: 'TIMESTAMP(3)', amount: 'DECIMAL(10, 2)' });
const KEY = 'kafka.offsets.g1';

describe('compaction on a SQLite-catalog table', { timeout: 180_000 }, () => {
  const { config, dir } = sqlCatalogConfig('compact');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function append(ident: TableIdentifier, ids: number[]): Promise<string> {
    const table = await catalog.loadTable(ident);
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
    const rows = ids.map((id) => ({ id: BigInt(id), name: id % 3 === 0 ? null : `n${id}`, ts: BigInt(id) * 1_000_000n, amount: BigInt(id) * 101n }));
    await writer.write(batchOf(schema, rows));
    const files = await writer.close();
    await commitAppend(catalog, ident, files, { [KEY]: `{"t":{"0":${ids.at(-1)! + 1}}}` });
    return files[0]!.filePath;
  }
  const scan = async (name: string) => scanSql(config, `${config.namespace}.${name}`, { orderBy: 'id' });
  const pyAppend = (table: string, ids: number[]): Promise<unknown> =>
    runPython(
      PY_SQL_CATALOG +
        'import pyarrow as pa\nt = catalog.load_table(ARGS["table"])\nt.append(pa.Table.from_pylist([{"id": i} for i in ARGS["ids"]], schema=t.schema().as_arrow()))\nprint(json.dumps({}))',
      { catalog: config, table, ids },
    );
  const pyDelete = (table: string, filter: string): Promise<unknown> =>
    runPython(PY_SQL_CATALOG + 't = catalog.load_table(ARGS["table"])\nt.delete(delete_filter=ARGS["filter"])\nprint(json.dumps({}))', { catalog: config, table, filter });

  it('rewrites small files into one replace snapshot with the same rows; expiry later deletes the old files', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('small_files', schema));
    const old: string[] = [];
    for (let i = 0; i < 6; i++) old.push(await append(ident, [2 * i + 1, 2 * i + 2]));
    const before = await scan('small_files');
    expect(before.files).toBe(6);

    const r = await compactTable(catalog, ident, { minInputFiles: 5 });

    expect(r.replacedFiles.sort()).toEqual([...old].sort());
    expect(r.addedFiles).toHaveLength(1);
    const after = await scan('small_files');
    expect(after.rows).toEqual(before.rows);
    expect(after.files).toBe(1);
    const head = mainSnapshot(r.table.metadata)!;
    expect(head.summary).toMatchObject({ operation: 'replace', 'added-data-files': '1', 'deleted-data-files': '6', 'total-records': '12', 'total-data-files': '1' });
    // Recovery walks past the replace to the pipeline's own snapshot.
    expect(latestSnapshotWithSummaryKey(r.table.metadata, KEY)?.summary[KEY]).toBe('{"t":{"0":13}}');

    // The pipeline commits again; then everything older can expire, and the replaced files go.
    await append(ident, [13]);
    const e = await expireSnapshots(catalog, ident, { now: Date.now() + 6 * 86_400_000 });
    expect(e.files.dataFiles.sort()).toEqual([...old].sort());
    for (const f of old) expect(existsSync(localPath(f))).toBe(false);
    expect((await scan('small_files')).rows.map((x) => Number(x['id']))).toEqual([...Array(13).keys()].map((i) => i + 1));
  });

  it('compacts per partition: a partition with enough small files is rewritten, one with too few is left alone', async () => {
    const byDay = [parsePartitionField('day(ts)') as PartitionFieldConfig];
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('by_day', schema, byDay));
    const day = 86_400_000_000n;
    // ids 1..5 on day 0 (five files), ids 6..7 on day 1 (two files).
    for (const id of [1, 2, 3, 4, 5, 6, 7]) {
      const table = await catalog.loadTable(ident);
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
      await writer.write(batchOf(schema, [{ id: BigInt(id), name: `n${id}`, ts: (id <= 5 ? 0n : day) + BigInt(id), amount: 1n }]));
      await commitAppend(catalog, ident, await writer.close(), { [KEY]: `{"t":{"0":${id}}}` });
    }
    const before = await scan('by_day');

    const r = await compactTable(catalog, ident, { minInputFiles: 3 });

    expect(r.partitions).toBe(1);
    expect(r.replacedFiles).toHaveLength(5);
    const after = await scan('by_day');
    expect(after.rows).toEqual(before.rows);
    expect(after.files).toBe(3);
    const oneDay = await scanSql(config, `${config.namespace}.by_day`, { filter: "ts < '1970-01-02T00:00:00'", orderBy: 'id' });
    expect(oneDay.rows.map((x) => Number(x['id']))).toEqual([1, 2, 3, 4, 5]);
    expect(oneDay.files).toBe(1);
  });

  it('keeps a rival append committed during the rewrite: both sets of rows, once', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('rival_append', schema));
    for (let i = 0; i < 5; i++) await append(ident, [i + 1]);
    const r = await compactTable(catalog, ident, {
      minInputFiles: 5,
      atStep: () => pyAppend(`${config.namespace}.rival_append`, [100, 101]).then(() => undefined),
    });
    expect(r.gaveUp).toBeUndefined();
    expect(r.snapshotId).toBeDefined();
    const after = await scan('rival_append');
    expect(after.rows.map((x) => Number(x['id']))).toEqual([1, 2, 3, 4, 5, 100, 101]);
    expect(after.files).toBe(2);
  });

  it('gives up when a rival deletes a file it is rewriting, and leaves no file of its own behind', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('rival_delete', schema));
    for (let i = 0; i < 5; i++) await append(ident, [i + 1]);
    const r = await compactTable(catalog, ident, { minInputFiles: 5, atStep: () => pyDelete(`${config.namespace}.rival_delete`, 'id = 3').then(() => undefined) });
    expect(r.gaveUp).toMatch(/no longer live/);
    expect(r.addedFiles).toEqual([]);
    const after = await scan('rival_delete');
    expect(after.rows.map((x) => Number(x['id']))).toEqual([1, 2, 4, 5]);
    expect(mainSnapshot((await catalog.loadTable(ident)).metadata)!.summary.operation).not.toBe('replace');
  });

  it('compacts a partition whose small files total the byte threshold though they are fewer than min-input-files', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('by_bytes', schema));
    for (let i = 0; i < 3; i++) await append(ident, [2 * i + 1, 2 * i + 2]);
    const before = await scan('by_bytes');
    const table = await catalog.loadTable(ident);
    const bytes = Number(mainSnapshot(table.metadata)!.summary['total-files-size']);

    const few = await compactTable(catalog, ident, { minInputFiles: 5, minInputBytes: bytes + 1 });
    expect(few.replacedFiles).toEqual([]);
    const enough = await compactTable(catalog, ident, { minInputFiles: 5, minInputBytes: bytes });
    expect(enough.replacedFiles).toHaveLength(3);
    const after = await scan('by_bytes');
    expect(after.rows).toEqual(before.rows);
    expect(after.files).toBe(1);
  });

  it('rewrites no more files than the round allows and leaves the rest to the next round', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('capped', schema));
    for (let i = 0; i < 6; i++) await append(ident, [2 * i + 1, 2 * i + 2]);
    const before = await scan('capped');

    const first = await compactTable(catalog, ident, { minInputFiles: 2, maxFilesPerRound: 4 });
    expect(first.replacedFiles).toHaveLength(4);
    expect((await scan('capped')).files).toBe(3);
    const table = await catalog.loadTable(ident);
    const small = Number(mainSnapshot(table.metadata)!.summary['total-files-size']);
    // A byte cap below two files' worth rewrites nothing at all.
    const none = await compactTable(catalog, ident, { minInputFiles: 2, maxBytesPerRound: Math.floor(small / 3) });
    expect(none.replacedFiles).toEqual([]);
    const second = await compactTable(catalog, ident, { minInputFiles: 2, maxFilesPerRound: 4 });
    expect(second.replacedFiles).toHaveLength(3);
    const after = await scan('capped');
    expect(after.rows).toEqual(before.rows);
    expect(after.files).toBe(1);
  });
});
