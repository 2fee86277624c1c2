// Workload W1: the seed's `bid-events` records, ~135 B of JSON each, keyed by user_id,
// 2,000,000 records over 8 partitions by default, one topic per compression codec
// (`bench-w1-<codec>`). The records come from the project's deterministic generator with the
// topic's source_schema from config/topics.yaml, so every run and every machine reads the same
// bytes. Produced once and reused: a topic that already holds the expected records is kept.
//
// Producing goes through kcat (librdkafka) from a file of generated lines: it compresses in C
// with large batches, so 2 M records take seconds where kafkajs takes minutes, and its codecs
// are the ones real producers use (snappy, lz4 and zstd, which kafkajs cannot write).

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { loadConfig } from '../../src/config/load.js';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { sampleRecord } from '../../src/tools/sample-events.js';
import { topicOffsets } from '../../src/kafka/topics.js';
import type { Codec } from './candidate.js';

const SEED = 42;
const SOURCE_TOPIC = 'bid-events';
const CACHE = path.join(PROJECT_ROOT, '.cache/bench');

export interface W1Options {
  bootstrap: string;
  records: number;
  partitions: number;
  /** The shipped topic whose source_schema the records follow (default bid-events: W1). */
  source?: string;
  /** The benchmark topic's name (default bench-w1-<codec>). */
  topic?: string;
}

export interface W1Topic {
  topic: string;
  codec: Codec;
  starts: Record<string, string>;
  ends: Record<string, string>;
  records: number;
  valueBytes: number;
  /** Seconds spent producing in this run; 0 when the topic was reused. */
  producedSeconds: number;
}

interface LinesFile {
  file: string;
  records: number;
  valueBytes: number;
  keyBytes: number;
}

/** The generated records as `key<TAB>value` lines, written once per record count. */
async function linesFile(records: number, source: string): Promise<LinesFile> {
  mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, source === SOURCE_TOPIC ? `w1-${records}.tsv` : `${source}-${records}.tsv`);
  const metaFile = `${file}.json`;
  if (existsSync(file) && existsSync(metaFile)) return JSON.parse(readFileSync(metaFile, 'utf8')) as LinesFile;
  const pipeline = loadConfig({ configDir: path.join(PROJECT_ROOT, 'config') }).config.pipelines.find((p) => p.topic === source);
  if (!pipeline) throw new Error(`config/topics.yaml has no ${source} topic: the workload takes its source_schema`);
  process.stderr.write(`w1: generating ${records} ${source} records into ${file}\n`);
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  let valueBytes = 0;
  let keyBytes = 0;
  let chunk: string[] = [];
  for (let i = 0; i < records; i++) {
    const r = sampleRecord(pipeline.sourceSchema, i, { seed: SEED, malformedRatio: 0 });
    // kcat splits key and value at the first tab; JSON.stringify never writes a raw tab.
    chunk.push(`${r.key}\t${r.value}\n`);
    valueBytes += Buffer.byteLength(r.value);
    keyBytes += Buffer.byteLength(r.key);
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join(''))) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end(chunk.join(''));
  await once(out, 'finish');
  renameSync(tmp, file);
  const meta: LinesFile = { file, records, valueBytes, keyBytes };
  writeFileSync(metaFile, JSON.stringify(meta));
  return meta;
}

async function offsets(admin: Admin, topic: string): Promise<{ starts: Record<string, string>; ends: Record<string, string>; records: number }> {
  const o = await topicOffsets(admin, topic);
  const starts = Object.fromEntries(o.map((p) => [String(p.partition), p.low]));
  const ends = Object.fromEntries(o.map((p) => [String(p.partition), p.high]));
  return { starts, ends, records: o.reduce((n, p) => n + Number(p.high) - Number(p.low), 0) };
}

async function kcatProduce(bootstrap: string, topic: string, codec: Codec, file: string): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    const child = spawn(
      'kcat',
      // Idempotent, so a retried batch is not written twice and the count stays exact; large
      // batches and a short linger, so each batch compresses as a real producer's would.
      ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-z', codec, '-X', 'linger.ms=50', '-X', 'batch.size=1000000', '-X', 'enable.idempotence=true', '-X', 'queue.buffering.max.kbytes=262144'],
      { stdio: [fd, 'inherit', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(killer);
    if (code !== 0) throw new Error(`kcat -P to ${topic} exited with ${code}: ${stderr}`);
  } finally {
    closeSync(fd);
  }
}

/** The W1 topic for `codec`, produced unless it already holds `records` records. */
export async function ensureW1(options: W1Options, codec: Codec): Promise<W1Topic> {
  const topic = options.topic ?? `bench-w1-${codec}`;
  const lines = await linesFile(options.records, options.source ?? SOURCE_TOPIC);
  // Quiet: a create that races the deletion before it is retried, and any error is thrown anyway.
  const kafka = new Kafka({ clientId: 'bench-w1', brokers: [options.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = (await admin.fetchTopicMetadata({ topics: [] })).topics.find((t) => t.name === topic);
    if (existing) {
      const o = await offsets(admin, topic);
      if (o.records === options.records && existing.partitions.length === options.partitions) {
        return { topic, codec, ...o, valueBytes: lines.valueBytes, producedSeconds: 0 };
      }
      process.stderr.write(`w1: ${topic} holds ${o.records} records in ${existing.partitions.length} partitions, not ${options.records} in ${options.partitions}: recreating it\n`);
      await admin.deleteTopics({ topics: [topic] });
      // Deletion completes asynchronously; creating the name again fails until it has.
      for (let i = 0; i < 60 && (await admin.listTopics()).includes(topic); i++) await new Promise((r) => setTimeout(r, 500));
    }
    let created = false;
    for (let attempt = 0; !created; attempt++) {
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: options.partitions, replicationFactor: 1 }], waitForLeaders: true });
        created = true;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    process.stderr.write(`w1: producing ${options.records} records to ${topic} (${codec})\n`);
    const t0 = performance.now();
    await kcatProduce(options.bootstrap, topic, codec, lines.file);
    const producedSeconds = (performance.now() - t0) / 1000;
    const o = await offsets(admin, topic);
    if (o.records !== options.records) throw new Error(`${topic} holds ${o.records} records after producing ${options.records}`);
    process.stderr.write(`w1: ${topic} produced in ${producedSeconds.toFixed(1)} s\n`);
    return { topic, codec, ...o, valueBytes: lines.valueBytes, producedSeconds };
  } finally {
    await admin.disconnect();
  }
}
