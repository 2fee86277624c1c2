// Partitioned tables: pyiceberg sees the spec and the partition tuples and prunes files by them;
// its own transforms agree with ours on every file's partition values.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartitionFieldConfig } from '../../src/config/types.js';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, micros, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_ROWS, PY_SQL_CATALOG, scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({ event_time: 'TIMESTAMP(3)', user_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', hits: 'INT' });
const partitionBy: PartitionFieldConfig[] = [
  { source: 'event_time', transform: { kind: 'day' }, text: 'day(event_time)' },
  { source: 'user_id', transform: { kind: 'bucket', n: 4 }, text: 'bucket(4, user_id)' },
  { source: 'platform', transform: { kind: 'identity' }, text: 'platform' },
  { source: 'session_id', transform: { kind: 'truncate', width: 2 }, text: 'truncate(2, session_id)' },
];

const platforms = ['ios', 'android', 'web'];
const rows = Array.from({ length: 240 }, (_, i) => ({
  event_time: micros(`2024-05-0${1 + (i % 3)}T${String(i % 24).padStart(2, '0')}:15:00Z`),
  user_id: BigInt(1000 + (i % 7)),
  platform: i % 11 === 0 ? null : platforms[i % 3],
  session_id: `s${i % 2}-${i}`,
  hits: i,
}));

describe('partitioned table + pyiceberg', { timeout: 120_000 }, () => {
  const { config, dir } = sqlCatalogConfig('parts');
  let catalog: SqlCatalog;
  const name = `${config.namespace}.clicks`;

  beforeAll(async () => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
    const table = await openTable(catalog, config.namespace, sinkConfig('clicks', schema, partitionBy));
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
    await writer.write(batchOf(schema, rows.slice(0, 100)));
    await writer.write(batchOf(schema, rows.slice(100)));
    const files = await writer.close();
    await commitAppend(catalog, table.ident, files, {});
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pyiceberg sees the spec and every row', async () => {
    const all = await scanSql(config, name, { orderBy: 'hits' });
    expect(all.spec).toContain('1000: event_time_day: day(1)');
    expect(all.spec).toContain('1001: user_id_bucket: bucket[4](2)');
    expect(all.spec).toContain('1002: platform: identity(3)');
    expect(all.spec).toContain('1003: session_id_trunc: truncate[2](4)');
    expect(all.rows.map((r) => r['hits'])).toEqual(rows.map((r) => r.hits));
    expect(all.rows.filter((r) => r['platform'] === null)).toHaveLength(rows.filter((r) => r.platform === null).length);
  }, 60_000);

  it('partition values of every file agree with pyiceberg’s transforms of its rows', async () => {
    const out = await runPython<{ mismatches: string[]; files: number }>(
      PY_SQL_CATALOG +
        `
import datetime
import pyarrow.parquet as pq
t = catalog.load_table(ARGS["table"])
spec, schema = t.spec(), t.schema()
mismatches, n = [], 0
for task in t.scan().plan_files():
    n += 1
    f = task.file
    data = pq.read_table(f.file_path.replace("file://", "")).to_pylist()
    for pf_i, pf in enumerate(spec.fields):
        src = schema.find_field(pf.source_id)
        fn = pf.transform.transform(src.field_type)
        values = set()
        for r in data:
            v = r[src.name]
            if v is None:
                values.add(None)
                continue
            # pyiceberg's transforms take Iceberg's internal form: timestamps as micros.
            if isinstance(v, datetime.datetime):
                v = (v - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1)
            values.add(fn(v))
        if values != {f.partition[pf_i]}:
            mismatches.append(f"{f.file_path}: {pf.name} file says {f.partition[pf_i]!r}, rows give {values!r}")
print(json.dumps({"mismatches": mismatches, "files": n}))
`,
      { catalog: config, table: name },
    );
    expect(out.mismatches).toEqual([]);
    expect(out.files).toBeGreaterThan(20);
  }, 60_000);

  it('pyiceberg prunes files by partition values', async () => {
    const all = await scanSql(config, name);
    const ios = await scanSql(config, name, { filter: "platform == 'ios'" });
    expect(ios.rows).toHaveLength(rows.filter((r) => r.platform === 'ios').length);
    expect(ios.files).toBeLessThan(all.files);
    expect(ios.files).toBeGreaterThan(0);
    const oneDay = await scanSql(config, name, { filter: "event_time >= '2024-05-02T00:00:00' and event_time < '2024-05-03T00:00:00'" });
    expect(oneDay.rows).toHaveLength(80);
    expect(oneDay.files).toBeLessThan(all.files / 2);
    const user = await runPython<{ files: number; rows: number }>(
      PY_ROWS +
        PY_SQL_CATALOG +
        `
t = catalog.load_table(ARGS["table"])
scan = t.scan(row_filter="user_id == 1003")
print(json.dumps({"files": len(list(scan.plan_files())), "rows": scan.to_arrow().num_rows}))
`,
      { catalog: config, table: name },
    );
    expect(user.rows).toBe(rows.filter((r) => r.user_id === 1003n).length);
    expect(user.files).toBeLessThan(all.files / 2);
  }, 60_000);

  it('partition values with spaces, slashes, percent signs and non-ASCII land in readable files', async () => {
    const cols = fields({ id: 'BIGINT', p: 'STRING' });
    const table = await openTable(catalog, config.namespace, sinkConfig('odd_values', cols, [{ source: 'p', transform: { kind: 'identity' }, text: 'p' }]));
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    await writer.write(batchOf(cols, [{ id: 1n, p: 'a b/c%d' }, { id: 2n, p: 'é?#&=' }, { id: 3n, p: '' }, { id: 4n, p: 'a b/c%d' }]));
    const files = await writer.close();
    expect(files).toHaveLength(3);
    await commitAppend(catalog, table.ident, files, {});
    const all = await scanSql(config, `${config.namespace}.odd_values`, { orderBy: 'id' });
    expect(all.rows).toEqual([{ id: 1, p: 'a b/c%d' }, { id: 2, p: 'é?#&=' }, { id: 3, p: '' }, { id: 4, p: 'a b/c%d' }]);
    const one = await scanSql(config, `${config.namespace}.odd_values`, { filter: "p == 'a b/c%d'" });
    expect(one.files).toBe(1);
    expect(one.rows).toHaveLength(2);
  }, 60_000);
});
