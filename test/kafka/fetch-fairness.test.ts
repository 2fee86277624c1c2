// Fair fetches, and the room for chunks in flight, through the fetch loop against a fake broker
// that fills a Fetch response as Kafka does: partitions in the order asked, each up to its own byte limit, the whole response up to the
// request's; a batch larger than a limit comes back whole only for the first partition with data
// (KIP-74), and a later one gets nothing (or, as a broker may cut it, the batch's first bytes).

import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { FetchLoop, type FetchHandlers } from '../../src/kafka/fetch-loop.js';
import type { FetchedPartition, FetchResponse } from '../../src/kafka/fetch-response.js';
import type { KafkajsBroker, KafkajsCluster, KafkajsRequest } from '../../src/kafka/kafkajs-cluster.js';
import type { RecordChunk } from '../../src/kafka/record-chunks.js';
import { buildRecordBatch } from '../helpers/record-batch-builder.js';

const TOPIC = 't';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Asked {
  maxBytes: number;
  partitions: Array<{ partition: number; offset: bigint; maxBytes: number }>;
}

/** Reads back a Fetch v11 request as kafkajs encoded it (Kafka protocol guide, "Fetch API"). */
async function decodeRequest(request: KafkajsRequest): Promise<Asked> {
  const bytes = ((await request.encode()) as { buffer: Buffer }).buffer;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12; // replica_id, max_wait_ms, min_bytes
  const maxBytes = view.getInt32(at);
  at += 4 + 1 + 4 + 4; // max_bytes, isolation_level, session_id, session_epoch
  const partitions: Asked['partitions'] = [];
  for (let t = view.getInt32((at += 4) - 4); t > 0; t--) {
    at += 2 + view.getInt16(at);
    for (let p = view.getInt32((at += 4) - 4); p > 0; p--) {
      const partition = view.getInt32(at);
      const offset = view.getBigInt64(at + 8);
      const max = view.getInt32(at + 24);
      partitions.push({ partition, offset, maxBytes: max });
      at += 28;
    }
  }
  return { maxBytes, partitions };
}

/** A broker holding `logs` (per partition, batches of one record each, offsets from 0). */
function fakeBroker(logs: Map<number, Uint8Array[]>, cut: 'empty' | 'partial') {
  const asked: Asked[] = [];
  /** Per answer, the partitions it carried records of. */
  const served: number[][] = [];
  const answer = (req: Asked): FetchResponse => {
    let room = req.maxBytes;
    let dataYet = false;
    const partitions: FetchedPartition[] = req.partitions.map(({ partition, offset, maxBytes }) => {
      const log = logs.get(partition)!;
      const taken: Uint8Array[] = [];
      let size = 0;
      for (let o = Number(offset); o < log.length; o++) {
        const batch = log[o]!;
        const fits = size + batch.length <= Math.min(maxBytes, room);
        if (!fits && !(taken.length === 0 && !dataYet)) {
          // A later partition whose next batch does not fit: nothing, or its first bytes.
          if (taken.length === 0 && cut === 'partial' && room > 12) taken.push(batch.subarray(0, Math.min(maxBytes, room, batch.length - 1)));
          break;
        }
        taken.push(batch);
        size += batch.length;
        if (!fits) break; // the first batch of the first partition with data, whole, beyond the limits
      }
      const records = Buffer.concat(taken);
      room -= records.length;
      if (records.length > 0) dataYet = true;
      const end = BigInt(log.length);
      return { partition, errorCode: 0, highWatermark: end, lastStableOffset: end, logStartOffset: 0n, abortedTransactions: null, records };
    });
    served.push(partitions.filter((p) => p.records.length > 0).map((p) => p.partition));
    return { throttleTimeMs: 0, errorCode: 0, topics: [{ topic: TOPIC, partitions }] };
  };
  const broker = {
    connectionPool: {
      send: async ({ request }: { request: KafkajsRequest }) => {
        const req = await decodeRequest(request);
        asked.push(req);
        await sleep(1);
        return answer(req);
      },
    },
    offsetCommit: async () => ({}),
  } as unknown as KafkajsBroker;
  const cluster: KafkajsCluster = {
    connect: async () => {},
    disconnect: async () => {},
    refreshMetadata: async () => {},
    addTargetTopic: async () => {},
    findLeaderForPartitions: (_topic, partitions) => ({ '1': partitions }),
    findBroker: async () => broker,
    findGroupCoordinator: async () => broker,
  };
  return { cluster, asked, served };
}

function batches(count: number, valueBytes: number): Uint8Array[] {
  return Array.from({ length: count }, (_, o) => buildRecordBatch({ baseOffset: BigInt(o), records: [{ value: 'v'.repeat(valueBytes) }] }));
}

/** Runs a fetch loop over the fake broker until `requests` requests were answered; records per partition. */
async function fetchFor(logs: Map<number, Uint8Array[]>, cut: 'empty' | 'partial', options: { maxBytes: number; partitionMaxBytes: number }, requests: number) {
  const { cluster, asked, served } = fakeBroker(logs, cut);
  const loop = new FetchLoop(
    new Kafka({ brokers: ['127.0.0.1:1'] }),
    TOPIC,
    'g',
    { isolationLevel: 'read_uncommitted', maxChunkRecords: 1000, maxBytesInFlight: 1 << 30, maxWaitMs: 0, stallMs: 5_000, ...options },
    () => cluster,
  );
  const next = new Map<number, bigint>();
  const errors: unknown[] = [];
  const handlers: FetchHandlers = {
    onChunk: (c) => next.set(c.partition, c.nextOffset),
    onPosition: () => {},
    onError: (e) => errors.push(e),
    trouble: (e) => e && errors.push(e),
    log: () => {},
  };
  await loop.run(new Map([...logs.keys()].map((p) => [p, 0n])), handlers);
  while (asked.length < requests && errors.length === 0) await sleep(5);
  await loop.close();
  return { next, asked, served, errors };
}

