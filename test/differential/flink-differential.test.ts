// The differential suite: every query of the corpus (test/differential/corpus/) over its input set's
// records, through PyFlink 1.19.3 and through the runtime, on the same Kafka records; both Iceberg
// tables read by pyiceberg and compared row by row. A difference must be listed in
// deviations.yaml, and a listed one must still differ, so the list stays true both ways.

import { beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { ensureBuilt } from '../helpers/build.js';
import { BOOTSTRAP, ensureKafka, uniqueTopic } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { compareQuery, type Difference } from './compare.js';
import { loadCorpus, loadDeviations, type Query } from './corpus.js';
import { runFlink, type FlinkRun } from './flink-side.js';
import { runRuntime, type RuntimeRun } from './runtime-side.js';
import { readTables, type TableRead } from './table-rows.js';

const sets = loadCorpus();
const deviations = loadDeviations();
const queries = sets.flatMap((s) => s.queries);

let flink: FlinkRun;
let ours: RuntimeRun;
let flinkTables: Record<string, TableRead>;
let ourTables: Record<string, TableRead>;
const differences = new Map<string, Difference | null>();

/** One topic per input set for Flink's source table, and one per query for the runtime's pipelines. */
async function produceAll(): Promise<{ setTopics: Map<string, string>; queryTopics: Map<string, string> }> {
  const setTopics = new Map(sets.map((s) => [s.name, uniqueTopic(`dflink-${s.name}`)]));
  const queryTopics = new Map(queries.map((q) => [q.id, uniqueTopic(`drt-${q.id}`.slice(0, 60))]));
  const kafka = new Kafka({ brokers: [BOOTSTRAP], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [...setTopics.values(), ...queryTopics.values()].map((topic) => ({ topic, numPartitions: 1 })) });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  for (const s of sets) {
    const messages = s.records.map((value) => ({ value }));
    await producer.send({ topic: setTopics.get(s.name)!, messages });
    for (const q of s.queries) await producer.send({ topic: queryTopics.get(q.id)!, messages });
  }
  await producer.disconnect();
  return { setTopics, queryTopics };
}

beforeAll(async () => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
  const { setTopics, queryTopics } = await produceAll();
  // Both sides at once: Flink's run is mostly waiting (JVM start, checkpoints), so they overlap well.
  const started = Date.now();
  let ranOurs = 0;
  let ranFlink = 0;
  [ours, flink] = await Promise.all([
    runRuntime(sets, (q: Query) => queryTopics.get(q.id)!, BOOTSTRAP).then((r) => ((ranOurs = Date.now()), r)),
    runFlink(sets, setTopics, BOOTSTRAP).then((r) => ((ranFlink = Date.now()), r)),
  ]);
  [flinkTables, ourTables] = await Promise.all([readTables(flink.tables), readTables(ours.tables)]);
  for (const s of sets) {
    for (const q of s.queries) {
      differences.set(q.id, compareQuery(q, flink.outcomes[q.id] ?? { status: 'failed', message: 'no outcome reported' }, ours.outcomes[q.id]!, flinkTables[q.id], ourTables[q.id]));
    }
  }
  const found = [...differences.values()].filter((d) => d !== null);
  // The figures and every difference, for whoever reads the run's log.
  console.log(
    `differential: ${queries.length} queries over ${sets.length} input sets; runtime ${((ranOurs - started) / 1000).toFixed(0)} s, ` +
      `Flink ${((ranFlink - started) / 1000).toFixed(0)} s (side by side); ${found.length} differences\n` +
      found.map((d) => `  ${d.query} [${d.kind}] ${d.detail}`).join('\n'),
  );
}, 1_800_000);

describe('the runtime against Flink 1.19, query by query', () => {
  it('lists deviations only for queries of the corpus', () => {
    const ids = new Set(queries.map((q) => q.id));
    expect(deviations.filter((d) => !ids.has(d.query)).map((d) => d.query)).toEqual([]);
  });

  for (const q of queries) {
    it(q.id, () => {
      const difference = differences.get(q.id);
      const listed = deviations.find((d) => d.query === q.id);
      if (listed === undefined) {
        expect(difference?.detail ?? null, `${q.id} differs from Flink and is not listed in deviations.yaml`).toBeNull();
      } else {
        expect(difference, `${q.id} is listed in deviations.yaml but no longer differs: remove it`).not.toBeNull();
        expect(difference!.kind, `${q.id} differs otherwise than listed: ${difference!.detail}`).toBe(listed.kind);
      }
    });
  }
});
