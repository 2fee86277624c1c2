// TIMESTAMP, TIMESTAMP_LTZ, DATE, TIME and DECIMAL leaves inside ROW, ARRAY and MAP sink columns,
// through the SQL transform (which also reads a ROW field out to a top-level column), Arrow,
// Parquet and the Iceberg schema, read back by pyiceberg. Before, such a sink column was refused
// at start-up ("nested leaves may be STRING, BOOLEAN, INT, BIGINT, FLOAT, DOUBLE or DECIMAL").

import { rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { compileSqlTransform } from '../../src/transform/batch-transform.js';
import { sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';
import { pipeline } from '../transform/helpers.js';

beforeAll(() => {
  ensurePythonEnv();
}, 900_000);

describe('temporal and decimal leaves nested in ROW, ARRAY and MAP', () => {
  it('reach the Iceberg table with their types and every microsecond, and p.ts reads a field out', async () => {
    const nested = {
      p: 'ROW<ts TIMESTAMP(6), lt TIMESTAMP_LTZ(3), d DATE, t TIME, amt DECIMAL(20, 2)>',
      days: 'ARRAY<DATE>',
      seen: 'MAP<STRING, TIMESTAMP(3)>',
    };
    const config = pipeline({ topic: 't', source: nested, sink: { ...nested, ts: 'TIMESTAMP(6)', d1: 'DATE' } });
    const raw = packRawBatch('t', 0, [
      { offset: 0, timestamp: 0, value: '{"p": {"ts": "2024-03-15 13:45:30.123456", "lt": "2024-03-15 13:45:30.123Z", "d": "2024-02-29", "t": "23:59:59.5", "amt": "12345678901234567.89"}, "days": ["1970-01-01", null, "9999-12-31"], "seen": {"a": "1969-12-31 23:59:59.999"}}' },
      { offset: 1, timestamp: 0, value: '{"p": null, "days": [], "seen": {}}' },
    ]);
    const out = compileSqlTransform(config, 'SELECT p, days, seen, p.ts AS ts, days[1] AS d1 FROM kafka_t').run(raw, 0);
    expect(out.deadLetters).toBeNull();

    const { config: catalogConfig, dir } = sqlCatalogConfig('nested_temporal');
    const catalog = new SqlCatalog(catalogConfig);
    try {
      const table = await openTable(catalog, catalogConfig.namespace, sinkConfig('events', config.sink.schema));
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(config.sink.schema));
      await writer.write(out.rows);
      await commitAppend(catalog, table.ident, await writer.close(), {});
      const back = await runPython<{ schema: string; rows: unknown[] }>(
        PY_SQL_CATALOG +
          `
t = catalog.load_table(ARGS["table"])
rows = t.scan().to_arrow().to_pylist()
def show(v):
    if isinstance(v, dict): return {k: show(x) for k, x in v.items()}
    if isinstance(v, list): return [show(x) for x in v]
    if isinstance(v, tuple): return [show(x) for x in v]
    return None if v is None else str(v)
print(json.dumps({"schema": str(t.schema()), "rows": [show(r) for r in rows]}))
`,
        { catalog: catalogConfig, table: `${catalogConfig.namespace}.events` },
      );
      for (const want of ['ts: optional timestamp', 'lt: optional timestamptz', 'd: optional date', 't: optional time', 'amt: optional decimal(20, 2)', 'days: optional list<date>', 'seen: optional map<string, timestamp>']) {
        expect(back.schema).toContain(want);
      }
      expect(back.rows).toEqual([
        {
          p: { ts: '2024-03-15 13:45:30.123456', lt: '2024-03-15 13:45:30.123000+00:00', d: '2024-02-29', t: '23:59:59.500000', amt: '12345678901234567.89' },
          days: ['1970-01-01', null, '9999-12-31'],
          seen: [['a', '1969-12-31 23:59:59.999000']],
          ts: '2024-03-15 13:45:30.123456',
          d1: '1970-01-01',
        },
        { p: null, days: [], seen: [], ts: null, d1: null },
      ]);
    } finally {
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
