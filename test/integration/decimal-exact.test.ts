// DECIMAL values through the whole runtime, exactly: JSON records produced to a real broker, a
// pass-through SQL transformer, a partitioned Iceberg table read back by pyiceberg as Python
// Decimals and compared digit for digit. Before, `12345678901234567.89` (as a JSON number or as
// text) landed as 12345678901234568.00 and `99999999999999999.99` as 100000000000000000.00.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { createKafka } from '../../src/kafka/client.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { compileSqlTransform } from '../../src/transform/batch-transform.js';
import { sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG } from '../helpers/pyiceberg.js';
import { pipeline } from '../transform/helpers.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ensureBuilt } from '../helpers/build.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';
import { readTable, runToExit, runtimeProject, type RuntimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

/**
 * The shipped bid-events pipeline with user_id and city_id as DECIMAL(20, 2) (its SQL passes both
 * through as they are), city_id NOT NULL, the table partitioned by truncate and bucket on them.
 */
function decimalProject(): RuntimeProject {
  const p = runtimeProject();
  const file = path.join(p.configDir, 'topics.yaml');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`  ${p.bid}:\n`);
  const end = text.indexOf('    transformation: "bid_events_raw"', start);
  const section = text
    .slice(start, end)
    .replaceAll('- name: "user_id"\n        type: "BIGINT"', '- name: "user_id"\n        type: "DECIMAL(20, 2)"')
    .replaceAll('- name: "user_id"\n          type: "BIGINT"', '- name: "user_id"\n          type: "DECIMAL(20, 2)"')
    .replaceAll('- name: "city_id"\n        type: "BIGINT"', '- name: "city_id"\n        type: "DECIMAL(20, 2) NOT NULL"')
    .replaceAll('- name: "city_id"\n          type: "BIGINT"', '- name: "city_id"\n          type: "DECIMAL(20, 2) NOT NULL"')
    .replace('      table_name: "parsed_events"\n', '      table_name: "parsed_events"\n      partition_by: ["truncate(100, user_id)", "bucket(8, city_id)"]\n');
  expect(section.match(/DECIMAL\(20, 2\)/g)).toHaveLength(4);
  writeFileSync(file, text.slice(0, start) + section + text.slice(end));
  return p;
}

async function send(p: RuntimeProject, topic: string, values: string[]): Promise<void> {
  const kafka = createKafka(p.config.kafka);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopic(admin, topic, 1);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: String(i), value })) });
  await producer.disconnect();
}

const record = (id: string, userId: string, cityId: string) =>
  `{"event_name":"${id}","user_id":${userId},"city_id":${cityId},"platform":"web","session_id":"s","timestamp_ms":1706975400000}`;

