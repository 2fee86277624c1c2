import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { FetchLoop, type FetchHandlers } from '../../src/kafka/fetch-loop.js';
import type { FetchResponse } from '../../src/kafka/fetch-response.js';
import type { KafkajsBroker, KafkajsCluster } from '../../src/kafka/kafkajs-cluster.js';
import type { RecordChunk } from '../../src/kafka/record-chunks.js';
import { TopicAdmin } from '../../src/kafka/source.js';
import { buildRecordBatch } from '../helpers/record-batch-builder.js';

const TOPIC = 't';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One answer of partition 0: the records from offset `from` (three of them), or nothing. */
function answer(from: bigint | null): FetchResponse {
  const records = from === null ? new Uint8Array(0) : buildRecordBatch({ baseOffset: from, records: [0, 1, 2].map((i) => ({ offsetDelta: i, value: `{"i":${Number(from) + i}}` })) });
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, errorCode: 0, highWatermark: 3n, lastStableOffset: 3n, logStartOffset: 0n, abortedTransactions: null, records }] }],
  };
}

/** A cluster of one broker whose Fetch answers come from `send`; it records what was done to it. */
function fakeCluster(send: () => Promise<FetchResponse>): KafkajsCluster & { disconnected: boolean; fetches: number } {
  const broker = {
    connectionPool: {
      send: () => {
        cluster.fetches++;
        return send();
      },
    },
    offsetCommit: async () => ({}),
  } as unknown as KafkajsBroker;
  const cluster = {
    disconnected: false,
    fetches: 0,
    connect: async () => {},
    disconnect: async () => {
      cluster.disconnected = true;
    },
    refreshMetadata: async () => {},
    addTargetTopic: async () => {},
    findLeaderForPartitions: (_topic: string, partitions: number[]) => ({ '1': partitions }),
    findBroker: async () => broker,
    findGroupCoordinator: async () => broker,
  };
  return cluster;
}

/** A loop over the clusters given, in turn, and what it handed on. */
function loopOver(clusters: KafkajsCluster[]) {
  const loop = new FetchLoop(
    new Kafka({ brokers: ['127.0.0.1:1'] }),
    TOPIC,
    'g',
    { isolationLevel: 'read_uncommitted', maxChunkRecords: 100, maxBytesInFlight: 1 << 20, maxWaitMs: 0, stallMs: 200 },
    () => clusters.shift()!,
  );
  const seen = { chunks: [] as RecordChunk[], positions: [] as bigint[], trouble: [] as Array<StreamError | undefined>, logs: [] as string[] };
  const handlers: FetchHandlers = {
    onChunk: (c) => seen.chunks.push(c),
    onPosition: (_p, next) => seen.positions.push(next),
    onError: (e) => {
      throw e;
    },
    trouble: (e) => seen.trouble.push(e),
    log: (_level, msg) => seen.logs.push(msg),
  };
  return { loop, handlers, seen };
}

/** Answers the records at offsets 0..2 once, then nothing, as a broker would. */
function oneBatch(): () => Promise<FetchResponse> {
  let served = false;
  return async () => {
    await sleep(5);
    if (served) return answer(null);
    served = true;
    return answer(0n);
  };
}

