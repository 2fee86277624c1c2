// Recovery paths found in review: a failed commit, a first start by latest-offset killed before
// its first checkpoint, and a bounded run over a transactional topic whose last offset is a
// commit marker that never reaches the consumer as a record.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { sampleRecord } from '../../src/tools/sample-events.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce, expectTableRows, isBad } from '../helpers/expectations.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

describe('recovery', () => {
  it('restarts the pipeline when a commit fails, and loses nothing of that epoch', async () => {
    const p = runtimeProject({ batchSize: 500 });
    produce(p, p.bid, ['--count', '6000', '--partitions', '2', '--seed', '21']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '22']);
    const run = await runToExit(p, ['--bounded', '--checkpoint-interval', '200ms', '--metrics-port', '0'], {
      STREAMBERG_FAULTS: `commit-fail:${p.bid}:1`,
      STREAMBERG_FAULT_DIR: mkdtempSync(path.join(os.tmpdir(), 'faults-')),
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(new RegExp(`pipeline failed; restarting from its last checkpoint.*"pipeline":"${p.bid}".*injected commit failure`));
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 6000, 21, 0));
  }, 300_000);

  it('keeps the start position of a latest-offset pipeline even when killed before its first checkpoint', async () => {
    const p = runtimeProject({ bidScanMode: 'latest-offset' });
    produce(p, p.bid, ['--count', '100', '--partitions', '2', '--seed', '23']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '24']);
    const run = startRuntime(p, ['--checkpoint-interval', '10min', '--metrics-port', '0']);
    await run.waitFor(new RegExp(`pipeline running","pipeline":"${p.bid}"`));
    // Records 100..599 arrive after the start; the runtime dies before any checkpoint.
    produce(p, p.bid, ['--count', '500', '--start-index', '100', '--seed', '23']);
    run.child.kill('SIGKILL');
    await run.exited;
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    const all = expectedRecords(p, p.bid, 600, 23, 0);
    const { rows } = await readTable(p, 'parsed_events', ['session_id', 'event_time']);
    expect(rows.length).toBe(500);
    await expectExactlyOnce(p, p.bid, 'parsed_events', all.slice(100));
  }, 300_000);

  it('finishes a bounded run over a transactional topic, whose end is a commit marker', async () => {
    const p = runtimeProject();
    const kafka = createKafka(p.config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopic(admin, p.bid, 1);
    await admin.disconnect();
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '26']);
    const records = expectedRecords(p, p.bid, 300, 25, 0);
    const producer = kafka.producer({ transactionalId: `tx-${p.bid}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic: p.bid, messages: records.map((r) => ({ key: r.key, value: r.value })) });
    await tx.commit();
    await producer.disconnect();

    const run = await runToExit(p, ['--bounded', '--metrics-port', '0'], {}, 120_000);
    expect(run.code, run.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', records);
  }, 300_000);

  it('marks a pipeline failed for good on a user error (on_error: fail), and the other pipeline finishes', async () => {
    const p = runtimeProject({ bidOnError: 'fail' });
    produce(p, p.bid, ['--count', '400', '--partitions', '1', '--malformed-ratio', '0.2', '--seed', '27']);
    produce(p, p.user, ['--count', '3000', '--partitions', '2', '--seed', '28']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(new RegExp(`"pipeline failed for good: RECORD_DECODE_FAILED is not retryable \\(user error\\)","pipeline":"${p.bid}"`));
    expect(run.output).toMatch(new RegExp(`"pipeline reached the end offsets and committed","pipeline":"${p.user}"`));
    // No restart was attempted for a user error, and nothing of the failed epoch was committed:
    // the table holds exactly the good records below the committed position (one partition, so
    // offsets are the sample indexes), and that position is not past the first bad record.
    expect(run.output).not.toMatch(new RegExp(`restarting from its last checkpoint[^\\n]*"pipeline":"${p.bid}"`));
    const records = expectedRecords(p, p.bid, 400, 27, 0.2);
    const firstBad = records.findIndex(isBad);
    expect(firstBad).toBeGreaterThanOrEqual(0);
    const { snapshots } = await readTable(p, 'parsed_events', ['user_id']);
    const offsets = snapshots.map((s) => s[`kafka.offsets.g-${p.bid}`]).filter((o) => o !== undefined);
    const committed = offsets.length === 0 ? 0 : Number((JSON.parse(offsets.at(-1)!) as Record<string, Record<string, number>>)[p.bid]?.['0'] ?? 0);
    expect(committed).toBeLessThanOrEqual(firstBad);
    await expectTableRows(p, 'parsed_events', records.slice(0, committed));
    expect((await readTable(p, 'parsed_events_dlq', ['source_offset'])).rows).toEqual([]);
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 3000, 28, 0));
  }, 300_000);

  it('starts a new pipeline at the first record at or after scan_timestamp_ms with scan_mode timestamp', async () => {
    const early = runtimeProject();
    produce(early, early.bid, ['--count', '200', '--partitions', '2', '--seed', '29']);
    await new Promise((r) => setTimeout(r, 50));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    produce(early, early.bid, ['--count', '300', '--start-index', '200', '--seed', '29']);
    // The same topics, read by a pipeline configured to start at `from`.
    const p = { ...runtimeProject({ bidScanMode: 'timestamp', bidScanTimestampMs: from }) };
    const topics = readFileSync(path.join(p.configDir, 'topics.yaml'), 'utf8').replaceAll(p.bid, early.bid).replaceAll(p.user, early.user);
    writeFileSync(path.join(p.configDir, 'topics.yaml'), topics);
    produce(early, early.user, ['--count', '5', '--partitions', '1', '--seed', '30']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const schema = early.pipeline(early.bid).sourceSchema;
    const later = Array.from({ length: 300 }, (_, i) => sampleRecord(schema, 200 + i, { seed: 29, malformedRatio: 0 }));
    await expectExactlyOnce({ ...p, pipeline: early.pipeline }, early.bid, 'parsed_events', later);
  }, 300_000);

  it("starts a new pipeline at the consumer group's committed offsets with scan_mode group-offsets", async () => {
    const p = runtimeProject({ bidScanMode: 'group-offsets' });
    produce(p, p.bid, ['--count', '400', '--partitions', '1', '--seed', '31']);
    produce(p, p.user, ['--count', '5', '--partitions', '1', '--seed', '32']);
    const admin = createKafka(p.config.kafka).admin();
    await admin.connect();
    await admin.setOffsets({ groupId: p.pipeline(p.bid).groupId, topic: p.bid, partitions: [{ partition: 0, offset: '150' }] });
    await admin.disconnect();
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    // One partition: offsets are the sample indexes, so the group's 150 means records 150..399.
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 400, 31, 0).slice(150));
  }, 300_000);
});
