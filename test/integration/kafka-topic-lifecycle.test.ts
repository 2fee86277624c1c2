// A topic that goes away under a running pipeline, against the real broker: deleted and recreated
// (its offsets start again at 0, below the pipeline's position), or deleted for good (the broker no
// longer knows it, as when a broker of another cluster answers at the same address). Tables are
// read back with pyiceberg.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { sampleRecord } from '../../src/tools/sample-events.js';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { ensureKafka } from '../helpers/kafka.js';
import { logLines, metricsUrl, scrape, sleep } from '../helpers/faults.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, readTable, startRuntime, type RuntimeProject, runtimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

async function withAdmin<T>(p: RuntimeProject, use: (admin: ReturnType<ReturnType<typeof createKafka>['admin']>) => Promise<T>): Promise<T> {
  const admin = createKafka(p.config.kafka).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the topic and waits until the broker no longer lists it. */
async function deleteTopic(p: RuntimeProject, topic: string): Promise<void> {
  await withAdmin(p, async (admin) => {
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    for (let i = 0; i < 120 && (await admin.listTopics()).includes(topic); i++) await sleep(250);
    expect(await admin.listTopics()).not.toContain(topic);
  });
}

/** Polls the table until it holds `rows` rows or `ms` pass; returns the last count seen. */
async function waitForRows(p: RuntimeProject, table: string, rows: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let seen = -1;
  while (Date.now() < deadline) {
    // Until the runtime has created its catalog file there is nothing to open yet.
    seen = await readTable(p, table, ['user_id']).then(
      (t) => t.rows.length,
      () => -1,
    );
    if (seen >= rows) return seen;
    await sleep(1_000);
  }
  return seen;
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('a topic that goes away under a running pipeline', () => {
  it('deleted, recreated and written again: the new records land, exactly once, and the reset is logged', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '1000', '--partitions', '2', '--seed', '60']);
    produce(p, p.user, ['--count', '5', '--partitions', '1', '--seed', '61']);
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
    try {
      expect(await waitForRows(p, 'parsed_events', 1000, 120_000)).toBe(1000);
      await deleteTopic(p, p.bid);
      await withAdmin(p, (admin) => ensureTopic(admin, p.bid, 2));
      // Records of the same sample stream past the first 1,000: distinct event times, so each is
      // known by identity in the table.
      const schema = p.pipeline(p.bid).sourceSchema;
      const fresh = Array.from({ length: 100 }, (_, i) => sampleRecord(schema, 1000 + i, { seed: 60, malformedRatio: 0 }));
      // Idempotent: a send retried against a topic whose leaders are just being elected must not
      // write a batch twice, or the topic itself would hold duplicates.
      const producer = createKafka(p.config.kafka).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic: p.bid, messages: fresh.map((r) => ({ key: r.key, value: r.value })) });
      await producer.disconnect();
      const ends = await withAdmin(p, (admin) => admin.fetchTopicOffsets(p.bid));
      expect(ends.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)).toBe(100);

      expect(await waitForRows(p, 'parsed_events', 1100, 90_000)).toBe(1100);
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
      await expectExactlyOnce(p, p.bid, 'parsed_events', [...expectedRecords(p, p.bid, 1000, 60, 0), ...fresh]);
      // The jump back is logged with the range it spans, per partition that had moved past the end.
      const resets = logLines(run.output(), /past the end of the partition/, p.bid);
      expect(resets.length).toBeGreaterThan(0);
      for (const r of resets) expect(r).toMatchObject({ topic: p.bid, position: expect.any(String), end: expect.any(String), resetTo: '0' });
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 400_000);

  it('deleted for good: degraded with KAFKA_TOPIC_MISSING, and no thread spins', async () => {
    const p = runtimeProject({ runtimeExtra: '  restart: { max_failures: 2, initial_backoff: "100ms", max_backoff: "2s" }' });
    produce(p, p.bid, ['--count', '200', '--partitions', '2', '--seed', '62']);
    produce(p, p.user, ['--count', '5', '--partitions', '1', '--seed', '63']);
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '300ms'], { STREAMBERG_METRICS_EPHEMERAL: '1' });
    try {
      const url = await metricsUrl(run);
      expect(await waitForRows(p, 'parsed_events', 200, 120_000)).toBe(200);
      await deleteTopic(p, p.bid);
      await run.waitFor(/pipeline degraded: KAFKA_TOPIC_MISSING/, 90_000);
      expect(await scrape(url, 'streamberg_pipeline_degraded', `pipeline="${p.bid}"`)).toBe(1);
      // The whole process over a few seconds, every thread included: a fetch loop spinning on a
      // topic the broker no longer knows holds a core. Half a core is far above an idle runtime's
      // use, far below a spin's: a bound on behaviour, not a timing.
      const ticksPerSecond = 100;
      const before = cpuTicks(run.child.pid!);
      const start = process.hrtime.bigint();
      await sleep(5_000);
      const cores = (cpuTicks(run.child.pid!) - before) / ticksPerSecond / (Number(process.hrtime.bigint() - start) / 1e9);
      expect(cores).toBeLessThan(0.5);
      // Still degraded, not failed for good, and never reported running with the topic gone.
      expect(await scrape(url, 'streamberg_pipeline_degraded', `pipeline="${p.bid}"`)).toBe(1);
      expect(run.output()).not.toMatch(/pipeline failed for good/);
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 400_000);
});