describe('DECIMAL(20, 2) through the runtime, read back by pyiceberg', () => {
  it('stores the issue’s values exactly; an overflow is NULL in a nullable column and a dead letter in a NOT NULL one', async () => {
    const p = decimalProject();
    await send(p, p.bid, [
      record('number', '12345678901234567.89', '12345678901234567.89'),
      record('text', '"12345678901234567.89"', '"12345678901234567.89"'),
      record('nines', '99999999999999999.99', '-99999999999999999.99'),
      record('half-up', '0.005', '-0.005'),
      record('null-on-overflow', '123456789012345678901', '1'),
      record('dead-letter', '1', '123456789012345678901.5'),
    ]);
    await send(p, p.user, ['{"event_type":"x","user_id":1,"timestamp_ms":1}']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);

    // Compared as Python Decimals, in Python: no JSON number or double on the way back.
    const back = await runPython<{ rows: Array<{ name: string; user_id: string | null; city_id: string; types: string[]; exact: boolean }>; mismatches: string[] }>(
      `
from decimal import Decimal
from pyiceberg.catalog.sql import SqlCatalog
cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
t = cat.load_table((ARGS["namespace"], "parsed_events"))
want = {k: (None if u is None else Decimal(u), Decimal(c)) for k, (u, c) in ARGS["want"].items()}
rows, mismatches = [], []
for r in t.scan().to_arrow().to_pylist():
    u, c = r["user_id"], r["city_id"]
    rows.append({"name": r["event_name"], "user_id": None if u is None else str(u), "city_id": str(c),
                 "types": [type(u).__name__, type(c).__name__], "exact": want.get(r["event_name"]) == (u, c)})
# Partition values as pyiceberg's own transforms compute them from the rows of each file.
import pyarrow.parquet as pq
spec, schema = t.spec(), t.schema()
for task in t.scan().plan_files():
    f = task.file
    data = pq.read_table(f.file_path.replace("file://", "")).to_pylist()
    for i, pf in enumerate(spec.fields):
        src = schema.find_field(pf.source_id)
        fn = pf.transform.transform(src.field_type)
        got = {None if r[src.name] is None else fn(r[src.name]) for r in data}
        if got != {f.partition[i]}:
            mismatches.append(f"{pf.name}: file says {f.partition[i]!r}, rows give {got!r}")
print(json.dumps({"rows": sorted(rows, key=lambda r: r["name"]), "mismatches": mismatches}))
`,
      {
        warehouse: p.warehouse,
        namespace: p.config.catalog.namespace,
        want: {
          number: ['12345678901234567.89', '12345678901234567.89'],
          text: ['12345678901234567.89', '12345678901234567.89'],
          nines: ['99999999999999999.99', '-99999999999999999.99'],
          'half-up': ['0.01', '-0.01'],
          'null-on-overflow': [null, '1.00'],
        },
      },
    );
    expect(back.rows).toEqual([
      { name: 'half-up', user_id: '0.01', city_id: '-0.01', types: ['Decimal', 'Decimal'], exact: true },
      { name: 'nines', user_id: '99999999999999999.99', city_id: '-99999999999999999.99', types: ['Decimal', 'Decimal'], exact: true },
      { name: 'null-on-overflow', user_id: null, city_id: '1.00', types: ['NoneType', 'Decimal'], exact: true },
      { name: 'number', user_id: '12345678901234567.89', city_id: '12345678901234567.89', types: ['Decimal', 'Decimal'], exact: true },
      { name: 'text', user_id: '12345678901234567.89', city_id: '12345678901234567.89', types: ['Decimal', 'Decimal'], exact: true },
    ]);
    expect(back.mismatches).toEqual([]);

    const dlq = await readTable(p, 'parsed_events_dlq', ['source_topic', 'source_partition', 'source_offset', 'error_code', 'error_message']);
    expect(dlq.rows).toEqual([
      {
        source_topic: p.bid,
        source_partition: 0,
        source_offset: 5,
        error_code: 'RECORD_DECODE_FAILED',
        error_message: 'field city_id: 123456789012345678901.5 does not fit DECIMAL(20, 2) NOT NULL (at most 18 digits before the point), and the field is NOT NULL',
      },
    ]);
  }, 300_000);
});

describe('DECIMAL nested in ROW, ARRAY and MAP, written to Parquet and read back by pyiceberg', () => {
  it('keeps every digit at every depth', async () => {
    const types = { r: 'ROW<amt DECIMAL(20, 2)>', a: 'ARRAY<DECIMAL(20, 2)>', m: 'MAP<STRING, DECIMAL(20, 2)>' };
    const config = pipeline({ topic: 't', source: types, sink: types });
    const raw = packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value: '{"r": {"amt": 12345678901234567.89}, "a": [99999999999999999.99, "-0.005"], "m": {"k": 12345678901234567.89}}' }]);
    const out = compileSqlTransform(config, 'SELECT r, a, m FROM kafka_t').run(raw, 0);
    expect(out.deadLetters).toBeNull();

    const { config: catalogConfig, dir } = sqlCatalogConfig('nested_decimals');
    const catalog = new SqlCatalog(catalogConfig);
    try {
      const table = await openTable(catalog, catalogConfig.namespace, sinkConfig('amounts', config.sink.schema));
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(config.sink.schema));
      await writer.write(out.rows);
      await commitAppend(catalog, table.ident, await writer.close(), {});
      const back = await runPython<{ values: string[]; decimals: boolean }>(
        PY_SQL_CATALOG +
          `
from decimal import Decimal
row = catalog.load_table(ARGS["table"]).scan().to_arrow().to_pylist()[0]
leaves = [row["r"]["amt"], *row["a"], *[v for _, v in row["m"]]]
print(json.dumps({"values": [str(v) for v in leaves], "decimals": all(isinstance(v, Decimal) for v in leaves)}))
`,
        { catalog: catalogConfig, table: `${catalogConfig.namespace}.amounts` },
      );
      expect(back).toEqual({ values: ['12345678901234567.89', '99999999999999999.99', '-0.01', '12345678901234567.89'], decimals: true });
    } finally {
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
