// Writes typed rows through the SQLite catalog and reads them back with pyiceberg's SqlCatalog.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend, latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { findOrphanDataFiles } from '../../src/iceberg/orphans.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, days, fields, micros, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { scanSql } from '../helpers/pyiceberg.js';
import { PY_SQL_CATALOG } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({
  id: 'BIGINT NOT NULL',
  name: 'STRING',
  price: 'DOUBLE',
  amount: 'DECIMAL(10, 2)',
  active: 'BOOLEAN',
  qty: 'INT',
  day: 'DATE',
  ts: 'TIMESTAMP(3)',
  ts_ltz: 'TIMESTAMP_LTZ(3)',
  tags: 'ARRAY<STRING>',
  info: 'ROW<a INT, b STRING>',
  attrs: 'MAP<STRING, BIGINT>',
});

const rows = [
  {
    id: 1n, name: 'alpha', price: 1.5, amount: 12345n, active: true, qty: 7, day: days('2024-03-01'),
    ts: micros('2024-03-01T10:00:00.123Z'), ts_ltz: micros('2024-03-01T10:00:00.456Z'), tags: ['x', 'y'], info: { a: 1, b: 'one' }, attrs: [['k1', 1n], ['k2', null]],
  },
  {
    id: 2n, name: null, price: null, amount: -5n, active: false, qty: null, day: null,
    ts: null, ts_ltz: null, tags: null, info: null,
  },
  {
    id: 3n, name: 'ünïcødé ✓', price: -0.25, amount: null, active: null, qty: -3, day: days('1969-12-31'),
    ts: micros('1969-12-31T23:59:59.999Z'), ts_ltz: micros('2030-01-01T00:00:00Z'), tags: ['z', null], info: { a: null, b: 'three' }, attrs: [],
  },
];

