// @confluentinc/kafka-javascript: librdkafka (C) under a Node.js binding. No prebuilt binary is
// reachable from this machine, so its install builds librdkafka from source (minutes on 2 cores);
// the repository does not depend on it. Install it outside the repository and point
// STREAMBERG_CONFLUENT_PATH at that folder (see benchmarks/README.md).
//
// Read through the binding's own API rather than its KafkaJS-compatible layer: partitions
// assigned directly (no group join), records pulled in batches of CONSUME_BATCH with consume(n),
// which returns whatever librdkafka has already fetched after waiting only for the first record.

import { createRequire } from 'node:module';
import path from 'node:path';
import type { Candidate } from '../candidate.js';
import { isEntry, nodeLaunch, runNodeChild } from '../node-child.js';

const PACKAGE = '@confluentinc/kafka-javascript';
// Records per consume(n) call: 200 to 3,000 ran alike on W1; 10,000 and more ran slower, with more
// RSS (large arrays of message objects for the collector).
const CONSUME_BATCH = Number(process.env.BENCH_CONFLUENT_BATCH ?? 1000);

/** The few parts of the binding used here; its own typings come with the package, not with us. */
interface RdMessage {
  partition: number;
  offset: number;
  value: Buffer | null;
}
interface RdConsumer {
  connect(options: Record<string, unknown>, cb: (err: Error | null) => void): void;
  assign(assignments: Array<{ topic: string; partition: number; offset: number }>): void;
  consume(n: number, cb: (err: Error | null, messages: RdMessage[]) => void): void;
  setDefaultConsumeTimeout(ms: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void;
  disconnect(cb: () => void): void;
}
interface Binding {
  librdkafkaVersion: string;
  KafkaConsumer: new (conf: Record<string, unknown>) => RdConsumer;
}

function load(): Binding {
  const dir = process.env.STREAMBERG_CONFLUENT_PATH;
  if (!dir) throw new Error(`STREAMBERG_CONFLUENT_PATH is not set: install ${PACKAGE} in a folder outside the repository and point it there`);
  return createRequire(path.join(path.resolve(dir), 'package.json'))(PACKAGE) as Binding;
}

export const candidate: Candidate = {
  name: 'confluent',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  unavailable() {
    try {
      load();
      return null;
    } catch (err) {
      return (err as Error).message.split('\n')[0]!;
    }
  },
  version() {
    const dir = path.resolve(process.env.STREAMBERG_CONFLUENT_PATH ?? '.');
    const req = createRequire(path.join(dir, 'package.json'));
    return `${(req(`${PACKAGE}/package.json`) as { version: string }).version}, librdkafka ${load().librdkafkaVersion}`;
  },
  launch: (input) => nodeLaunch(import.meta.url, input),
};

if (isEntry(import.meta.url)) {
  runNodeChild(async (input, tally) => {
    const { KafkaConsumer } = load();
    // librdkafka needs a group id even for assigned partitions; nothing is committed to it.
    const consumer = new KafkaConsumer({
      'bootstrap.servers': input.bootstrap,
      'group.id': `bench-confluent-${process.pid}-${Date.now()}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
    });
    await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
    consumer.assign(Object.entries(input.starts).map(([p, o]) => ({ topic: input.topic, partition: Number(p), offset: Number(o) })));
    consumer.setDefaultConsumeTimeout(500);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    let done = false;
    void tally.whenDone().then(() => (done = true));
    while (!done) {
      const messages = await new Promise<RdMessage[]>((resolve, reject) => consumer.consume(CONSUME_BATCH, (err, ms) => (err ? reject(err) : resolve(ms))));
      for (const m of messages) tally.add(m.partition, m.offset, m.value?.length ?? 0);
      // Let the whenDone continuation run before deciding to poll again.
      await Promise.resolve();
    }
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  });
}
