// `npm run produce -- --topic bid-events --count N [--partitions P] [--malformed-ratio R] [--seed S]`
// Produces deterministic sample events for a configured topic (see sample-events.ts), creating
// the topic if it is missing. Prints a progress line while it runs and a summary at the end.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { CompressionTypes, Partitioners } from 'kafkajs';
import { ConfigError, formatIssue } from '../config/issues.js';
import { loadConfig } from '../config/load.js';
import { withDeadline } from '../deadline.js';
import { createKafka } from '../kafka/client.js';
import { endOffsets, ensureTopic } from '../kafka/topics.js';
import { SAMPLE_KINDS, sampleRecord, type SampleKind } from './sample-events.js';

const USAGE = `Usage: npm run produce -- --topic NAME --count N [options]

Produces deterministic sample events matching the topic's source_schema in topics.yaml.

Options:
  --topic NAME            a topic from topics.yaml (repeatable; default: every enabled topic)
  --count N               records per topic (required)
  --partitions P          partitions when the topic is created (default 3)
  --malformed-ratio R     fraction of malformed records, 0..1 (default 0)
  --seed S                PRNG seed (default 42)
  --start-index I         index of the first record, to continue an earlier run (default 0)
  --fill                  top the topic up to --count records in all, continuing the index
                          where the records already in it end (re-running adds nothing)
  --config DIR            config folder (default config)
`;

export interface ProduceSummary {
  topic: string;
  count: number;
  byKind: Record<SampleKind, number>;
  partitions: number;
  seconds: number;
  endOffsets: Record<string, string>;
}

const SEND_DEADLINE_MS = 60_000;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        topic: { type: 'string', multiple: true },
        count: { type: 'string' },
        partitions: { type: 'string', default: '3' },
        'malformed-ratio': { type: 'string', default: '0' },
        seed: { type: 'string', default: '42' },
        'start-index': { type: 'string', default: '0' },
        config: { type: 'string', default: 'config' },
        fill: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (v.help) {
    process.stdout.write(USAGE);
    return;
  }
  const requested = Number(v.count);
  if (v.count === undefined || !Number.isInteger(requested) || requested < 0) fail(`--count: found ${JSON.stringify(v.count ?? null)}; expected a whole number ≥ 0`);
  const partitions = Number(v.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) fail(`--partitions: found "${v.partitions}"; expected a whole number ≥ 1`);
  const ratio = Number(v['malformed-ratio']);
  if (!(ratio >= 0 && ratio <= 1)) fail(`--malformed-ratio: found "${v['malformed-ratio']}"; expected a number from 0 to 1`);
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) fail(`--seed: found "${v.seed}"; expected a whole number`);
  const firstIndex = Number(v['start-index']);
  if (!Number.isInteger(firstIndex) || firstIndex < 0) fail(`--start-index: found "${v['start-index']}"; expected a whole number ≥ 0`);

  let config;
  try {
    config = loadConfig({ configDir: path.resolve(v.config) }).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      process.exit(2);
    }
    throw err;
  }
  const names = v.topic ?? config.pipelines.filter((p) => p.enabled).map((p) => p.topic);
  const pipelines = names.map((name) => {
    const p = config.pipelines.find((x) => x.topic === name);
    if (!p) fail(`--topic: found "${name}"; expected one of ${config.pipelines.map((x) => x.topic).join(', ')} (topics in ${config.files.topics})`);
    return p;
  });

  const kafka = createKafka(config.kafka, { clientId: 'streamberg-produce' });
  const admin = kafka.admin();
  // Idempotent, so a retried batch is never written twice: tests compare the topic with what was
  // generated. kafkajs retries an idempotent producer without limit; each batch has a deadline.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 },
  });
  await admin.connect();
  await producer.connect();
  const tty = process.stderr.isTTY;
  try {
    for (const p of pipelines) {
      const state = await ensureTopic(admin, p.topic, partitions);
      let count = requested;
      let startIndex = firstIndex;
      if (v.fill) {
        let existing = 0;
        for (const o of (await endOffsets(admin, p.topic)).values()) existing += Number(o);
        count = Math.max(0, requested - existing);
        startIndex = existing;
      }
      const byKind = Object.fromEntries(SAMPLE_KINDS.map((k) => [k, 0])) as Record<SampleKind, number>;
      const started = performance.now();
      let lastReport = started;
      const batchSize = 1000;
      for (let from = 0; from < count; from += batchSize) {
        const messages = [];
        for (let i = from; i < Math.min(count, from + batchSize); i++) {
          const rec = sampleRecord(p.sourceSchema, startIndex + i, { seed, malformedRatio: ratio });
          byKind[rec.kind]++;
          messages.push({ key: rec.key, value: rec.value, headers: { 'sample-kind': rec.kind, 'sample-index': String(rec.index) } });
        }
        await withDeadline(
          producer.send({ topic: p.topic, messages, acks: -1, compression: CompressionTypes.None }),
          SEND_DEADLINE_MS,
          () => new Error(`sending records ${from}..${from + messages.length - 1} to ${p.topic} took longer than ${SEND_DEADLINE_MS / 1000} s; is the broker up?`),
        );
        const now = performance.now();
        if (now - lastReport >= 1000) {
          lastReport = now;
          const done = Math.min(count, from + batchSize);
          const line = `${p.topic}: ${done}/${count} records (${Math.round(done / ((now - started) / 1000))} records/s)`;
          process.stderr.write(tty ? `\r${line}` : `${line}\n`);
        }
      }
      const seconds = (performance.now() - started) / 1000;
      if (tty) process.stderr.write('\r\x1b[K');
      const ends = await endOffsets(admin, p.topic);
      const summary: ProduceSummary = {
        topic: p.topic,
        count,
        byKind,
        partitions: state.partitions,
        seconds: Math.round(seconds * 1000) / 1000,
        endOffsets: Object.fromEntries([...ends].map(([k, o]) => [String(k), o.toString()])),
      };
      const kinds = SAMPLE_KINDS.filter((k) => byKind[k] > 0).map((k) => `${byKind[k]} ${k}`).join(', ');
      process.stdout.write(
        `${p.topic}: produced ${count} records (${kinds || 'none'}) to ${state.partitions} partition(s)` +
          `${state.created ? ', topic created' : ''} in ${summary.seconds} s` +
          `${count > 0 ? ` (${Math.round(count / seconds)} records/s)` : ''}; end offsets ${[...ends].map(([k, o]) => `${k}:${o}`).join(' ')}\n`,
      );
      if (process.env.PRODUCE_SUMMARY_JSON === '1') process.stdout.write(`${JSON.stringify(summary)}\n`);
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`produce failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
