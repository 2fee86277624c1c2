// Regression, through the whole runtime against the real broker: one record whose timestamp is in
// year 280000 used to stop a `day(event_time)`-partitioned pipeline for good (the sink's partition
// transform threw "Invalid time value", five restarts onto the same record, pipeline failed) and
// the good records beside it never landed. Now it is that record's dead letter.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ensureBuilt } from '../helpers/build.js';
import { BOOTSTRAP, ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';
import { readTable, runToExit, runtimeProject, type RuntimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

/** The shipped project with parsed_events partitioned by day(event_time). */
function partitionedProject(): RuntimeProject {
  const p = runtimeProject({ runtimeExtra: '  restart: { max_failures: 1 }' });
  const file = path.join(p.configDir, 'topics.yaml');
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('      table_name: "parsed_events"\n') + '      table_name: "parsed_events"\n'.length;
  writeFileSync(file, text.slice(0, at) + '      partition_by: ["day(event_time)"]\n' + text.slice(at));
  const config = loadConfig({ configDir: p.configDir, env: { WAREHOUSE_DIR: p.warehouse, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP } }).config;
  return { ...p, config, pipeline: (t) => config.pipelines.find((x) => x.topic === t)! };
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

const record = (user: number, ms: number | string) => `{"event_name":"bid","user_id":${user},"city_id":1,"platform":"web","session_id":"s${user}","timestamp_ms":${ms}}`;

describe('a timestamp past year 9999 in a partitioned pipeline', () => {
  it('is one dead letter with its reason; the three good records land and the pipeline does not fail', async () => {
    const p = partitionedProject();
    expect(p.pipeline(p.bid).sink.partitionBy.map((f) => f.text)).toEqual(['day(event_time)']);
    // 280000-01-01T00:00:00Z in epoch milliseconds; the others are 2024, 9999-12-31 23:59:59 and
    // 0001-01-01 (Python, which reads the table back, has no year 0).
    await send(p, p.bid, [record(1, 1704067200000), record(2, 8773779340800000), record(3, 253402300799000), record(4, -62135596800000)]);
    await send(p, p.user, ['{"event_type":"x","user_id":1,"timestamp_ms":1}']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.output).not.toMatch(/Invalid time value|RangeError|ACTOR_FAILED|pipeline failed/);

    const { rows } = await readTable(p, 'parsed_events', ['user_id', 'event_time']);
    rows.sort((a, b) => Number(a.user_id) - Number(b.user_id));
    expect(rows).toEqual([
      { user_id: 1, event_time: '2024-01-01T00:00:00.000000' },
      { user_id: 3, event_time: '9999-12-31T23:59:59.000000' },
      { user_id: 4, event_time: '0001-01-01T00:00:00.000000' },
    ]);
    // The far days' partition values are the ones pyiceberg's own day transform gives, so its
    // pruning finds them.
    const parts = await runPython<{ files: Array<[number, number[]]>; late: number[] }>(
      `
import datetime
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
t = cat.load_table((ARGS["namespace"], "parsed_events"))
day = t.spec().fields[0].transform.transform(t.schema().find_field("event_time").field_type)
micros = lambda v: (v - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1)
files = []
for task in t.scan().plan_files():
    rows = pq.read_table(task.file.file_path.replace("file://", "")).to_pylist()
    files.append([task.file.partition[0], sorted(day(micros(r["event_time"])) for r in rows)])
late = t.scan(row_filter="event_time >= '9999-01-01T00:00:00'")
print(json.dumps({"files": sorted(files), "late": [r["user_id"] for r in late.to_arrow().to_pylist()] + [len(list(late.plan_files()))]}))
`,
      { warehouse: p.warehouse, namespace: p.config.catalog.namespace },
    );
    expect(parts.files).toEqual([[-719162, [-719162]], [19723, [19723]], [2932896, [2932896]]]);
    expect(parts.late).toEqual([3, 1]);

    const dlq = await readTable(p, 'parsed_events_dlq', ['source_topic', 'source_partition', 'source_offset', 'error_code', 'error_message']);
    expect(dlq.rows).toEqual([
      {
        source_topic: p.bid,
        source_partition: 0,
        source_offset: 1,
        error_code: 'EXPRESSION_FAILED',
        error_message:
          'TO_TIMESTAMP_LTZ(8773779340800000, 3): 280000-01-01 00:00:00.000000 (8773779340800000000 µs since 1970-01-01) is outside the TIMESTAMP range 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999',
      },
    ]);
  }, 300_000);
});
