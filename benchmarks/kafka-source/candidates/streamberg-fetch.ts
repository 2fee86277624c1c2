// The runtime's own source stage: the fetch loop (src/kafka/fetch-loop.ts: Fetch requests over
// kafkajs' connections, answers kept as bytes and cut into chunks at batch boundaries) and the
// record-batch decoder the transform workers run (decompress, CRC-32C, records into one RawBatch).
// Here both run on one thread, so the figure is the whole per-record cost of reading a topic up
// to the JSON decoder; in the runtime the decoding is spread over the transform pool.

import { createKafka } from '../../../src/kafka/client.js';
import { FetchLoop } from '../../../src/kafka/fetch-loop.js';
import { decodeRecordBatches } from '../../../src/kafka/record-batch.js';
import type { Candidate } from '../candidate.js';
import { isEntry, nodeLaunch, runNodeChild } from '../node-child.js';

export const candidate: Candidate = {
  name: 'streamberg-fetch',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  unavailable: () => null,
  version: () => 'this checkout',
  launch: (input) => nodeLaunch(import.meta.url, input),
};

if (isEntry(import.meta.url)) {
  runNodeChild(async (input, tally) => {
    const kafka = createKafka({ bootstrapServers: [input.bootstrap], clientId: 'bench-streamberg', security: { protocol: 'PLAINTEXT' } });
    const loop = new FetchLoop(kafka, input.topic, `bench-streamberg-${process.pid}`, {
      isolationLevel: 'read_committed',
      maxChunkRecords: 4096,
      maxBytesInFlight: 32 * 1024 * 1024,
    });
    let failure: Error | undefined;
    const start = new Map(Object.entries(input.starts).map(([p, o]) => [Number(p), BigInt(o)]));
    await loop.run(start, {
      onChunk: (chunk) => {
        const d = decodeRecordBatches(chunk.bytes, { topic: chunk.topic, partition: chunk.partition, fromOffset: chunk.fromOffset, abortedTransactions: chunk.abortedTransactions });
        const { raw } = d;
        for (let i = 0; i < raw.count; i++) tally.add(raw.partition, Number(raw.offsets[i]!), raw.valueOffsets[i + 1]! - raw.valueOffsets[i]!);
        loop.release(chunk.weight);
      },
      onPosition: () => {},
      onError: (err) => (failure = err),
      log: () => {},
    });
    await Promise.race([tally.whenDone(), new Promise((_, reject) => setInterval(() => failure && reject(failure), 100).unref())]);
    await loop.close();
  });
}
