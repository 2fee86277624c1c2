// Schema evolution on restart, and two writers — this runtime and pyiceberg — appending to one
// table at the same time through the SQLite catalog.

import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import type { Catalog } from '../../src/iceberg/catalog.js';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG, scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

describe('schema evolution and concurrent writers', { timeout: 180_000 }, () => {
  const { config, dir } = sqlCatalogConfig('evo');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a column added to the sink schema is added to the table with a new field id; old rows read null', async () => {
    const v1 = fields({ id: 'BIGINT NOT NULL', name: 'STRING', info: 'ROW<a INT>' });
    const t1 = await openTable(catalog, config.namespace, sinkConfig('people', v1));
    const w1 = newDataFileWriter(t1, catalog.io, arrowSchemaOf(v1));
    await w1.write(batchOf(v1, [{ id: 1n, name: 'ann', info: { a: 1 } }]));
    await commitAppend(catalog, t1.ident, await w1.close(), {});

    const v2 = fields({ id: 'BIGINT', name: 'STRING', info: 'ROW<a BIGINT, b STRING>', score: 'DOUBLE' });
    const t2 = await openTable(catalog, config.namespace, sinkConfig('people', v2));
    expect(t2.metadata['current-schema-id']).toBe(1);
    expect(t2.metadata.schemas).toHaveLength(2);
    const w2 = newDataFileWriter(t2, catalog.io, arrowSchemaOf(v2));
    await w2.write(batchOf(v2, [{ id: 2n, name: 'bob', info: { a: 2n, b: 'x' }, score: 0.5 }]));
    await commitAppend(catalog, t2.ident, await w2.close(), {});

    // Opening again with the same schema changes nothing.
    const t3 = await openTable(catalog, config.namespace, sinkConfig('people', v2));
    expect(t3.metadataLocation).toBe((await catalog.loadTable(t2.ident)).metadataLocation);

    const out = await scanSql(config, `${config.namespace}.people`, { orderBy: 'id' });
    expect(out.iceberg_schema).toContain('1: id: optional long');
    expect(out.iceberg_schema).toContain('5: b: optional string');
    expect(out.iceberg_schema).toContain('6: score: optional double');
    expect(out.types['info']).toMatch(/^struct<a: int64, b: (large_)?string>$/);
    expect(out.rows).toEqual([
      { id: 1, name: 'ann', info: { a: 1, b: null }, score: null },
      { id: 2, name: 'bob', info: { a: 2, b: 'x' }, score: { float: '0.5' } },
    ]);
  }, 60_000);

  it('a change that would break readers stops with an error naming the column', async () => {
    const dropped = fields({ id: 'BIGINT', name: 'STRING', info: 'ROW<a BIGINT, b STRING>' });
    let err: unknown;
    try {
      await openTable(catalog, config.namespace, sinkConfig('people', dropped));
    } catch (e) {
      err = e;
    }
    expect(isStreamError(err) && err.code).toBe('SCHEMA_INCOMPATIBLE_CHANGE');
    expect(isStreamError(err) && err.details['column']).toBe('score');
    expect(String((err as Error).message)).toContain('score');

    const narrowed = fields({ id: 'INT', name: 'STRING', info: 'ROW<a BIGINT, b STRING>', score: 'DOUBLE' });
    await expect(openTable(catalog, config.namespace, sinkConfig('people', narrowed))).rejects.toThrow(/column id: type long cannot change to int/);
  });

  it('this runtime and pyiceberg appending at once both land, nothing lost', async () => {
    const cols = fields({ id: 'BIGINT NOT NULL', writer: 'STRING' });
    const table = await openTable(catalog, config.namespace, sinkConfig('shared', cols));
    const rounds = 12;
    const python = runPython<{ commits: number; retries: number }>(
      PY_SQL_CATALOG +
        `
import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException
schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("writer", pa.string())])
commits = retries = 0
for r in range(ARGS["rounds"]):
    ids = list(range(1_000_000 + r * 10, 1_000_000 + r * 10 + 10))
    data = pa.Table.from_pydict({"id": ids, "writer": ["py"] * 10}, schema=schema)
    while True:
        try:
            catalog.load_table(ARGS["table"]).append(data, snapshot_properties={"writer": "py"})
            commits += 1
            break
        except CommitFailedException:
            retries += 1
print(json.dumps({"commits": commits, "retries": retries}))
`,
      { catalog: config, table: `${config.namespace}.shared`, rounds },
    );
    const ours = (async () => {
      for (let r = 0; r < rounds; r++) {
        const w = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
        await w.write(batchOf(cols, Array.from({ length: 10 }, (_, i) => ({ id: BigInt(r * 10 + i), writer: 'ts' }))));
        await commitAppend(catalog, table.ident, await w.close(), { writer: 'ts', round: String(r) }, { maxAttempts: 50, initialBackoffMs: 5, maxBackoffMs: 100 });
      }
    })();
    const [py] = await Promise.all([python, ours]);
    expect(py.commits).toBe(rounds);

    const out = await scanSql(config, `${config.namespace}.shared`);
    const ids = out.rows.map((r) => r['id'] as number).sort((a, b) => a - b);
    const expected = [...Array.from({ length: rounds * 10 }, (_, i) => i), ...Array.from({ length: rounds * 10 }, (_, i) => 1_000_000 + i)];
    expect(ids).toEqual(expected);
    expect(out.snapshots).toBe(2 * rounds);

    // pyiceberg's snapshot ids use all 63 bits; they must survive our parse and print exactly.
    const loaded = await catalog.loadTable(table.ident);
    const pyIds = loaded.metadata.snapshots.filter((s) => s.summary['writer'] === 'py').map((s) => s['snapshot-id']);
    expect(pyIds).toHaveLength(rounds);
    const check = await runPython<{ ids: string[] }>(
      PY_SQL_CATALOG + `t = catalog.load_table(ARGS["table"])\nprint(json.dumps({"ids": [str(s.snapshot_id) for s in t.metadata.snapshots if s.summary.additional_properties.get("writer") == "py"]}))`,
      { catalog: config, table: `${config.namespace}.shared` },
    );
    expect(check.ids.sort()).toEqual(pyIds.map(String).sort());
  }, 180_000);

  it('a commit that loses the race to pyiceberg gets COMMIT_CONFLICT and lands on top of pyiceberg’s snapshot', async () => {
    const cols = fields({ id: 'BIGINT NOT NULL', writer: 'STRING' });
    const table = await openTable(catalog, config.namespace, sinkConfig('raced', cols));
    const pyAppend = (): Promise<unknown> =>
      runPython(
        PY_SQL_CATALOG +
          `
import pyarrow as pa
schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("writer", pa.string())])
catalog.load_table(ARGS["table"]).append(pa.Table.from_pydict({"id": [100, 101], "writer": ["py", "py"]}, schema=schema))
print(json.dumps({}))
`,
        { catalog: config, table: `${config.namespace}.raced` },
      );
    const conflicts: string[] = [];
    // pyiceberg commits between our load and our compare-and-swap, every time for the first two.
    const racing: Catalog = Object.create(catalog, {
      commit: {
        value: async (base: Parameters<Catalog['commit']>[0], next: Parameters<Catalog['commit']>[1]) => {
          if (conflicts.length < 2) await pyAppend();
          try {
            return await catalog.commit(base, next);
          } catch (err) {
            if (isStreamError(err)) conflicts.push(err.code);
            throw err;
          }
        },
      },
    });
    const w = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    await w.write(batchOf(cols, [{ id: 1n, writer: 'ts' }, { id: 2n, writer: 'ts' }]));
    const { snapshot } = await commitAppend(racing, table.ident, await w.close(), { writer: 'ts' }, { initialBackoffMs: 1 });
    expect(conflicts).toEqual(['COMMIT_CONFLICT', 'COMMIT_CONFLICT']);
    expect(snapshot.summary['total-records']).toBe('6');
    const out = await scanSql(config, `${config.namespace}.raced`);
    expect(out.rows.map((r) => r['id']).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 100, 100, 101, 101]);
  }, 120_000);

  it('two processes creating the same table at once end up with one table', async () => {
    const cols = fields({ id: 'BIGINT' });
    const other = new SqlCatalog(config);
    try {
      const [a, b] = await Promise.all([
        openTable(catalog, config.namespace, sinkConfig('created_twice', cols)),
        openTable(other, config.namespace, sinkConfig('created_twice', cols)),
      ]);
      expect(a.metadataLocation).toBe(b.metadataLocation);
      expect(a.metadata['table-uuid']).toBe(b.metadata['table-uuid']);
      const files = readdirSync(fileURLToPath(`${a.metadata.location}/metadata`));
      expect(files).toEqual([a.metadataLocation.split('/').pop()]);
    } finally {
      await other.close();
    }
  });
});