describe('FetchLoop', () => {
  it('asks an idle topic with the long poll after a round that brought nothing, and never while a partition is paused', async () => {
    // The broker's answers: records once, then nothing; each request's max_wait_time is kept
    // (the Fetch v11 body starts replica_id, max_wait_time).
    const waits: number[] = [];
    const serve = oneBatch();
    const cluster = fakeCluster(serve);
    const broker = await cluster.findBroker({ nodeId: 1 });
    (broker.connectionPool as unknown as { send: (r: { request: { encode(): Promise<{ buffer: Buffer }> } }) => Promise<FetchResponse> }).send = async ({ request }) => {
      waits.push((await request.encode()).buffer.readInt32BE(4));
      return serve();
    };
    const loop = new FetchLoop(new Kafka({ brokers: ['127.0.0.1:1'] }), TOPIC, 'g', { isolationLevel: 'read_uncommitted', maxChunkRecords: 100, maxBytesInFlight: 1 << 20, maxWaitMs: 1, idleMaxWaitMs: 7 }, () => cluster);
    const { handlers } = loopOver([]);
    await loop.run(new Map([[0, 0n], [1, 0n]]), handlers);
    try {
      const until = async (n: number) => {
        for (let i = 0; i < 500 && waits.length < n; i++) await sleep(5);
      };
      await until(4);
      // The first round and the one after the records: the short poll; then idle: the long one.
      expect(waits.slice(0, 4)).toEqual([1, 1, 7, 7]);
      loop.pause([1]);
      const at = waits.length;
      await until(at + 3);
      // A paused partition's resume must not wait out a long poll: short polls while it is paused.
      expect(waits.slice(at + 1, at + 3)).toEqual([1, 1]);
      loop.resume([1]);
      const back = waits.length;
      await until(back + 3);
      expect(waits.slice(back + 1, back + 3)).toEqual([7, 7]);
    } finally {
      await loop.close();
    }
  });

  it('fetches over fresh connections after a connection failure: a kafkajs connection cut mid-answer never answers again', async () => {
    const cut = fakeCluster(() => Promise.reject(Object.assign(new Error('Closed connection'), { name: 'KafkaJSConnectionClosedError', retriable: true })));
    const fresh = fakeCluster(oneBatch());
    const { loop, handlers, seen } = loopOver([cut, fresh]);
    await loop.run(new Map([[0, 0n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.chunks.length === 0; i++) await sleep(10);
      expect(seen.chunks.map((c) => [c.fromOffset, c.nextOffset])).toEqual([[0n, 3n]]);
      expect(cut.fetches).toBe(1);
      expect(cut.disconnected).toBe(true);
      expect(seen.trouble[0]).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
      expect(seen.trouble.at(-1)).toBeUndefined();
    } finally {
      await loop.close();
    }
  });


  it('abandons a fetch that never gets an answer, fetches again over fresh connections, and drops the late answer', async () => {
    let lateAnswer: ((r: FetchResponse) => void) | undefined;
    // The first cluster loses its first request: its promise never settles until the test says.
    const lost = fakeCluster(() => new Promise<FetchResponse>((resolve) => (lateAnswer = resolve)));
    const fresh = fakeCluster(oneBatch());
    const { loop, handlers, seen } = loopOver([lost, fresh]);
    await loop.run(new Map([[0, 0n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.chunks.length === 0; i++) await sleep(10);
      expect(seen.chunks.map((c) => [c.fromOffset, c.nextOffset])).toEqual([[0n, 3n]]);
      expect(lost.disconnected).toBe(true);
      expect(lost.fetches).toBe(1);
      expect(seen.logs).toContain('a fetch got no answer in time; replacing the broker connections');
      expect(seen.trouble[0]).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
      expect(seen.trouble.at(-1)).toBeUndefined();
      // The lost request's answer turns up after all, holding the same records: dropped.
      lateAnswer!(answer(0n));
      await sleep(50);
      expect(seen.chunks).toHaveLength(1);
      expect(seen.positions).toEqual([3n]);
      expect(fresh.fetches).toBeGreaterThan(1);
    } finally {
      await loop.close();
    }
  });
});

describe('TopicAdmin', () => {
  it('gives up on a question that gets no answer, as an outage, and asks the next one over a fresh client', async () => {
    const admins: Array<{ disconnected: boolean }> = [];
    const kafka = {
      admin: () => {
        const first = admins.length === 0;
        const admin = {
          disconnected: false,
          connect: async () => {},
          disconnect: async () => {
            admin.disconnected = true;
          },
          // The first client lost its request; the second answers.
          fetchTopicOffsets: () => (first ? new Promise(() => {}) : Promise.resolve([{ partition: 0, offset: '7', high: '7', low: '2' }])),
        };
        admins.push(admin);
        return admin;
      },
    } as unknown as Kafka;
    const admin = new TopicAdmin(kafka, TOPIC, 'g', 100);
    await expect(admin.endOffsets()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true, message: expect.stringContaining('no answer') });
    expect(admins[0]!.disconnected).toBe(true);
    expect(await admin.endOffsets()).toEqual(new Map([[0, 7n]]));
    expect(await admin.initialOffsets('earliest-offset')).toEqual(new Map([[0, 2n]]));
    expect(admins).toHaveLength(2);
    await admin.close();
  });
});

/** Partition 0 answered with `errorCode` and no records. */
function failedAnswer(errorCode: number): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, errorCode, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, abortedTransactions: null, records: new Uint8Array(0) }] }],
  };
}