describe('fetch fairness', () => {
  it('rotates the partition order, so every backlogged partition is served when one response holds only two', async () => {
    const logs = new Map([0, 1, 2, 3].map((p) => [p, batches(200, 100)]));
    const size = logs.get(0)![0]!.length;
    // Room for two partitions of four batches each per response.
    const { next, served, errors } = await fetchFor(logs, 'empty', { maxBytes: 8 * size, partitionMaxBytes: 4 * size }, 24);
    expect(errors).toEqual([]);
    // No partition waits while others are served: each gets records in every three answers.
    for (let i = 0; i + 3 <= 24; i++) expect(new Set(served.slice(i, i + 3).flat()), `answers ${i}..${i + 2}`).toEqual(new Set([0, 1, 2, 3]));
    // 24 requests of 8 batches: 192 batches, and no partition left behind.
    for (const p of [0, 1, 2, 3]) expect(Number(next.get(p) ?? 0n), `partition ${p}`).toBeGreaterThanOrEqual(32);
  });

  it.each(['empty', 'partial'] as const)('reads a batch larger than the partition limit behind a busy partition (a later partition answered %s)', async (cut) => {
    const busy = batches(500, 100);
    const big = [buildRecordBatch({ baseOffset: 0n, records: [{ value: 'B'.repeat(5000) }] }), ...batches(3, 100).slice(1)];
    const logs = new Map([
      [0, busy],
      [1, big],
    ]);
    const size = busy[0]!.length;
    const { next, errors } = await fetchFor(logs, cut, { maxBytes: 20 * size, partitionMaxBytes: 10 * size }, 12);
    expect(big[0]!.length).toBeGreaterThan(10 * size);
    expect(errors).toEqual([]);
    // The big batch and the two after it were read, while the busy partition kept being served.
    expect(next.get(1)).toBe(3n);
    expect(Number(next.get(0) ?? 0n)).toBeGreaterThan(50);
  });
});

describe('room for chunks in flight', () => {
  /** Batches of one record each, offsets from `from`: compressed ones hold a value that shrinks ~20x. */
  const log = (from: number, count: number, codec: 'snappy' | 'none') =>
    Array.from({ length: count }, (_, i) => buildRecordBatch({ baseOffset: BigInt(from + i), codec, records: [{ value: `${from + i}:`.padEnd(2000, 'v') }] }));

  it('counts a compressed chunk as the bytes it inflates to, learns that from decoded chunks, and fetches only while there is room', async () => {
    const logs = new Map([[0, log(0, 4, 'snappy')]]);
    const { cluster, asked } = fakeBroker(logs, 'empty');
    // Room for less than one chunk: every answer fills it, and nothing is asked until all is released.
    const loop = new FetchLoop(new Kafka({ brokers: ['127.0.0.1:1'] }), TOPIC, 'g', { isolationLevel: 'read_uncommitted', maxChunkRecords: 1, maxBytesInFlight: 1, maxWaitMs: 0, stallMs: 5_000 }, () => cluster);
    const chunks: RecordChunk[] = [];
    const errors: unknown[] = [];
    await loop.run(new Map([[0, 0n]]), { onChunk: (c) => chunks.push(c), onPosition: () => {}, onError: (e) => errors.push(e), trouble: (e) => e && errors.push(e), log: () => {} });
    try {
      while (chunks.length < 4 && errors.length === 0) await sleep(5);
      expect(errors).toEqual([]);
      const first = chunks.splice(0);
      for (const c of first) {
        expect(c.compressedBytes).toBe(c.bytes.byteLength);
        // Before anything was decoded: the assumed inflation, between Snappy's and zstd's on JSON.
        expect(c.weight / c.bytes.byteLength).toBeCloseTo(4, 1);
      }
      const answered = asked.length;
      await sleep(50);
      expect(asked.length, 'no fetch while the room is full').toBe(answered);

      // The log grows; decoded, the first chunks turned out to hold 20 bytes of values per compressed byte.
      logs.get(0)!.push(...log(4, 4, 'snappy'), ...log(8, 1, 'none'));
      for (const c of first) loop.release(c.weight, { compressedBytes: c.compressedBytes, valueBytes: 20 * c.compressedBytes });
      while (chunks.length < 5 && errors.length === 0) await sleep(5);
      expect(errors).toEqual([]);
      const [a, b, c, d, plain] = chunks;
      for (const x of [a!, b!, c!, d!]) {
        const ratio = x.weight / x.bytes.byteLength;
        // Moved from the guess towards what was seen, not all the way on four samples.
        expect(ratio).toBeGreaterThan(6);
        expect(ratio).toBeLessThan(20);
      }
      // An uncompressed batch weighs its bytes, whatever compressed ones inflate to.
      expect(plain!.compressedBytes).toBe(0);
      expect(plain!.weight).toBe(plain!.bytes.byteLength);
    } finally {
      await loop.close();
    }
  });
});
