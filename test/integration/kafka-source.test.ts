// The fetch path against the real broker: topics written by an independent producer (kcat, on
// librdkafka) in every compression codec, transactions committed and aborted, a record batch
// corrupted on the broker's disk, and the broker restarted under a running pipeline. Every table
// is read back with pyiceberg.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import type { SampleRecord } from '../../src/tools/sample-events.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { BOOTSTRAP, KAFKA_PORT, ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime, type RuntimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

async function createTopic(p: RuntimeProject, topic: string, partitions: number): Promise<void> {
  const admin = createKafka(p.config.kafka).admin();
  await admin.connect();
  await ensureTopic(admin, topic, partitions);
  await admin.disconnect();
}

/** Produces the records' values with kcat in one compression codec (keyless: spread at random). */
function kcatProduce(topic: string, records: SampleRecord[], codec: string): void {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kcat-')), 'values');
  for (const r of records) if (r.value.includes('\n')) throw new Error(`sample ${r.index} holds a newline`);
  writeFileSync(file, records.map((r) => r.value).join('\n') + '\n');
  execFileSync('kcat', ['-P', '-b', BOOTSTRAP, '-t', topic, '-z', codec, '-X', 'linger.ms=20', '-l', file], { timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('the Kafka source', () => {
  it('reads every compression codec, mixed in one topic, exactly once, and a bounded run ends', async () => {
    const p = runtimeProject();
    await createTopic(p, p.bid, 3);
    produce(p, p.user, ['--count', '50', '--partitions', '1', '--seed', '40']);
    const records = expectedRecords(p, p.bid, 5 * 1200, 41, 0.02);
    CODECS.forEach((codec, i) => kcatProduce(p.bid, records.slice(i * 1200, (i + 1) * 1200), codec));
    const run = await runToExit(p, ['--bounded', '--parallelism', '2', '--checkpoint-interval', '500ms', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', records);
    // The consumer group holds the final offsets too, for lag tools, though nothing joined it.
    const admin = createKafka(p.config.kafka).admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: p.pipeline(p.bid).groupId, topics: [p.bid] });
    const ends = await admin.fetchTopicOffsets(p.bid);
    await admin.disconnect();
    expect(committed!.partitions.map((x) => [x.partition, x.offset]).sort()).toEqual(ends.map((x) => [x.partition, x.high]).sort());
    expect(run.output).not.toContain('could not commit offsets to the consumer group');
  }, 300_000);

  it('hides aborted transactions with read_committed and shows them with read_uncommitted', async () => {
    const committed = runtimeProject();
    await createTopic(committed, committed.bid, 2);
    produce(committed, committed.user, ['--count', '5', '--partitions', '1', '--seed', '42']);
    const records = expectedRecords(committed, committed.bid, 900, 43, 0);
    const kafka = createKafka(committed.config.kafka);
    const producer = kafka.producer({ transactionalId: `tx-${committed.bid}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const [i, outcome] of (['commit', 'abort', 'commit'] as const).entries()) {
      const tx = await producer.transaction();
      await tx.send({ topic: committed.bid, messages: records.slice(i * 300, (i + 1) * 300).map((r) => ({ key: r.key, value: r.value })) });
      await (outcome === 'commit' ? tx.commit() : tx.abort());
    }
    await producer.disconnect();

    const run = await runToExit(committed, ['--bounded', '--metrics-port', '0'], {}, 120_000);
    expect(run.code, run.output).toBe(0);
    await expectExactlyOnce(committed, committed.bid, 'parsed_events', [...records.slice(0, 300), ...records.slice(600)]);

    // The same topics read by a second project (its own group and warehouse), read_uncommitted.
    const all = runtimeProject({ bidIsolationLevel: 'read_uncommitted' });
    const topics = readFileSync(path.join(all.configDir, 'topics.yaml'), 'utf8').replaceAll(all.bid, committed.bid).replaceAll(all.user, committed.user);
    writeFileSync(path.join(all.configDir, 'topics.yaml'), topics);
    const again = await runToExit(all, ['--bounded', '--metrics-port', '0'], {}, 120_000);
    expect(again.code, again.output).toBe(0);
    await expectExactlyOnce({ ...all, pipeline: committed.pipeline }, committed.bid, 'parsed_events', records);
  }, 300_000);

  it('fails with an error naming topic, partition and offset when a record batch is corrupt on the broker', async () => {
    const p = runtimeProject({ runtimeExtra: '  restart: { max_failures: 2, initial_backoff: "100ms", max_backoff: "200ms" }' });
    await createTopic(p, p.bid, 1);
    produce(p, p.user, ['--count', '5', '--partitions', '1', '--seed', '44']);
    kcatProduce(p.bid, expectedRecords(p, p.bid, 200, 45, 0), 'none');
    // Flip one byte inside the first batch's records, on the broker's disk: the broker checks
    // CRCs when it accepts a batch, not when it serves one, so the fetch carries the damage.
    const dir = path.join(ROOT, '.run', `kafka-${KAFKA_PORT}`, 'data', `${p.bid}-0`);
    const segment = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.log'))!);
    const bytes = readFileSync(segment);
    expect(bytes.length).toBeGreaterThan(200);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(segment, bytes);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0'], {}, 120_000);
    expect(run.code).toBe(1);
    expect(run.output).toContain('KAFKA_BATCH_CORRUPT');
    expect(run.output).toMatch(new RegExp(`CRC-32C mismatch[^\\n]*offset 0[^\\n]*${p.bid}-0|${p.bid}-0[^\\n]*offset 0[^\\n]*CRC-32C mismatch`));
    // Nothing of the damaged partition was committed.
    expect((await readTable(p, 'parsed_events', ['user_id'])).rows.length).toBe(0);
  }, 300_000);

  it('rides out a broker restart under a running pipeline: exactly once', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '30000', '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '46']);
    produce(p, p.user, ['--count', '5000', '--partitions', '2', '--seed', '47']);
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
    await run.waitFor(/pipeline running/, 60_000);
    const kafkaSh = (cmd: string) => execFileSync('bash', [path.join(ROOT, 'scripts/kafka.sh'), cmd], { env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT) }, stdio: 'ignore', timeout: 180_000 });
    const beforeOutage = run.output().length;
    kafkaSh('stop');
    await new Promise((r) => setTimeout(r, 2_000));
    kafkaSh('start');
    // Running on: a checkpoint commits after the broker is back (whether the fetch loop rode the
    // outage out or a component failed and its pipeline restarted from the table).
    const mark = run.output().length;
    const deadline = Date.now() + 120_000;
    while (!run.output().slice(mark).includes('checkpoint committed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(run.output().slice(mark)).toContain('checkpoint committed');
    // The runtime met the outage: a fetch loop found the broker gone, or a pipeline failed and
    // restarted. (Lines written while kafka.sh ran are read only after it returns, since
    // execFileSync holds the event loop: everything since the stop is searched.)
    const duringOutage = run.output().slice(beforeOutage);
    expect(duringOutage, duringOutage.slice(-3000)).toMatch(/"fetching is failing; retrying until it passes"|"pipeline degraded: |"pipeline failed; restarting from its last checkpoint/);
    run.child.kill('SIGTERM');
    expect(await run.exited, run.output()).toBe(0);
    const finish = await runToExit(p, ['--bounded', '--parallelism', '2', '--metrics-port', '0']);
    expect(finish.code, finish.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 30000, 46, 0.01));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 5000, 47, 0));
  }, 600_000);
});