/** A loop on one cluster whose admin lists partition 0 as `range`; what it did, and how often the admin was asked. */
function loopWithRange(cluster: KafkajsCluster, range: { low: string; high: string }, offsetReset?: 'earliest' | 'latest') {
  const asked = { ranges: 0 };
  const kafka = {
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchTopicOffsets: async () => {
        asked.ranges++;
        return [{ partition: 0, offset: range.high, ...range }];
      },
    }),
  } as unknown as Kafka;
  const loop = new FetchLoop(kafka, TOPIC, 'g', { isolationLevel: 'read_uncommitted', maxChunkRecords: 100, maxBytesInFlight: 1 << 20, maxWaitMs: 0, stallMs: 1_000, ...(offsetReset ? { offsetReset } : {}) }, () => cluster);
  const seen = { chunks: [] as RecordChunk[], positions: [] as bigint[], trouble: [] as Array<StreamError | undefined>, logs: [] as Array<{ msg: string; fields: Record<string, unknown> | undefined }>, errors: [] as StreamError[] };
  const handlers: FetchHandlers = {
    onChunk: (c) => seen.chunks.push(c),
    onPosition: (_p, next) => seen.positions.push(next),
    onError: (e) => seen.errors.push(e),
    trouble: (e) => seen.trouble.push(e),
    log: (_level, msg, fields) => seen.logs.push({ msg, fields }),
  };
  return { loop, handlers, seen, asked };
}

/** Answers from `script` in turn (null: records from the offset asked), then nothing. */
function scripted(script: Array<number | null>, from: () => bigint): () => Promise<FetchResponse> {
  return async () => {
    await sleep(2);
    const next = script.shift();
    if (next === undefined) return answer(null);
    return next === null ? answer(from()) : failedAnswer(next);
  };
}

describe('FetchLoop, a topic the broker does not know', () => {
  it('reports KAFKA_TOPIC_MISSING and backs off, instead of spinning on a round with no leader to ask', async () => {
    let lookups = 0;
    const cluster = fakeCluster(oneBatch());
    cluster.findLeaderForPartitions = () => {
      // Without a bound a spinning loop never yields, and the test could not end.
      if (++lookups > 10_000) throw Object.assign(new Error('still asking'), { name: 'KafkaJSError' });
      return {};
    };
    const { loop, handlers, seen } = loopOver([cluster, cluster, cluster, cluster, cluster, cluster]);
    await loop.run(new Map([[0, 0n]]), handlers);
    try {
      await sleep(600);
      expect(seen.trouble[0]).toMatchObject({ code: 'KAFKA_TOPIC_MISSING', retryable: true, domain: 'external' });
      expect(seen.trouble[0]!.message).toContain('partition(s) 0 of topic t');
      expect(lookups).toBeLessThan(20);
      expect(cluster.fetches).toBe(0);
    } finally {
      await loop.close();
    }
  });
});

