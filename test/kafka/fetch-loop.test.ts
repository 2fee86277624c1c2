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
