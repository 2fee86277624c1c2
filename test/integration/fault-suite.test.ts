// The fault suite: real processes (the compiled runtime, the Kafka broker, pyiceberg as a second
// writer) put through the faults a production run meets, each checked by reading the tables back
// with pyiceberg: every good record once, every bad one once in the dead-letter table.
//
// Random moments come from a seeded generator; the seed is printed, and STREAMBERG_FAULT_SEED
// replays a run.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { sampleRecord } from '../../src/tools/sample-events.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { fillDisk, immutableUnavailable, kafkaSh, logLines, mountSmallDisk, setImmutable, sleep, tableDirs, unmount } from '../helpers/faults.js';
import { KAFKA_PORT, ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';
import { seeded } from '../helpers/seed.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime, type RuntimeProject } from '../helpers/runtime.js';

const SEED = Number(process.env.STREAMBERG_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));

const faultDir = () => mkdtempSync(path.join(os.tmpdir(), 'faults-'));
const RESTART = '  restart: { max_failures: 5, initial_backoff: "200ms", max_backoff: "2s" }';

/** Data files on disk under a table's folder that no snapshot of the table references. */
async function orphanFiles(p: RuntimeProject, table: string): Promise<number> {
  return runPython<number>(
    `
import glob
from pyiceberg.catalog.sql import SqlCatalog
cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
t = cat.load_table(("analytics", ARGS["table"]))
referenced = set()
for s in t.snapshots():
    for m in s.manifests(t.io):
        for e in m.fetch_manifest_entry(t.io, discard_deleted=False):
            referenced.add(e.data_file.file_path.removeprefix("file://"))
on_disk = set(glob.glob(ARGS["warehouse"] + "/analytics.db/" + ARGS["table"] + "/data/**/*.parquet", recursive=True))
print(json.dumps(len(on_disk - referenced)))
`,
    { warehouse: p.warehouse, table },
  );
}

/** The epoch of the newest snapshot of a table that carries one (-1: none). */
async function lastEpoch(p: RuntimeProject, table: string): Promise<number> {
  const { snapshots } = await readTable(p, table, [table.endsWith('_dlq') ? 'source_offset' : 'user_id']);
  return Math.max(-1, ...snapshots.map((s) => Number(s['streamberg.epoch'] ?? -1)));
}

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
  console.log(`fault suite seed ${SEED} (STREAMBERG_FAULT_SEED=${SEED} replays it)`);
}, 900_000);

afterAll(() => ensureKafka(), 300_000);