describe('FetchLoop, OFFSET_OUT_OF_RANGE', () => {
  const OUT_OF_RANGE = 1;

  it('asks again once before anything moves: a transient answer skips nothing', async () => {
    const cluster = fakeCluster(scripted([OUT_OF_RANGE, null], () => 5n));
    const { loop, handlers, seen, asked } = loopWithRange(cluster, { low: '0', high: '8' });
    await loop.run(new Map([[0, 5n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.chunks.length === 0; i++) await sleep(5);
      expect(seen.chunks.map((c) => [c.fromOffset, c.nextOffset])).toEqual([[5n, 8n]]);
      expect(asked.ranges).toBe(0);
      expect(seen.logs).toEqual([]);
    } finally {
      await loop.close();
    }
  });

  it('past the end twice (a recreated topic): reads again from the log start, logged with the range', async () => {
    const cluster = fakeCluster(scripted([OUT_OF_RANGE, OUT_OF_RANGE, null], () => 0n));
    const { loop, handlers, seen, asked } = loopWithRange(cluster, { low: '0', high: '3' });
    await loop.run(new Map([[0, 1000n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.chunks.length === 0; i++) await sleep(5);
      expect(asked.ranges).toBe(1);
      expect(seen.positions[0]).toBe(0n);
      expect(seen.chunks.map((c) => [c.fromOffset, c.nextOffset])).toEqual([[0n, 3n]]);
      expect(seen.logs).toEqual([
        { msg: expect.stringContaining('past the end of the partition'), fields: { topic: TOPIC, partition: 0, position: '1000', logStart: '0', end: '3', resetTo: '0' } },
      ]);
    } finally {
      await loop.close();
    }
  });

  it('past the end with offset reset latest: continues from the end and logs what it skips', async () => {
    const cluster = fakeCluster(scripted([OUT_OF_RANGE, OUT_OF_RANGE], () => 3n));
    const { loop, handlers, seen } = loopWithRange(cluster, { low: '0', high: '3' }, 'latest');
    await loop.run(new Map([[0, 1000n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.positions.length === 0; i++) await sleep(5);
      expect(seen.positions).toEqual([3n]);
      expect(seen.logs[0]!.fields).toMatchObject({ position: '1000', resetTo: '3', skippedFrom: '0', skippedTo: '3' });
    } finally {
      await loop.close();
    }
  });

  it('below the log start: continues from it, with the lost range logged', async () => {
    const cluster = fakeCluster(scripted([OUT_OF_RANGE, OUT_OF_RANGE], () => 40n));
    const { loop, handlers, seen } = loopWithRange(cluster, { low: '40', high: '90' });
    await loop.run(new Map([[0, 10n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.positions.length === 0; i++) await sleep(5);
      expect(seen.positions).toEqual([40n]);
      expect(seen.logs[0]).toMatchObject({ msg: expect.stringContaining('deleted by retention'), fields: { lostFrom: '10', lostTo: '40', lost: '30' } });
    } finally {
      await loop.close();
    }
  });

  it('inside the range by the leader, twice out of range by the fetch: fetched again, nothing skipped', async () => {
    const cluster = fakeCluster(scripted([OUT_OF_RANGE, OUT_OF_RANGE, OUT_OF_RANGE, null], () => 5n));
    const { loop, handlers, seen, asked } = loopWithRange(cluster, { low: '0', high: '8' });
    await loop.run(new Map([[0, 5n]]), handlers);
    try {
      for (let i = 0; i < 300 && seen.chunks.length === 0; i++) await sleep(5);
      expect(seen.chunks.map((c) => [c.fromOffset, c.nextOffset])).toEqual([[5n, 8n]]);
      expect(seen.positions).toEqual([8n]);
      expect(asked.ranges).toBe(2);
      // Out of range a third time: trouble (the pipeline degraded) until the fetch answers again.
      expect(seen.logs.map((l) => l.msg)).toEqual([expect.stringContaining('fetching it again, skipping nothing'), 'fetching is failing; retrying until it passes', 'fetching works again']);
      expect(seen.trouble).toEqual([expect.objectContaining({ code: 'KAFKA_PROTOCOL', retryable: true }), undefined]);
    } finally {
      await loop.close();
    }
  });
  it('fetches a partition added while running from the offset given, and leaves a partition it already fetches where it is', async () => {
    const batch = (from: bigint) => buildRecordBatch({ baseOffset: from, records: [0, 1, 2].map((i) => ({ offsetDelta: i, value: `{"i":${Number(from) + i}}` })) });
    const part = (partition: number, from: bigint) => ({ partition, errorCode: 0, highWatermark: from + 3n, lastStableOffset: from + 3n, logStartOffset: 0n, abortedTransactions: null, records: batch(from) });
    // Every answer holds partition 0's records 0..2 and partition 1's 5..7: what was not asked for, or lies below the position, is not handed on.
    const cluster = fakeCluster(async () => {
      await sleep(5);
      return { throttleTimeMs: 0, errorCode: 0, topics: [{ topic: TOPIC, partitions: [part(0, 0n), part(1, 5n)] }] };
    });
    const { loop, handlers, seen } = loopOver([cluster]);
    await loop.run(new Map([[0, 0n]]), handlers);
    try {
      for (let i = 0; i < 200 && seen.chunks.length === 0; i++) await sleep(10);
      await sleep(50);
      // A chunk starts at the position it was fetched from (records below it are skipped later).
      const fromOffsets = (partition: number) => new Set(seen.chunks.filter((c) => c.partition === partition).map((c) => c.fromOffset));
      expect(fromOffsets(1).size).toBe(0);
      expect([...fromOffsets(0)].every((o) => o === 0n || o === 3n)).toBe(true);
      loop.add(new Map([[0, 99n], [1, 5n]]));
      for (let i = 0; i < 200 && !seen.chunks.some((c) => c.partition === 1); i++) await sleep(10);
      await sleep(50);
      expect(seen.chunks.filter((c) => c.partition === 1).map((c) => [c.fromOffset, c.nextOffset])[0]).toEqual([5n, 8n]);
      // Partition 0 was not moved to 99: it goes on from 3.
      expect([...fromOffsets(0)].every((o) => o === 0n || o === 3n)).toBe(true);
      expect([...fromOffsets(1)].every((o) => o === 5n || o === 8n)).toBe(true);
      expect(seen.positions).toEqual([3n, 8n]);
    } finally {
      await loop.close();
    }
  });
});
