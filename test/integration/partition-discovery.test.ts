// Partitions added to a topic while its pipeline runs (issue 19): discovered within the interval,
// read from their earliest offset whatever scan_mode says, and taken into the committed position,
// so that a restart resumes them exactly once. With scan_mode latest-offset, everything produced
// to such a partition before it is read would otherwise be lost.

import { beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { TopicAdmin } from '../../src/kafka/source.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime, type RuntimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function raisePartitions(p: RuntimeProject, topic: string, count: number): Promise<void> {
  const admin = createKafka(p.config.kafka).admin();
  await admin.connect();
  try {
    await admin.createPartitions({ topicPartitions: [{ topic, count }] });
    // The broker lists the new partitions before their leaders may be ready to take records.
    for (let i = 0; i < 50; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const parts = meta.topics[0]?.partitions ?? [];
      if (parts.length === count && parts.every((x) => x.leader >= 0)) break;
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

async function endOffsets(p: RuntimeProject, topic: string): Promise<Map<number, number>> {
  const admin = createKafka(p.config.kafka).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** The pipeline's newest committed offsets, from the table's snapshot summaries. */
async function committedOffsets(p: RuntimeProject): Promise<Map<number, number>> {
  const { snapshots } = await readTable(p, 'parsed_events', ['session_id']);
  const all = snapshots.map((s) => s[`kafka.offsets.g-${p.bid}`]).filter((o): o is string => o !== undefined);
  const last = all.at(-1);
  if (last === undefined) return new Map();
  const offsets = (JSON.parse(last) as Record<string, Record<string, number>>)[p.bid] ?? {};
  return new Map(Object.entries(offsets).map(([k, v]) => [Number(k), v]));
}

/** Polls the table (pyiceberg) until `done` holds for its committed offsets; fails past `timeoutMs`. */
async function waitForCommitted(p: RuntimeProject, done: (offsets: Map<number, number>) => boolean, what: string, timeoutMs = 90_000): Promise<Map<number, number>> {
  const until = Date.now() + timeoutMs;
  let last = new Map<number, number>();
  while (Date.now() < until) {
    last = await committedOffsets(p);
    if (done(last)) return last;
    await sleep(1500);
  }
  throw new Error(`${what}: not committed within ${timeoutMs / 1000} s; last committed offsets ${JSON.stringify([...last])}`);
}

const covers = (ends: Map<number, number>) => (committed: Map<number, number>) => [...ends].every(([part, end]) => (committed.get(part) ?? -1) >= end);

describe('partition discovery while running', () => {
  it('TopicAdmin, asked before partitions were added, lists them and their offsets afterwards (what discovery asks)', async () => {
    const p = runtimeProject();
    const kafka = createKafka(p.config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopic(admin, p.bid, 2);
    await admin.disconnect();
    const topicAdmin = new TopicAdmin(kafka, p.bid, `g-${p.bid}`);
    try {
      expect([...(await topicAdmin.initialOffsets('earliest-offset')).keys()].sort()).toEqual([0, 1]);
      await raisePartitions(p, p.bid, 3);
      expect(await topicAdmin.partitions()).toEqual([0, 1, 2]);
      // The same admin client, whose metadata was read with two partitions, must answer for the third.
      expect([...(await topicAdmin.initialOffsets('earliest-offset')).keys()].sort()).toEqual([0, 1, 2]);
      expect([...(await topicAdmin.offsetRanges()).keys()].sort()).toEqual([0, 1, 2]);
    } finally {
      await topicAdmin.close();
    }
  }, 120_000);

  it('reads partitions added while running from their earliest offset, with scan_mode latest-offset, each record once', async () => {
    const p = runtimeProject({ bidScanMode: 'latest-offset', runtimeExtra: '  partition_discovery_interval: "1s"' });
    produce(p, p.bid, ['--count', '100', '--partitions', '2', '--seed', '61']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '62']);
    const run = startRuntime(p, ['--checkpoint-interval', '1s', '--metrics-port', '0']);
    try {
      await run.waitFor(new RegExp(`pipeline running","pipeline":"${p.bid}"`));
      // After the start, on the topic's two partitions: read by latest-offset.
      produce(p, p.bid, ['--count', '200', '--start-index', '100', '--seed', '61']);
      await raisePartitions(p, p.bid, 4);
      // Spread by key over all four partitions, the new ones likely before the runtime sees them.
      produce(p, p.bid, ['--count', '400', '--start-index', '300', '--seed', '61']);
      const ends = await endOffsets(p, p.bid);
      expect(ends.get(2)! > 0 && ends.get(3)! > 0, JSON.stringify([...ends])).toBe(true);

      await run.waitFor(/partitions discovered: 2 → 4/);
      expect(run.output()).toMatch(new RegExp(`"msg":"partitions discovered: 2 → 4[^"]*","pipeline":"${p.bid}","topic":"${p.bid}","from":2,"to":4,"partitions":\\[2,3\\]`));
      // While it runs: every record of all four partitions committed.
      const committed = await waitForCommitted(p, covers(ends), 'records of the added partitions');
      expect([...committed.keys()].sort()).toEqual([0, 1, 2, 3]);
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 700, 61, 0).slice(100));
  }, 300_000);

  it('resumes added partitions exactly once after a kill -9 that follows their first commits', async () => {
    const p = runtimeProject({ bidScanMode: 'latest-offset', runtimeExtra: '  partition_discovery_interval: "1s"' });
    produce(p, p.bid, ['--count', '50', '--partitions', '2', '--seed', '63']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '64']);
    const run = startRuntime(p, ['--checkpoint-interval', '1s', '--metrics-port', '0']);
    try {
      await run.waitFor(new RegExp(`pipeline running","pipeline":"${p.bid}"`));
      await raisePartitions(p, p.bid, 4);
      produce(p, p.bid, ['--count', '400', '--start-index', '50', '--seed', '63']);
      const ends = await endOffsets(p, p.bid);
      expect(ends.get(2)! > 0 && ends.get(3)! > 0, JSON.stringify([...ends])).toBe(true);
      await waitForCommitted(p, covers(ends), 'records of the added partitions');
      // More records, and the process dies with some of them read and not committed.
      produce(p, p.bid, ['--count', '300', '--start-index', '450', '--seed', '63']);
      run.child.kill('SIGKILL');
      await run.exited;
    } finally {
      run.child.kill('SIGKILL');
    }
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    expect(rest.output).toMatch(/resuming from the last committed checkpoint/);
    const committed = await committedOffsets(p);
    expect(committed).toEqual(await endOffsets(p, p.bid));
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 750, 63, 0).slice(50));
  }, 300_000);
  it('with discovery off, reads partitions added while it ran from their earliest offset at the next start', async () => {
    const p = runtimeProject({ bidScanMode: 'latest-offset', runtimeExtra: '  partition_discovery_interval: "off"' });
    produce(p, p.bid, ['--count', '50', '--partitions', '2', '--seed', '65']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '66']);
    const run = startRuntime(p, ['--checkpoint-interval', '1s', '--metrics-port', '0']);
    try {
      await run.waitFor(new RegExp(`pipeline running","pipeline":"${p.bid}"`));
      await raisePartitions(p, p.bid, 4);
      produce(p, p.bid, ['--count', '300', '--start-index', '50', '--seed', '65']);
      const ends = await endOffsets(p, p.bid);
      expect(ends.get(2)! > 0 && ends.get(3)! > 0, JSON.stringify([...ends])).toBe(true);
      await waitForCommitted(p, covers(new Map([[0, ends.get(0)!], [1, ends.get(1)!]])), 'records of the first two partitions');
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(run.output()).not.toMatch(/partitions discovered/);
    expect([...(await committedOffsets(p)).keys()].sort()).toEqual([0, 1]);
    // The next start: partitions 2 and 3 are not in the committed position, so from their log start.
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    expect(rest.output).toMatch(/partitions without a committed offset start from their earliest offset.*"partitions":\[2,3\]/);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 350, 65, 0).slice(50));
  }, 300_000);
});