describe('fault suite', () => {
  it('survives kill -9 at 20 random moments while records keep arriving: exactly once', async () => {
    const random = seeded(SEED);
    const p = runtimeProject({ runtimeExtra: RESTART });
    let bid = 20_000;
    produce(p, p.bid, ['--count', String(bid), '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '71']);
    produce(p, p.user, ['--count', '5000', '--partitions', '2', '--seed', '72']);
    const moments: number[] = [];
    for (let i = 0; i < 20; i++) {
      const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
      // Anywhere from start-up (recovery, the first commit) to the middle of a backlog.
      const at = Math.round(300 + random() * 3000);
      moments.push(at);
      await sleep(at);
      expect(run.child.exitCode, run.output().slice(-2000)).toBeNull();
      run.child.kill('SIGKILL');
      expect(await run.exited).toBe('SIGKILL');
      produce(p, p.bid, ['--count', '2000', '--start-index', String(bid), '--malformed-ratio', '0.01', '--seed', '71']);
      bid += 2000;
    }
    console.log(`kill -9 moments after spawn (ms): ${moments.join(' ')}`);
    const finish = await runToExit(p, ['--bounded', '--parallelism', '2', '--metrics-port', '0']);
    expect(finish.code, finish.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, bid, 71, 0.01));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 5000, 72, 0));
  }, 420_000);

  it('survives kill -9 between writing an epoch’s files and its catalog commit: the files stay orphans', async () => {
    const p = runtimeProject({ batchSize: 500, runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '12000', '--partitions', '2', '--malformed-ratio', '0.02', '--seed', '73']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '74']);
    const env = { STREAMBERG_FAULTS: `kill-at:after-files-written:${p.bid}:1`, STREAMBERG_FAULT_DIR: faultDir() };
    const killed = await runToExit(p, ['--bounded', '--parallelism', '1', '--checkpoint-interval', '200ms', '--metrics-port', '0'], env);
    expect(killed.code, killed.output.slice(-2000)).toBe('SIGKILL');
    // The killed epoch's files are on disk and referenced by no snapshot.
    expect(await orphanFiles(p, 'parsed_events')).toBeGreaterThan(0);
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0'], env);
    expect(rest.code, rest.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 12000, 73, 0.02));
  }, 300_000);

  it('survives kill -9 between the dead-letter table’s commit and the table’s: no dead letter twice', async () => {
    const p = runtimeProject({ batchSize: 500, runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '12000', '--partitions', '2', '--malformed-ratio', '0.05', '--seed', '75']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '76']);
    const env = { STREAMBERG_FAULTS: `kill-at:before-table-commit:${p.bid}:1`, STREAMBERG_FAULT_DIR: faultDir() };
    const killed = await runToExit(p, ['--bounded', '--parallelism', '1', '--checkpoint-interval', '200ms', '--metrics-port', '0'], env);
    expect(killed.code, killed.output.slice(-2000)).toBe('SIGKILL');
    // The dead-letter table holds the killed epoch; the table stopped one short of it.
    const dlqEpoch = await lastEpoch(p, 'parsed_events_dlq');
    expect(dlqEpoch).toBeGreaterThan(await lastEpoch(p, 'parsed_events'));
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0'], env);
    expect(rest.code, rest.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 12000, 75, 0.05));
  }, 300_000);

  it('commits exactly once while another writer (pyiceberg) commits to the same table every 100 ms', async () => {
    const p = runtimeProject({ runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '1000', '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '77']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '78']);
    // The tables exist before the other writer starts.
    const first = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(first.code, first.output).toBe(0);
    const commits = 100;
    const other = runPython<{ commits: number; conflicts: number }>(
      `
import datetime, time
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException
cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
t = cat.load_table(("analytics", "parsed_events"))
schema = t.schema().as_arrow()
done = conflicts = 0
while done < ARGS["commits"]:
    row = {f.name: None for f in schema}
    row["event_name"] = "other-writer"
    row["user_id"] = done
    row["event_time"] = datetime.datetime(2030, 1, 1) + datetime.timedelta(seconds=done)
    try:
        t.append(pa.Table.from_pylist([row], schema=schema))
        done += 1
    except CommitFailedException:
        conflicts += 1
        t = cat.load_table(("analytics", "parsed_events"))
    time.sleep(0.1)
print(json.dumps({"commits": done, "conflicts": conflicts}))
`,
      { warehouse: p.warehouse, commits },
    );
    let otherDone = false;
    void other.finally(() => (otherDone = true)).catch(() => {});
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '100ms', '--metrics-port', '0']);
    // Records keep arriving for as long as the other writer commits, so the runtime commits all
    // that time too: a backlog produced up front is consumed in a few seconds, after which the
    // runtime has nothing to commit and the two writers barely meet.
    let bid = 1000;
    while (!otherDone && bid < 200_000) {
      produce(p, p.bid, ['--count', '1000', '--start-index', String(bid), '--malformed-ratio', '0.01', '--seed', '77']);
      bid += 1000;
      // produce() holds the event loop; let the other writer's end be seen.
      await sleep(50);
    }
    const written = await other;
    run.child.kill('SIGTERM');
    expect(await run.exited, run.output().slice(-2000)).toBe(0);
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    expect(written.commits).toBe(commits);
    const retries = (run.output().match(/commit conflict; retrying on the new table head/g) ?? []).length;
    console.log(`other writer: ${written.commits} commits, ${written.conflicts} conflicts it retried; the runtime retried ${retries} commits`);
    // The two writers met: the other writer found the runtime's commits on the head it built on,
    // and the runtime found the other's on its own and retried on the new head.
    expect(written.conflicts).toBeGreaterThan(0);
    expect(retries).toBeGreaterThan(0);
    const isOther = (r: Record<string, unknown>) => r.event_name === 'other-writer';
    const { rows } = await readTable(p, 'parsed_events', ['event_name', 'user_id']);
    expect(rows.filter(isOther).map((r) => r.user_id).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: commits }, (_, i) => i));
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, bid, 77, 0.01), isOther);
  }, 300_000);

  it('finishes exactly once while a transform worker crashes every few tasks', async () => {
    const p = runtimeProject({ batchSize: 250, runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '15000', '--partitions', '3', '--malformed-ratio', '0.02', '--seed', '79']);
    produce(p, p.user, ['--count', '3000', '--partitions', '2', '--seed', '80']);
    const run = await runToExit(p, ['--bounded', '--parallelism', '2', '--checkpoint-interval', '300ms', '--metrics-port', '0'], {
      STREAMBERG_FAULTS: `transform-exit-every:${p.bid}:6`,
      STREAMBERG_FAULT_DIR: faultDir(),
    });
    expect(run.code, run.output.slice(-3000)).toBe(0);
    const crashes = logLines(run.output, /^transform task failed; retrying it/, p.bid).length;
    console.log(`transform worker crashes retried: ${crashes}`);
    expect(crashes).toBeGreaterThanOrEqual(5);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 15000, 79, 0.02));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 3000, 80, 0));
  }, 300_000);

  // Found a kafkajs connection that, cut mid-answer by the broker's death, never answered again:
  // the fetch loop and the admin calls now go over fresh connections after a failure.
  it('rides out the broker killed (-9) and restarted under a bounded run: exactly once, exit 0', async () => {
    const p = runtimeProject({ runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '40000', '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '81']);
    produce(p, p.user, ['--count', '1000', '--partitions', '1', '--seed', '82']);
    const run = startRuntime(p, ['--bounded', '--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
    await run.waitFor(new RegExp(`"pipeline running","pipeline":"${p.bid}"`));
    run.child.kill('SIGSTOP');
    try {
      const pid = Number(readFileSync(path.join(ROOT, '.run', `kafka-${KAFKA_PORT}`, 'kafka.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(100);
    } finally {
      run.child.kill('SIGCONT');
    }
    await sleep(3000);
    kafkaSh('start');
    // Bounded here, so that a run that never ends shows what it was doing.
    const ended = await Promise.race([run.exited, sleep(200_000).then(() => 'still running')]);
    if (ended === 'still running') run.child.kill('SIGKILL');
    expect(ended, run.output().slice(-3000)).toBe(0);
    expect(logLines(run.output(), /^pipeline failed for good/, p.bid)).toEqual([]);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 40000, 81, 0.01));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 1000, 82, 0));
  }, 300_000);

  it('rides out the warehouse unwritable for 20 s under a bounded run: exactly once, exit 0', async (ctx) => {
    const why = immutableUnavailable(mkdtempSync(path.join(os.tmpdir(), 'chattr-probe-')));
    if (why) {
      console.warn(`skipped: ${why}`);
      ctx.skip();
    }
    const p = runtimeProject({ runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '2000', '--partitions', '2', '--malformed-ratio', '0.02', '--seed', '83']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '84']);
    const first = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(first.code, first.output).toBe(0);
    produce(p, p.bid, ['--count', '10000', '--start-index', '2000', '--malformed-ratio', '0.02', '--seed', '83']);
    const dirs = [...tableDirs(p.warehouse, 'analytics', 'parsed_events'), ...tableDirs(p.warehouse, 'analytics', 'parsed_events_dlq')];
    setImmutable(dirs, true);
    const run = startRuntime(p, ['--bounded', '--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
    try {
      await run.waitFor(new RegExp(`"pipeline degraded[^"]*","pipeline":"${p.bid}"`), 120_000);
      await sleep(20_000);
      expect(run.child.exitCode).toBeNull();
    } finally {
      setImmutable(dirs, false);
    }
    expect(await run.exited, run.output().slice(-3000)).toBe(0);
    expect(logLines(run.output(), /^pipeline recovered/, p.bid).length).toBe(1);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 12000, 83, 0.02));
  }, 300_000);

  it('rides out a full disk under the warehouse during a bounded run: degraded, recovered once space is freed, exactly once', async (ctx) => {
    const p = runtimeProject({ runtimeExtra: RESTART });
    mkdirSync(p.warehouse, { recursive: true });
    const why = mountSmallDisk(p.warehouse, 24);
    if (why) {
      console.warn(`skipped: ${why}`);
      ctx.skip();
    }
    try {
      produce(p, p.bid, ['--count', '2000', '--partitions', '2', '--malformed-ratio', '0.02', '--seed', '87']);
      produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '88']);
      const first = await runToExit(p, ['--bounded', '--metrics-port', '0']);
      expect(first.code, first.output).toBe(0);
      produce(p, p.bid, ['--count', '10000', '--start-index', '2000', '--malformed-ratio', '0.02', '--seed', '87']);
      const filler = path.join(p.warehouse, 'filler');
      fillDisk(filler);
      const run = startRuntime(p, ['--bounded', '--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
      try {
        await run.waitFor(new RegExp(`"pipeline degraded[^"]*","pipeline":"${p.bid}"`), 120_000);
        await sleep(10_000);
        expect(run.child.exitCode).toBeNull();
      } finally {
        rmSync(filler, { force: true });
      }
      const ended = await Promise.race([run.exited, sleep(180_000).then(() => 'still running')]);
      if (ended === 'still running') run.child.kill('SIGKILL');
      expect(ended, run.output().slice(-3000)).toBe(0);
      const degraded = logLines(run.output(), /^pipeline degraded/, p.bid);
      expect(degraded).toHaveLength(1);
      expect(degraded[0]!.code).toBe('STORAGE_FAILED');
      expect(JSON.stringify(degraded[0])).toMatch(/ENOSPC|SQLITE_FULL/);
      expect(logLines(run.output(), /^pipeline recovered/, p.bid)).toHaveLength(1);
      await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 12000, 87, 0.02));
    } finally {
      unmount(p.warehouse);
    }
  }, 360_000);

  it('dead-letters a burst of 10,000 poison records between good ones, each once, and lands every good one once', async () => {
    const p = runtimeProject({ runtimeExtra: RESTART });
    const kafka = createKafka(p.config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopic(admin, p.bid, 1);
    await admin.disconnect();
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '86']);
    const schema = p.pipeline(p.bid).sourceSchema;
    const good = (i: number) => sampleRecord(schema, i, { seed: 85, malformedRatio: 0 });
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const poison = (i: number): string => {
      switch (i % 8) {
        case 0:
          return `{"event_name": "cut off`;
        case 1:
          return `{"event_name": "x", "timestamp_ms": ${'9'.repeat(1000)}}`;
        case 2:
          return `{"event_name": "x", "user_id": "not a number"}`;
        case 3:
          return `[1, 2, 3]`;
        case 4:
          return i % 800 === 4 ? `{"user_id": ${deep}}` : `{"session_id": {"a": [[[[]]]]}, "user_id": true}`;
        case 5:
          return `"just a string"`;
        case 6:
          return `\u0000\u0001 not json ${i}`;
        default:
          return `{"event_name": "x", "timestamp_ms": "1e400"}`;
      }
    };
    const producer = kafka.producer();
    await producer.connect();
    const send = async (messages: Array<{ key: string; value: string }>) => {
      for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic: p.bid, messages: messages.slice(i, i + 2000) });
    };
    await send(Array.from({ length: 1000 }, (_, i) => ({ key: good(i).key, value: good(i).value })));
    const poisons = Array.from({ length: 10_000 }, (_, i) => ({ key: `poison-${i}`, value: poison(i) }));
    await send(poisons);
    await send(Array.from({ length: 1000 }, (_, i) => ({ key: good(1000 + i).key, value: good(1000 + i).value })));
    await producer.disconnect();

    const run = await runToExit(p, ['--bounded', '--parallelism', '2', '--metrics-port', '0']);
    expect(run.code, run.output.slice(-3000)).toBe(0);
    const goodRecords = Array.from({ length: 2000 }, (_, i) => good(i));
    const { rows } = await readTable(p, 'parsed_events', ['session_id']);
    expect(rows.length).toBe(2000);
    expect(rows.map((r) => r.session_id).sort()).toEqual(goodRecords.map((r) => r.fields!.session_id ?? null).sort());
    const dlq = await readTable(p, 'parsed_events_dlq', ['source_topic', 'source_partition', 'source_offset', 'record_value']);
    expect(dlq.rows.length).toBe(10_000);
    // Offsets 1000..10999 are the poison, each once, with its bytes.
    const offsets = dlq.rows.map((r) => Number(r.source_offset)).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 10_000 }, (_, i) => 1000 + i));
    expect(dlq.rows.every((r) => r.source_topic === p.bid && r.record_value === poisons[Number(r.source_offset) - 1000]!.value)).toBe(true);
  }, 300_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
