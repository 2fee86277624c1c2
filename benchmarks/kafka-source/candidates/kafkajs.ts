// kafkajs 2.2.4, the runtime's consumer today, configured as src/kafka/source.ts configures it
// (1 MB per partition per fetch, 500 ms long polls, eachBatch, no offset commits), so the figures
// are the ceiling of today's source before it packs anything. kafkajs decodes gzip itself and
// needs plug-ins for the other codecs; it runs on uncompressed and gzip topics only.

import { createRequire } from 'node:module';
import { Kafka, logLevel } from 'kafkajs';
import type { Candidate } from '../candidate.js';
import { isEntry, nodeLaunch, runNodeChild } from '../node-child.js';

export const candidate: Candidate = {
  name: 'kafkajs',
  codecs: ['none', 'gzip'],
  unavailable: () => null,
  version: () => (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version,
  launch: (input) => nodeLaunch(import.meta.url, input),
};

if (isEntry(import.meta.url)) {
  runNodeChild(async (input, tally) => {
    const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [input.bootstrap], logLevel: logLevel.WARN });
    // kafkajs has no consumer without a group; a fresh group per run starts at the earliest offset.
    const consumer = kafka.consumer({
      groupId: `bench-kafkajs-${process.pid}-${Date.now()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 10_000,
      maxBytesPerPartition: 1024 * 1024,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: input.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) tally.add(batch.partition, Number(m.offset), m.value?.length ?? 0);
      },
    });
    await tally.whenDone();
    await consumer.disconnect();
  });
}
