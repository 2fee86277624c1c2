// @platformatic/kafka: a maintained pure-JavaScript client that decodes every codec (gzip and
// zstd through node:zlib, snappy and lz4 through its wasm utilities). Read through its messages
// stream, the consumption path its documentation describes, as fast as it goes here: no offset
// commits, values left as Buffers (no deserializer), counted in 'data' handlers (an async
// iterator costs a promise per record).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Consumer, type Message } from '@platformatic/kafka';
import type { Candidate } from '../candidate.js';
import { isEntry, nodeLaunch, runNodeChild } from '../node-child.js';

/**
 * Fetch sizes. FETCH_MAX_BYTES and the per-partition cap are tuning knobs; the values are the
 * fastest of the ones tried on W1 (see benchmarks/README.md): large fetches amortize the
 * per-request metadata look-up the stream does before each fetch.
 */
const FETCH_MAX_BYTES = Number(process.env.BENCH_PLATFORMATIC_MAX_BYTES ?? 16 * 1024 * 1024);
const FETCH_MAX_BYTES_PER_PARTITION = Number(process.env.BENCH_PLATFORMATIC_MAX_BYTES_PER_PARTITION ?? 2 * 1024 * 1024);
const HIGH_WATER_MARK = Number(process.env.BENCH_PLATFORMATIC_HIGH_WATER_MARK ?? 1024);

export const candidate: Candidate = {
  name: 'platformatic',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  unavailable: () => null,
  // The package exports no package.json; its version sits beside its entry point's folder.
  version: () => {
    const main = createRequire(import.meta.url).resolve('@platformatic/kafka');
    return (JSON.parse(readFileSync(path.join(path.dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
  },
  launch: (input) => nodeLaunch(import.meta.url, input),
};

if (isEntry(import.meta.url)) {
  runNodeChild(async (input, tally) => {
    const consumer = new Consumer({
      clientId: 'bench-platformatic',
      bootstrapBrokers: [input.bootstrap],
      groupId: `bench-platformatic-${process.pid}-${Date.now()}`,
    });
    const stream = await consumer.consume({
      topics: [input.topic],
      mode: 'earliest',
      autocommit: false,
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      maxWaitTime: 500,
      highWaterMark: HIGH_WATER_MARK,
    });
    stream.on('data', (m: Message) => tally.add(m.partition, Number(m.offset), m.value?.length ?? 0));
    const failed = new Promise<never>((_, reject) => stream.once('error', reject));
    await Promise.race([tally.whenDone(), failed]);
    await stream.close();
    await consumer.close(true);
    return { maxBytes: FETCH_MAX_BYTES, maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION, highWaterMark: HIGH_WATER_MARK };
  });
}