describe('SQLite catalog + pyiceberg', { timeout: 120_000 }, () => {
  const { config, dir } = sqlCatalogConfig('roundtrip');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pyiceberg reads back exactly the rows written, with the right types', async () => {
    const sink = sinkConfig('typed_events', schema);
    const table = await openTable(catalog, config.namespace, sink);
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
    await writer.write(batchOf(schema, rows));
    const files = await writer.close();
    expect(files).toHaveLength(1);
    const { snapshot } = await commitAppend(catalog, table.ident, files, { 'kafka.offsets.g1': '{"t":{"0":3}}', 'flink.epoch': '1' });
    expect(snapshot.summary['added-records']).toBe('3');

    const out = await scanSql(config, `${config.namespace}.typed_events`, { orderBy: 'id' });
    expect(out.types).toEqual({
      id: 'int64',
      name: 'string',
      price: 'double',
      amount: 'decimal128(10, 2)',
      active: 'bool',
      qty: 'int32',
      day: 'date32[day]',
      ts: 'timestamp[us]',
      ts_ltz: 'timestamp[us, tz=UTC]',
      tags: 'list<element: string>',
      info: 'struct<a: int32, b: string>',
      attrs: 'map<string, int64>',
    });
    expect(out.rows).toEqual([
      {
        id: 1, name: 'alpha', price: { float: '1.5' }, amount: { decimal: '123.45' }, active: true, qty: 7, day: { date: '2024-03-01' },
        ts: { datetime: '2024-03-01T10:00:00.123000' }, ts_ltz: { datetime: '2024-03-01T10:00:00.456000+00:00' },
        tags: ['x', 'y'], info: { a: 1, b: 'one' }, attrs: [['k1', 1], ['k2', null]],
      },
      { id: 2, name: null, price: null, amount: { decimal: '-0.05' }, active: false, qty: null, day: null, ts: null, ts_ltz: null, tags: null, info: null, attrs: null },
      {
        id: 3, name: 'ünïcødé ✓', price: { float: '-0.25' }, amount: null, active: null, qty: -3, day: { date: '1969-12-31' },
        ts: { datetime: '1969-12-31T23:59:59.999000' }, ts_ltz: { datetime: '2030-01-01T00:00:00+00:00' },
        tags: ['z', null], info: { a: null, b: 'three' }, attrs: [],
      },
    ]);
    expect(out.iceberg_schema).toContain('1: id: required long');
    expect(out.iceberg_schema).toContain('timestamptz');
  });

  it('a filtered scan skips files by their bounds, and ancestry finds the newest offsets snapshot', async () => {
    const small = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });
    const sink = sinkConfig('ranges', small);
    const table = await openTable(catalog, config.namespace, sink);
    for (let epoch = 0; epoch < 3; epoch++) {
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(small));
      const batch = Array.from({ length: 100 }, (_, i) => ({ id: BigInt(epoch * 100 + i), name: `n${epoch}-${i}` }));
      await writer.write(batchOf(small, batch));
      await commitAppend(catalog, table.ident, await writer.close(), { 'app.epoch': String(epoch), ...(epoch < 2 ? { 'kafka.offsets.g': String(epoch) } : {}) });
    }
    const all = await scanSql(config, `${config.namespace}.ranges`);
    expect(all.rows).toHaveLength(300);
    expect(all.files).toBe(3);
    expect(all.snapshots).toBe(3);

    const some = await scanSql(config, `${config.namespace}.ranges`, { filter: 'id >= 150 and id < 180', orderBy: 'id' });
    expect(some.files).toBe(1);
    expect(some.rows.map((r) => r['id'])).toEqual(Array.from({ length: 30 }, (_, i) => 150 + i));

    const none = await scanSql(config, `${config.namespace}.ranges`, { filter: "name = 'zzz'" });
    expect(none.files).toBe(0);

    const loaded = await catalog.loadTable(table.ident);
    expect(latestSnapshotWithSummaryKey(loaded.metadata, 'kafka.offsets.g')?.summary['kafka.offsets.g']).toBe('1');
    expect(latestSnapshotWithSummaryKey(loaded.metadata, 'app.epoch')?.summary['app.epoch']).toBe('2');
    expect(latestSnapshotWithSummaryKey(loaded.metadata, 'absent')).toBeUndefined();
  });

  it('rolls files at write.target-file-size-bytes and compresses with the configured codec', async () => {
    const cols = fields({ id: 'BIGINT NOT NULL', payload: 'STRING' });
    const sink = sinkConfig('rolled', cols, [], { 'write.target-file-size-bytes': String(64 * 1024), 'write.parquet.compression-codec': 'zstd' });
    const table = await openTable(catalog, config.namespace, sink);
    expect(table.metadata.properties['write.format.default']).toBe('parquet');
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    for (let b = 0; b < 20; b++) {
      await writer.write(batchOf(cols, Array.from({ length: 1000 }, (_, i) => ({ id: BigInt(b * 1000 + i), payload: `p-${(b * 7919 + i * 104729) % 1000003}-${'x'.repeat(i % 50)}` }))));
    }
    const files = await writer.close();
    expect(files.length).toBeGreaterThan(2);
    expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(20_000);
    await commitAppend(catalog, table.ident, files, {});
    const out = await runPython<{ rows: number; distinct: number; codecs: string[]; files: number; field_ids: number[] }>(
      PY_SQL_CATALOG +
        `
import pyarrow.parquet as pq
t = catalog.load_table(ARGS["table"])
tasks = list(t.scan().plan_files())
codecs = set()
field_ids = set()
for task in tasks:
    md = pq.ParquetFile(task.file.file_path.replace("file://", "")).metadata
    for rg in range(md.num_row_groups):
        for c in range(md.num_columns):
            codecs.add(md.row_group(rg).column(c).compression)
    for f in pq.ParquetFile(task.file.file_path.replace("file://", "")).schema_arrow:
        field_ids.add(int(f.metadata[b"PARQUET:field_id"]))
tbl = t.scan().to_arrow()
print(json.dumps({"rows": tbl.num_rows, "distinct": len(set(tbl.column("id").to_pylist())), "codecs": sorted(codecs), "files": len(tasks), "field_ids": sorted(field_ids)}))
`,
      { catalog: config, table: `${config.namespace}.rolled` },
    );
    expect(out).toEqual({ rows: 20_000, distinct: 20_000, codecs: ['ZSTD'], files: files.length, field_ids: [1, 2] });
  });

  it('lists the data files of an epoch that never committed as orphans, once they are old enough', async () => {
    const cols = fields({ id: 'BIGINT NOT NULL', day: 'DATE' });
    const sink = sinkConfig('orphaned', cols, [{ source: 'day', transform: { kind: 'identity' }, text: 'day' }]);
    const table = await openTable(catalog, config.namespace, sink);
    const lost = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    await lost.write(batchOf(cols, [{ id: 1n, day: days('2024-01-01') }, { id: 2n, day: days('2024-01-02') }]));
    const lostFiles = await lost.close();
    const kept = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    await kept.write(batchOf(cols, [{ id: 3n, day: days('2024-01-01') }]));
    await commitAppend(catalog, table.ident, await kept.close(), {});

    const orphans = await findOrphanDataFiles(catalog, table.ident, { olderThanMs: 0, now: Date.now() + 1000 });
    expect(orphans.map((o) => o.uri).sort()).toEqual(lostFiles.map((f) => f.filePath).sort());
    expect(await findOrphanDataFiles(catalog, table.ident)).toEqual([]);
    const out = await scanSql(config, `${config.namespace}.orphaned`);
    expect(out.rows.map((r) => r['id'])).toEqual([3]);
  });

  it('a warehouse path with spaces is written where pyiceberg looks for it', async () => {
    const spaced = mkdtempSync(join(tmpdir(), 'ice space '));
    const cfg = { ...config, name: 'spaced', sqlitePath: join(spaced, 'c.db'), uri: `sqlite:///${join(spaced, 'c.db')}`, warehouse: pathToFileURL(join(spaced, 'w h')).href };
    const other = new SqlCatalog(cfg);
    try {
      const cols = fields({ id: 'BIGINT' });
      const table = await openTable(other, cfg.namespace, sinkConfig('spaced', cols));
      expect(table.metadata.location).toBe(`file://${join(spaced, 'w h')}/${cfg.namespace}.db/spaced`);
      const writer = newDataFileWriter(table, other.io, arrowSchemaOf(cols));
      await writer.write(batchOf(cols, [{ id: 1n }, { id: 2n }]));
      await commitAppend(other, table.ident, await writer.close(), {});
      const out = await scanSql(cfg, `${cfg.namespace}.spaced`, { orderBy: 'id' });
      expect(out.rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await other.close();
      rmSync(spaced, { recursive: true, force: true });
    }
  });
});
